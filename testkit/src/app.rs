//! The real server on a test's own store, and its REST API spoken by intent: `App::start()`
//! starts `mission-control-server` on a random port with the test settings, `app.login()`
//! signs in as the operator, and a [`Session`] (a token, or none) makes the requests a user
//! makes (`admin.create_task(json!({..}))`, `nova.claim(&id)`), each answered as a [`Reply`]
//! whose status, body and headers the test checks.
//!
//! Restarts reuse the store: `App::start_on(app.store(), ..)` starts another server on the same
//! folder and database, which is what the server does on a user's machine.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::process::{ServerProcess, server_binary};
pub use crate::reply::Reply;
use crate::store::TestStore;

pub const ADMIN_USER: &str = "patch";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";
/// The operator's agent, as the server registers it for [`ADMIN_USER`].
pub const ADMIN_AGENT: &str = "agent-patch";
pub const SECRET: &str = "black-box-test-secret-0123456789abcdef";

/// What every test server is configured with; a test's settings add to it or override it.
const BASE_SETTINGS: &[(&str, &str)] = &[
    ("PORT", "0"),
    ("HOST", "127.0.0.1"),
    ("JWT_SECRET", SECRET),
    ("ADMIN_USERNAME", ADMIN_USER),
    ("ADMIN_PASSWORD", ADMIN_PASSWORD),
    ("ADMIN_ROLE", "Dev"),
    ("RUST_LOG", "error"),
];

/// A running server on a test's store.
pub struct App {
    pub process: ServerProcess,
    /// `http://<addr>`
    pub url: String,
    pub http: reqwest::Client,
    env: Vec<(String, String)>,
    store: Arc<TestStore>,
}

impl App {
    /// A server on a fresh store with the test settings.
    pub async fn start() -> App {
        Self::start_with(&[]).await
    }

    /// A server on a fresh store, with `settings` beside the test settings.
    pub async fn start_with(settings: &[(&str, &str)]) -> App {
        Self::start_on(&Arc::new(TestStore::new()), settings).await
    }

    /// A server on an existing store (a restart, or a second server).
    pub async fn start_on(store: &Arc<TestStore>, settings: &[(&str, &str)]) -> App {
        Self::launch(store, Self::env(store, settings), Stdio::inherit()).await
    }

    /// Like [`App::start_on`], with the server's stderr in `<dir>/server.stderr` (see
    /// [`App::stop_and_read_stderr`]).
    pub async fn start_capturing(store: &Arc<TestStore>, settings: &[(&str, &str)]) -> App {
        let log = std::fs::File::create(store.dir().join("server.stderr")).expect("a log file");
        Self::launch(store, Self::env(store, settings), Stdio::from(log)).await
    }

    /// The environment a server on `store` gets: the test settings, the store's database
    /// setting, no dashboard (unless a setting names one), then `settings`.
    pub fn env(store: &TestStore, settings: &[(&str, &str)]) -> Vec<(String, String)> {
        let owned = |(k, v): &(&str, &str)| (k.to_string(), v.to_string());
        let mut env: Vec<(String, String)> = BASE_SETTINGS.iter().map(owned).collect();
        env.push(store.server_setting());
        env.push((
            "DASHBOARD_DIR".to_owned(),
            store.dir().join("no-dashboard").display().to_string(),
        ));
        env.extend(settings.iter().map(owned));
        env
    }

    /// Starts the binary in the store's folder with exactly `env`, and waits for it to listen.
    pub async fn launch(store: &Arc<TestStore>, env: Vec<(String, String)>, stderr: Stdio) -> App {
        let mut command = Command::new(server_binary());
        command
            .current_dir(store.dir())
            .env_clear()
            .envs(env.iter().cloned())
            .stderr(stderr);
        let process = ServerProcess::spawn(command)
            .await
            .unwrap_or_else(|e| panic!("start {}: {e}", server_binary().display()));
        if env.iter().any(|(k, _)| k == "DATABASE_URL") {
            // A server that does not read DATABASE_URL would serve an SQLite file instead.
            let tables = store.raw().number(
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema()",
            );
            assert!(
                tables.unwrap_or(0) > 0,
                "the server is up but made no table in the test's PostgreSQL schema: does it \
                 read DATABASE_URL?"
            );
        }
        App {
            url: process.url.clone(),
            process,
            http: reqwest::Client::new(),
            env,
            store: store.clone(),
        }
    }

    pub fn store(&self) -> &Arc<TestStore> {
        &self.store
    }

    /// The server's working folder.
    pub fn dir(&self) -> &Path {
        self.store.dir()
    }

    pub fn addr(&self) -> SocketAddr {
        self.process.addr
    }

