//! Test support: the compiled tool component (once per test binary), and the real
//! `mission-control-server` on a random port with a fresh store (from the testkit), signed in
//! as the operator, whose REST API checks the server's state independently of the component.

use std::path::PathBuf;
use std::sync::OnceLock;

pub use mission_control_testkit::app::ADMIN_AGENT;
pub use mission_control_testkit::{App, Reply, Session};
use mission_control_tool_host::{ToolConfig, ToolRuntime};

/// `$MISSION_CONTROL_TOOL_WASM`, else `target/wasm32-wasip2/wasm-release/mission_control_tool.wasm`.
pub fn component_path() -> PathBuf {
    let path = std::env::var_os("MISSION_CONTROL_TOOL_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // `target/<profile>/deps/<this test>`: three folders up is `target/`.
            let exe = std::env::current_exe().expect("test executable path");
            exe.ancestors()
                .nth(3)
                .expect("test executable lives in target/<profile>/deps")
                .join("wasm32-wasip2/wasm-release/mission_control_tool.wasm")
        });
    assert!(
        path.exists(),
        "tool component {} not found: run `cargo build -p mission-control-tool --target \
         wasm32-wasip2 --profile wasm-release` or set MISSION_CONTROL_TOOL_WASM",
        path.display()
    );
    path
}

/// The component, compiled once for the whole test binary.
pub fn runtime() -> &'static ToolRuntime {
    static RUNTIME: OnceLock<ToolRuntime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        ToolRuntime::from_file(component_path()).unwrap_or_else(|e| panic!("{e:?}"))
    })
}

/// A running server and the operator signed in to it.
pub struct Server {
    /// The operator's token.
    pub token: String,
    pub admin: Session,
    pub app: App,
}

impl Server {
    /// Starts the server on a random port and signs in as the operator.
    pub async fn start() -> Server {
        let binary = mission_control_testkit::server_binary();
        assert!(
            binary.exists(),
            "server binary {} not found: run `cargo build -p mission-control-server` or set \
             MISSION_CONTROL_SERVER_BIN",
            binary.display()
        );
        let app = App::start_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await;
        let admin = app.login().await;
        Server {
            token: admin.token().to_owned(),
            admin,
            app,
        }
    }

    /// The tool's configuration for this server, acting as the operator.
    pub fn config(&self) -> ToolConfig {
        ToolConfig::new(self.app.url.clone(), Some(self.token.clone()))
    }

    /// Registers the agent `id` (a researcher called `name`) and mints a token for it.
    pub async fn agent_token(&self, id: &str, name: &str) -> String {
        let agent = self
            .admin
            .register_agent_with_token(id, name, "Research")
            .await;
        agent.token().to_owned()
    }
}

/// An address on this machine where nothing listens.
pub async fn unused_local_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
