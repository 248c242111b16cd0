//! The endpoint table: every endpoint written once, as its handler and the rules it follows
//! (a bearer token, an `Idempotency-Key`, pages of other sites refused). The method and path
//! come from the handler's `#[utoipa::path]` annotation, which also describes it in the OpenAPI
//! document ([`Annotations`]); the table's rules drive both what the router does and what the
//! document says (`api::openapi`), so the two cannot differ.
//!
//! The table drives routing (with `matchit`), the `Allow` header of a 405, the `Origin` check,
//! authentication and idempotency keys: [`serve`] does each of these before the handler runs,
//! so no handler has to remember to. Every request takes this path, from the network
//! ([`dispatch`]) or from inside the server on behalf of a caller already authenticated (an
//! MCP tool call: `crate::mcp::rest`).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::LazyLock;

use http::Method;
use hyper::body::Incoming;
use mission_control_core::IdempotencyKey;
use utoipa::openapi::path::HttpMethod;

use super::caller::{Caller, authenticate};
use super::routes::{self, Request, agents, events, export, health, sign_in, stream, tasks};
use super::state::AppState;
use crate::mcp::endpoint as mcp;
use crate::web::body::read_body;
use crate::web::conditional::idempotency_key;
use crate::web::error::ApiError;
use crate::web::origin::check_origin;

/// What a handler gets: the shared state, the request with its body read, the path's
/// parameters, the client's address, and the request's `Idempotency-Key` on the routes that
/// take one.
pub struct Ctx {
    pub state: AppState,
    pub req: Request,
    pub params: PathParams,
    pub client: IpAddr,
    /// Bound to what the request asks for ([`idempotency_key`]); `None` without the header,
    /// and on every route the table does not mark idempotent.
    pub idempotency_key: Option<IdempotencyKey>,
}

/// The named segments of the matched path (`{id}`, `{tokenId}`).
#[derive(Debug, Default)]
pub struct PathParams(Vec<(String, String)>);

impl PathParams {
    /// The value of a parameter the route declares; empty if the route has none by that name.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The `{id}` segment.
    pub fn id(&self) -> &str {
        self.get("id")
    }
}

type Reply = Pin<Box<dyn Future<Output = routes::Result> + Send>>;

/// A handler, and whether it runs for anyone or only for an authenticated caller.
#[derive(Clone, Copy)]
pub enum Handler {
    Public(fn(Ctx) -> Reply),
    Authenticated(fn(Ctx, Caller) -> Reply),
}

/// One endpoint.
#[derive(Clone)]
pub struct Route {
    pub method: Method,
    pub path: String,
    pub handler: Handler,
    /// A write an agent may need to retry: it takes an `Idempotency-Key`, which the router
    /// reads and binds to the request before the handler runs.
    pub idempotent: bool,
    /// Pages of other sites may not call it: a request whose `Origin` is neither the server's
    /// own nor a `FRONTEND_URL` is refused with 403 (what MCP's transport requires against DNS
    /// rebinding).
    pub own_origins_only: bool,
}

impl Route {
    /// The route of the handler `P` annotates (`__path_<handler>`): its method and path.
    fn annotated<P: utoipa::Path>(handler: Handler) -> Route {
        let path = P::path();
        let method = match P::methods().as_slice() {
            [one] => method(one),
            other => panic!("{path}: one method per handler, not {}", other.len()),
        };
        Route {
            method,
            path,
            handler,
            idempotent: false,
            own_origins_only: false,
        }
    }

    fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    fn own_origins_only(mut self) -> Self {
        self.own_origins_only = true;
        self
    }

    pub fn needs_token(&self) -> bool {
        matches!(self.handler, Handler::Authenticated(_))
    }
}

fn method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

macro_rules! handler {
    (public, $module:ident :: $f:ident) => {
        Handler::Public(|ctx| Box::pin($module::$f(ctx)))
    };
    (authenticated, $module:ident :: $f:ident) => {
        Handler::Authenticated(|ctx, caller| Box::pin($module::$f(ctx, caller)))
    };
}

/// The table ([`routes`]) and the handlers' OpenAPI annotations ([`Annotations`]) from one
/// list: `public` or `authenticated`, the handler, and the rules it follows.
macro_rules! endpoints {
    ($( $kind:ident $module:ident :: $f:ident $( . $rule:ident () )* ; )*) => {
        /// Every endpoint of the server, in the order written.
        fn routes() -> Vec<Route> {
            vec![$(
                pastey::paste! {
                    Route::annotated::<$module::[<__path_ $f>]>(handler!($kind, $module::$f))
                }
                $( .$rule() )*
            ),*]
        }

        /// The handlers' annotations, as utoipa collects them with the schemas they name.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($module::$f),*))]
        pub struct Annotations;
    };
}

