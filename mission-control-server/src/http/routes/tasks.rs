//! `/api/tasks`: the board's cards.

use http::StatusCode;
use mission_control_core::{
    CreateTaskRequest, NewTask, TaskChanges, TaskFilter, TaskStatus, UpdateTaskRequest,
};

use super::Result;
use crate::http::auth::Caller;
use crate::http::body::{json_response, parse_json};
use crate::http::error::ErrorBody;
use crate::http::query::Query;
use crate::http::router::Ctx;
use crate::http::wire::{Success, TaskEnvelope, TaskList};

/// List tasks, oldest first; every match is returned.
#[utoipa::path(get, path = "/api/tasks", tag = "tasks", operation_id = "listTasks",
    params(
        ("status" = Option<TaskStatus>, Query, description = "Only tasks in this column"),
        ("agent" = Option<String>, Query, description = "Only tasks assigned to this agent id (none match an id no agent has)"),
    ),
    responses((status = 200, description = "The matching tasks", body = TaskList)),
    security(("bearer" = [])))]
pub async fn list(ctx: Ctx, _caller: Caller) -> Result {
    let query = Query::of(ctx.req.uri());
    let filter = TaskFilter {
        status: query.parse("status")?,
        agent: query.get("agent").map(str::to_owned),
    };
    let tasks = ctx.state.mc.list_tasks(filter).await?;
    Ok(json_response(StatusCode::OK, &TaskList { tasks }))
}

/// Create a task. Emits `task.created` and `event.new`.
#[utoipa::path(post, path = "/api/tasks", tag = "tasks", operation_id = "createTask",
    request_body = CreateTaskRequest,
    responses(
        (status = 201, description = "The new task", body = TaskEnvelope, links(
            ("GetTask" = (operation_id = "getTask", parameters(("id" = "$response.body#/task/id")))),
            ("UpdateTask" = (operation_id = "updateTask", parameters(("id" = "$response.body#/task/id")))),
            ("DeleteTask" = (operation_id = "deleteTask", parameters(("id" = "$response.body#/task/id")))),
        )),
        (status = 409, description = "`assignedAgent` names no registered agent", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create(ctx: Ctx, caller: Caller) -> Result {
    let new = NewTask::parse(parse_json::<CreateTaskRequest>(ctx.req.body())?)?;
    let task = ctx.state.mc.create_task(&caller.actor, new).await?;
    Ok(json_response(StatusCode::CREATED, &TaskEnvelope { task }))
}

/// One task.
#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks", operation_id = "getTask",
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The task", body = TaskEnvelope),
        (status = 404, description = "No task has this id", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(ctx: Ctx, _caller: Caller) -> Result {
    let task = ctx.state.mc.get_task(ctx.params.id()).await?;
    Ok(json_response(StatusCode::OK, &TaskEnvelope { task }))
}

/// Change some fields of a task; `null` clears description, assignedAgent or priority.
/// Emits `task.updated` and `event.new` when anything changed.
#[utoipa::path(patch, path = "/api/tasks/{id}", tag = "tasks", operation_id = "updateTask",
    request_body = UpdateTaskRequest,
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The task as it now is", body = TaskEnvelope),
        (status = 404, description = "No task has this id", body = ErrorBody),
        (status = 409, description = "`assignedAgent` names no registered agent", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(ctx: Ctx, caller: Caller) -> Result {
    let changes = TaskChanges::parse(parse_json::<UpdateTaskRequest>(ctx.req.body())?)?;
    let task = ctx
        .state
        .mc
        .update_task(&caller.actor, ctx.params.id(), changes)
        .await?;
    Ok(json_response(StatusCode::OK, &TaskEnvelope { task }))
}

/// Delete a task. Emits `task.deleted` and `event.new`.
#[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks", operation_id = "deleteTask",
    params(("id" = String, Path, description = "Task id")),
    responses((status = 200, description = "The task is gone", body = Success),
        (status = 404, description = "No task has this id", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(ctx: Ctx, caller: Caller) -> Result {
    ctx.state
        .mc
        .delete_task(&caller.actor, ctx.params.id())
        .await?;
    Ok(json_response(StatusCode::OK, &Success { success: true }))
}
