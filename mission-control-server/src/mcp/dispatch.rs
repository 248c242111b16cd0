//! Each MCP tool as a thin call into the core's service API. The arguments, already checked
//! against the catalogue, are handed to the very request types and parsers the REST handlers
//! use (`CreateTaskRequest` and `NewTask::parse`, the query parser, ...), so a rule is the same
//! whichever way an agent comes in; the answers are the REST API's envelopes.

use mission_control_actions::Call;
use mission_control_core::{
    Actor, ClaimNextRequest, ClaimRequest, CompleteRequest, CreateTaskRequest, FieldError,
    HeartbeatRequest, IdempotencyKey, MissionControl, NewCommentRequest, NewTask, TaskChanges,
    UpdateAgentRequest, UpdateTaskRequest,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::http::error::ApiError;
use crate::http::listing::{CommentListing, TaskListing, event_query};
use crate::http::query::Query;
use crate::http::wire::{
    AgentEnvelope, AgentList, CommentEnvelope, CommentList, CompletedEnvelope, EventList,
    HeartbeatAnswer, MaybeTask, TaskEnvelope, TaskList,
};

/// Carries out `call` as `actor`; the answer as the REST API would send it (and
/// `{"deleted": id}` for a deletion).
pub async fn run(mc: &MissionControl, actor: &Actor, call: &Call) -> Result<Value, ApiError> {
    let id = call.path_id();
    let id = id.as_str();
    Ok(match call.action.name {
        "create_task" => {
            let new = NewTask::parse(body::<CreateTaskRequest>(call)?)?;
            let task = mc.idempotent(key(call)?).create_task(actor, new).await?;
            to_json(&TaskEnvelope { task })
        }
        "update_task" | "move_task" => {
            let changes = TaskChanges::parse(body::<UpdateTaskRequest>(call)?)?;
            let task = mc
                .update_task_if(actor, id, call.if_match(), changes)
                .await?;
            to_json(&TaskEnvelope { task })
        }
        "list_tasks" => {
            let TaskListing {
                filter,
                limit,
                cursor,
            } = TaskListing::parse(&query(call))?;
            let limit =
                limit.unwrap_or(mission_control_actions::limits::TASKS_PAGE_DEFAULT as usize);
            let page = mc.list_tasks_page(filter, cursor, limit).await?;
            to_json(&TaskList {
                tasks: page.tasks,
                seq: page.seq,
                next_cursor: page.next.map(|c| c.encode()),
            })
        }
        "get_task" => to_json(&TaskEnvelope {
            task: mc.get_task(id).await?,
        }),
        "delete_task" => {
            mc.delete_task_if(actor, id, None).await?;
            json!({ "deleted": id })
        }
        "list_agents" => {
            let (agents, seq) = mc.list_agents_at().await?;
            to_json(&AgentList { agents, seq })
        }
        "set_agent_status" => {
            let changes =
                mission_control_core::AgentChanges::parse(body::<UpdateAgentRequest>(call)?)?;
            let agent = mc.update_agent(actor, id, changes).await?;
            to_json(&AgentEnvelope { agent })
        }
        "list_events" => {
            let page = mc.list_events(event_query(&query(call))?).await?;
            to_json(&EventList {
                events: page.events,
                has_more: page.has_more,
            })
        }
        "heartbeat" => {
            let status = body::<HeartbeatRequest>(call)?.parse()?;
            let beat = mc.heartbeat(actor, status).await?;
            to_json(&HeartbeatAnswer {
                agent: beat.agent,
                held: beat.work.held,
                next: beat.work.next,
            })
        }
        "claim" => {
            let lease = body::<ClaimRequest>(call)?.lease()?;
            let task = mc.idempotent(key(call)?).claim(actor, id, lease).await?;
            to_json(&TaskEnvelope { task })
        }
        "claim_next" => {
            let (filter, lease) = body::<ClaimNextRequest>(call)?.parse()?;
            let task = mc
                .idempotent(key(call)?)
                .claim_next(actor, filter, lease)
                .await?;
            to_json(&MaybeTask { task })
        }
        "release" => to_json(&TaskEnvelope {
            task: mc.release(actor, id).await?,
        }),
        "complete" => {
            let note = body::<CompleteRequest>(call)?.parse()?;
            let done = mc.idempotent(key(call)?).complete(actor, id, note).await?;
            to_json(&CompletedEnvelope {
                task: done.task,
                comment: done.comment,
            })
        }
        "comment" => {
            let text = body::<NewCommentRequest>(call)?.parse()?;
            let comment = mc
                .idempotent(key(call)?)
                .add_comment(actor, id, text)
                .await?;
            to_json(&CommentEnvelope { comment })
        }
        "list_comments" => {
            let CommentListing { limit, after } = CommentListing::parse(&query(call))?;
            let page = mc.list_comments(id, after, limit).await?;
            to_json(&CommentList {
                comments: page.comments,
                has_more: page.has_more,
            })
        }
        other => {
            return Err(ApiError::Core(mission_control_core::Error::Internal(
                format!("the catalogue names an action the server does not carry out: {other}"),
            )));
        }
    })
}

/// The call's body arguments as the REST request type, named fields and all.
fn body<T: DeserializeOwned + Default>(call: &Call) -> Result<T, ApiError> {
    match call.body() {
        None => Ok(T::default()),
        Some(value) => serde_path_to_error::deserialize(value).map_err(|e| ApiError::InvalidJson {
            field: Some(e.path().to_string()),
            message: e.into_inner().to_string(),
        }),
    }
}

fn query(call: &Call) -> Query {
    Query::from_pairs(
        call.query()
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value)),
    )
}

/// The call's `idempotencyKey`, bound to the tool and its other arguments.
fn key(call: &Call) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(key) = call.idempotency_key() else {
        return Ok(None);
    };
    let request = format!(
        "mcp {} {} {}\n{}",
        call.action.name,
        call.path_id(),
        call.if_match().unwrap_or(0),
        call.body().unwrap_or(Value::Null)
    );
    IdempotencyKey::new(key.trim(), request.as_bytes())
        .map(Some)
        .map_err(|e| ApiError::InvalidHeader(FieldError::new("Idempotency-Key", e)))
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
