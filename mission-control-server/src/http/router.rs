//! Which endpoint a path names (with `matchit`), and which handler serves each method there.

use std::net::IpAddr;
use std::sync::LazyLock;

use http::Method;
use hyper::body::Incoming;

use super::body::read_body;
use super::error::ApiError;
use super::routes::{self, Request};
use super::state::AppState;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Login,
    Logout,
    Tokens,
    Tasks,
    Task,
    Agents,
    Agent,
    Events,
    Health,
    OpenApi,
}

static ROUTES: LazyLock<matchit::Router<Endpoint>> = LazyLock::new(|| {
    let mut router = matchit::Router::new();
    let table = [
        ("/api/auth/login", Endpoint::Login),
        ("/api/auth/logout", Endpoint::Logout),
        ("/api/auth/tokens", Endpoint::Tokens),
        ("/api/tasks", Endpoint::Tasks),
        ("/api/tasks/{id}", Endpoint::Task),
        ("/api/agents", Endpoint::Agents),
        ("/api/agents/{id}", Endpoint::Agent),
        ("/api/events", Endpoint::Events),
        ("/health", Endpoint::Health),
        ("/api/openapi.json", Endpoint::OpenApi),
    ];
    for (path, endpoint) in table {
        // The table is fixed and checked by the router tests; a conflict is a programming error
        // caught before any request is served.
        router
            .insert(path, endpoint)
            .unwrap_or_else(|e| panic!("route {path}: {e}"));
    }
    router
});

/// Whether the server (rather than the dashboard) answers this path.
pub fn is_api_path(path: &str) -> bool {
    path == "/health" || path == "/api" || path.starts_with("/api/")
}

/// Runs the handler for the request's endpoint and method.
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
    let endpoint = *matched.value;
    let id = matched.params.get("id").unwrap_or_default().to_owned();
    let method = req.method().clone();
    use Endpoint as E;
    match (endpoint, method) {
        (E::Login, Method::POST) => routes::auth::login(state, req, client).await,
        (E::Logout, Method::POST) => routes::auth::logout(state, req).await,
        (E::Tokens, Method::POST) => routes::auth::mint(state, req).await,
        (E::Tasks, Method::GET) => routes::tasks::list(state, req).await,
        (E::Tasks, Method::POST) => routes::tasks::create(state, req).await,
        (E::Task, Method::GET) => routes::tasks::get(state, req, &id).await,
        (E::Task, Method::PATCH) => routes::tasks::update(state, req, &id).await,
        (E::Task, Method::DELETE) => routes::tasks::delete(state, req, &id).await,
        (E::Agents, Method::GET) => routes::agents::list(state, req).await,
        (E::Agents, Method::POST) => routes::agents::register(state, req).await,
        (E::Agent, Method::GET) => routes::agents::get(state, req, &id).await,
        (E::Agent, Method::PATCH) => routes::agents::update(state, req, &id).await,
        (E::Events, Method::GET) => routes::events::list(state, req).await,
        (E::Health, Method::GET) => routes::health::health(state, req).await,
        (E::OpenApi, Method::GET) => routes::health::openapi(state, req).await,
        (endpoint, _) => Err(ApiError::MethodNotAllowed {
            allow: allowed(endpoint),
        }),
    }
}

fn allowed(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Login | Endpoint::Logout | Endpoint::Tokens => "POST",
        Endpoint::Tasks | Endpoint::Agents => "GET, POST",
        Endpoint::Task => "GET, PATCH, DELETE",
        Endpoint::Agent => "GET, PATCH",
        Endpoint::Events | Endpoint::Health | Endpoint::OpenApi => "GET",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_resolves() {
        assert!(matches!(
            ROUTES.at("/api/tasks").unwrap().value,
            Endpoint::Tasks
        ));
        let m = ROUTES.at("/api/tasks/task-1").unwrap();
        assert!(matches!(m.value, Endpoint::Task));
        assert_eq!(m.params.get("id"), Some("task-1"));
        assert!(ROUTES.at("/api/tasks/a/b").is_err());
        assert!(ROUTES.at("/api/nothing").is_err());
        assert!(is_api_path("/api/x") && is_api_path("/health"));
        assert!(!is_api_path("/apix") && !is_api_path("/"));
    }
}
