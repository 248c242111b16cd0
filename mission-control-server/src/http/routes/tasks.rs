//! `/api/tasks`: the board's cards, claims on them, and notes.

use http::StatusCode;
use mission_control_core::{
    ClaimNextRequest, ClaimRequest, CompleteRequest, CreateTaskRequest, NewCommentRequest, NewTask,
    TaskChanges, TaskCursor, TaskFilter, TaskStatus, UpdateTaskRequest,
};

use super::Result;
use crate::http::auth::Caller;
use crate::http::board_stream;
use crate::http::body::{json_response, parse_json, parse_optional_json};
use crate::http::conditional::{idempotency_key, if_match, with_etag};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::Query;
use crate::http::router::Ctx;
use crate::http::wire::{
    CommentEnvelope, CommentList, CompletedEnvelope, MaybeTask, Success, TaskEnvelope, TaskList,
};

/// Most tasks (or comments) a page may ask for.
const MAX_PAGE: i64 = mission_control_actions::limits::PAGE_MAX;

/// List tasks, oldest first. Without `limit` every match is returned (streamed); with it, one
/// page and `nextCursor`. `seq` says where the list stands in the change log.
#[utoipa::path(get, path = "/api/tasks", tag = "tasks",
    params(
        ("status" = Option<TaskStatus>, Query, description = "Only tasks in this column"),
        ("agent" = Option<String>, Query, description = "Only tasks assigned to this agent id"),
        ("limit" = Option<u32>, Query, description = "At most this many (1 to 500); then `nextCursor` says where the next page starts"),
        ("cursor" = Option<String>, Query, description = "A `nextCursor` from the previous page"),
    ),
    responses((status = 200, body = TaskList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(ctx: Ctx, _caller: Caller) -> Result {
    let query = Query::of(ctx.req.uri());
    let filter = TaskFilter {
        status: query.parse("status")?,
        agent: query.get("agent").map(str::to_owned),
    };
    let limit = query.integer("limit", 1, MAX_PAGE)?;
    let cursor = match query.get("cursor") {
        None => None,
        Some(raw) => Some(TaskCursor::decode(raw).ok_or_else(|| {
            ApiError::InvalidQuery(mission_control_core::FieldError::new(
                "cursor",
                "must be a nextCursor from an earlier page",
            ))
        })?),
    };
    if limit.is_none() && cursor.is_none() {
        let permit = ctx
            .state
            .board_streams
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy {
                reason: "too many board downloads at once",
                retry_after: std::time::Duration::from_secs(1),
            })?;
        let reader = ctx.state.mc.read_board(filter).await?;
        return Ok(board_stream::response(reader, permit));
    }
    let limit = limit.unwrap_or(MAX_PAGE) as usize;
    let page = ctx.state.mc.list_tasks_page(filter, cursor, limit).await?;
    Ok(json_response(
        StatusCode::OK,
        &TaskList {
            tasks: page.tasks,
            seq: page.seq,
            next_cursor: page.next.map(|c| c.encode()),
        },
    ))
}

/// Create a task. Emits `task.created` and `event.new`. With `Idempotency-Key`, a retry
/// answers the first answer and creates nothing.
#[utoipa::path(post, path = "/api/tasks", tag = "tasks", request_body = CreateTaskRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body within 24 hours answer the first answer again")),
    responses((status = 201, body = TaskEnvelope), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(ctx: Ctx, caller: Caller) -> Result {
    let key = idempotency_key(&ctx.req)?;
    let new = NewTask::parse(parse_json::<CreateTaskRequest>(ctx.req.body())?)?;
    let task = ctx
        .state
        .mc
        .idempotent(key)
        .create_task(&caller.actor, new)
        .await?;
    Ok(with_etag(
        json_response(StatusCode::CREATED, &TaskEnvelope { task: task.clone() }),
        &task,
    ))
}

/// One task, with its version as `ETag`.
#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, body = TaskEnvelope), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(ctx: Ctx, _caller: Caller) -> Result {
    let task = ctx.state.mc.get_task(ctx.params.id()).await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &TaskEnvelope { task: task.clone() }),
        &task,
    ))
}

/// Change some fields of a task; `null` clears description, assignedAgent or priority. With
/// `If-Match`, only if the task is still at that version (else 412 with the current task).
/// Emits `task.updated` and `event.new` when anything changed.
#[utoipa::path(patch, path = "/api/tasks/{id}", tag = "tasks", request_body = UpdateTaskRequest,
    params(("id" = String, Path, description = "Task id"),
           ("If-Match" = Option<String>, Header, description = "The task's ETag (its version): refuse the change if the task changed meanwhile")),
    responses((status = 200, body = TaskEnvelope), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(ctx: Ctx, caller: Caller) -> Result {
    let expected = if_match(ctx.req.headers())?;
    let changes = TaskChanges::parse(parse_json::<UpdateTaskRequest>(ctx.req.body())?)?;
    let task = ctx
        .state
        .mc
        .update_task_if(&caller.actor, ctx.params.id(), expected, changes)
        .await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &TaskEnvelope { task: task.clone() }),
        &task,
    ))
}

