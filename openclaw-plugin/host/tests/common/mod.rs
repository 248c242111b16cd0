//! Test support: the compiled tool component (once per test binary), the real
//! `mission-control-server` on a random port with a fresh database, and a minimal REST client
//! to check the server's state independently of the component.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;

use mission_control_testkit::{ServerProcess, server_binary};
use mission_control_tool_host::{ToolConfig, ToolRuntime};
use serde_json::Value;
use tokio::process::Command;

pub const ADMIN_USERNAME: &str = "patch";
pub const ADMIN_PASSWORD: &str = "tool-test-password-123";
pub const ADMIN_AGENT: &str = "agent-patch";

/// `target/<profile>/`, the folder holding this test binary's `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps")
        .to_path_buf()
}

/// `$MISSION_CONTROL_TOOL_WASM`, else `target/wasm32-wasip2/wasm-release/mission_control_tool.wasm`.
pub fn component_path() -> PathBuf {
    let path = std::env::var_os("MISSION_CONTROL_TOOL_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            profile_dir()
                .parent()
                .expect("target dir")
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

pub struct Server {
    pub url: String,
    pub token: String,
    process: ServerProcess,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mc-tool-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

impl Server {
    /// Starts the server on a random port and logs in as the admin.
    pub async fn start() -> Server {
        let dir = temp_dir();
        let binary = server_binary();
        assert!(
            binary.exists(),
            "server binary {} not found: run `cargo build -p mission-control-server` or set \
             MISSION_CONTROL_SERVER_BIN",
            binary.display()
        );
        let mut command = Command::new(binary);
        command
            .current_dir(&dir)
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env("DATABASE_PATH", dir.join("mission-control.db"))
            .env(
                "JWT_SECRET",
                "tool-test-secret-that-is-long-enough-0123456789",
            )
            .env("ADMIN_USERNAME", ADMIN_USERNAME)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("ADMIN_NAME", "Patch")
            .env("ADMIN_ROLE", "Dev")
            .env("RUST_LOG", "error")
            .env("RATE_LIMIT_PER_MINUTE", "100000")
            .env("DASHBOARD_DIR", dir.join("no-dashboard"))
            .stderr(Stdio::inherit());
        let process = ServerProcess::spawn(command)
            .await
            .expect("start mission-control-server");
        let url = process.url.clone();
        let login = rest(
            &url,
            "POST",
            "/api/auth/login",
            Some(&serde_json::json!({"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})),
            None,
        )
        .await;
        assert_eq!(login.0, 200, "login: {:?}", login.1);
        let token = login.1["token"].as_str().expect("token").to_string();
        Server {
            url,
            token,
            process,
            dir,
        }
    }

    pub fn config(&self) -> ToolConfig {
        ToolConfig::new(self.url.clone(), Some(self.token.clone()))
    }

    /// Registers the agent `id` (a researcher called `name`) and mints a token for it.
    pub async fn agent_token(&self, id: &str, name: &str) -> String {
        let agent = serde_json::json!({"id": id, "name": name, "role": "Research"});
        let (status, body) = rest(
            &self.url,
            "POST",
            "/api/agents",
            Some(&agent),
            Some(&self.token),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = rest(
            &self.url,
            "POST",
            "/api/auth/tokens",
            Some(&serde_json::json!({"agentId": id})),
            Some(&self.token),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// A REST call with the admin token: (status, JSON body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        rest(&self.url, "GET", path, None, Some(&self.token)).await
    }
}

/// A REST call for checking server state independently of the component: (status, JSON body).
pub async fn rest(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
    let mut request = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let json = response.json().await.unwrap_or(Value::Null);
    (status, json)
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
