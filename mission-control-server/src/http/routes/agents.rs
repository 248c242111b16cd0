//! `/api/agents`: who works on the board, and their status.

use http::StatusCode;
use mission_control_core::{AgentChanges, NewAgent, NewAgentRequest, UpdateAgentRequest};

use super::Result;
use crate::http::auth::Caller;
use crate::http::body::{json_response, parse_json};
use crate::http::error::ErrorBody;
use crate::http::router::Ctx;
use crate::http::wire::{AgentEnvelope, AgentList};

/// Every agent, by name.
#[utoipa::path(get, path = "/api/agents", tag = "agents", operation_id = "listAgents",
    responses((status = 200, description = "Every agent", body = AgentList)),
    security(("bearer" = [])))]
pub async fn list(ctx: Ctx, _caller: Caller) -> Result {
    let agents = ctx.state.mc.list_agents().await?;
    Ok(json_response(StatusCode::OK, &AgentList { agents }))
}

/// Register an agent. Emits `agent.status_changed` and `event.new`.
#[utoipa::path(post, path = "/api/agents", tag = "agents", operation_id = "registerAgent",
    request_body = NewAgentRequest,
    responses(
        (status = 201, description = "The new agent", body = AgentEnvelope, links(
            ("GetAgent" = (operation_id = "getAgent", parameters(("id" = "$response.body#/agent/id")))),
            ("UpdateAgent" = (operation_id = "updateAgent", parameters(("id" = "$response.body#/agent/id")))),
            ("ListItsTasks" = (operation_id = "listTasks", parameters(("agent" = "$response.body#/agent/id")))),
            ("AssignATask" = (operation_id = "createTask", request_body = json!({"assignedAgent": "$response.body#/agent/id"}))),
            ("MintItsToken" = (operation_id = "mintToken", request_body = json!({"agentId": "$response.body#/agent/id"}))),
        )),
        (status = 409, description = "An agent with this id exists", body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn register(ctx: Ctx, caller: Caller) -> Result {
    let new = NewAgent::parse(parse_json::<NewAgentRequest>(ctx.req.body())?)?;
    let agent = ctx
        .state
        .mc
        .register_agent(Some(&caller.actor), new)
        .await?;
    Ok(json_response(StatusCode::CREATED, &AgentEnvelope { agent }))
}

/// One agent.
#[utoipa::path(get, path = "/api/agents/{id}", tag = "agents", operation_id = "getAgent",
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, description = "The agent", body = AgentEnvelope),
        (status = 404, description = "No agent has this id", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(ctx: Ctx, _caller: Caller) -> Result {
    let agent = ctx.state.mc.get_agent(ctx.params.id()).await?;
    Ok(json_response(StatusCode::OK, &AgentEnvelope { agent }))
}

/// Change an agent's status (or name, role, colour). Emits `agent.status_changed`, and
/// `event.new` when the status changed.
#[utoipa::path(patch, path = "/api/agents/{id}", tag = "agents", operation_id = "updateAgent",
    request_body = UpdateAgentRequest,
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, description = "The agent as it now is", body = AgentEnvelope),
        (status = 404, description = "No agent has this id", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(ctx: Ctx, caller: Caller) -> Result {
    let changes = AgentChanges::parse(parse_json::<UpdateAgentRequest>(ctx.req.body())?)?;
    let agent = ctx
        .state
        .mc
        .update_agent(&caller.actor, ctx.params.id(), changes)
        .await?;
    Ok(json_response(StatusCode::OK, &AgentEnvelope { agent }))
}
