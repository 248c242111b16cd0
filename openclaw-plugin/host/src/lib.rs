//! Runs the `mission_control` tool component (`wit/tool.wit`) under wasmtime.
//!
//! The host gives the component the server URL and token through the imported `config`
//! interface and lets its outgoing `wasi:http` requests reach that server's origin only
//! ([`WasiHttpHooks::send_request`]); every other request fails with `HTTP-request-denied`,
//! which the component reports as `server-unreachable`. The component gets no filesystem, no
//! environment, no arguments, no sockets and no stdio.
//!
//! ```no_run
//! # async fn demo() -> wasmtime::Result<()> {
//! use mission_control_tool_host::{ToolConfig, ToolRuntime};
//! let runtime = ToolRuntime::from_file("mission_control_tool.wasm")?;
//! let mut tool = runtime
//!     .instantiate(ToolConfig::new("http://127.0.0.1:3002", Some("jwt".into())))
//!     .await?;
//! let answer = tool
//!     .execute(r#"{"action":"list_tasks","status":"todo"}"#)
//!     .await?;
//! # Ok(()) }
//! ```

use std::path::Path;
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, Result, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks,
    WasiHttpView,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "mission-control-tool",
        exports: { default: async },
    });
}

/// Per-request limits the host hands the component, in milliseconds (`None`: the component's
/// default of 10 s to connect, 30 s to the first byte, 30 s between body chunks).
pub use bindings::mission_control::tool::config::Timeouts as RequestTimeouts;
pub use bindings::mission_control::tool::types::{
    Agent, AgentRole, AgentStatus, ClaimNextQuery, ClaimOptions, Comment, CommentPage,
    CommentQuery, Completed, Completion, Event, EventKind, EventQuery, FieldError, NewTask,
    Priority, PriorityChange, ServerFailure, Task, TaskChanged, TaskChanges, TaskFilter,
    TaskStatus, TextChange, ToolDescription, ToolError, Work,
};

use bindings::MissionControlToolPre;
use bindings::exports::mission_control::tool::actions::Guest as Actions;

/// Timeouts applied to the component's requests when it sets none itself (it sets its own,
/// see [`RequestTimeouts`]).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the host gives one instance of the tool.
#[derive(Clone, Debug)]
pub struct ToolConfig {
    /// Base URL of the Mission Control server, e.g. `http://127.0.0.1:3002`.
    pub server_url: String,
    /// Bearer token the component sends; `None` sends none.
    pub token: Option<String>,
    /// The only origin (`scheme://host:port`) requests may go to. `None`: the origin of
    /// `server_url`.
    pub allowed_origin: Option<String>,
    /// Limits on each request; all `None` by default (the component's own defaults).
    pub timeouts: RequestTimeouts,
}

impl ToolConfig {
    pub fn new(server_url: impl Into<String>, token: Option<String>) -> Self {
        ToolConfig {
            server_url: server_url.into(),
            token,
            allowed_origin: None,
            timeouts: RequestTimeouts {
                connect_ms: None,
                first_byte_ms: None,
                between_bytes_ms: None,
            },
        }
    }

    /// The same config with other request limits.
    pub fn with_timeouts(mut self, timeouts: RequestTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }
}

/// `scheme://host:port`, with the scheme's default port filled in and the host lowercased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    pub fn parse(url: &str) -> Result<Self> {
        let uri: http::Uri = url
            .trim()
            .parse::<http::Uri>()
            .with_context(|| format!("{url:?} is not a URL"))?;
        Self::of(&uri).with_context(|| format!("{url:?} is not an absolute http(s) URL"))
    }

    fn of(uri: &http::Uri) -> Option<Self> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        Some(Origin {
            host: uri.host()?.to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(default_port),
            scheme,
        })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// The `wasi:http` hooks: requests to the allowed origin go out, all others are denied.
pub struct OriginGuard {
    allowed: Origin,
    denied: Vec<String>,
}

