//! What the tool says when a call cannot be done, each error its own kind: not allowed (403) is
//! not a bad token (401), a down or stalling server is unreachable within the configured
//! timeouts, and the host refuses every origin but the server's.

use super::support::{Server, runtime, unused_local_url};
use mission_control_tool_host::{
    AgentStatus, Origin, OriginGuard, RequestTimeouts, TaskFilter, ToolConfig, ToolError,
};
use serde_json::json;

#[tokio::test]
async fn what_the_agent_may_not_do_is_forbidden_not_unauthorized() {
    let server = Server::start().await;
    let nova = server.agent_token("agent-nova", "Nova").await;
    server.agent_token("agent-scout", "Scout").await;
    let mut tool = runtime()
        .instantiate(ToolConfig::new(server.app.url.clone(), Some(nova)))
        .await
        .unwrap();
    // Another agent's card: the token is good, the action is not allowed.
    let err = tool
        .set_agent_status("agent-scout", AgentStatus::Busy)
        .await
        .unwrap()
        .unwrap_err();
    match &err {
        ToolError::Forbidden(why) => assert!(why.contains("only its own card"), "{why}"),
        other => panic!("expected forbidden, got {other:?}"),
    }
    let err = tool
        .execute(
            &json!({"action": "set_agent_status", "agentId": "agent-scout", "agentStatus": "offline"})
                .to_string(),
        )
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ToolError::Forbidden(_)), "{err:?}");
    let body = server.admin.list_agents().await.body;
    let scout = body["agents"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["id"] == "agent-scout"))
        .cloned();
    assert_ne!(scout.map(|s| s["status"].clone()), Some(json!("busy")));
    // Its own card it may change.
    let me = tool
        .set_agent_status("agent-nova", AgentStatus::Busy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(me.status, AgentStatus::Busy);
    // `me` is its own card too, as in the REST path.
    let me = tool
        .set_agent_status("me", AgentStatus::Online)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (me.id.as_str(), me.status),
        ("agent-nova", AgentStatus::Online)
    );
}

#[tokio::test]
async fn a_bad_or_missing_token_is_unauthorized() {
    let server = Server::start().await;
    for token in [
        Some("not-a-token".to_string()),
        Some(format!("{}x", server.token)),
        None,
    ] {
        let mut tool = runtime()
            .instantiate(ToolConfig::new(server.app.url.clone(), token.clone()))
            .await
            .unwrap();
        let err = tool
            .list_tasks(&TaskFilter {
                status: None,
                agent: None,
            })
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(err, ToolError::Unauthorized(_)),
            "{token:?}: {err:?}"
        );
        let err = tool
            .execute(r#"{"action":"create_task","title":"sneaky"}"#)
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(err, ToolError::Unauthorized(_)),
            "{token:?}: {err:?}"
        );
    }
    let body = server.admin.list_tasks("").await.body;
    assert_eq!(body["tasks"], json!([]));

    // A revoked token too.
    let status = server.admin.logout().await.status;
    assert_eq!(status, 200);
    let mut tool = runtime().instantiate(server.config()).await.unwrap();
    let err = tool
        .execute(r#"{"action":"list_agents"}"#)
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ToolError::Unauthorized(_)), "{err:?}");
}

#[tokio::test]
async fn a_down_server_is_unreachable() {
    let url = unused_local_url().await;
    let mut tool = runtime()
        .instantiate(ToolConfig::new(url, Some("token".into())))
        .await
        .unwrap();
    let err = tool
        .list_tasks(&TaskFilter {
            status: None,
            agent: None,
        })
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ToolError::ServerUnreachable(_)), "{err:?}");
    let err = tool
        .execute(r#"{"action":"create_task","title":"x"}"#)
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ToolError::ServerUnreachable(_)), "{err:?}");

    // A server that stops between calls.
    let server = Server::start().await;
    let config = server.config();
    let mut tool = runtime().instantiate(config).await.unwrap();
    tool.list_agents().await.unwrap().unwrap();
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let err = tool.list_agents().await.unwrap().unwrap_err();
    assert!(matches!(err, ToolError::ServerUnreachable(_)), "{err:?}");
}

