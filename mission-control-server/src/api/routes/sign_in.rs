//! `/api/auth`: the operator signing in and out, and minting agents' tokens (what lets an
//! agent in under its own name).

use http::StatusCode;
use mission_control_core::TokenLifetime;
use mission_control_core::credentials::constant_time_eq;

use super::Result;
use crate::api::caller::Caller;
use crate::api::router::Ctx;
use crate::api::wire::{
    LoginRequest, LoginResponse, MintTokenRequest, MintTokenResponse, Success, User,
};
use crate::web::body::{json_response, parse_json};
use crate::web::client::client_key;
use crate::web::error::{ApiError, ErrorBody};

/// Sign in as the operator; the token lasts 7 days. Limited per client address.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginResponse)))]
pub async fn login(ctx: Ctx) -> Result {
    let state = &ctx.state;
    state.limits.login.check(&client_key(ctx.client))?;
    // The ceiling for all addresses together binds those that have failed lately only, so
    // that a flood of wrong passwords cannot lock the operator out.
    if state.password_checks.is_suspect(ctx.client) {
        state.limits.login_global.check()?;
    }
    let login = parse_json::<LoginRequest>(ctx.req.body())?;
    let admin = &state.config.admin;
    let hash = crate::provision::admin_password(&state.config, &state.mc)
        .await
        .ok_or_else(|| {
            mission_control_core::Error::Unavailable("no admin password is set".into())
        })?;
    // Check both halves every time, so the answer takes as long for a wrong username as for a
    // wrong password.
    let username_ok = constant_time_eq(&login.username, &admin.username);
    let password_ok = state
        .password_checks
        .verify(ctx.client, hash, login.password)
        .await?;
    if !(username_ok && password_ok) {
        return Err(ApiError::Unauthorized("wrong username or password"));
    }
    let operator = mission_control_core::Actor::new(admin.agent_id.as_str());
    let issued = state.mc.issue_login_token(&operator.agent_id).await?;
    // Signing in is the operator's sign of life.
    state.mc.saw(&operator).await?;
    let agent = state.mc.get_agent(&operator.agent_id).await?;
    Ok(json_response(
        StatusCode::OK,
        &LoginResponse {
            token: issued.token,
            user: User::from(agent),
        },
    ))
}

/// Revoke the token that made this request.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", operation_id = "logout",
    responses((status = 200, description = "The token is revoked", body = Success)))]
pub async fn logout(ctx: Ctx, caller: Caller) -> Result {
    ctx.state.mc.revoke_token(&caller.token).await?;
    Ok(json_response(StatusCode::OK, &Success { success: true }))
}

/// Mint a long-lived token for a registered agent (its `MISSION_CONTROL_TOKEN`), so that its
/// writes carry its own name. Only the operator may do this.
#[utoipa::path(post, path = "/api/auth/tokens", tag = "auth", operation_id = "mintToken",
    request_body = MintTokenRequest,
    responses((status = 201, description = "The new token", body = MintTokenResponse),
        (status = 403, description = "The caller is not the operator", body = ErrorBody),
        (status = 409, description = "`agentId` names no registered agent", body = ErrorBody)))]
pub async fn mint(ctx: Ctx, caller: Caller) -> Result {
    let state = &ctx.state;
    let body = parse_json::<MintTokenRequest>(ctx.req.body())?;
    let lifetime = match body.expires_in_days {
        None => TokenLifetime::DEFAULT,
        Some(days) => TokenLifetime::days(days)
            .map_err(|e| mission_control_core::Error::field("expiresInDays", e))?,
    };
    let agent = state
        .mc
        .get_agent(&body.agent_id)
        .await
        .map_err(|e| match e {
            mission_control_core::Error::NotFound { kind, id } => {
                mission_control_core::Error::UnknownReference {
                    field: "agentId",
                    kind,
                    id,
                }
            }
            other => other,
        })?;
    let issued = state
        .mc
        .mint_token(Some(&caller.actor), &agent.id, lifetime)
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &MintTokenResponse {
            token: issued.token,
            expires_at: issued.expires_at,
            agent,
        },
    ))
}
