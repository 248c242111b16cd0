//! The endpoint table: every REST endpoint declared once, with its path, method, handler and
//! whether it needs a bearer token. The table drives routing (with `matchit`), the `Allow`
//! header of a 405, and authentication: [`dispatch`] authenticates before any handler marked
//! [`Handler::Authenticated`] runs, so no handler has to remember to.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::LazyLock;

use http::Method;
use hyper::body::Incoming;

use super::auth::{Caller, authenticate};
use super::body::read_body;
use super::error::ApiError;
use super::routes::{self, Request};
use super::state::AppState;

/// What a handler gets: the shared state, the request with its body read, the path's
/// parameters and the client's address.
pub struct Ctx {
    pub state: AppState,
    pub req: Request,
    pub params: PathParams,
    pub client: IpAddr,
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
    pub path: &'static str,
    pub handler: Handler,
}

impl Route {
    pub fn needs_token(&self) -> bool {
        matches!(self.handler, Handler::Authenticated(_))
    }
}

macro_rules! public {
    ($f:path) => {
        Handler::Public(|ctx| Box::pin($f(ctx)))
    };
}

macro_rules! authenticated {
    ($f:path) => {
        Handler::Authenticated(|ctx, caller| Box::pin($f(ctx, caller)))
    };
}

/// Every endpoint of the API. Paths use `matchit`'s `{param}` syntax, as OpenAPI does.
pub fn table() -> Vec<Route> {
    use crate::mcp::endpoint as mcp;
    use routes::{agents, auth, events, export, health, stream, tasks};
    let r = |method: Method, path: &'static str, handler: Handler| Route {
        method,
        path,
        handler,
    };
    #[rustfmt::skip]
    let routes = vec![
        r(Method::POST, "/api/auth/login", public!(auth::login)),
        r(Method::POST, "/api/auth/logout", authenticated!(auth::logout)),
        r(Method::POST, "/api/auth/tokens", authenticated!(auth::mint)),
        r(Method::GET, "/api/tasks", authenticated!(tasks::list)),
        r(Method::POST, "/api/tasks", authenticated!(tasks::create)),
        r(Method::POST, "/api/tasks/claim-next", authenticated!(tasks::claim_next)),
        r(Method::GET, "/api/tasks/{id}", authenticated!(tasks::get)),
        r(Method::PATCH, "/api/tasks/{id}", authenticated!(tasks::update)),
        r(Method::DELETE, "/api/tasks/{id}", authenticated!(tasks::delete)),
        r(Method::POST, "/api/tasks/{id}/claim", authenticated!(tasks::claim)),
        r(Method::POST, "/api/tasks/{id}/release", authenticated!(tasks::release)),
        r(Method::POST, "/api/tasks/{id}/complete", authenticated!(tasks::complete)),
        r(Method::GET, "/api/tasks/{id}/comments", authenticated!(tasks::list_comments)),
        r(Method::POST, "/api/tasks/{id}/comments", authenticated!(tasks::add_comment)),
        r(Method::GET, "/api/agents", authenticated!(agents::list)),
        r(Method::POST, "/api/agents", authenticated!(agents::register)),
        r(Method::GET, "/api/agents/{id}", authenticated!(agents::get)),
        r(Method::PATCH, "/api/agents/{id}", authenticated!(agents::update)),
        r(Method::DELETE, "/api/agents/{id}", authenticated!(agents::remove)),
        r(Method::POST, "/api/agents/{id}/heartbeat", authenticated!(agents::heartbeat)),
        r(Method::GET, "/api/agents/{id}/tokens", authenticated!(agents::tokens)),
        r(Method::DELETE, "/api/agents/{id}/tokens", authenticated!(agents::revoke_all)),
        r(Method::DELETE, "/api/agents/{id}/tokens/{tokenId}", authenticated!(agents::revoke)),
        r(Method::GET, "/api/events", authenticated!(events::list)),
        r(Method::GET, "/api/export", authenticated!(export::export)),
        r(Method::GET, "/api/stream", authenticated!(stream::stream)),
        r(Method::GET, "/health", public!(health::health)),
        r(Method::GET, "/api/openapi.json", public!(health::openapi)),
        // MCP over Streamable HTTP, stateless: POST only (GET and DELETE answer 405, as the
        // transport says for a server without sessions). Same tokens, limits and body cap.
        r(Method::POST, "/mcp", authenticated!(mcp::post)),
        r(Method::GET, "/.well-known/oauth-protected-resource", public!(mcp::resource_metadata)),
        r(Method::GET, "/.well-known/oauth-protected-resource/mcp", public!(mcp::resource_metadata_for_mcp)),
    ];
    routes
}

/// The routes of one path: each method's handler, and the `Allow` header listing them.
struct Endpoint {
    methods: Vec<(Method, Handler)>,
    allow: &'static str,
}

static ROUTES: LazyLock<matchit::Router<Endpoint>> = LazyLock::new(|| {
    let mut by_path: BTreeMap<&'static str, Vec<(Method, Handler)>> = BTreeMap::new();
    for route in table() {
        by_path
            .entry(route.path)
            .or_default()
            .push((route.method, route.handler));
    }
    let mut router = matchit::Router::new();
    for (path, methods) in by_path {
        let allow = methods
            .iter()
            .map(|(m, _)| m.as_str())
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

/// Finds the request's endpoint, authenticates the caller when the endpoint needs it, and runs
/// its handler.
pub async fn dispatch(
    state: &AppState,
    req: http::Request<Incoming>,
    client: IpAddr,
) -> routes::Result {
    // The body is read before anything else, so that no answer (a 401, a 404) leaves unread
    // bytes on a keep-alive connection, which hyper would have to close under the client.
    let (parts, body) = req.into_parts();
    let bytes = read_body(&parts.headers, body).await?;
    let req: Request = http::Request::from_parts(parts, bytes);
    let path = req.uri().path().to_owned();
    let matched = ROUTES.at(&path).map_err(|_| ApiError::NoRoute)?;
    let endpoint = matched.value;
    let Some((_, handler)) = endpoint.methods.iter().find(|(m, _)| m == req.method()) else {
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
    let ctx = Ctx {
        state: state.clone(),
        req,
        params,
        client,
    };
    match *handler {
        Handler::Public(run) => run(ctx).await,
        Handler::Authenticated(run) => {
            let caller = authenticate(&ctx.state, ctx.req.headers(), client).await?;
            run(ctx, caller).await
        }
    }
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
            .into_iter()
            .filter(|r| !r.needs_token())
            .map(|r| r.path)
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

    /// The OpenAPI document lists exactly the table's endpoints, each with a bearer security
    /// requirement exactly when the table says it needs a token.
    #[test]
    fn the_openapi_document_matches_the_table() {
        let doc = serde_json::to_value(crate::http::openapi::document()).unwrap();
        let mut documented = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let secured = op["security"]
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
                documented.push((method.to_uppercase(), path.clone(), secured));
            }
        }
        documented.sort();
        let mut declared: Vec<_> = table()
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_owned(), r.needs_token()))
            .collect();
        declared.sort();
        assert_eq!(declared, documented);
    }
}
