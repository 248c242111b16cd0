//! `/api/agents`: who works on the board, their presence, and their tokens. In every path
//! `/api/agents/{id}/...`, the id `me` is the caller's own agent ([`agent_in_path`]), whichever
//! door the request came through (REST, an MCP tool, the OpenClaw tool).

use http::StatusCode;
use mission_control_actions::ME;
use mission_control_core::{
    Actor, AgentChanges, HeartbeatRequest, NewAgent, NewAgentRequest, UpdateAgentRequest,
};

use super::Result;
use crate::api::caller::Caller;
use crate::api::router::Ctx;
use crate::api::wire::{AgentEnvelope, AgentList, HeartbeatAnswer, Revoked, Success, TokenList};
use crate::web::body::{json_response, parse_json, parse_optional_json};
use crate::web::error::{ApiError, ErrorBody};

/// Every agent, by name, and where the list stands in the change log.
#[utoipa::path(get, path = "/api/agents", tag = "agents", operation_id = "listAgents",
    responses((status = 200, description = "Every agent", body = AgentList)))]
pub async fn list(ctx: Ctx, _caller: Caller) -> Result {
    let (agents, seq) = ctx.state.mc.list_agents_at().await?;
    Ok(json_response(StatusCode::OK, &AgentList { agents, seq }))
}

/// Register an agent (the operator only). Emits `agent.status_changed` and `event.new`.
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
        (status = 403, description = "Only the operator registers agents", body = ErrorBody),
        (status = 409, description = "An agent with this id or this name exists", body = ErrorBody),
    ))]
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
    params(("id" = String, Path, max_length = 64, description = "Agent id, or `me`")),
    responses((status = 200, description = "The agent", body = AgentEnvelope),
        (status = 404, description = "No agent has this id", body = ErrorBody)))]
pub async fn get(ctx: Ctx, caller: Caller) -> Result {
    let agent = ctx
        .state
        .mc
        .get_agent(agent_in_path(&caller.actor, &ctx))
        .await?;
    Ok(json_response(StatusCode::OK, &AgentEnvelope { agent }))
}

/// Change an agent's card: an agent its own status and colour; the operator anything (name,
/// role too). Emits `agent.status_changed`, and `event.new` for each kind of change.
#[utoipa::path(patch, path = "/api/agents/{id}", tag = "agents", operation_id = "updateAgent",
    request_body = UpdateAgentRequest,
    params(("id" = String, Path, max_length = 64, description = "Agent id, or `me`")),
    responses((status = 200, description = "The agent as it now is", body = AgentEnvelope),
        (status = 403, description = "An agent may change only its own status and colour", body = ErrorBody),
        (status = 404, description = "No agent has this id", body = ErrorBody),
        (status = 409, description = "Another agent has this name", body = ErrorBody)))]
pub async fn update(ctx: Ctx, caller: Caller) -> Result {
    let changes = AgentChanges::parse(parse_json::<UpdateAgentRequest>(ctx.req.body())?)?;
    let agent = ctx
        .state
        .mc
        .update_agent(&caller.actor, agent_in_path(&caller.actor, &ctx), changes)
        .await?;
    Ok(json_response(StatusCode::OK, &AgentEnvelope { agent }))
}

/// Remove an agent (the operator only): its tokens are revoked and its live connections end,
/// its tasks are unassigned; its history stays. Emits `agent.removed`.
#[utoipa::path(delete, path = "/api/agents/{id}", tag = "agents", operation_id = "removeAgent",
    params(("id" = String, Path, max_length = 64, description = "Agent id, or `me`")),
    responses((status = 200, description = "The agent is gone", body = Success),
        (status = 403, description = "Only the operator removes agents, and not their own", body = ErrorBody),
        (status = 404, description = "No agent has this id", body = ErrorBody)))]
pub async fn remove(ctx: Ctx, caller: Caller) -> Result {
    ctx.state
        .mc
        .remove_agent(Some(&caller.actor), agent_in_path(&caller.actor, &ctx))
        .await?;
    Ok(json_response(StatusCode::OK, &Success { success: true }))
}

