//! Starts the real server binary on a random port with a fresh SQLite file, as a user would,
//! and talks HTTP to it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;

use mission_control_testkit::ServerProcess;
use serde_json::{Value, json};
use tokio::process::Command;

/// The fields of a task and of an agent on the wire, sorted: the specification's, and the
/// additions a client written to the specification can ignore (`version`, `updatedBy`,
/// `leaseExpiresAt`, `blockedBy`, `blocked`).
pub const TASK_KEYS: &[&str] = &[
    "assignedAgent",
    "blocked",
    "blockedBy",
    "createdAt",
    "createdBy",
    "description",
    "id",
    "leaseExpiresAt",
    "priority",
    "status",
    "tags",
    "title",
    "updatedAt",
    "updatedBy",
    "version",
];
pub const AGENT_KEYS: &[&str] = &["avatarColor", "id", "lastActive", "name", "role", "status"];

/// The keys of a JSON object, sorted.
pub fn sorted_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

pub const ADMIN_USER: &str = "patch";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";
pub const SECRET: &str = "black-box-test-secret-0123456789abcdef";

pub struct Server {
    pub url: String,
    pub dir: PathBuf,
    pub process: ServerProcess,
    _tmp: Option<tempfile::TempDir>,
    pub http: reqwest::Client,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_mission-control-server")
}

/// The environment every test server gets; `extra` adds or overrides.
pub fn base_env(dir: &Path) -> Vec<(String, String)> {
    [
        ("PORT", "0"),
        ("HOST", "127.0.0.1"),
        ("JWT_SECRET", SECRET),
        ("ADMIN_USERNAME", ADMIN_USER),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("ADMIN_ROLE", "Dev"),
        ("RUST_LOG", "error"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([
        (
            "DATABASE_PATH".to_owned(),
            dir.join("mission-control.db").display().to_string(),
        ),
        (
            "DASHBOARD_DIR".to_owned(),
            dir.join("no-dashboard").display().to_string(),
        ),
    ])
    .collect()
}

impl Server {
    pub async fn start() -> Server {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[(&str, &str)]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_owned();
        let mut server = Self::start_in(&dir, extra).await;
        server._tmp = Some(tmp);
        server
    }

    /// Starts a server whose stderr goes to `<dir>/server.stderr` (to read its log).
    pub async fn start_in_capturing(dir: &Path, extra: &[(&str, &str)]) -> Server {
        let log = std::fs::File::create(dir.join("server.stderr")).unwrap();
        Self::spawn_in(dir, extra, Stdio::from(log)).await
    }

    /// Stops the server (SIGTERM) and returns what it wrote to stderr.
    pub async fn stop_and_read_stderr(self) -> String {
        let dir = self.dir.clone();
        self.terminate().await;
        std::fs::read_to_string(dir.join("server.stderr")).unwrap_or_default()
    }

    /// Starts a server on an existing data folder (to test restarts).
    pub async fn start_in(dir: &Path, extra: &[(&str, &str)]) -> Server {
        Self::spawn_in(dir, extra, Stdio::inherit()).await
    }

    async fn spawn_in(dir: &Path, extra: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut cmd = Command::new(binary());
        cmd.current_dir(dir)
            .env_clear()
            .envs(base_env(dir))
            .envs(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .stderr(stderr);
        let process = ServerProcess::spawn(cmd).await.expect("start the server");
        Server {
            url: process.url.clone(),
            dir: dir.to_owned(),
            process,
            _tmp: None,
            http: reqwest::Client::new(),
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{}", self.url, path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn raw(&self, method: &str, path: &str, body: Vec<u8>, token: Option<&str>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{}", self.url, path))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        reply(req.send().await.unwrap()).await
    }

    /// A JSON request with extra headers (`If-Match`, `Idempotency-Key`); `null` sends no body.
    pub async fn raw_with_headers(
        &self,
        method: &str,
        path: &str,
        body: Value,
        token: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{}", self.url, path))
            .bearer_auth(token);
        if !body.is_null() {
            req = req.json(&body);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        reply(req.send().await.unwrap()).await
    }

    pub async fn login(&self) -> String {
        let r = self
            .call(
                "POST",
                "/api/auth/login",
                Some(json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD})),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        self.process
            .terminate()
            .await
            .expect("the server stopped after SIGTERM")
    }

    pub async fn kill(mut self) {
        self.process.kill().await;
    }
}

async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        body,
        headers,
    }
}

/// Asserts the one error shape and returns the fields named in `details`.
pub fn error_fields(reply: &Reply, status: u16, code: &str) -> Vec<String> {
    assert_eq!(reply.status, status, "{}", reply.body);
    let error = &reply.body["error"];
    assert_eq!(error["code"], code, "{}", reply.body);
    assert!(error["message"].is_string(), "{}", reply.body);
    error["details"]
        .as_array()
        .expect("details is an array")
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect()
}

pub mod live;
