//! `/api/users`: the people who sign in, managed by an admin (the core's policy decides who
//! may). Each person acts as their own card, `agent-<username>`, which is also their id here.

use http::StatusCode;
use mission_control_core::{NewPerson, NewPersonRequest, PersonChanges, UpdatePersonRequest};

use super::Result;
use crate::api::caller::Caller;
use crate::api::router::Ctx;
use crate::api::wire::{InviteLink, NewPersonAnswer, PersonEnvelope, PersonList, Success};
use crate::web::body::{json_response, parse_json};
use crate::web::error::ErrorBody;

/// Where the dashboard lets an invited person choose a password.
pub const INVITE_PAGE: &str = "/invite";

/// Everyone who may sign in, by username (admins only).
#[utoipa::path(get, path = "/api/users", tag = "users", operation_id = "listUsers",
    responses((status = 200, description = "Every person", body = PersonList),
        (status = 403, description = "Only an admin manages people", body = ErrorBody)))]
pub async fn list(ctx: Ctx, caller: Caller) -> Result {
    let users = ctx.state.mc.list_people(Some(&caller.actor)).await?;
    Ok(json_response(StatusCode::OK, &PersonList { users }))
}

/// Add a person (admins only), with their card. Without a password, the answer carries a
/// one-time invitation, valid 7 days, where they choose one.
#[utoipa::path(post, path = "/api/users", tag = "users", operation_id = "addUser",
    request_body = NewPersonRequest,
    responses((status = 201, description = "The new person (and their invitation)", body = NewPersonAnswer),
        (status = 403, description = "Only an admin manages people", body = ErrorBody),
        (status = 409, description = "The username, or the display name, is taken", body = ErrorBody)))]
pub async fn add(ctx: Ctx, caller: Caller) -> Result {
    let new = NewPerson::parse(parse_json::<NewPersonRequest>(ctx.req.body())?)?;
    let (user, invite) = ctx.state.mc.add_person(Some(&caller.actor), new).await?;
    let base = ctx
        .state
        .config
        .frontend_origins
        .first()
        .cloned()
        .unwrap_or_default();
    let invite = invite.map(|invite| InviteLink {
        url: format!("{base}{INVITE_PAGE}#{}", invite.token),
        token: invite.token,
        expires_at: invite.expires_at,
    });
    Ok(json_response(
        StatusCode::CREATED,
        &NewPersonAnswer { user, invite },
    ))
}

/// One person: admins see anyone, a person themselves (`me`).
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", operation_id = "getUser",
    params(("id" = String, Path, max_length = 64, description = "The person's id (their card's), or `me`")),
    responses((status = 200, description = "The person", body = PersonEnvelope),
        (status = 403, description = "Only an admin sees other people", body = ErrorBody),
        (status = 404, description = "Nobody has this id", body = ErrorBody)))]
pub async fn get(ctx: Ctx, caller: Caller) -> Result {
    let user = ctx
        .state
        .mc
        .get_person(Some(&caller.actor), person_in_path(&caller, &ctx))
        .await?;
    Ok(json_response(StatusCode::OK, &PersonEnvelope { user }))
}

/// Change a person's name, role or whether they may sign in (admins only). A new role or
/// being disabled ends their sessions and live connections; they sign in again.
#[utoipa::path(patch, path = "/api/users/{id}", tag = "users", operation_id = "updateUser",
    request_body = UpdatePersonRequest,
    params(("id" = String, Path, max_length = 64, description = "The person's id (their card's)")),
    responses((status = 200, description = "The person as they now are", body = PersonEnvelope),
        (status = 403, description = "Only an admin manages people; nobody changes the operator's or their own role", body = ErrorBody),
        (status = 404, description = "Nobody has this id", body = ErrorBody),
        (status = 409, description = "Another card has this name", body = ErrorBody)))]
pub async fn update(ctx: Ctx, caller: Caller) -> Result {
    let changes = PersonChanges::parse(parse_json::<UpdatePersonRequest>(ctx.req.body())?)?;
    let user = ctx
        .state
        .mc
        .update_person(Some(&caller.actor), ctx.params.id(), changes)
        .await?;
    Ok(json_response(StatusCode::OK, &PersonEnvelope { user }))
}

/// Remove a person and their card (admins only): their sessions and live connections end,
/// their tasks are unassigned; what they did stays in the log.
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users", operation_id = "removeUser",
    params(("id" = String, Path, max_length = 64, description = "The person's id (their card's)")),
    responses((status = 200, description = "The person is gone", body = Success),
        (status = 403, description = "Only an admin manages people; nobody removes the operator or themselves", body = ErrorBody),
        (status = 404, description = "Nobody has this id", body = ErrorBody)))]
pub async fn remove(ctx: Ctx, caller: Caller) -> Result {
    ctx.state
        .mc
        .remove_person(Some(&caller.actor), ctx.params.id())
        .await?;
    Ok(json_response(StatusCode::OK, &Success { success: true }))
}

/// The person the path's `{id}` names: `me` is the caller.
fn person_in_path<'a>(caller: &'a Caller, ctx: &'a Ctx) -> &'a str {
    match ctx.params.id() {
        mission_control_actions::ME => &caller.actor.agent_id,
        id => id,
    }
}