    /// The server's resident memory now (`VmRSS` of `/proc/<pid>/status`), in bytes.
    pub fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.pid))
            .expect("the server's /proc status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("a VmRSS line");
        kb * 1024
    }

    /// Signs in as the operator: a session with its new token.
    pub async fn login(&self) -> Session {
        let r = self.sign_in(ADMIN_USER, ADMIN_PASSWORD).await;
        assert_eq!(r.status, 200, "{}", r.body);
        self.session(r.body["token"].as_str().expect("a token"))
    }

    /// `POST /api/auth/login` with these credentials.
    pub async fn sign_in(&self, username: &str, password: &str) -> Reply {
        self.anonymous()
            .post(
                "/api/auth/login",
                json!({"username": username, "password": password}),
            )
            .await
    }

    /// Requests made with `token`.
    pub fn session(&self, token: &str) -> Session {
        Session {
            token: Some(token.to_owned()),
            ..self.anonymous()
        }
    }

    /// Requests made without a token.
    pub fn anonymous(&self) -> Session {
        Session {
            http: self.http.clone(),
            url: self.url.clone(),
            token: None,
            headers: Vec::new(),
        }
    }

    /// `GET /health`.
    pub async fn health(&self) -> Reply {
        self.anonymous().get("/health").await
    }

    /// `GET /api/openapi.json`: the published contract.
    pub async fn openapi(&self) -> Reply {
        self.anonymous().get("/api/openapi.json").await
    }

    /// Runs a command of the binary (`token`, `export`, `backup` ...) in the server's folder,
    /// configured as the server is; its output, whatever its exit status.
    pub async fn command(&self, args: &[&str]) -> Output {
        Command::new(server_binary())
            .args(args)
            .current_dir(self.dir())
            .env_clear()
            .envs(self.env.iter().cloned())
            .output()
            .await
            .expect("run the server binary")
    }

    /// Runs a command that must succeed; its standard output.
    pub async fn run(&self, args: &[&str]) -> String {
        let out = self.command(args).await;
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> ExitStatus {
        self.process
            .terminate()
            .await
            .expect("the server stopped after SIGTERM")
    }

    /// SIGKILL: no chance to flush or close anything.
    pub async fn kill(mut self) {
        self.process.kill().await;
    }

    /// Stops the server (SIGTERM) and returns what it wrote to stderr (see
    /// [`App::start_capturing`]).
    pub async fn stop_and_read_stderr(self) -> String {
        // The store (and the folder the log is in) may go with the server.
        let store = self.store.clone();
        self.terminate().await;
        std::fs::read_to_string(store.dir().join("server.stderr")).unwrap_or_default()
    }
}

/// One caller of the REST API: a token (or none) and the headers every request carries.
/// Cheap to clone, and owns what it needs, so it moves into spawned tasks.
#[derive(Clone)]
pub struct Session {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    headers: Vec<(String, String)>,
}

/// A path segment, percent-encoded only where it must be.
fn segment(id: &str) -> String {
    id.replace('%', "%25")
        .replace('/', "%2F")
        .replace('?', "%3F")
        .replace('#', "%23")
}

impl Session {
    /// The bearer token.
    pub fn token(&self) -> &str {
        self.token.as_deref().expect("a signed-in session")
    }

    /// The same caller, every request with `name: value` too.
    pub fn with_header(&self, name: &str, value: &str) -> Session {
        let mut session = self.clone();
        session.headers.push((name.to_owned(), value.to_owned()));
        session
    }

    /// `If-Match: "<version>"`: the write applies only to that version.
    pub fn if_match(&self, version: i64) -> Session {
        self.with_header("if-match", &format!("\"{version}\""))
    }

    /// `Idempotency-Key: <key>`: a retry answers the first answer.
    pub fn idempotency_key(&self, key: &str) -> Session {
        self.with_header("idempotency-key", key)
    }

    fn builder(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        request
    }

