//! The REST API: the board's endpoints over HTTP, as the specification writes them, built on
//! the web toolkit ([`crate::web`]) and calling the core for everything they do.
//!
//! - [`router`]: the endpoint table: every endpoint written once (its handler, whether it
//!   needs a token, takes an `Idempotency-Key`, refuses other sites' pages), and the one path
//!   every request takes through it, from the network or from an MCP tool call.
//! - [`openapi`]: the OpenAPI document, generated from the handlers' annotations and completed
//!   by rule from the table.
//! - [`routes`]: the handlers, one module per resource.
//! - [`wire`]: the answers' envelopes and the small request bodies, as the specification
//!   writes them; [`listing`]: the query parameters of the lists.
//! - [`caller`]: who is calling: the request's bearer token, checked under the rate limits.
//! - [`password_check`]: sign-in's password checks, on a budget of their own.
//! - [`snapshot_stream`]: the board and the export, read from one consistent snapshot into a
//!   [`spill`] and sent from there at the client's pace.
//! - [`slots`]: the places for big answers, shared fairly per address and per token.
//! - [`csv_rows`]: the export's CSV, with formula cells made inert.
//! - [`state`]: what every handler can reach.
//!
//! MCP's endpoint (`POST /mcp`, [`crate::mcp`]) and the event stream (`GET /api/stream`,
//! [`crate::realtime`]) are routes of the same table. [`service`] is the whole HTTP side of
//! the server below Socket.io: the API, else the dashboard, with the browser policy.

pub mod caller;
pub mod csv_rows;
pub mod listing;
pub mod openapi;
pub mod password_check;
pub mod router;
pub mod routes;
pub mod slots;
pub mod snapshot_stream;
pub mod spill;
pub mod state;
pub mod wire;

use std::convert::Infallible;
use std::net::IpAddr;

use http::{HeaderValue, header};
use hyper::body::Incoming;

use crate::web::body::Body;
use crate::web::browser;
use crate::web::client::ClientAddr;
use crate::web::dashboard::Dashboard;
use crate::web::error::ApiError;
use state::AppState;

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
            .unwrap_or_else(ApiError::into_response);
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
    let frontend_origins = state.config.frontend_origins.clone();
    let inner = tower::service_fn(move |req| {
        let state = state.clone();
        let dashboard = dashboard.clone();
        async move { Ok::<_, Infallible>(route(state, dashboard, req).await) }
    });
    hyper_util::service::TowerToHyperService::new(browser::policy(&frontend_origins, inner))
}
