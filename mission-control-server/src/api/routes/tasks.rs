//! `/api/tasks`: the board's cards, claims on them, and notes.

use http::StatusCode;
use mission_control_core::{
    ClaimNextRequest, ClaimRequest, CompleteRequest, CreateTaskRequest, NewCommentRequest, NewTask,
    PAGE_MAX_BYTES, TaskChanges, TaskStatus, UpdateTaskRequest,
};

use super::Result;
use crate::api::caller::Caller;
use crate::api::listing::{CommentListing, TaskListing};
use crate::api::router::Ctx;
use crate::api::snapshot_stream::{self, Download};
use crate::api::wire::{
    CommentEnvelope, CommentList, CompletedEnvelope, MaybeTask, Success, TaskEnvelope, TaskList,
};
use crate::web::body::{json_response, parse_json, parse_optional_json};
use crate::web::conditional::{if_match, with_etag};
use crate::web::error::ErrorBody;
use crate::web::query::Query;

/// Most tasks (or comments) a page may ask for.
const MAX_PAGE: i64 = mission_control_actions::limits::PAGE_MAX;

/// List tasks, oldest first. Without `limit` every match is returned (streamed); with it, one
/// page and `nextCursor`. A page stops at `limit` tasks or at about 1 MiB of JSON, whichever
/// comes first (at least one task): follow `nextCursor` until it is absent. `seq` says where
/// the list stands in the change log.
#[utoipa::path(get, path = "/api/tasks", tag = "tasks", operation_id = "listTasks",
    params(
        ("status" = Option<TaskStatus>, Query, description = "Only tasks in this column"),
        ("agent" = Option<String>, Query, max_length = 64, description = "Only tasks assigned to this agent id (none match an id no agent has)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "At most this many (1 to 500), and at most about 1 MiB of them; `nextCursor` says where the next page starts"),
        ("cursor" = Option<String>, Query, max_length = 84, pattern = r"^-?[0-9]{1,18}\.[a-z0-9-]{1,64}$", description = "A `nextCursor` from the previous page"),
    ),
    responses((status = 200, description = "The matching tasks", body = TaskList)))]
pub async fn list(ctx: Ctx, caller: Caller) -> Result {
    let TaskListing {
        filter,
        limit,
        cursor,
    } = TaskListing::parse(&Query::of(ctx.req.uri()))?;
    if limit.is_none() && cursor.is_none() {
        let slot = ctx.state.slots.take(ctx.client, &caller.token_id)?;
        return snapshot_stream::download(&ctx.state.mc, filter, Download::Board, slot).await;
    }
    let limit = limit.unwrap_or(MAX_PAGE as usize);
    let page = ctx
        .state
        .mc
        .list_tasks_within(filter, cursor, limit, PAGE_MAX_BYTES)
        .await?;
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
#[utoipa::path(post, path = "/api/tasks", tag = "tasks", operation_id = "createTask",
    request_body = CreateTaskRequest,
    responses(
        (status = 201, description = "The new task", body = TaskEnvelope, links(
            ("GetTask" = (operation_id = "getTask", parameters(("id" = "$response.body#/task/id")))),
            ("UpdateTask" = (operation_id = "updateTask", parameters(("id" = "$response.body#/task/id")))),
            ("DeleteTask" = (operation_id = "deleteTask", parameters(("id" = "$response.body#/task/id")))),
            ("ClaimTask" = (operation_id = "claimTask", parameters(("id" = "$response.body#/task/id")))),
            ("CommentOnTask" = (operation_id = "addComment", parameters(("id" = "$response.body#/task/id")))),
        )),
        (status = 409, description = "`assignedAgent` or `blockedBy` names nothing registered, or the task would start while blocked", body = ErrorBody)
    ))]
