//! `/api/stream`: the board's changes as Server-Sent Events (see `realtime::sse`).

use http::header::HeaderName;
use mission_control_core::FieldError;

use super::Result;
use crate::api::caller::Caller;
use crate::api::router::Ctx;
use crate::realtime::sse;
use crate::web::error::{ApiError, ErrorBody};
use crate::web::query::Query;

static LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");

/// Every change to the board as it commits, as Server-Sent Events: `id:` the change's seq,
/// `event:` its name (`task.created`, `task.updated`, `task.deleted`, `agent.status_changed`,
/// `agent.removed`, `event.new`, `comment.created`), `data:` the Socket.io payload with `seq`.
/// Without a position the stream starts with `event: ready` (`{"seq"}`); with `Last-Event-ID`
/// or `since` it first replays every change after that seq, then sends `event: resumed`
/// (`{"since","seq","replayed"}`), or `event: resync_required` (`{"since","oldest","latest"}`)
/// when the log no longer holds them all. A comment every 15 s keeps it open; it ends when the
/// token expires or is revoked. Try: `curl -N -H "Authorization: Bearer $TOKEN" $URL/api/stream`.
#[utoipa::path(get, path = "/api/stream", tag = "events",
    params(
        ("since" = Option<i64>, Query, description = "A seq: replay every change after it first"),
        ("Last-Event-ID" = Option<i64>, Header, description = "A seq, as an EventSource sends it on reconnecting; wins over since"),
    ),
    responses(
        (status = 200, description = "The stream of changes", content_type = "text/event-stream", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 503, description = "As many streams open as allowed, in all or for this token", body = ErrorBody),
    ))]
pub async fn stream(ctx: Ctx, caller: Caller) -> Result {
    let since = Query::of(ctx.req.uri()).integer("since", 0, i64::MAX)?;
    let last_event_id = match ctx.req.headers().get(&LAST_EVENT_ID) {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| invalid_last_event_id("must be ASCII"))?,
        ),
    };
    let since = sse::resume_point(last_event_id, since).map_err(|e| invalid_last_event_id(&e))?;
    let token = ctx.state.mc.check_signature(&caller.token)?;
    sse::open(
        &ctx.state.stream_feed,
        &ctx.state.mc,
        &caller.actor,
        token,
        since,
    )
    .await
}

fn invalid_last_event_id(why: &str) -> ApiError {
    ApiError::InvalidHeader(FieldError::new("Last-Event-ID", why))
}