    /// Any request, with a JSON body or none.
    pub async fn request(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.builder(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::read(request.send().await.expect("the server answers")).await
    }

    /// A request whose body is sent as written, labelled JSON.
    pub async fn send_bytes(&self, method: &str, path: &str, body: impl Into<Vec<u8>>) -> Reply {
        let request = self
            .builder(method, path)
            .header("content-type", "application/json")
            .body(body.into());
        Reply::read(request.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.request("POST", path, Some(body)).await
    }

    // Tasks.

    pub async fn create_task(&self, task: Value) -> Reply {
        self.post("/api/tasks", task).await
    }

    pub async fn get_task(&self, id: &str) -> Reply {
        self.get(&format!("/api/tasks/{}", segment(id))).await
    }

    /// `GET /api/tasks?<query>` (`""` for the whole board).
    pub async fn list_tasks(&self, query: &str) -> Reply {
        self.get(&with_query("/api/tasks", query)).await
    }

    pub async fn update_task(&self, id: &str, changes: Value) -> Reply {
        let path = format!("/api/tasks/{}", segment(id));
        self.request("PATCH", &path, Some(changes)).await
    }

    pub async fn delete_task(&self, id: &str) -> Reply {
        let path = format!("/api/tasks/{}", segment(id));
        self.request("DELETE", &path, None).await
    }

    // Agents at work.

    /// Claims a task with the default lease (no body).
    pub async fn claim(&self, id: &str) -> Reply {
        let path = format!("/api/tasks/{}/claim", segment(id));
        self.request("POST", &path, None).await
    }

    /// Claims a task with options (`{"leaseSeconds": 600}`).
    pub async fn claim_with(&self, id: &str, options: Value) -> Reply {
        let path = format!("/api/tasks/{}/claim", segment(id));
        self.post(&path, options).await
    }

    pub async fn claim_next(&self) -> Reply {
        self.request("POST", "/api/tasks/claim-next", None).await
    }

    pub async fn release(&self, id: &str) -> Reply {
        let path = format!("/api/tasks/{}/release", segment(id));
        self.request("POST", &path, None).await
    }

    /// Completes a held task, with a closing note when given.
    pub async fn complete(&self, id: &str, note: Option<&str>) -> Reply {
        let path = format!("/api/tasks/{}/complete", segment(id));
        let body = note.map(|note| json!({ "note": note }));
        self.request("POST", &path, body).await
    }

    pub async fn comment(&self, id: &str, text: &str) -> Reply {
        let path = format!("/api/tasks/{}/comments", segment(id));
        self.post(&path, json!({ "text": text })).await
    }

    /// `GET /api/tasks/<id>/comments?<query>`.
    pub async fn comments(&self, id: &str, query: &str) -> Reply {
        let path = format!("/api/tasks/{}/comments", segment(id));
        self.get(&with_query(&path, query)).await
    }

    /// `POST /api/agents/<agent>/heartbeat` (`"me"` for the caller), with a status when given.
    pub async fn heartbeat(&self, agent: &str, status: Option<&str>) -> Reply {
        let path = format!("/api/agents/{}/heartbeat", segment(agent));
        let body = status.map(|status| json!({ "status": status }));
        self.request("POST", &path, body).await
    }

    // Agents.

    pub async fn register_agent(&self, agent: Value) -> Reply {
        self.post("/api/agents", agent).await
    }

    /// Registers an agent (`role` one of the roles) and mints it a token: its session.
    pub async fn register_agent_with_token(&self, id: &str, name: &str, role: &str) -> Session {
        let r = self
            .register_agent(json!({"id": id, "name": name, "role": role}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = self.mint_token(json!({ "agentId": id })).await;
        assert_eq!(r.status, 201, "{}", r.body);
        Session {
            token: Some(r.body["token"].as_str().expect("a token").to_owned()),
            headers: Vec::new(),
            ..self.clone()
        }
    }

    pub async fn get_agent(&self, id: &str) -> Reply {
        self.get(&format!("/api/agents/{}", segment(id))).await
    }

    pub async fn list_agents(&self) -> Reply {
        self.get("/api/agents").await
    }

    pub async fn update_agent(&self, id: &str, changes: Value) -> Reply {
        let path = format!("/api/agents/{}", segment(id));
        self.request("PATCH", &path, Some(changes)).await
    }

    pub async fn remove_agent(&self, id: &str) -> Reply {
        let path = format!("/api/agents/{}", segment(id));
        self.request("DELETE", &path, None).await
    }

    // Tokens.

    /// `POST /api/auth/tokens` (`{"agentId": ..., "expiresInDays": ...}`).
    pub async fn mint_token(&self, request: Value) -> Reply {
        self.post("/api/auth/tokens", request).await
    }

    /// The tokens of an agent (`"me"` for the caller's own).
    pub async fn tokens(&self, agent: &str) -> Reply {
        self.get(&format!("/api/agents/{}/tokens", segment(agent)))
            .await
    }

    pub async fn revoke_token(&self, agent: &str, token_id: &str) -> Reply {
        let path = format!(
            "/api/agents/{}/tokens/{}",
            segment(agent),
            segment(token_id)
        );
        self.request("DELETE", &path, None).await
    }

    pub async fn revoke_all_tokens(&self, agent: &str) -> Reply {
        let path = format!("/api/agents/{}/tokens", segment(agent));
        self.request("DELETE", &path, None).await
    }

    pub async fn logout(&self) -> Reply {
        self.request("POST", "/api/auth/logout", None).await
    }

    // The board as a whole.

    /// `GET /api/events?<query>`.
    pub async fn events(&self, query: &str) -> Reply {
        self.get(&with_query("/api/events", query)).await
    }

    /// `GET /api/export?<query>`.
    pub async fn export(&self, query: &str) -> Reply {
        self.get(&with_query("/api/export", query)).await
    }

    /// The newest seq: where `GET /api/tasks` says the board stands.
    pub async fn latest_seq(&self) -> i64 {
        let r = self.list_tasks("limit=1").await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["seq"].as_i64().expect("a seq")
    }
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// Runs the server binary with `args` in `dir` with exactly `env`: for commands run where no
/// server has run, or with settings of their own.
pub async fn run_binary(
    dir: &Path,
    args: &[&str],
    env: impl IntoIterator<Item = (impl Into<OsString>, impl Into<OsString>)>,
) -> Output {
    let env: Vec<(OsString, OsString)> =
        env.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
    Command::new(server_binary())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env)
        .output()
        .await
        .expect("run the server binary")
}