pub async fn create(ctx: Ctx, caller: Caller) -> Result {
    let new = NewTask::parse(parse_json::<CreateTaskRequest>(ctx.req.body())?)?;
    let task = ctx
        .state
        .mc
        .idempotent(ctx.idempotency_key)
        .create_task(&caller.actor, new)
        .await?;
    Ok(with_etag(
        json_response(StatusCode::CREATED, &TaskEnvelope { task: task.clone() }),
        &task,
    ))
}

/// One task, with its version as `ETag`.
#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks", operation_id = "getTask",
    params(("id" = String, Path, max_length = 64, description = "Task id")),
    responses((status = 200, description = "The task (its version is the ETag)", body = TaskEnvelope),
        (status = 404, description = "No task has this id", body = ErrorBody)))]
pub async fn get(ctx: Ctx, _caller: Caller) -> Result {
    let task = ctx.state.mc.get_task(ctx.params.id()).await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &TaskEnvelope { task: task.clone() }),
        &task,
    ))
}

/// Change some fields of a task; `null` clears description, assignedAgent or priority. With
/// `If-Match`, only if the task is still at that version, or one of the list's (else 412 with
/// the current task).
/// Emits `task.updated` and `event.new` when anything changed.
#[utoipa::path(patch, path = "/api/tasks/{id}", tag = "tasks", operation_id = "updateTask",
    request_body = UpdateTaskRequest,
    params(("id" = String, Path, max_length = 64, description = "Task id"),
           ("If-Match" = Option<String>, Header, pattern = r##"^(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*"){0,63})$"##, description = "The task's ETag (its version), or a list of ETags (at most 64): refuse the change unless the task is at one of them. `*` matches any version; a weak tag never matches")),
    responses((status = 200, description = "The task as it now is", body = TaskEnvelope),
        (status = 404, description = "No task has this id", body = ErrorBody),
        (status = 409, description = "A field names nothing registered, another agent holds the task, or it waits for a blocker", body = ErrorBody),
        (status = 400, description = "A field is invalid, or If-Match is not a list of entity tags", body = ErrorBody),
        (status = 412, description = "The task is at none of the If-Match versions; the body carries it as it is", body = ErrorBody)))]
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
#[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks", operation_id = "deleteTask",
    params(("id" = String, Path, max_length = 64, description = "Task id"),
           ("If-Match" = Option<String>, Header, pattern = r##"^(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*"){0,63})$"##, description = "The task's ETag (its version), or a list of ETags (at most 64): refuse the deletion unless the task is at one of them. `*` matches any version; a weak tag never matches")),
    responses((status = 200, description = "The task is gone", body = Success),
        (status = 400, description = "If-Match is not an entity tag", body = ErrorBody),
        (status = 404, description = "No task has this id", body = ErrorBody),
        (status = 409, description = "Another agent holds the task", body = ErrorBody),
        (status = 412, description = "The task is at none of the If-Match versions", body = ErrorBody)))]
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
#[utoipa::path(post, path = "/api/tasks/{id}/claim", tag = "claims", operation_id = "claimTask",
    request_body(content = Option<ClaimRequest>, description = "Optional"),
    params(("id" = String, Path, max_length = 64, description = "Task id")),
    responses((status = 200, description = "The task, claimed", body = TaskEnvelope),
        (status = 404, description = "No task has this id", body = ErrorBody),
        (status = 409, description = "Held by another agent (`holder`, `leaseExpiresAt`), blocked (`blockers`), assigned to another agent, or done", body = ErrorBody)))]
pub async fn claim(ctx: Ctx, caller: Caller) -> Result {
    let lease = parse_optional_json::<ClaimRequest>(ctx.req.body())?.lease()?;
    let task = ctx
        .state
        .mc
        .idempotent(ctx.idempotency_key)
        .claim(&caller.actor, ctx.params.id(), lease)
        .await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &TaskEnvelope { task: task.clone() }),
        &task,
    ))
}

/// Claim the next task: the highest-priority, oldest `todo` task that is unassigned (or yours)
/// and waits for nothing, optionally with a `tag` or `priority`. `{"task": null}` when none.
#[utoipa::path(post, path = "/api/tasks/claim-next", tag = "claims", operation_id = "claimNextTask",
    request_body(content = Option<ClaimNextRequest>, description = "Optional"),
    responses((status = 200, description = "The task claimed, or null when there was none", body = MaybeTask)))]
