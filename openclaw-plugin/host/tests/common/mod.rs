//! Test support: the compiled tool component (once per test binary), the real
//! `mission-control-server` on a random port with a fresh database, and a minimal REST client
//! to check the server's state independently of the component.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use mission_control_tool_host::{ToolConfig, ToolRuntime};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

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

/// `$MISSION_CONTROL_SERVER_BIN`, else `target/<profile>/mission-control-server`.
pub fn server_binary() -> PathBuf {
    let path = std::env::var_os("MISSION_CONTROL_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("mission-control-server"));
    assert!(
        path.exists(),
        "server binary {} not found: run `cargo build -p mission-control-server` or set \
         MISSION_CONTROL_SERVER_BIN",
        path.display()
    );
    path
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
    child: Child,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
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
        let mut child = Command::new(server_binary())
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
            .env("RUST_LOG", "warn")
            .env("RATE_LIMIT_PER_MINUTE", "100000")
            .env("DASHBOARD_DIR", dir.join("no-dashboard"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start mission-control-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("read server stdout") {
                if let Some(i) = line.find("listening on ") {
                    return line[i + "listening on ".len()..].trim().to_string();
                }
            }
            panic!("server exited before printing its address");
        })
        .await
        .expect("server did not start within 30 s");
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

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
            child,
            dir,
        }
    }

    pub fn config(&self) -> ToolConfig {
        ToolConfig::new(self.url.clone(), Some(self.token.clone()))
    }

    /// A REST call with the admin token: (status, JSON body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        rest(&self.url, "GET", path, None, Some(&self.token)).await
    }
}

/// A minimal HTTP/1.1 client (one request per connection) for checking server state.
pub async fn rest(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> (u16, Value) {
    let authority = base
        .strip_prefix("http://")
        .expect("http base URL")
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).await.expect("connect");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Accept: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !body.is_empty() {
        head.push_str("Content-Type: application/json\r\n");
    }
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw);
    let (head, payload) = text.split_once("\r\n\r\n").expect("HTTP response");
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let payload = if chunked {
        dechunk(payload)
    } else {
        payload.to_string()
    };
    let json = serde_json::from_str(&payload).unwrap_or(Value::Null);
    (status, json)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
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
