//! `/api/events`: the activity feed, and the way a client catches up after a disconnect.

use http::StatusCode;

use super::Result;
use crate::api::caller::Caller;
use crate::api::listing::event_query;
use crate::api::router::Ctx;
use crate::api::wire::EventList;
use crate::web::body::json_response;
use crate::web::query::Query;

/// The event log: newest first; or, with `after`, the events that followed a seq, oldest
/// first (a cursor that never skips). `hasMore` says when the page was cut at `limit`.
#[utoipa::path(get, path = "/api/events", tag = "events", operation_id = "listEvents",
    params(
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "At most this many, 1 to 500 (default 50)"),
        ("since" = Option<i64>, Query, minimum = 0, description = "Epoch milliseconds: only events strictly later"),
        ("after" = Option<i64>, Query, minimum = 0, description = "A seq: only the events after it, oldest first"),
    ),
    responses((status = 200, description = "The events", body = EventList)))]
pub async fn list(ctx: Ctx, _caller: Caller) -> Result {
    let query = event_query(&Query::of(ctx.req.uri()))?;
    let page = ctx.state.mc.list_events(query).await?;
    Ok(json_response(
        StatusCode::OK,
        &EventList {
            events: page.events,
            has_more: page.has_more,
        },
    ))
}
