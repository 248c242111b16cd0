//! Who may do what, endpoint by endpoint: every authenticated endpoint of the REST API (and a
//! tool call over MCP) against an admin, a member, a viewer and an agent's token, each allowed
//! or refused with 403 as the core's policy says. A viewer's refusal names the role.
//!
//! Every call gets a fresh token and fresh targets, so that a call that revokes its own token
//! or removes what it names leaves the next one untouched. The live event stream (`GET
//! /api/stream`) and Socket.io only read, and are open to every role: `people.rs` and the live
//! tests cover them.

use super::support::*;
use mission_control_testkit::mcp::McpClient;
use serde_json::{Value, json};

/// Who calls: the roles in the order of each row's expectations.
const ROLES: [&str; 4] = ["admin", "member", "viewer", "agent"];

/// One endpoint: method, path (`{task}`, `{agent}` and `{person}` are made fresh for each
/// call), body, and whether an admin, a member, a viewer and an agent may call it.
struct Row {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    allowed: [bool; 4],
}

const ALL: [bool; 4] = [true, true, true, true];
const WORKERS: [bool; 4] = [true, true, false, true];
const ADMINS: [bool; 4] = [true, false, false, false];
const PEOPLE: [bool; 4] = [true, true, true, false];

fn rows() -> Vec<Row> {
    let row = |method, path, body: Option<Value>, allowed| Row {
        method,
        path,
        body,
        allowed,
    };
    vec![
        row("GET", "/api/tasks", None, ALL),
        row("POST", "/api/tasks", Some(json!({"title": "New"})), WORKERS),
        row("POST", "/api/tasks/claim-next", Some(json!({})), WORKERS),
        row("GET", "/api/tasks/{task}", None, ALL),
        row(
            "PATCH",
            "/api/tasks/{task}",
            Some(json!({"title": "Renamed"})),
            WORKERS,
        ),
        row("DELETE", "/api/tasks/{task}", None, WORKERS),
        row("POST", "/api/tasks/{task}/claim", Some(json!({})), WORKERS),
        row("POST", "/api/tasks/{task}/release", None, WORKERS),
        row(
            "POST",
            "/api/tasks/{task}/complete",
            Some(json!({})),
            WORKERS,
        ),
        row("GET", "/api/tasks/{task}/comments", None, ALL),
        row(
            "POST",
            "/api/tasks/{task}/comments",
            Some(json!({"text": "Hi"})),
            WORKERS,
        ),
        row("GET", "/api/agents", None, ALL),
        row(
            "POST",
            "/api/agents",
            Some(json!({"id": "agent-fresh", "name": "Fresh", "role": "Dev"})),
            ADMINS,
        ),
        row("GET", "/api/agents/{agent}", None, ALL),
        row(
            "PATCH",
            "/api/agents/me",
            Some(json!({"status": "busy"})),
            WORKERS,
        ),
        row(
            "PATCH",
            "/api/agents/{agent}",
            Some(json!({"name": "Renamed"})),
            ADMINS,
        ),
        row("DELETE", "/api/agents/{agent}", None, ADMINS),
        row("POST", "/api/agents/me/heartbeat", None, WORKERS),
        row("GET", "/api/agents/me/tokens", None, ALL),
        row("DELETE", "/api/agents/me/tokens", None, ALL),
        row("GET", "/api/agents/{agent}/tokens", None, ADMINS),
        row("DELETE", "/api/agents/{agent}/tokens", None, ADMINS),
        row("DELETE", "/api/agents/{agent}/tokens/none", None, ADMINS),
        row("GET", "/api/events", None, ALL),
        row("GET", "/api/export", None, ALL),
        row("POST", "/api/auth/logout", None, ALL),
        row(
            "POST",
            "/api/auth/tokens",
            Some(json!({"agentId": "{agent}"})),
            ADMINS,
        ),
        row(
            "POST",
            "/api/auth/password",
            Some(json!({"currentPassword": "a-long-password", "newPassword": "a-long-password"})),
            PEOPLE,
        ),
        row("GET", "/api/users", None, ADMINS),
        row(
            "POST",
            "/api/users",
            Some(json!({"username": "fresh", "name": "Fresh Person", "role": "member"})),
            ADMINS,
        ),
        row("GET", "/api/users/me", None, ALL),
        row("GET", "/api/users/{person}", None, ADMINS),
        row(
            "PATCH",
            "/api/users/{person}",
            Some(json!({"role": "viewer"})),
            ADMINS,
        ),
        row("DELETE", "/api/users/{person}", None, ADMINS),
    ]
}