/// A server on a random port that accepts connections, reads the request, writes `reply`
/// (maybe nothing) and then holds the connection open without another byte.
async fn stalling_server(reply: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(reply.as_bytes()).await;
                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            });
        }
    });
    url
}

fn list_tasks_filter() -> TaskFilter {
    TaskFilter {
        status: None,
        agent: None,
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_at_the_configured_limit() {
    let url = stalling_server("").await;
    let config = ToolConfig::new(url, Some("token".into())).with_timeouts(RequestTimeouts {
        connect_ms: Some(1_000),
        first_byte_ms: Some(400),
        between_bytes_ms: None,
    });
    let mut tool = runtime().instantiate(config).await.unwrap();
    let started = std::time::Instant::now();
    let err = tool
        .list_tasks(&list_tasks_filter())
        .await
        .unwrap()
        .unwrap_err();
    let waited = started.elapsed();
    match &err {
        ToolError::ServerUnreachable(msg) => assert!(msg.starts_with("timed out"), "{msg}"),
        other => panic!("expected server-unreachable, got {other:?}"),
    }
    assert!(
        waited < std::time::Duration::from_secs(5),
        "took {waited:?}"
    );
}

#[tokio::test]
async fn an_answer_that_stalls_midway_times_out_between_bytes() {
    let url = stalling_server(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"tasks\":[",
    )
    .await;
    let config = ToolConfig::new(url, Some("token".into())).with_timeouts(RequestTimeouts {
        connect_ms: None,
        first_byte_ms: None,
        between_bytes_ms: Some(300),
    });
    let mut tool = runtime().instantiate(config).await.unwrap();
    let err = tool
        .execute(r#"{"action":"list_tasks"}"#)
        .await
        .unwrap()
        .unwrap_err();
    match &err {
        ToolError::ServerUnreachable(msg) => assert!(msg.starts_with("timed out"), "{msg}"),
        other => panic!("expected server-unreachable, got {other:?}"),
    }
}

#[tokio::test]
async fn the_host_refuses_any_other_origin() {
    let server = Server::start().await;
    // The component is pointed at the real server, but the host only allows another origin:
    // every request must be refused before it leaves the host.
    let decoy = unused_local_url().await;
    let mut config = server.config();
    config.allowed_origin = Some(decoy);
    let mut tool = runtime().instantiate(config).await.unwrap();
    let err = tool
        .execute(r#"{"action":"create_task","title":"must not arrive"}"#)
        .await
        .unwrap()
        .unwrap_err();
    match &err {
        ToolError::ServerUnreachable(msg) => assert!(msg.contains("denied"), "{msg}"),
        other => panic!("expected server-unreachable, got {other:?}"),
    }
    assert_eq!(tool.denied_requests().len(), 1);
    assert!(
        tool.denied_requests()[0].starts_with(&server.app.url),
        "{:?}",
        tool.denied_requests()
    );
    let body = server.admin.list_tasks("").await.body;
    assert_eq!(body["tasks"], json!([]), "the request reached the server");

    // Same host, other port; other host name for the same address; other scheme.
    let port: u16 = server.app.url.rsplit(':').next().unwrap().parse().unwrap();
    let guard = OriginGuard::new(Origin::parse(&server.app.url).unwrap());
    let allowed = |u: &str| guard.allows(&u.parse().unwrap());
    assert!(allowed(&format!("http://127.0.0.1:{port}/api/tasks")));
    assert!(allowed(&format!(
        "HTTP://127.0.0.1:{port}/api/tasks?status=todo"
    )));
    assert!(!allowed(&format!(
        "http://127.0.0.1:{}/api/tasks",
        port.wrapping_add(1)
    )));
    assert!(!allowed(&format!("http://localhost:{port}/api/tasks")));
    assert!(!allowed(&format!("https://127.0.0.1:{port}/api/tasks")));
    assert!(!allowed("http://169.254.169.254/latest/meta-data"));
    assert!(!allowed("/api/tasks"));
    let default_port = OriginGuard::new(Origin::parse("https://mc.example.com").unwrap());
    assert!(default_port.allows(&"https://MC.example.com:443/api/tasks".parse().unwrap()));
    assert!(!default_port.allows(&"https://mc.example.com.evil.test/api".parse().unwrap()));
}
