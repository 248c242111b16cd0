//! Signing in and tokens: the sign-in answer and its limits, every endpoint behind a valid
//! token, forged and expired tokens refused, agent tokens carrying their agent, and tokens
//! listed and revoked by the operator, their sockets ending at once (and at expiry).

use std::time::Duration;

use super::support::live::closed_within;
use super::support::*;
use mission_control_testkit::socketio;
use mission_control_testkit::store::Cell;
use serde_json::{Value, json};

#[tokio::test]
async fn login_returns_the_spec_shape_and_refuses_bad_credentials() {
    let s = App::start().await;
    let r = s.sign_in("patch", ADMIN_PASSWORD).await;
    assert_eq!(r.status, 200);
    assert!(r.body["token"].as_str().unwrap().starts_with("eyJ"));
    assert_eq!(
        r.body["user"],
        json!({"id": "agent-patch", "name": "Patch", "role": "Dev", "access": "admin"})
    );

    for (username, password) in [("patch", "wrong"), ("nova", ADMIN_PASSWORD)] {
        s.sign_in(username, password)
            .await
            .error_fields(401, "unauthorized");
    }
    let r = s
        .anonymous()
        .post("/api/auth/login", json!({"username": "patch"}))
        .await;
    assert_eq!(r.status, 400);

    // The operator shows up as an agent.
    let admin = s.login().await;
    let agents = admin.list_agents().await;
    assert_eq!(agents.body["agents"][0]["id"], "agent-patch");
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address() {
    let s = App::start_with(&[("LOGIN_RATE_LIMIT_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        assert_eq!(s.sign_in("x", "y").await.status, 401);
    }
    let r = s.sign_in("x", "y").await;
    r.error_fields(429, "rate_limited");
    let retry: u64 = r.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry));
}

#[tokio::test]
async fn api_requests_are_rate_limited_per_token() {
    let s = App::start_with(&[("RATE_LIMIT_PER_MINUTE", "5")]).await;
    let admin = s.login().await;
    for _ in 0..5 {
        assert_eq!(admin.list_tasks("").await.status, 200);
    }
    let r = admin.list_tasks("").await;
    r.error_fields(429, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    // Another token has its own budget.
    let other = s.login().await;
    assert_eq!(other.list_tasks("").await.status, 200);
}

#[tokio::test]
async fn every_api_endpoint_requires_a_valid_token() {
    let s = App::start().await;
    let forged_none = format!(
        "{}.{}.",
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0",
        "eyJzdWIiOiJhZ2VudC1wYXRjaCIsImp0aSI6IngiLCJpYXQiOjAsImV4cCI6OTk5OTk5OTk5OTl9"
    );
    let callers = [s.anonymous(), s.session("garbage"), s.session(&forged_none)];
    for (method, path) in [
        ("GET", "/api/tasks"),
        ("POST", "/api/tasks"),
        ("GET", "/api/tasks/x"),
        ("PATCH", "/api/tasks/x"),
        ("DELETE", "/api/tasks/x"),
        ("GET", "/api/agents"),
        ("POST", "/api/agents"),
        ("PATCH", "/api/agents/x"),
        ("GET", "/api/events"),
        ("POST", "/api/auth/logout"),
        ("POST", "/api/auth/tokens"),
    ] {
        for caller in &callers {
            let r = caller.request(method, path, Some(json!({}))).await;
            r.error_fields(401, "unauthorized");
        }
    }
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let s = App::start().await;
    let admin = s.login().await;
    let r = admin.logout().await;
    assert_eq!(r.body, json!({"success": true}));
    admin.list_tasks("").await.error_fields(401, "unauthorized");
}

#[tokio::test]
async fn agent_tokens_carry_the_agent_identity() {
    let s = App::start().await;
    let admin = s.login().await;
    admin
        .register_agent(json!({"id": "agent-nova", "name": "Nova", "role": "Research"}))
        .await;
    let minted = admin
        .mint_token(json!({"agentId": "agent-nova", "expiresInDays": 30}))
        .await;
    assert_eq!(minted.status, 201, "{}", minted.body);
    let nova = s.session(minted.body["token"].as_str().unwrap());
    assert_eq!(minted.body["agent"]["id"], "agent-nova");

    let task = nova.create_task(json!({"title": "From Nova"})).await;
    assert_eq!(task.body["task"]["createdBy"], "agent-nova");
    let events = nova.events("limit=1").await;
    assert_eq!(
        events.body["events"][0]["message"],
        "Nova created task “From Nova”"
    );

    let r = nova.mint_token(json!({"agentId": "agent-patch"})).await;
    r.error_fields(403, "forbidden");
    let r = admin.mint_token(json!({"agentId": "agent-ghost"})).await;
    assert_eq!(r.error_fields(409, "conflict"), ["agentId"]);
    let r = admin
        .mint_token(json!({"agentId": "agent-nova", "expiresInDays": 0}))
        .await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["expiresInDays"]);
}

/// JSON Schema's `integer` includes `30.0`; so does the server's reading of `expiresInDays`.
#[tokio::test]
async fn a_whole_number_of_days_may_be_written_with_a_fraction_of_zero() {
    let s = App::start().await;
    let admin = s.login().await;
    let r = admin
        .mint_token(json!({"agentId": "agent-patch", "expiresInDays": 30.0}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = admin
        .mint_token(json!({"agentId": "agent-patch", "expiresInDays": 1.5}))
        .await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["expiresInDays"]);
}

/// Unknown fields are refused everywhere the document says `additionalProperties: false`,
/// sign-in included.
#[tokio::test]
async fn sign_in_refuses_unknown_fields() {
    let s = App::start().await;
    let r = s
        .anonymous()
        .post(
            "/api/auth/login",
            json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD, "remember": true}),
        )
        .await;
    assert_eq!(r.error_fields(400, "validation_failed"), ["remember"]);
}

