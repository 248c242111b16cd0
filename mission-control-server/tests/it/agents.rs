//! Agents over HTTP: registering, listing and changing status with the answers' exact shapes;
//! an agent changes only its own card while the operator manages every agent; and removing an
//! agent ends its access and frees its tasks.

use std::time::Duration;

use super::support::live::closed_within;
use super::support::*;
use mission_control_testkit::socketio;
use serde_json::{Value, json};

#[tokio::test]
async fn agents_register_list_and_change_status() {
    let s = App::start().await;
    let admin = s.login().await;
    let r = admin
        .register_agent(json!({"id": "agent-nova", "name": "Nova", "role": "Research", "avatarColor": "#3b82f6"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["agent"]["status"], "online");
    let dup = admin
        .register_agent(json!({"id": "agent-nova", "name": "N", "role": "Dev"}))
        .await;
    assert_eq!(dup.error_fields(409, "conflict"), ["id"]);
    let bad = admin
        .register_agent(json!({"id": "Nova!", "name": "", "role": "Boss", "avatarColor": "blue"}))
        .await;
    assert_eq!(
        bad.error_fields(400, "validation_failed"),
        ["id", "name", "role", "avatarColor"]
    );

    let busy = admin
        .update_agent("agent-nova", json!({"status": "busy"}))
        .await;
    assert_eq!(busy.status, 200);
    let agent = &busy.body["agent"];
    assert_eq!(sorted_keys(agent), AGENT_KEYS);
    assert_eq!(agent["status"], "busy");
    let r = admin
        .update_agent("agent-nova", json!({"status": "away"}))
        .await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["status"]);
    let r = admin
        .update_agent("agent-ghost", json!({"status": "busy"}))
        .await;
    r.error_fields(404, "not_found");

    let list = admin.list_agents().await;
    let ids: Vec<&str> = list
        .list("agents")
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["agent-nova", "agent-patch"]);
    let events = admin.events("limit=1").await;
    assert_eq!(
        events.body["events"][0]["message"],
        "Patch set Nova to busy"
    );
    assert_eq!(events.body["events"][0]["type"], "agent_status_changed");
}

#[tokio::test]
async fn agents_change_only_their_own_card_and_only_the_operator_manages_agents() {
    let s = App::start().await;
    let admin = s.login().await;
    let rex = admin
        .register_agent_with_token("agent-rex", "Rex", "Dev")
        .await;
    admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let cases = [
        ("PATCH", "/api/agents/agent-patch", json!({"name": "Admin"})),
        (
            "PATCH",
            "/api/agents/agent-nova",
            json!({"status": "offline"}),
        ),
        ("PATCH", "/api/agents/agent-rex", json!({"name": "Admin"})),
        ("PATCH", "/api/agents/agent-rex", json!({"role": "Main"})),
        (
            "POST",
            "/api/agents",
            json!({"id": "agent-admin2", "name": "Admin", "role": "Main"}),
        ),
        ("DELETE", "/api/agents/agent-nova", json!({})),
        ("POST", "/api/auth/tokens", json!({"agentId": "agent-rex"})),
        ("GET", "/api/agents/agent-nova/tokens", json!({})),
    ];
    for (method, path, body) in cases {
        let r = rex.request(method, path, Some(body)).await;
        r.error_fields(403, "forbidden");
    }
    let own = rex
        .update_agent(
            "agent-rex",
            json!({"status": "busy", "avatarColor": "#ff0000"}),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    // Names are unique; renames are logged, credited to whoever made them.
    let r = admin
        .update_agent("agent-rex", json!({"name": "nova"}))
        .await;
    assert_eq!(r.error_fields(409, "conflict"), ["name"]);
    admin
        .update_agent("agent-rex", json!({"name": "Rexford"}))
        .await;
    let feed = admin.events("limit=1").await;
    assert_eq!(
        feed.body["events"][0]["message"],
        "Patch renamed Rex to Rexford"
    );
    assert_eq!(feed.body["events"][0]["agentId"], "agent-patch");
    assert_eq!(feed.body["events"][0]["type"], "agent_updated");
}

/// `me` in an agent's path is the caller's own agent, on every agent endpoint: an agent reads
/// and changes its own card by it, and it never reaches another agent's.
#[tokio::test]
async fn me_in_an_agents_path_is_the_caller() {
    let s = App::start().await;
    let admin = s.login().await;
    let rex = admin
        .register_agent_with_token("agent-rex", "Rex", "Dev")
        .await;
    let r = rex.update_agent("me", json!({"status": "busy"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["agent"]["id"], "agent-rex");
    assert_eq!(r.body["agent"]["status"], "busy");
    let got = rex.get_agent("me").await;
    assert_eq!(got.body["agent"]["id"], "agent-rex");
    assert_eq!(got.body["agent"]["status"], "busy");
    let r = rex.update_agent("me", json!({"role": "Main"})).await;
    r.error_fields(403, "forbidden");
    assert_eq!(rex.tokens("me").await.list("tokens").len(), 1);
    // The operator's `me` is the operator's own agent, not anyone else's.
    let r = admin.update_agent("me", json!({"status": "offline"})).await;
    assert_eq!(r.body["agent"]["id"], ADMIN_AGENT);
    assert_eq!(
        admin.get_agent("agent-rex").await.body["agent"]["status"],
        "busy"
    );
}

#[tokio::test]
async fn removing_an_agent_ends_its_access_and_frees_its_tasks() {
    let s = App::start().await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let id = admin
        .create_task(json!({"title": "N", "status": "todo"}))
        .await
        .task_id();
    let claimed = nova.claim(&id).await;
    assert_eq!(claimed.status, 200, "{}", claimed.body);
    let mut ws = socketio::connect(s.addr(), nova.token()).await.unwrap();
    let r = admin.remove_agent("agent-patch").await;
    r.error_fields(403, "forbidden");
    let r = admin.remove_agent("agent-nova").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(closed_within(&mut ws, Duration::from_secs(3)).await);
    nova.list_tasks("").await.error_fields(401, "unauthorized");
    let freed = admin.get_task(&id).await;
    assert_eq!(freed.body["task"]["status"], "todo");
    assert_eq!(freed.body["task"]["assignedAgent"], Value::Null);
    admin
        .get_agent("agent-nova")
        .await
        .error_fields(404, "not_found");
}