/// The board's cast: the operator, and a card for each role (the admin is a person other
/// than the operator, so that nothing here rests on the operator's special place).
struct Cast {
    operator: Session,
    cards: [&'static str; 4],
    fresh: std::cell::Cell<u32>,
}

impl Cast {
    async fn new(s: &App) -> Cast {
        let operator = s.login().await;
        for (username, access) in [("boss", "admin"), ("mel", "member"), ("vic", "viewer")] {
            let r = operator
                .add_user(json!({
                    "username": username,
                    "name": username,
                    "role": access,
                    "password": "a-long-password",
                }))
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        operator
            .register_agent(json!({"id": "agent-rex", "name": "Rex", "role": "Dev"}))
            .await;
        Cast {
            operator,
            cards: ["agent-boss", "agent-mel", "agent-vic", "agent-rex"],
            fresh: std::cell::Cell::new(0),
        }
    }

    /// A new token for the role's card: a person's card acts as the person.
    async fn session(&self, s: &App, role: usize) -> Session {
        let r = self
            .operator
            .mint_token(json!({"agentId": self.cards[role]}))
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        s.session(r.body["token"].as_str().unwrap())
    }

    fn next(&self) -> u32 {
        self.fresh.set(self.fresh.get() + 1);
        self.fresh.get()
    }

    /// `text` with its placeholders replaced by targets made for this call.
    async fn fill(&self, text: &str) -> String {
        let mut text = text.to_owned();
        if text.contains("{task}") {
            let id = self
                .operator
                .create_task(json!({"title": "Target"}))
                .await
                .task_id();
            text = text.replace("{task}", &id);
        }
        if text.contains("{agent}") {
            let id = format!("agent-target{}", self.next());
            let r = self
                .operator
                .register_agent(json!({"id": id, "name": id, "role": "Dev"}))
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            text = text.replace("{agent}", &id);
        }
        if text.contains("{person}") {
            let username = format!("target{}", self.next());
            let r = self
                .operator
                .add_user(json!({"username": username, "name": username, "role": "member"}))
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            text = text.replace("{person}", &format!("agent-{username}"));
        }
        // A fresh name or id where the body creates one.
        if text.contains("fresh") || text.contains("Fresh") {
            let n = self.next();
            text = text
                .replace("agent-fresh", &format!("agent-fresh{n}"))
                .replace("Fresh Person", &format!("Fresh Person {n}"))
                .replace("\"fresh\"", &format!("\"fresh{n}\""))
                .replace("\"Fresh\"", &format!("\"Fresh {n}\""));
        }
        if text.contains("Renamed") {
            text = text.replace("Renamed", &format!("Renamed {}", self.next()));
        }
        text
    }
}

#[tokio::test]
async fn every_endpoint_allows_or_refuses_each_role_as_the_policy_says() {
    let s = App::start_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await;
    let cast = Cast::new(&s).await;
    let mut wrong = Vec::new();
    for row in rows() {
        for (role, allowed) in row.allowed.iter().enumerate() {
            let caller = cast.session(&s, role).await;
            let path = cast.fill(row.path).await;
            let body = match &row.body {
                Some(body) => {
                    Some(serde_json::from_str(&cast.fill(&body.to_string()).await).unwrap())
                }
                None => None,
            };
            let r = caller.request(row.method, &path, body).await;
            let refused = r.status == 403;
            assert_ne!(
                r.status, 401,
                "{} {path} as {}: {}",
                row.method, ROLES[role], r.body
            );
            if refused == *allowed {
                wrong.push(format!(
                    "{} {} as {}: {} {}",
                    row.method, row.path, ROLES[role], r.status, r.body
                ));
            }
            // Refused what a member may do, a viewer is told it is for being a viewer.
            if refused && ROLES[role] == "viewer" && row.allowed[1] {
                let message = r.body["error"]["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains("viewer"),
                    "{} {path}: {message}",
                    row.method
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// MCP tools go through the same door: a viewer reads over MCP but cannot write.
#[tokio::test]
async fn over_mcp_a_viewer_reads_and_cannot_write() {
    let s = App::start().await;
    let admin = s.login().await;
    let viewer = admin.add_person("vic", "viewer").await;
    let member = admin.add_person("mel", "member").await;
    let as_viewer = McpClient::new(&s.url, viewer.token());
    let listed = as_viewer.call_tool("list_tasks", json!({})).await.unwrap();
    assert!(!listed.is_error, "{listed:?}");
    let created = as_viewer
        .call_tool("create_task", json!({"title": "From a viewer"}))
        .await
        .unwrap();
    assert!(created.is_error, "{created:?}");
    assert!(
        created.error_body().to_string().contains("viewer"),
        "{created:?}"
    );
    let as_member = McpClient::new(&s.url, member.token());
    let created = as_member
        .call_tool("create_task", json!({"title": "From a member"}))
        .await
        .unwrap();
    assert!(!created.is_error, "{created:?}");
}
