//! People with their own sign-ins: an admin adds them (with a password, or an invitation to
//! choose one), they sign in as their own card with their access role, change their password,
//! and when disabled or removed their tokens are refused and their sockets end.

use std::time::Duration;

use super::support::live::closed_within;
use super::support::*;
use mission_control_testkit::socketio;
use serde_json::json;

#[tokio::test]
async fn people_sign_in_as_their_own_card_with_their_access_role() {
    let s = App::start().await;
    let admin = s.login().await;
    let r = s.sign_in(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(
        r.body["user"],
        json!({"id": ADMIN_AGENT, "name": "Patch", "role": "Dev", "access": "admin"})
    );

    let r = admin
        .add_user(json!({"username": "nova", "name": "Nova", "role": "member", "password": "nova-password"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"user": {
            "id": "agent-nova", "username": "nova", "name": "Nova", "role": "member",
            "disabled": false, "invited": false, "createdAt": r.body["user"]["createdAt"],
        }})
    );
    let r = s.sign_in("nova", "nova-password").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["user"],
        json!({"id": "agent-nova", "name": "Nova", "role": "Main", "access": "member"})
    );
    let nova = s.session(r.body["token"].as_str().unwrap());
    // Their work carries their name.
    let task = nova.create_task(json!({"title": "Nova's"})).await;
    assert_eq!(task.body["task"]["createdBy"], "agent-nova");
    let feed = admin.events("limit=1").await;
    assert_eq!(
        feed.body["events"][0]["message"],
        "Nova created task “Nova's”"
    );
    s.sign_in("nova", "wrong-password")
        .await
        .error_fields(401, "unauthorized");

    // The list, by username; one's own record.
    let users = admin.users().await;
    let names: Vec<_> = users
        .list("users")
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, [json!("nova"), json!(ADMIN_USER)]);
    assert_eq!(
        nova.get("/api/users/me").await.body["user"]["role"],
        "member"
    );
}

#[tokio::test]
async fn bad_people_are_refused_naming_every_field_and_names_stay_unique() {
    let s = App::start().await;
    let admin = s.login().await;
    let r = admin
        .add_user(json!({"username": "No Way", "name": "", "role": "owner", "password": "short"}))
        .await;
    assert_eq!(
        r.error_fields(400, "validation_failed"),
        ["username", "name", "role", "password"]
    );
    let r = admin.add_user(json!({"username": "x", "extra": 1})).await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["extra"]);
    admin
        .register_agent(json!({"id": "agent-rex", "name": "Rex", "role": "Dev"}))
        .await;
    // A card id or a display name someone has already.
    let r = admin
        .add_user(json!({"username": "rex", "name": "Someone", "role": "member"}))
        .await;
    r.error_fields(409, "conflict");
    let r = admin
        .add_user(json!({"username": "rexy", "name": "Rex", "role": "member"}))
        .await;
    r.error_fields(409, "conflict");
    let r = admin
        .update_user("agent-nobody", json!({"role": "viewer"}))
        .await;
    r.error_fields(404, "not_found");
    let r = admin
        .update_user(ADMIN_AGENT, json!({"disabled": null}))
        .await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["disabled"]);
    // A person's card goes with the person, not through the agents' door.
    admin.add_person("vic", "viewer").await;
    admin
        .remove_agent("agent-vic")
        .await
        .error_fields(403, "forbidden");
}

#[tokio::test]
async fn an_invitation_lets_a_person_choose_their_password_once() {
    let s = App::start().await;
    let admin = s.login().await;
    let r = admin
        .add_user(json!({"username": "ivy", "name": "Ivy", "role": "viewer"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["user"]["invited"], true);
    let token = r.body["invite"]["token"].as_str().unwrap().to_owned();
    assert_eq!(
        r.body["invite"]["url"].as_str().unwrap(),
        format!("/invite#{token}")
    );
    let week = 7 * 24 * 60 * 60 * 1000;
    let expires = r.body["invite"]["expiresAt"].as_i64().unwrap();
    let created = r.body["user"]["createdAt"].as_i64().unwrap();
    assert!((expires - created - week).abs() < 60_000, "valid 7 days");

    // Nobody signs in before choosing a password.
    s.sign_in("ivy", "").await.error_fields(401, "unauthorized");
    let anyone = s.anonymous();
    let r = anyone.accept_invite(&token, "short").await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["password"]);
    anyone
        .accept_invite("not-the-token", "ivy-password")
        .await
        .error_fields(401, "unauthorized");
    let r = anyone.accept_invite(&token, "ivy-password").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["access"], "viewer");
    let ivy = s.session(r.body["token"].as_str().unwrap());
    assert_eq!(ivy.list_tasks("").await.status, 200);
    // Once only.
    anyone
        .accept_invite(&token, "another-password")
        .await
        .error_fields(401, "unauthorized");
    assert_eq!(s.sign_in("ivy", "ivy-password").await.status, 200);
    assert_eq!(admin.users().await.list("users")[0]["invited"], false);
}

