//! The tool component as one of the server's doors, under wasmtime against a live server:
//! every catalogue action reaches its REST endpoint through `execute`, and one
//! `Idempotency-Key` means one request whether it comes through REST, MCP or the tool.

use super::support::{ADMIN_AGENT, Reply, Server, runtime};
use mission_control_actions::{ACTIONS, Call, Effect, schema};
use mission_control_testkit::actions::{reached_its_handler, sample_arguments};
use mission_control_testkit::mcp::McpClient;
use mission_control_tool_host::{FieldError, ServerFailure, ToolError};
use serde_json::{Value, json};

/// A POST by the operator with an `Idempotency-Key`, the body sent as written.
async fn keyed(server: &Server, path: &str, body: &str, key: &str) -> Reply {
    server
        .admin
        .idempotency_key(key)
        .send_bytes("POST", path, body)
        .await
}

/// Every action of the catalogue, called through the tool's JSON entry point with arguments
/// its rules accept, is answered by its endpoint's handler; a read answers exactly what its
/// REST request answers.
#[tokio::test]
async fn every_catalogue_action_reaches_its_endpoint_through_the_tool() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();
    for action in ACTIONS {
        let Reply {
            status,
            body: created,
            ..
        } = keyed(
            &server,
            "/api/tasks",
            &json!({"title": format!("For {}", action.name), "status": "todo"}).to_string(),
            &format!("setup-{}", action.name),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let task = created["task"]["id"].as_str().unwrap();
        let args = sample_arguments(action, task, ADMIN_AGENT);
        let mut params = args.clone();
        params.insert("action".into(), action.name.into());
        let answer = match tool
            .execute(&Value::Object(params).to_string())
            .await
            .unwrap()
        {
            Ok(answer) => serde_json::from_str::<Value>(&answer).unwrap(),
            Err(ToolError::ServerError(ServerFailure { code, .. }))
                if reached_its_handler(&code) =>
            {
                continue;
            }
            Err(other) => panic!("{}({}): {other:?}", action.name, Value::Object(args)),
        };
        let output = schema::output_schema(action);
        for key in output["required"].as_array().unwrap() {
            let key = key.as_str().unwrap();
            assert!(
                answer.get(key).is_some(),
                "{}: no {key} in {answer}",
                action.name
            );
        }
        if action.effect == Effect::Read {
            let call = Call::parse(action, &args).unwrap();
            let Reply {
                status, body: rest, ..
            } = server.admin.get(&call.path_and_query()).await;
            assert_eq!(status, 200, "{rest}");
            assert_eq!(answer, rest, "{}", action.name);
        }
    }
}

/// The same key with the same request answers the first answer through every door, however
/// each writes its JSON; the same key with another request is refused through every door.
#[tokio::test]
async fn one_idempotency_key_means_one_request_through_rest_mcp_and_the_tool() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();
    let mcp = McpClient::new(&server.app.url, &server.token);

    // REST, then MCP, then the tool.
    let Reply {
        status,
        body: first,
        ..
    } = keyed(
        &server,
        "/api/tasks",
        r#"{"tags":["x"],  "title" : "Three doors", "priority": "low"}"#,
        "doors-1",
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let args = json!({
        "title": "Three doors", "priority": "low", "tags": ["x"], "idempotencyKey": "doors-1"
    });
    let over_mcp = mcp.call_tool("create_task", args.clone()).await.unwrap();
    assert!(!over_mcp.is_error, "{:?}", over_mcp.text);
    assert_eq!(over_mcp.structured, first);
    let mut params = args.clone();
    params["action"] = json!("create_task");
    let over_tool = tool.execute(&params.to_string()).await.unwrap().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&over_tool).unwrap(), first);
    let tasks = server.admin.list_tasks("").await.body;
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 1);

    // Another request with the key, through each door.
    let Reply { status, body, .. } =
        keyed(&server, "/api/tasks", r#"{"title":"Other"}"#, "doors-1").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "idempotency_key_reused");
    let mut other = args.clone();
    other["priority"] = json!("high");
    let refused = mcp.call_tool("create_task", other.clone()).await.unwrap();
    assert_eq!(refused.error_code(), "idempotency_key_reused");
    other["action"] = json!("create_task");
    let err = tool.execute(&other.to_string()).await.unwrap().unwrap_err();
    match err {
        ToolError::InvalidArguments(FieldError { field, message }) => {
            assert_eq!(field, "idempotencyKey");
            assert!(message.contains("already used"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    // The tool, then MCP, then REST: a comment is made once.
    let task = first["task"]["id"].as_str().unwrap();
    let comment = json!({
        "action": "comment", "taskId": task, "text": "Noted", "idempotencyKey": "doors-2"
    });
    let noted: Value =
        serde_json::from_str(&tool.execute(&comment.to_string()).await.unwrap().unwrap()).unwrap();
    let mut args = comment.clone();
    args.as_object_mut().unwrap().remove("action");
    let over_mcp = mcp.call_tool("comment", args).await.unwrap();
    assert_eq!(over_mcp.structured, noted);
    let Reply {
        status,
        body: over_rest,
        ..
    } = keyed(
        &server,
        &format!("/api/tasks/{task}/comments"),
        r#"{ "text": "Noted" }"#,
        "doors-2",
    )
    .await;
    assert_eq!(status, 201, "{over_rest}");
    assert_eq!(over_rest, noted);
    let comments = server.admin.comments(task, "").await.body;
    assert_eq!(comments["comments"].as_array().unwrap().len(), 1);
}