#[tokio::test]
async fn hostile_tokens_are_refused() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let s = App::start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims =
        |exp: i64| json!({"sub": "agent-patch", "jti": "forged", "iat": now - 10, "exp": exp});
    let sign = |claims: Value, key: &str, alg: Algorithm| {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    };
    let tokens = [
        // Right key, but never issued by the server (no revocation row).
        sign(claims(now + 3600), SECRET, Algorithm::HS256),
        // Right key and a past expiry.
        sign(claims(now - 3600), SECRET, Algorithm::HS256),
        // Another key.
        sign(
            claims(now + 3600),
            "some-other-secret-of-enough-length-00",
            Algorithm::HS256,
        ),
        // Another algorithm with the right key.
        sign(claims(now + 3600), SECRET, Algorithm::HS512),
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudC1wYXRjaCJ9.".to_owned(),
        "garbage".to_owned(),
    ];
    for token in &tokens {
        let r = s.session(token).list_tasks("").await;
        r.error_fields(401, "unauthorized");
    }
    // A real token works, then is refused once revoked.
    let real = s.login().await;
    assert_eq!(real.list_tasks("").await.status, 200);
    real.logout().await;
    real.list_tasks("").await.error_fields(401, "unauthorized");
}

#[tokio::test]
async fn the_operator_lists_and_revokes_tokens_and_their_sockets_end_at_once() {
    let s = App::start().await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let second = admin.mint_token(json!({"agentId": "agent-nova"})).await;
    let second = s.session(second.body["token"].as_str().unwrap());
    assert_eq!(nova.list_tasks("").await.status, 200);

    let listed = admin.tokens("agent-nova").await;
    let tokens = listed.list("tokens").clone();
    assert_eq!(tokens.len(), 2);
    for t in &tokens {
        let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["createdAt", "expiresAt", "id", "lastUsedAt"]);
        let text = t.to_string();
        assert!(
            !text.contains(nova.token()) && !text.contains(second.token()),
            "never the token"
        );
    }
    // An agent sees its own.
    let mine = nova.tokens("me").await;
    assert_eq!(mine.list("tokens").len(), 2);

    let mut ws = socketio::connect(s.addr(), nova.token()).await.unwrap();
    // The newest first: the second minted token; revoke the other (Nova's first) by id.
    let first_id = tokens[1]["id"].as_str().unwrap();
    let r = admin.revoke_token("agent-nova", first_id).await;
    assert_eq!(r.body, json!({"success": true}));
    assert!(
        closed_within(&mut ws, Duration::from_secs(3)).await,
        "its socket ended"
    );
    nova.list_tasks("").await.error_fields(401, "unauthorized");
    assert_eq!(second.list_tasks("").await.status, 200);
    let r = admin.revoke_all_tokens("agent-nova").await;
    assert_eq!(r.body, json!({"revoked": 1}));
    second
        .list_tasks("")
        .await
        .error_fields(401, "unauthorized");
}

/// A token for `agent` that expires in `seconds`, signed with the test secret and recorded
/// in the store as the server records its own (so only its expiry is unusual).
fn short_lived_token(store: &TestStore, agent: &str, seconds: i64) -> String {
    use sha2::{Digest, Sha256};
    let hex = |data: &str| -> String {
        Sha256::digest(data.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let now = mission_control_core::now_millis();
    let jti = format!("short-{now}");
    let claims = json!({"sub": agent, "jti": jti, "iat": now / 1000, "exp": now / 1000 + seconds});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    store.raw().execute(
        "INSERT INTO auth_tokens (id, user_id, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            Cell::from(hex(&jti)),
            Cell::from(agent),
            Cell::from(hex(&token)),
            Cell::Int(now),
            Cell::Int((now / 1000 + seconds) * 1000),
        ],
    );
    token
}

#[tokio::test]
async fn a_socket_is_disconnected_when_its_token_expires() {
    let s = App::start().await;
    let token = short_lived_token(s.store(), "agent-patch", 3);
    let mut ws = socketio::connect(s.addr(), &token).await.unwrap();
    assert!(
        closed_within(&mut ws, Duration::from_secs(8)).await,
        "disconnected at expiry"
    );
}