#[tokio::test]
async fn a_new_password_can_end_ones_other_sessions() {
    let s = App::start().await;
    let admin = s.login().await;
    let mel = admin.add_person("mel", "member").await;
    let elsewhere = s.anonymous().signed_in_as("mel", "mel-password").await;
    let r = mel
        .change_password(json!({"currentPassword": "wrong", "newPassword": "a-new-password"}))
        .await;
    assert_eq!(
        r.error_fields(400, "validation_failed"),
        ["currentPassword"]
    );
    let r = mel
        .change_password(json!({"currentPassword": "mel-password", "newPassword": "short"}))
        .await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["newPassword"]);
    let r = mel
        .change_password(json!({
            "currentPassword": "mel-password",
            "newPassword": "a-new-password",
            "signOutElsewhere": true,
        }))
        .await;
    assert_eq!(r.body, json!({"success": true, "signedOut": 1}));
    assert_eq!(mel.list_tasks("").await.status, 200, "this session stays");
    elsewhere
        .list_tasks("")
        .await
        .error_fields(401, "unauthorized");
    s.sign_in("mel", "mel-password")
        .await
        .error_fields(401, "unauthorized");
    assert_eq!(s.sign_in("mel", "a-new-password").await.status, 200);

    // The operator's password comes from the environment here; an agent has none.
    admin
        .change_password(json!({"currentPassword": ADMIN_PASSWORD, "newPassword": "whatever-else"}))
        .await
        .error_fields(403, "forbidden");
    let rex = admin
        .register_agent_with_token("agent-rex", "Rex", "Dev")
        .await;
    rex.change_password(json!({"currentPassword": "x", "newPassword": "whatever-else"}))
        .await
        .error_fields(403, "forbidden");
}

#[tokio::test]
async fn a_disabled_or_removed_person_is_refused_and_their_socket_ends() {
    let s = App::start().await;
    let admin = s.login().await;
    let mel = admin.add_person("mel", "member").await;
    let mut ws = socketio::connect(s.addr(), mel.token()).await.unwrap();
    let r = admin
        .update_user("agent-mel", json!({"disabled": true}))
        .await;
    assert_eq!(r.body["user"]["disabled"], true, "{}", r.body);
    assert!(
        closed_within(&mut ws, Duration::from_secs(3)).await,
        "their socket ended"
    );
    mel.list_tasks("").await.error_fields(401, "unauthorized");
    s.sign_in("mel", "mel-password")
        .await
        .error_fields(401, "unauthorized");
    // Enabled again, they sign in again.
    admin
        .update_user("agent-mel", json!({"disabled": false}))
        .await;
    let mel = s.anonymous().signed_in_as("mel", "mel-password").await;

    // A new role ends their sessions too: they sign in again under it.
    let r = admin
        .update_user("agent-mel", json!({"role": "viewer"}))
        .await;
    assert_eq!(r.body["user"]["role"], "viewer");
    mel.list_tasks("").await.error_fields(401, "unauthorized");
    let mel = s.anonymous().signed_in_as("mel", "mel-password").await;
    let r = mel.create_task(json!({"title": "Not for a viewer"})).await;
    r.error_fields(403, "forbidden");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("viewer")
    );

    // Removed: their card goes, their token is refused, what they did stays.
    let mut ws = socketio::connect(s.addr(), mel.token()).await.unwrap();
    let r = admin.remove_user("agent-mel").await;
    assert_eq!(r.body, json!({"success": true}));
    assert!(closed_within(&mut ws, Duration::from_secs(3)).await);
    mel.list_tasks("").await.error_fields(401, "unauthorized");
    admin
        .get_agent("agent-mel")
        .await
        .error_fields(404, "not_found");
    admin
        .remove_user("agent-mel")
        .await
        .error_fields(404, "not_found");
}

#[tokio::test]
async fn nobody_locks_out_the_operator_or_themselves() {
    let s = App::start().await;
    let admin = s.login().await;
    let boss = admin.add_person("boss", "admin").await;
    for (who, target) in [
        (&boss, ADMIN_AGENT),
        (&boss, "agent-boss"),
        (&admin, ADMIN_AGENT),
    ] {
        who.update_user(target, json!({"role": "viewer"}))
            .await
            .error_fields(403, "forbidden");
        who.update_user(target, json!({"disabled": true}))
            .await
            .error_fields(403, "forbidden");
        who.remove_user(target).await.error_fields(403, "forbidden");
    }
    // Another admin manages people as the operator does.
    let r = boss
        .update_user(ADMIN_AGENT, json!({"name": "Patch Adams"}))
        .await;
    assert_eq!(r.body["user"]["name"], "Patch Adams");
    boss.add_person("mel", "member").await;
    assert_eq!(boss.remove_user("agent-mel").await.status, 200);
}