impl OriginGuard {
    pub fn new(allowed: Origin) -> Self {
        OriginGuard {
            allowed,
            denied: Vec::new(),
        }
    }

    /// Whether a request to `uri` may go out.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        Origin::of(uri).is_some_and(|o| o == self.allowed)
    }

    /// The URLs of the requests refused so far.
    pub fn denied(&self) -> &[String] {
        &self.denied
    }
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for OriginGuard {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        if !self.allows(request.uri()) {
            self.denied.push(request.uri().to_string());
            return Box::new(async move {
                // Take in what the guest writes so its body stream ends cleanly (nothing is
                // sent anywhere); the guest then sees the denial rather than a reset stream.
                use http_body_util::BodyExt;
                let _ = request.into_body().collect().await;
                Err(HttpError::HttpRequestDenied)
            });
        }
        let mut options = options.unwrap_or_default();
        options.connect_timeout.get_or_insert(CONNECT_TIMEOUT);
        options.first_byte_timeout.get_or_insert(RESPONSE_TIMEOUT);
        options
            .between_bytes_timeout
            .get_or_insert(RESPONSE_TIMEOUT);
        drop(fut);
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// Per-instance state of the store.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    guard: OriginGuard,
    config: ToolConfig,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.guard,
        }
    }
}

impl bindings::mission_control::tool::config::Host for HostState {
    fn server_url(&mut self) -> String {
        self.config.server_url.clone()
    }

    fn auth_token(&mut self) -> Option<String> {
        self.config.token.clone()
    }

    fn request_timeouts(&mut self) -> RequestTimeouts {
        self.config.timeouts
    }
}

impl bindings::mission_control::tool::types::Host for HostState {}

/// The compiled component, ready to instantiate (compile once, instantiate per use).
#[derive(Clone)]
pub struct ToolRuntime {
    pre: MissionControlToolPre<HostState>,
}

impl ToolRuntime {
    /// Compiles the component at `path` (a `.wasm` built for `wasm32-wasip2`).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the tool component {}", path.display()))?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(wasm: &[u8]) -> Result<Self> {
        let engine = Engine::new(&Config::new())?;
        let component = Component::from_binary(&engine, wasm)?;
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        bindings::MissionControlTool::add_to_linker::<_, HasSelf<HostState>>(&mut linker, |s| s)?;
        let pre = MissionControlToolPre::new(linker.instantiate_pre(&component)?)?;
        Ok(ToolRuntime { pre })
    }

    /// A fresh instance that talks to `config.server_url` with `config.token`.
    pub async fn instantiate(&self, config: ToolConfig) -> Result<Tool> {
        let allowed = match &config.allowed_origin {
            Some(origin) => Origin::parse(origin)?,
            None => Origin::parse(&config.server_url)?,
        };
        let state = HostState {
            // Nothing: no env, args, preopened directories, sockets or stdio.
            wasi: WasiCtx::builder().build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            guard: OriginGuard::new(allowed),
            config,
        };
        let mut store = Store::new(self.pre.engine(), state);
        let instance = self.pre.instantiate_async(&mut store).await?;
        Ok(Tool { store, instance })
    }
}

/// One instance of the tool. `Err` of the outer `Result` is a trap or host failure; the
/// inner `Result` is the tool's own answer.
pub struct Tool {
    store: Store<HostState>,
    instance: bindings::MissionControlTool,
}

impl Tool {
    fn actions(&mut self) -> (&Actions, &mut Store<HostState>) {
        (
            self.instance.mission_control_tool_actions(),
            &mut self.store,
        )
    }

    /// The URLs of the requests the host refused (other origins).
    pub fn denied_requests(&self) -> &[String] {
        self.store.data().guard.denied()
    }

    pub async fn describe(&mut self) -> Result<ToolDescription> {
        let (a, s) = self.actions();
        a.call_describe(s).await
    }

