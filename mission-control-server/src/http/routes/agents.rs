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
#[utoipa::path(get, path = "/api/agents", tag = "agents",
    responses((status = 200, body = AgentList), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(ctx: Ctx, _caller: Caller) -> Result {
    let agents = ctx.state.mc.list_agents().await?;
    Ok(json_response(StatusCode::OK, &AgentList { agents }))
}

/// Register an agent. Emits `agent.status_changed` and `event.new`.
#[utoipa::path(post, path = "/api/agents", tag = "agents", request_body = NewAgentRequest,
    responses((status = 201, body = AgentEnvelope), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)),
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
#[utoipa::path(get, path = "/api/agents/{id}", tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, body = AgentEnvelope), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(ctx: Ctx, _caller: Caller) -> Result {
    let agent = ctx.state.mc.get_agent(ctx.params.id()).await?;
    Ok(json_response(StatusCode::OK, &AgentEnvelope { agent }))
}

/// Change an agent's status (or name, role, colour). Emits `agent.status_changed`, and
/// `event.new` when the status changed.
#[utoipa::path(patch, path = "/api/agents/{id}", tag = "agents", request_body = UpdateAgentRequest,
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, body = AgentEnvelope), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
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