pub async fn claim_next(ctx: Ctx, caller: Caller) -> Result {
    let (filter, lease) = parse_optional_json::<ClaimNextRequest>(ctx.req.body())?.parse()?;
    let task = ctx
        .state
        .mc
        .idempotent(ctx.idempotency_key)
        .claim_next(&caller.actor, filter, lease)
        .await?;
    Ok(json_response(StatusCode::OK, &MaybeTask { task }))
}

/// Give a claimed task back: to `todo`, unassigned. The holder or the operator only.
#[utoipa::path(post, path = "/api/tasks/{id}/release", tag = "claims", operation_id = "releaseTask",
    params(("id" = String, Path, max_length = 64, description = "Task id")),
    responses((status = 200, description = "The task, back in todo", body = TaskEnvelope),
        (status = 404, description = "No task has this id", body = ErrorBody),
        (status = 409, description = "The caller does not hold it (another agent may)", body = ErrorBody)))]
pub async fn release(ctx: Ctx, caller: Caller) -> Result {
    let task = ctx.state.mc.release(&caller.actor, ctx.params.id()).await?;
    Ok(with_etag(
        json_response(StatusCode::OK, &TaskEnvelope { task: task.clone() }),
        &task,
    ))
}

/// Finish a task: move it to done and end its claim, with an optional closing `note` added as
/// a comment in the same transaction.
#[utoipa::path(post, path = "/api/tasks/{id}/complete", tag = "claims", operation_id = "completeTask",
    request_body(content = Option<CompleteRequest>, description = "Optional"),
    params(("id" = String, Path, max_length = 64, description = "Task id")),
    responses((status = 200, description = "The task, done, and the closing note", body = CompletedEnvelope),
        (status = 404, description = "No task has this id", body = ErrorBody),
        (status = 409, description = "Already done, held by another agent, or blocked", body = ErrorBody)))]
pub async fn complete(ctx: Ctx, caller: Caller) -> Result {
    let note = parse_optional_json::<CompleteRequest>(ctx.req.body())?.parse()?;
    let done = ctx
        .state
        .mc
        .idempotent(ctx.idempotency_key)
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
#[utoipa::path(post, path = "/api/tasks/{id}/comments", tag = "comments", operation_id = "addComment",
    request_body = NewCommentRequest,
    params(("id" = String, Path, max_length = 64, description = "Task id")),
    responses((status = 201, description = "The new comment", body = CommentEnvelope),
        (status = 404, description = "No task has this id", body = ErrorBody)))]
pub async fn add_comment(ctx: Ctx, caller: Caller) -> Result {
    let text = parse_json::<NewCommentRequest>(ctx.req.body())?.parse()?;
    let comment = ctx
        .state
        .mc
        .idempotent(ctx.idempotency_key)
        .add_comment(&caller.actor, ctx.params.id(), text)
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &CommentEnvelope { comment },
    ))
}

/// A task's notes, oldest first: up to `limit` (1 to 500, default 100) after the comment
/// `after`, and at most about 1 MiB of them (at least one): `hasMore` says more follow.
#[utoipa::path(get, path = "/api/tasks/{id}/comments", tag = "comments", operation_id = "listComments",
    params(("id" = String, Path, max_length = 64, description = "Task id"),
           ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "At most this many (1 to 500, default 100)"),
           ("after" = Option<String>, Query, max_length = 64, description = "Only comments after this comment id")),
    responses((status = 200, description = "The task's comments, oldest first", body = CommentList),
        (status = 404, description = "No task has this id", body = ErrorBody)))]
pub async fn list_comments(ctx: Ctx, _caller: Caller) -> Result {
    let CommentListing { limit, after } = CommentListing::parse(&Query::of(ctx.req.uri()))?;
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