    pub async fn execute(&mut self, params_json: &str) -> Result<Result<String, ToolError>> {
        let (a, s) = self.actions();
        a.call_execute(s, params_json).await
    }

    pub async fn create_task(&mut self, task: &NewTask) -> Result<Result<Task, ToolError>> {
        let (a, s) = self.actions();
        a.call_create_task(s, task).await
    }

    pub async fn update_task(
        &mut self,
        task_id: &str,
        changes: &TaskChanges,
    ) -> Result<Result<Task, ToolError>> {
        let (a, s) = self.actions();
        a.call_update_task(s, task_id, changes).await
    }

    /// With `version`, only if the task is still at that version.
    pub async fn move_task(
        &mut self,
        task_id: &str,
        new_status: TaskStatus,
        version: Option<u64>,
    ) -> Result<Result<Task, ToolError>> {
        let (a, s) = self.actions();
        a.call_move_task(s, task_id, new_status, version).await
    }

    pub async fn list_tasks(
        &mut self,
        filter: &TaskFilter,
    ) -> Result<Result<Vec<Task>, ToolError>> {
        let (a, s) = self.actions();
        a.call_list_tasks(s, filter).await
    }

    pub async fn get_task(&mut self, task_id: &str) -> Result<Result<Task, ToolError>> {
        let (a, s) = self.actions();
        a.call_get_task(s, task_id).await
    }

    pub async fn delete_task(&mut self, task_id: &str) -> Result<Result<(), ToolError>> {
        let (a, s) = self.actions();
        a.call_delete_task(s, task_id).await
    }

    pub async fn list_agents(&mut self) -> Result<Result<Vec<Agent>, ToolError>> {
        let (a, s) = self.actions();
        a.call_list_agents(s).await
    }

    pub async fn set_agent_status(
        &mut self,
        agent_id: &str,
        status: AgentStatus,
    ) -> Result<Result<Agent, ToolError>> {
        let (a, s) = self.actions();
        a.call_set_agent_status(s, agent_id, status).await
    }

    pub async fn list_events(
        &mut self,
        query: EventQuery,
    ) -> Result<Result<Vec<Event>, ToolError>> {
        let (a, s) = self.actions();
        a.call_list_events(s, query).await
    }

    pub async fn heartbeat(
        &mut self,
        status: Option<AgentStatus>,
    ) -> Result<Result<Work, ToolError>> {
        let (a, s) = self.actions();
        a.call_heartbeat(s, status).await
    }

    pub async fn claim(
        &mut self,
        task_id: &str,
        options: &ClaimOptions,
    ) -> Result<Result<Task, ToolError>> {
        let (a, s) = self.actions();
        a.call_claim(s, task_id, options).await
    }

    pub async fn claim_next(
        &mut self,
        query: &ClaimNextQuery,
    ) -> Result<Result<Option<Task>, ToolError>> {
        let (a, s) = self.actions();
        a.call_claim_next(s, query).await
    }

    pub async fn release(&mut self, task_id: &str) -> Result<Result<Task, ToolError>> {
        let (a, s) = self.actions();
        a.call_release(s, task_id).await
    }

    pub async fn complete(
        &mut self,
        task_id: &str,
        completion: &Completion,
    ) -> Result<Result<Completed, ToolError>> {
        let (a, s) = self.actions();
        a.call_complete(s, task_id, completion).await
    }

    pub async fn add_comment(
        &mut self,
        task_id: &str,
        text: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Result<Comment, ToolError>> {
        let (a, s) = self.actions();
        a.call_add_comment(s, task_id, text, idempotency_key).await
    }

    pub async fn list_comments(
        &mut self,
        task_id: &str,
        query: &CommentQuery,
    ) -> Result<Result<CommentPage, ToolError>> {
        let (a, s) = self.actions();
        a.call_list_comments(s, task_id, query).await
    }
}
