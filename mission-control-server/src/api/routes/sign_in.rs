//! `/api/auth`: people signing in and out, accepting an invitation, changing their password,
//! and minting agents' tokens (what lets an agent in under its own name).

use http::StatusCode;
use mission_control_core::{Error as CoreError, Password, PasswordHash, TokenLifetime};

use super::Result;
use crate::api::caller::Caller;
use crate::api::router::Ctx;
use crate::api::wire::{
    AcceptInviteRequest, ChangePasswordRequest, LoginRequest, LoginResponse, MintTokenRequest,
    MintTokenResponse, PasswordChanged, Success, User,
};
use crate::web::body::{json_response, parse_json};
use crate::web::client::client_key;
use crate::web::error::{ApiError, ErrorBody};

/// Sign in as a person (the operator or anyone an admin added); the token lasts 7 days.
/// Limited per client address.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginRequest,
    responses((status = 200, description = "Signed in", body = LoginResponse),
        (status = 401, description = "Wrong username or password, or the account is disabled", body = ErrorBody)))]
pub async fn login(ctx: Ctx) -> Result {
    let state = &ctx.state;
    state.limits.login.check(&client_key(ctx.client))?;
    // The ceiling for all addresses together binds those that have failed lately only, so
    // that a flood of wrong passwords cannot lock the operator out.
    if state.password_checks.is_suspect(ctx.client) {
        state.limits.login_global.check()?;
    }
    let login = parse_json::<LoginRequest>(ctx.req.body())?;
    if login.username.len() > MAX_USERNAME_BYTES || login.password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::Unauthorized("wrong username or password"));
    }
    let record = state.mc.sign_in_record(&login.username).await?;
    // Check a password every time, against a stand-in hash when there is none, so the answer
    // takes as long for an unknown username as for a wrong password.
    let (record, hash) = match record {
        Some(record) => match record.password_hash.clone() {
            Some(hash) => (Some(record), hash),
            None => (None, stand_in_hash().await?),
        },
        None => (None, stand_in_hash().await?),
    };
    let password_ok = state
        .password_checks
        .verify(ctx.client, hash, login.password)
        .await?;
    let Some(record) = record.filter(|_| password_ok) else {
        return Err(ApiError::Unauthorized("wrong username or password"));
    };
    if record.disabled {
        return Err(ApiError::Unauthorized("this account is disabled"));
    }
    signed_in(state, &record.agent_id).await
}

/// Choose a password with an invitation (from `POST /api/users` without a password), and sign
/// in. Limited per client address, as signing in is.
#[utoipa::path(post, path = "/api/auth/invite", tag = "auth", operation_id = "acceptInvite",
    request_body = AcceptInviteRequest,
    responses((status = 200, description = "The password is set; signed in", body = LoginResponse),
        (status = 400, description = "The password is too short or too long", body = ErrorBody),
        (status = 401, description = "The invitation was used, withdrawn or has expired", body = ErrorBody)))]
pub async fn accept_invite(ctx: Ctx) -> Result {
    let state = &ctx.state;
    state.limits.login.check(&client_key(ctx.client))?;
    let body = parse_json::<AcceptInviteRequest>(ctx.req.body())?;
    if body.token.len() > MAX_INVITE_TOKEN_BYTES {
        return Err(ApiError::Unauthorized(
            "the invitation is not valid: it was used, withdrawn or has expired",
        ));
    }
    let password = Password::parse(&body.password).map_err(|e| CoreError::field("password", e))?;
    let agent_id = state.mc.accept_invite(&body.token, password).await?;
    signed_in(state, &agent_id).await
}

/// Change one's own password, giving the current one; optionally end one's other sessions.
#[utoipa::path(post, path = "/api/auth/password", tag = "auth", operation_id = "changePassword",
    request_body = ChangePasswordRequest,
    responses((status = 200, description = "The password is changed", body = PasswordChanged),
        (status = 400, description = "The current password is wrong, or the new one too short or too long", body = ErrorBody),
        (status = 403, description = "An agent's token has no password; the operator's comes from ADMIN_PASSWORD", body = ErrorBody)))]
pub async fn change_password(ctx: Ctx, caller: Caller) -> Result {
    let state = &ctx.state;
    let body = parse_json::<ChangePasswordRequest>(ctx.req.body())?;
    let new =
        Password::parse(&body.new_password).map_err(|e| CoreError::field("newPassword", e))?;
    if caller.actor.agent_id == state.config.admin.agent_id.as_str()
        && state.config.admin.password.is_some()
    {
        return Err(ApiError::Forbidden(
            "the operator's password is set by ADMIN_PASSWORD on the server: change it there",
        ));
    }
    let hash = state
        .mc
        .password_hash_of(&caller.actor)
        .await?
        .ok_or(ApiError::Forbidden("this account has no password yet"))?;
    if body.current_password.len() > MAX_PASSWORD_BYTES
        || !state
            .password_checks
            .verify(ctx.client, hash, body.current_password)
            .await?
    {
        // Not a 401: the caller's token is good, and a client signs out on a 401.
        return Err(CoreError::field("currentPassword", "is not your current password").into());
    }
    let keep = body.sign_out_elsewhere.then_some(caller.token_id.as_str());
    let signed_out = state
        .mc
        .change_own_password(&caller.actor, new, keep)
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &PasswordChanged {
            success: true,
            signed_out,
        },
    ))
}

/// Longest username looked up, in bytes; a longer one is wrong without a look.
const MAX_USERNAME_BYTES: usize = 64;
/// Longest password checked, in bytes; a longer one is wrong without a check.
const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest invitation token looked up; ours are 64 characters.
const MAX_INVITE_TOKEN_BYTES: usize = 128;

/// A token for the person whose card is `agent_id`, and who they are.
async fn signed_in(state: &crate::api::state::AppState, agent_id: &str) -> Result {
    let issued = state.mc.issue_login_token(agent_id).await?;
    let actor = state.mc.verify_token(&issued.token).await?;
    let agent = state.mc.get_agent(agent_id).await?;
    Ok(json_response(
        StatusCode::OK,
        &LoginResponse {
            token: issued.token,
            user: User::new(agent, &actor),
        },
    ))
}

/// A hash of a password nobody knows, made once, for checks that must take as long as a real
/// one.
async fn stand_in_hash() -> std::result::Result<PasswordHash, ApiError> {
    static STAND_IN: tokio::sync::OnceCell<PasswordHash> = tokio::sync::OnceCell::const_new();
    STAND_IN
        .get_or_try_init(|| async {
            tokio::task::spawn_blocking(|| {
                let secret = mission_control_core::credentials::generate_secret()?;
                PasswordHash::new(&secret)
            })
            .await
            .map_err(|e| CoreError::Internal(format!("hashing failed: {e}")))?
        })
        .await
        .cloned()
        .map_err(ApiError::from)
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
