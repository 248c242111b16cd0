//! `/health` and `/api/openapi.json`: for load balancers, monitors and client generators.

use http::StatusCode;

use super::Result;
use crate::http::body::json_response;
use crate::http::router::Ctx;
use crate::http::wire::Health;

/// Liveness and database reachability. Answers 503 when the database does not answer.
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(ctx: Ctx) -> Result {
    let database_ok = ctx.state.mc.check_database().await.is_ok();
    let (status, code) = if database_ok {
        ("ok", StatusCode::OK)
    } else {
        ("degraded", StatusCode::SERVICE_UNAVAILABLE)
    };
    Ok(json_response(
        code,
        &Health {
            status,
            version: env!("CARGO_PKG_VERSION"),
            database: if database_ok { "ok" } else { "unreachable" },
        },
    ))
}

/// This API as an OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub async fn openapi(_ctx: Ctx) -> Result {
    Ok(json_response(
        StatusCode::OK,
        &crate::http::openapi::document(),
    ))
}
