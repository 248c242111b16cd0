//! `/health` and `/api/openapi.json`: for load balancers, monitors and client generators.

use http::StatusCode;

use super::Result;
use crate::api::router::Ctx;
use crate::api::wire::{Health, HealthState, StoreKind};
use crate::web::body::json_response;

/// Liveness and the store's health. Answers 503, with the reasons, when the database does
/// not answer, its file was deleted or replaced, a recent write failed, or it is damaged.
#[utoipa::path(get, path = "/health", tag = "system", operation_id = "health",
    responses((status = 200, description = "All is well", body = Health),
        (status = 503, description = "Degraded: `problems` says why", body = Health)))]
pub async fn health(ctx: Ctx) -> Result {
    let report = ctx.state.mc.health().await;
    let (status, code) = if report.is_ok() {
        (HealthState::Ok, StatusCode::OK)
    } else {
        (HealthState::Degraded, StatusCode::SERVICE_UNAVAILABLE)
    };
    Ok(json_response(
        code,
        &Health {
            status,
            version: env!("CARGO_PKG_VERSION"),
            database: status,
            store: if ctx.state.config.database.is_postgres() {
                StoreKind::Postgres
            } else {
                StoreKind::Sqlite
            },
            notification_queue_usage: report.notification_queue_usage,
            problems: report.problems,
        },
    ))
}

/// This API as an OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "system", operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json")))]
pub async fn openapi(_ctx: Ctx) -> Result {
    Ok(json_response(
        StatusCode::OK,
        &crate::api::openapi::document(),
    ))
}