endpoints! {
    public sign_in::login;
    authenticated sign_in::logout;
    authenticated sign_in::mint;
    authenticated tasks::list;
    authenticated tasks::create.idempotent();
    authenticated tasks::claim_next.idempotent();
    authenticated tasks::get;
    authenticated tasks::update;
    authenticated tasks::delete;
    authenticated tasks::claim.idempotent();
    authenticated tasks::release;
    authenticated tasks::complete.idempotent();
    authenticated tasks::list_comments;
    authenticated tasks::add_comment.idempotent();
    authenticated agents::list;
    authenticated agents::register;
    authenticated agents::get;
    authenticated agents::update;
    authenticated agents::remove;
    authenticated agents::heartbeat;
    authenticated agents::tokens;
    authenticated agents::revoke_all;
    authenticated agents::revoke;
    authenticated events::list;
    authenticated export::export;
    authenticated stream::stream;
    public health::health;
    public health::openapi;
    // MCP over Streamable HTTP, stateless: POST only (GET and DELETE answer 405, as the
    // transport says for a server without sessions). Same tokens, limits and body cap.
    authenticated mcp::post.own_origins_only();
    public mcp::resource_metadata;
    public mcp::resource_metadata_for_mcp;
}

/// Every endpoint of the server. Paths use `matchit`'s `{param}` syntax, as OpenAPI does.
pub fn table() -> &'static [Route] {
    static TABLE: LazyLock<Vec<Route>> = LazyLock::new(routes);
    &TABLE
}

/// The routes of one path: each method's route, and the `Allow` header listing them.
struct Endpoint {
    methods: Vec<&'static Route>,
    allow: &'static str,
}

static ROUTES: LazyLock<matchit::Router<Endpoint>> = LazyLock::new(|| {
    let mut by_path: BTreeMap<&'static str, Vec<&'static Route>> = BTreeMap::new();
    for route in table() {
        by_path.entry(&route.path).or_default().push(route);
    }
    let mut router = matchit::Router::new();
    for (path, methods) in by_path {
        let allow = methods
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        // The table is fixed and checked by the router tests; a conflict is a programming error
        // caught before any request is served.
        router
            .insert(
                path,
                Endpoint {
                    methods,
                    allow: Box::leak(allow.into_boxed_str()),
                },
            )
            .unwrap_or_else(|e| panic!("route {path}: {e}"));
    }
    router
});

/// Whether the server (rather than the dashboard) answers this path.
pub fn is_api_path(path: &str) -> bool {
    path == "/health"
        || path == "/api"
        || path.starts_with("/api/")
        || path == crate::mcp::endpoint::PATH
        || path.starts_with("/.well-known/oauth-protected-resource")
}

/// Who a request comes from.
pub enum Credentials {
    /// Whatever its headers say: the bearer token, checked before an authenticated handler.
    Headers,
    /// A caller the server has already authenticated, for a request it makes on the caller's
    /// behalf (an MCP tool call, which the `POST /mcp` that carried it authenticated).
    Authenticated(Caller),
}

/// Reads the body of a request from the network, then [`serve`]s it.
pub async fn dispatch(
    state: &AppState,
    req: http::Request<Incoming>,
    client: IpAddr,
) -> routes::Result {
    // The body is read before anything else, so that no answer (a 401, a 404) leaves unread
    // bytes on a keep-alive connection, which hyper would have to close under the client.
    let (parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body).await?;
    serve(
        state,
        http::Request::from_parts(parts, bytes),
        client,
        Credentials::Headers,
    )
    .await
}