#[tokio::test]
async fn the_command_line_manages_people_on_the_servers_machine() {
    let s = App::start().await;
    let out = s
        .run(&["users", "add", "nova", "--name", "Nova", "--role", "viewer"])
        .await;
    let password = out
        .split("their password: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the password, shown once")
        .to_owned();
    let nova = s.anonymous().signed_in_as("nova", &password).await;
    assert_eq!(nova.list_tasks("").await.status, 200);
    let listed = s.run(&["users", "list"]).await;
    assert!(
        listed.contains("nova  agent-nova  Nova  viewer"),
        "{listed}"
    );

    // The server hears of what another process revoked through the change log (see
    // commands.rs); a new sign-in reads the account itself.
    s.run(&["users", "set-role", "nova", "member"]).await;
    let nova = s.anonymous().signed_in_as("nova", &password).await;
    assert_eq!(
        nova.create_task(json!({"title": "Now a member"}))
            .await
            .status,
        201
    );

    s.run(&["users", "disable", "nova"]).await;
    s.sign_in("nova", &password)
        .await
        .error_fields(401, "unauthorized");
    s.run(&["users", "disable", "nova", "--enable"]).await;
    let out = s.run(&["users", "reset-password", "nova"]).await;
    let fresh = out
        .split("': ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    s.sign_in("nova", &password)
        .await
        .error_fields(401, "unauthorized");
    assert_eq!(s.sign_in("nova", &fresh).await.status, 200);
    let bad = s.command(&["users", "set-role", "nova", "owner"]).await;
    assert!(!bad.status.success());
}

/// A board served before there were accounts kept the operator's generated password where it
/// could: on SQLite in the data folder, on PostgreSQL in the database's settings. The first
/// start with accounts moves it into the operator's account, so the same password signs in.
#[tokio::test]
async fn the_operators_kept_password_still_signs_in_after_the_upgrade() {
    use mission_control_core::{MissionControl, Options, PasswordHash, Setting};
    let store = fresh_store();
    let kept = PasswordHash::new("kept-password").unwrap();
    let board =
        MissionControl::open_with(Options::new(core_database(&store), SECRET.as_bytes())).unwrap();
    if store.is_postgres() {
        board
            .put_setting(Setting::OperatorPasswordHash, kept.as_phc().to_owned())
            .await
            .unwrap();
    } else {
        let folder = store.sqlite_file().parent().unwrap();
        std::fs::write(folder.join("admin-password.argon2"), kept.as_phc()).unwrap();
    }
    board.shutdown().await;
    drop(board);

    let s = App::start_on(&store, &[("ADMIN_PASSWORD", "")]).await;
    let r = s.sign_in(ADMIN_USER, "kept-password").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["user"]["access"], "admin");
    // It is the account's from now on: changed there, it holds.
    let admin = s.session(r.body["token"].as_str().unwrap());
    let r = admin
        .change_password(
            json!({"currentPassword": "kept-password", "newPassword": "a-newer-password"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    s.terminate().await;
    let s = App::start_on(&store, &[("ADMIN_PASSWORD", "")]).await;
    assert_eq!(s.sign_in(ADMIN_USER, "a-newer-password").await.status, 200);
}

/// Disabled from the command line, another process: the running server hears of it through
/// the change log, as of any change, and the person's token and socket end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_person_disabled_from_the_command_line_is_refused_by_the_running_server() {
    use super::support::live::events_until;
    const WAIT: Duration = Duration::from_secs(20);
    let s = App::start().await;
    let admin = s.login().await;
    let mel = admin.add_person("mel", "member").await;
    let mut watcher = socketio::connect(s.addr(), admin.token()).await.unwrap();
    let mut mel_socket = socketio::connect(s.addr(), mel.token()).await.unwrap();
    // Mel is at work: the server remembers Mel's token as good.
    assert_eq!(mel.list_tasks("").await.status, 200);

    s.run(&["users", "disable", "mel"]).await;
    s.run(&[
        "token",
        "--agent",
        "agent-rex",
        "--name",
        "Rex",
        "--role",
        "Dev",
    ])
    .await;
    // Once the admin's socket has the later change, the server has applied the earlier one.
    events_until(&mut watcher, WAIT, |got| {
        got.iter()
            .any(|(name, p)| name == "agent.status_changed" && p["agent"]["id"] == "agent-rex")
    })
    .await;
    mel.list_tasks("").await.error_fields(401, "unauthorized");
    assert!(
        closed_within(&mut mel_socket, WAIT).await,
        "Mel's socket ended"
    );
}
