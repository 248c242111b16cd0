//! `/api/agents`: who works on the board, and their status.

use http::StatusCode;
use mission_control_core::{AgentChanges, NewAgent, NewAgentRequest, UpdateAgentRequest};

use super::{Request, Result};
use crate::http::auth::authenticate;
use crate::http::body::{json_response, parse_json};
use crate::http::error::ErrorBody;
use crate::http::state::AppState;
use crate::http::wire::{AgentEnvelope, AgentList};

/// Every agent, by name.
#[utoipa::path(get, path = "/api/agents", tag = "agents",
    responses((status = 200, body = AgentList), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(state: &AppState, req: Request) -> Result {
    authenticate(state, req.headers()).await?;
    let agents = state.mc.list_agents().await?;
    Ok(json_response(StatusCode::OK, &AgentList { agents }))
}

/// Register an agent. Emits `agent.status_changed` and `event.new`.
#[utoipa::path(post, path = "/api/agents", tag = "agents", request_body = NewAgentRequest,
    responses((status = 201, body = AgentEnvelope), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn register(state: &AppState, req: Request) -> Result {
    let (actor, _) = authenticate(state, req.headers()).await?;
    let new = NewAgent::parse(parse_json::<NewAgentRequest>(req.body())?)?;
    let agent = state.mc.register_agent(Some(&actor), new).await?;
    Ok(json_response(StatusCode::CREATED, &AgentEnvelope { agent }))
}

/// One agent.
#[utoipa::path(get, path = "/api/agents/{id}", tag = "agents",
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, body = AgentEnvelope), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(state: &AppState, req: Request, id: &str) -> Result {
    authenticate(state, req.headers()).await?;
    let agent = state.mc.get_agent(id).await?;
    Ok(json_response(StatusCode::OK, &AgentEnvelope { agent }))
}

/// Change an agent's status (or name, role, colour). Emits `agent.status_changed`, and
/// `event.new` when the status changed.
#[utoipa::path(patch, path = "/api/agents/{id}", tag = "agents", request_body = UpdateAgentRequest,
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, body = AgentEnvelope), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn update(state: &AppState, req: Request, id: &str) -> Result {
    let (actor, _) = authenticate(state, req.headers()).await?;
    let changes = AgentChanges::parse(parse_json::<UpdateAgentRequest>(req.body())?)?;
    let agent = state.mc.update_agent(&actor, id, changes).await?;
    Ok(json_response(StatusCode::OK, &AgentEnvelope { agent }))
}
