//! The HTTP side of the server: REST routes, the dashboard's files, CORS and security
//! headers, composed into one service that Socket.io wraps.

pub mod auth;
pub mod body;
pub mod conditional;
mod dashboard;
pub mod error;
pub mod listing;
pub(crate) mod openapi;
pub mod origin;
pub mod password_check;
pub mod query;
pub mod rate_limit;
pub mod router;
pub(crate) mod routes;
mod snapshot_stream;
pub mod state;
pub mod wire;

use std::convert::Infallible;
use std::net::IpAddr;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, header};
use hyper::body::Incoming;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use body::Body;
pub use dashboard::Dashboard;
pub use snapshot_stream::SnapshotStreams;
pub use state::AppState;

/// The address of the client, put in each request's extensions by the connection loop.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// Answers one request that is not for Socket.io: the API, else the dashboard.
async fn route(
    state: AppState,
    dashboard: Dashboard,
    req: http::Request<Incoming>,
) -> http::Response<Body> {
    if router::is_api_path(req.uri().path()) {
        let client = req
            .extensions()
            .get::<ClientAddr>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0);
        // An MCP client told "401" learns where the board's authorization metadata is.
        let challenge = crate::mcp::endpoint::challenge_for(&req, state.config.listen);
        let mut response = router::dispatch(&state, req, client)
            .await
            .unwrap_or_else(error::ApiError::into_response);
        if let Some(challenge) = challenge {
            challenge.apply(&mut response);
        }
        // Answers are about a board that changes under them, and some carry tokens: nothing
        // may keep them.
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        response
    } else {
        dashboard.serve(req).await
    }
}

/// The REST API and dashboard with CORS and security headers, as a hyper service.
pub fn service(
    state: AppState,
    dashboard: Dashboard,
) -> hyper_util::service::TowerToHyperService<
    impl tower::Service<
        http::Request<Incoming>,
        Response = http::Response<Body>,
        Error = Infallible,
        Future: Send,
    > + Clone
    + Send,
> {
    let cors = cors(&state.config.frontend_origins);
    let inner = tower::service_fn(move |req| {
        let state = state.clone();
        let dashboard = dashboard.clone();
        async move { Ok::<_, Infallible>(route(state, dashboard, req).await) }
    });
    let svc = ServiceBuilder::new()
        .layer(cors)
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
             style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .service(inner);
    hyper_util::service::TowerToHyperService::new(svc)
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Cross-origin calls are allowed from `FRONTEND_URL` only; same-origin calls need no CORS.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(600))
}