/// Delete a task (with `If-Match`, only if it is still at that version). Emits
/// `task.deleted` and `event.new`.
#[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "Task id"),
           ("If-Match" = Option<String>, Header, description = "The task's ETag (its version)")),
    responses((status = 200, body = Success), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(ctx: Ctx, caller: Caller) -> Result {
    let expected = if_match(ctx.req.headers())?;
    ctx.state
        .mc
        .delete_task_if(&caller.actor, ctx.params.id(), expected)
        .await?;
    Ok(json_response(StatusCode::OK, &Success { success: true }))
}

/// Claim a task: assign it to yourself, move it to in-progress, and hold it for a lease
/// (`leaseSeconds`, 15 minutes by default). 409 when another agent holds it (with the holder
/// and the lease's end), when it waits for an unfinished blocker, or is done.
#[utoipa::path(post, path = "/api/tasks/{id}/claim", tag = "claims", request_body = Option<ClaimRequest>,
    params(("id" = String, Path, description = "Task id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, body = TaskEnvelope), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn claim(ctx: Ctx, caller: Caller) -> Result {
    let key = idempotency_key(&ctx.req)?;
    let lease = parse_optional_json::<ClaimRequest>(ctx.req.body())?.lease()?;
    let task = ctx
        .state
        .mc
        .idempotent(key)
        .claim(&caller.actor, ctx.params.id(), lease)
        .await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &TaskEnvelope { task: task.clone() }),
        &task,
    ))
}

/// Claim the next task: the highest-priority, oldest `todo` task that is unassigned (or yours)
/// and waits for nothing, optionally with a `tag` or `priority`. `{"task": null}` when none.
#[utoipa::path(post, path = "/api/tasks/claim-next", tag = "claims", request_body = Option<ClaimNextRequest>,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: a retry answers the task the first call claimed")),
    responses((status = 200, body = MaybeTask), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn claim_next(ctx: Ctx, caller: Caller) -> Result {
    let key = idempotency_key(&ctx.req)?;
    let (filter, lease) = parse_optional_json::<ClaimNextRequest>(ctx.req.body())?.parse()?;
    let task = ctx
        .state
        .mc
        .idempotent(key)
        .claim_next(&caller.actor, filter, lease)
        .await?;
    Ok(json_response(StatusCode::OK, &MaybeTask { task }))
}

/// Give a claimed task back: to `todo`, unassigned. The holder or the operator only.
#[utoipa::path(post, path = "/api/tasks/{id}/release", tag = "claims",
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, body = TaskEnvelope), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn release(ctx: Ctx, caller: Caller) -> Result {
    let task = ctx.state.mc.release(&caller.actor, ctx.params.id()).await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &TaskEnvelope { task: task.clone() }),
        &task,
    ))
}

/// Finish a task: move it to done and end its claim, with an optional closing `note` added as
/// a comment in the same transaction.
#[utoipa::path(post, path = "/api/tasks/{id}/complete", tag = "claims", request_body = Option<CompleteRequest>,
    params(("id" = String, Path, description = "Task id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 200, body = CompletedEnvelope), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn complete(ctx: Ctx, caller: Caller) -> Result {
    let key = idempotency_key(&ctx.req)?;
    let note = parse_optional_json::<CompleteRequest>(ctx.req.body())?.parse()?;
    let done = ctx
        .state
        .mc
        .idempotent(key)
        .complete(&caller.actor, ctx.params.id(), note)
        .await?;
    Ok(with_etag(
        json_response(
            StatusCode::OK,
            &CompletedEnvelope {
                task: done.task.clone(),
                comment: done.comment,
            },
        ),
        &done.task,
    ))
}

/// Add a note to a task (progress, a question, a result). Emits `comment.created` and
/// `event.new`.
#[utoipa::path(post, path = "/api/tasks/{id}/comments", tag = "comments", request_body = NewCommentRequest,
    params(("id" = String, Path, description = "Task id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    responses((status = 201, body = CommentEnvelope), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_comment(ctx: Ctx, caller: Caller) -> Result {
    let key = idempotency_key(&ctx.req)?;
    let text = parse_json::<NewCommentRequest>(ctx.req.body())?.parse()?;
    let comment = ctx
        .state
        .mc
        .idempotent(key)
        .add_comment(&caller.actor, ctx.params.id(), text)
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &CommentEnvelope { comment },
    ))
}

/// A task's notes, oldest first: up to `limit` (1 to 500, default 100) after the comment
/// `after`.
#[utoipa::path(get, path = "/api/tasks/{id}/comments", tag = "comments",
    params(("id" = String, Path, description = "Task id"),
           ("limit" = Option<u32>, Query, description = "At most this many (1 to 500, default 100)"),
           ("after" = Option<String>, Query, description = "Only comments after this comment id")),
    responses((status = 200, body = CommentList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list_comments(ctx: Ctx, _caller: Caller) -> Result {
    let query = Query::of(ctx.req.uri());
    let limit = query
        .integer("limit", 1, MAX_PAGE)?
        .unwrap_or(mission_control_actions::limits::COMMENTS_PAGE_DEFAULT) as u32;
    let after = query.get("after").map(str::to_owned);
    let page = ctx
        .state
        .mc
        .list_comments(ctx.params.id(), after, limit)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &CommentList {
            comments: page.comments,
            has_more: page.has_more,
        },
    ))
}