/// Finds the request's endpoint, checks its `Origin` where the endpoint asks for it,
/// authenticates the caller when the endpoint needs one, reads its `Idempotency-Key` when the
/// endpoint takes one, and runs its handler.
pub async fn serve(
    state: &AppState,
    req: Request,
    client: IpAddr,
    credentials: Credentials,
) -> routes::Result {
    let matched = ROUTES.at(req.uri().path()).map_err(|_| ApiError::NoRoute)?;
    let endpoint = matched.value;
    let Some(route) = endpoint.methods.iter().find(|r| r.method == req.method()) else {
        return Err(ApiError::MethodNotAllowed {
            allow: endpoint.allow,
        });
    };
    let params = PathParams(
        matched
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    );
    if route.own_origins_only {
        check_origin(req.headers(), &state.config.frontend_origins)?;
    }
    // A big answer to a client on the network holds a slot until it is written; one made for
    // an MCP tool call is read at once, in process, and the MCP answer holds the slot instead.
    let mut slot_for = None;
    let ready = match route.handler {
        Handler::Public(run) => Ready::Public(run),
        Handler::Authenticated(run) => Ready::Authenticated(
            run,
            match credentials {
                Credentials::Authenticated(caller) => caller,
                Credentials::Headers => {
                    let caller = authenticate(state, req.headers(), client).await?;
                    slot_for = Some(caller.token_id.clone());
                    caller
                }
            },
        ),
    };
    let idempotency_key = if route.idempotent {
        idempotency_key(&req)?
    } else {
        None
    };
    let ctx = Ctx {
        state: state.clone(),
        req,
        params,
        client,
        idempotency_key,
    };
    let response = match ready {
        Ready::Public(run) => run(ctx).await?,
        Ready::Authenticated(run, caller) => run(ctx, caller).await?,
    };
    match slot_for {
        Some(token_id) => state.slots.hold_if_big(client, &token_id, response),
        None => Ok(response),
    }
}

/// A handler about to run, with its caller when it needs one.
enum Ready {
    Public(fn(Ctx) -> Reply),
    Authenticated(fn(Ctx, Caller) -> Reply, Caller),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_resolves() {
        let m = ROUTES.at("/api/tasks/task-1").unwrap();
        assert_eq!(m.params.get("id"), Some("task-1"));
        assert_eq!(m.value.allow, "GET, PATCH, DELETE");
        let m = ROUTES.at("/api/tasks/claim-next").unwrap();
        assert_eq!(m.value.allow, "POST", "a fixed segment wins over {{id}}");
        let m = ROUTES.at("/api/agents/agent-nova/tokens/abc").unwrap();
        assert_eq!(m.params.get("tokenId"), Some("abc"));
        assert_eq!(ROUTES.at("/api/tasks").unwrap().value.allow, "GET, POST");
        assert!(ROUTES.at("/api/tasks/a/b").is_err());
        assert!(ROUTES.at("/api/nothing").is_err());
        assert!(is_api_path("/api/x") && is_api_path("/health"));
        assert!(!is_api_path("/apix") && !is_api_path("/"));
        assert!(is_api_path("/mcp") && !is_api_path("/mcpx"));
        assert_eq!(ROUTES.at("/mcp").unwrap().value.allow, "POST");
    }

    #[test]
    fn only_sign_in_health_and_the_document_are_public() {
        let public: Vec<_> = table()
            .iter()
            .filter(|r| !r.needs_token())
            .map(|r| r.path.as_str())
            .collect();
        assert_eq!(
            public,
            [
                "/api/auth/login",
                "/health",
                "/api/openapi.json",
                "/.well-known/oauth-protected-resource",
                "/.well-known/oauth-protected-resource/mcp"
            ]
        );
    }

    #[test]
    fn the_writes_an_agent_retries_take_an_idempotency_key() {
        let idempotent: Vec<_> = table()
            .iter()
            .filter(|r| r.idempotent)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert_eq!(
            idempotent,
            [
                "POST /api/tasks",
                "POST /api/tasks/claim-next",
                "POST /api/tasks/{id}/claim",
                "POST /api/tasks/{id}/complete",
                "POST /api/tasks/{id}/comments"
            ]
        );
        assert!(
            table()
                .iter()
                .all(|r| r.own_origins_only == (r.path == "/mcp"))
        );
    }

    /// The OpenAPI document lists exactly the table's endpoints, each with a bearer security
    /// requirement exactly when the table says it needs a token, and the `Idempotency-Key`
    /// header exactly when the table says it takes one.
    #[test]
    fn the_openapi_document_matches_the_table() {
        let doc = crate::api::openapi::document();
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let secured = op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
                let keyed = op["parameters"].as_array().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| p["in"] == "header" && p["name"] == "Idempotency-Key")
                });
                documented.push((method.to_uppercase(), path.clone(), secured, keyed));
            }
        }
        documented.sort();
        let mut declared: Vec<_> = table()
            .iter()
            .map(|r| {
                (
                    r.method.to_string(),
                    r.path.clone(),
                    r.needs_token(),
                    r.idempotent,
                )
            })
            .collect();
        declared.sort();
        assert_eq!(declared, documented);
    }
}
