//! The server answers as its OpenAPI document says: regression tests for the differences
//! schemathesis (`scripts/schemathesis.sh`) found between the two.

mod common;

use common::{Server, error_fields};
use serde_json::json;

/// A schema-valid request that names an agent nobody registered is not malformed: it would
/// succeed once the agent exists. It is answered 409 naming the field, not 400.
#[tokio::test]
async fn naming_an_unregistered_agent_is_a_conflict_not_a_malformed_request() {
    let s = Server::start().await;
    let t = s.login().await;
    let token = Some(t.as_str());
    let r = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "Orphan", "assignedAgent": "agent-ghost"})),
            token,
        )
        .await;
    assert_eq!(error_fields(&r, 409, "conflict"), ["assignedAgent"]);
    assert_eq!(
        r.body["error"]["details"][0]["message"],
        "no agent is registered with the id agent-ghost"
    );

    let created = s
        .call("POST", "/api/tasks", Some(json!({"title": "Real"})), token)
        .await;
    let id = created.body["task"]["id"].as_str().unwrap().to_owned();
    let r = s
        .call(
            "PATCH",
            &format!("/api/tasks/{id}"),
            Some(json!({"assignedAgent": "agent-ghost"})),
            token,
        )
        .await;
    assert_eq!(error_fields(&r, 409, "conflict"), ["assignedAgent"]);

    let r = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({"agentId": "agent-ghost"})),
            token,
        )
        .await;
    assert_eq!(error_fields(&r, 409, "conflict"), ["agentId"]);

    // A malformed id is still a malformed request.
    let r = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "Bad", "assignedAgent": "Agent Ghost"})),
            token,
        )
        .await;
    assert_eq!(
        error_fields(&r, 400, "validation_failed"),
        ["assignedAgent"]
    );
}

/// `limit` is 1 to 500 as documented: values outside are refused, not capped.
#[tokio::test]
async fn event_limits_outside_the_documented_range_are_refused() {
    let s = Server::start().await;
    let t = s.login().await;
    let token = Some(t.as_str());
    for ok in ["1", "50", "500"] {
        let r = s
            .call("GET", &format!("/api/events?limit={ok}"), None, token)
            .await;
        assert_eq!(r.status, 200, "limit={ok}: {}", r.body);
    }
    for bad in ["0", "501", "4294967296", "-1", "ten", "1.5"] {
        let r = s
            .call("GET", &format!("/api/events?limit={bad}"), None, token)
            .await;
        assert_eq!(
            error_fields(&r, 400, "validation_failed"),
            ["limit"],
            "limit={bad}"
        );
        assert!(
            r.body["error"]["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains("from 1 to 500"),
            "{}",
            r.body
        );
    }
    let r = s.call("GET", "/api/events?since=-1", None, token).await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["since"]);
}

/// An empty query value is a value: `?status=` names no column, `?limit=` no number.
#[tokio::test]
async fn empty_query_values_are_refused_like_any_other_bad_value() {
    let s = Server::start().await;
    let t = s.login().await;
    let token = Some(t.as_str());
    for (path, field) in [
        ("/api/tasks?status=", "status"),
        ("/api/events?limit=", "limit"),
        ("/api/events?since=", "since"),
    ] {
        let r = s.call("GET", path, None, token).await;
        assert_eq!(
            error_fields(&r, 400, "validation_failed"),
            [field],
            "{path}"
        );
    }
    let r = s.call("GET", "/api/tasks?status=todo", None, token).await;
    assert_eq!(r.status, 200);
}

/// Unknown fields are refused everywhere the document says `additionalProperties: false`,
/// sign-in included.
#[tokio::test]
async fn sign_in_refuses_unknown_fields() {
    let s = Server::start().await;
    let r = s
        .call(
            "POST",
            "/api/auth/login",
            Some(json!({"username": common::ADMIN_USER, "password": common::ADMIN_PASSWORD, "remember": true})),
            None,
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["remember"]);
}

/// The lengths the document publishes are counted as sent: a title padded past 200
/// characters is refused even though it would fit once trimmed.
#[tokio::test]
async fn lengths_are_counted_as_sent() {
    let s = Server::start().await;
    let t = s.login().await;
    let token = Some(t.as_str());
    let padded = format!(" {} ", "x".repeat(199));
    let r = s
        .call("POST", "/api/tasks", Some(json!({"title": padded})), token)
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["title"]);
    let r = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": format!(" {} ", "x".repeat(198))})),
            token,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["task"]["title"], "x".repeat(198));
}

/// JSON Schema's `integer` includes `30.0`; so does the server's reading of `expiresInDays`.
#[tokio::test]
async fn a_whole_number_of_days_may_be_written_with_a_fraction_of_zero() {
    let s = Server::start().await;
    let t = s.login().await;
    let token = Some(t.as_str());
    let r = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({"agentId": "agent-patch", "expiresInDays": 30.0})),
            token,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({"agentId": "agent-patch", "expiresInDays": 1.5})),
            token,
        )
        .await;
    assert_eq!(
        error_fields(&r, 400, "validation_failed"),
        ["expiresInDays"]
    );
}