/// An agent's sign of life (`me` or its own id), optionally with a status (`online` or
/// `busy`). Renews its claims; answers what it holds and the task it could claim next.
#[utoipa::path(post, path = "/api/agents/{id}/heartbeat", tag = "agents", operation_id = "heartbeat",
    request_body(content = Option<HeartbeatRequest>, description = "Optional"),
    params(("id" = String, Path, max_length = 64, example = "me", description = "`me`, or the caller's own agent id")),
    responses((status = 200, description = "The agent and its work", body = HeartbeatAnswer),
        (status = 403, description = "A heartbeat speaks only for the caller", body = ErrorBody)))]
pub async fn heartbeat(ctx: Ctx, caller: Caller) -> Result {
    if agent_in_path(&caller.actor, &ctx) != caller.actor.agent_id {
        return Err(ApiError::Forbidden(
            "a heartbeat is an agent's own sign of life: use your own id or `me`",
        ));
    }
    let status = parse_optional_json::<HeartbeatRequest>(ctx.req.body())?.parse()?;
    let beat = ctx.state.mc.heartbeat(&caller.actor, status).await?;
    Ok(json_response(
        StatusCode::OK,
        &HeartbeatAnswer {
            agent: beat.agent,
            held: beat.work.held,
            held_more: beat.work.held_more,
            next: beat.work.next,
        },
    ))
}

/// An agent's tokens (the operator, or the agent itself): id, created, expires, last used;
/// never the token.
#[utoipa::path(get, path = "/api/agents/{id}/tokens", tag = "tokens", operation_id = "listTokens",
    params(("id" = String, Path, max_length = 64, description = "Agent id, or `me`")),
    responses((status = 200, description = "The agent's live tokens", body = TokenList, links(
            ("RevokeTheNewest" = (operation_id = "revokeToken", parameters(
                ("id" = "$request.path.id"), ("tokenId" = "$response.body#/tokens/0/id")))),
        )),
        (status = 403, description = "Only the operator sees other agents' tokens", body = ErrorBody),
        (status = 404, description = "No agent has this id", body = ErrorBody)))]
pub async fn tokens(ctx: Ctx, caller: Caller) -> Result {
    let agent = agent_in_path(&caller.actor, &ctx);
    let tokens = ctx.state.mc.list_tokens(Some(&caller.actor), agent).await?;
    Ok(json_response(StatusCode::OK, &TokenList { tokens }))
}

/// Revoke every token of an agent; its live connections end at once.
#[utoipa::path(delete, path = "/api/agents/{id}/tokens", tag = "tokens", operation_id = "revokeAllTokens",
    params(("id" = String, Path, max_length = 64, description = "Agent id, or `me`")),
    responses((status = 200, description = "How many were revoked", body = Revoked),
        (status = 403, description = "Only the operator revokes other agents' tokens", body = ErrorBody),
        (status = 404, description = "No agent has this id", body = ErrorBody)))]
pub async fn revoke_all(ctx: Ctx, caller: Caller) -> Result {
    let agent = agent_in_path(&caller.actor, &ctx);
    let revoked = ctx
        .state
        .mc
        .revoke_all_tokens(Some(&caller.actor), agent)
        .await?;
    Ok(json_response(StatusCode::OK, &Revoked { revoked }))
}

/// Revoke one token of an agent by its id; connections made with it end at once.
#[utoipa::path(delete, path = "/api/agents/{id}/tokens/{tokenId}", tag = "tokens", operation_id = "revokeToken",
    params(("id" = String, Path, max_length = 64, description = "Agent id, or `me`"),
           ("tokenId" = String, Path, description = "The token's id, from the list")),
    responses((status = 200, description = "The token is revoked", body = Success),
        (status = 403, description = "Only the operator revokes other agents' tokens", body = ErrorBody),
        (status = 404, description = "No such agent, or it has no token with this id", body = ErrorBody)))]
pub async fn revoke(ctx: Ctx, caller: Caller) -> Result {
    let agent = agent_in_path(&caller.actor, &ctx);
    ctx.state
        .mc
        .revoke_token_id(Some(&caller.actor), agent, ctx.params.get("tokenId"))
        .await?;
    Ok(json_response(StatusCode::OK, &Success { success: true }))
}

/// The agent the path's `{id}` names: [`ME`] is the caller's own agent.
fn agent_in_path<'a>(actor: &'a Actor, ctx: &'a Ctx) -> &'a str {
    match ctx.params.id() {
        ME => &actor.agent_id,
        id => id,
    }
}
