//! The tool's actions under wasmtime against a live `mission-control-server`: its description
//! and parameter schema, every typed action and the JSON entry point as a model sends it, bad
//! arguments named by field, unknown ids not found.

use super::support::{ADMIN_AGENT, Reply, Server, runtime};
use mission_control_tool_host::{
    AgentStatus, EventKind, EventQuery, FieldError, NewTask, Priority, PriorityChange, TaskChanges,
    TaskFilter, TaskStatus, TextChange, ToolConfig, ToolError,
};
use serde_json::{Value, json};

fn invalid_field(err: &ToolError) -> &str {
    match err {
        ToolError::InvalidArguments(FieldError { field, .. }) => field,
        other => panic!("expected invalid-arguments, got {other:?}"),
    }
}

#[tokio::test]
async fn describe_gives_the_tool_name_and_its_parameter_schema() {
    let mut tool = runtime()
        .instantiate(ToolConfig::new("http://127.0.0.1:9", None))
        .await
        .unwrap();
    let d = tool.describe().await.unwrap();
    assert_eq!(d.name, "mission_control");
    assert!(d.description.contains("create_task"));
    let schema: Value = serde_json::from_str(&d.parameters_schema).unwrap();
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["action"]));
    let actions: Vec<&str> = schema["properties"]["action"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for a in [
        "create_task",
        "update_task",
        "move_task",
        "list_tasks",
        "get_task",
        "delete_task",
        "list_agents",
        "set_agent_status",
        "list_events",
        "heartbeat",
        "claim",
        "claim_next",
        "release",
        "complete",
        "comment",
        "list_comments",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    // The schema is the catalogue's, which the MCP tools share.
    assert_eq!(schema, mission_control_actions::schema::flat_schema());
    assert_eq!(schema["properties"]["title"]["maxLength"], 200);
    assert_eq!(
        schema["properties"]["newStatus"]["enum"],
        json!(["backlog", "todo", "in-progress", "done"])
    );
    // describe needs no server.
    assert!(tool.denied_requests().is_empty());
}

#[tokio::test]
async fn typed_actions_create_list_move_update_delete_against_the_server() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();

    // create
    let created = tool
        .create_task(&NewTask {
            title: "Fix auth bug".into(),
            description: Some("Users can't log in".into()),
            status: Some(TaskStatus::Todo),
            assigned_agent: Some(ADMIN_AGENT.into()),
            priority: Some(Priority::Critical),
            tags: Some(vec!["bug".into(), "auth".into()]),
            blocked_by: None,
            idempotency_key: None,
        })
        .await
        .unwrap()
        .unwrap();
    assert!(created.id.starts_with("task-"), "{}", created.id);
    assert_eq!(created.title, "Fix auth bug");
    assert_eq!(created.status, TaskStatus::Todo);
    assert_eq!(created.priority, Some(Priority::Critical));
    assert_eq!(created.assigned_agent.as_deref(), Some(ADMIN_AGENT));
    assert_eq!(created.tags, vec!["bug", "auth"]);
    assert_eq!(created.created_by.as_deref(), Some(ADMIN_AGENT));
    let Reply { status, body, .. } = server.admin.get_task(&created.id).await;
    assert_eq!(status, 200);
    assert_eq!(body["task"]["title"], "Fix auth bug");
    assert_eq!(body["task"]["status"], "todo");

    // a second task with the defaults
    let other = tool
        .create_task(&NewTask {
            title: "Write docs".into(),
            description: None,
            status: None,
            assigned_agent: None,
            priority: None,
            tags: None,
            blocked_by: None,
            idempotency_key: None,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.status, TaskStatus::Backlog);
    assert_eq!(other.priority, Some(Priority::Medium));

    // list, with and without filters
    let all = tool
        .list_tasks(&TaskFilter {
            status: None,
            agent: None,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        all.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        vec![created.id.as_str(), other.id.as_str()]
    );
    let todo = tool
        .list_tasks(&TaskFilter {
            status: Some(TaskStatus::Todo),
            agent: None,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(todo.len(), 1);
    assert_eq!(todo[0].id, created.id);
    let mine = tool
        .list_tasks(&TaskFilter {
            status: None,
            agent: Some(ADMIN_AGENT.into()),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mine.len(), 1);

    // move
    let moved = tool
        .move_task(&created.id, TaskStatus::InProgress, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.status, TaskStatus::InProgress);
    let body = server.admin.get_task(&created.id).await.body;
    assert_eq!(body["task"]["status"], "in-progress");

    // update: set some fields, clear others
    let updated = tool
        .update_task(
            &created.id,
            &TaskChanges {
                title: Some("Fix the auth bug".into()),
                description: Some(TextChange::Clear),
                status: Some(TaskStatus::Done),
                assigned_agent: Some(TextChange::Clear),
                priority: Some(PriorityChange::Set(Priority::Low)),
                tags: Some(vec!["auth".into()]),
                blocked_by: None,
                version: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.title, "Fix the auth bug");
    assert_eq!(updated.description, None);
    assert_eq!(updated.status, TaskStatus::Done);
    assert_eq!(updated.assigned_agent, None);
    assert_eq!(updated.priority, Some(Priority::Low));
    assert_eq!(updated.tags, vec!["auth"]);
    let body = server.admin.get_task(&created.id).await.body;
    assert_eq!(body["task"]["title"], "Fix the auth bug");
    assert_eq!(body["task"]["description"], Value::Null);
    assert_eq!(body["task"]["assignedAgent"], Value::Null);
    assert_eq!(body["task"]["status"], "done");
    let cleared = tool
        .update_task(
            &created.id,
            &TaskChanges {
                title: None,
                description: None,
                status: None,
                assigned_agent: None,
                priority: Some(PriorityChange::Clear),
                tags: None,
                blocked_by: None,
                version: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.priority, None);
    assert_eq!(cleared.title, "Fix the auth bug");

    // get
    let got = tool.get_task(&created.id).await.unwrap().unwrap();
    assert_eq!(got.id, created.id);
    assert!(got.updated_at >= got.created_at);

    // delete
    tool.delete_task(&created.id).await.unwrap().unwrap();
    let status = server.admin.get_task(&created.id).await.status;
    assert_eq!(status, 404);
    let body = server.admin.list_tasks("").await.body;
    assert_eq!(body["tasks"].as_array().unwrap().len(), 1);

    // agents and events
    let agents = tool.list_agents().await.unwrap().unwrap();
    assert!(agents.iter().any(|a| a.id == ADMIN_AGENT), "{agents:?}");
    let busy = tool
        .set_agent_status(ADMIN_AGENT, AgentStatus::Busy)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(busy.status, AgentStatus::Busy);
    let body = server.admin.list_agents().await.body;
    let me = body["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == ADMIN_AGENT)
        .unwrap();
    assert_eq!(me["status"], "busy");
    let events = tool
        .list_events(EventQuery {
            since: None,
            after: None,
            limit: Some(100),
        })
        .await
        .unwrap()
        .unwrap();
    for kind in [
        EventKind::TaskCreated,
        EventKind::TaskUpdated,
        EventKind::TaskDeleted,
        EventKind::AgentStatusChanged,
    ] {
        assert!(
            events.iter().any(|e| e.kind == kind),
            "no {kind:?} in {events:?}"
        );
    }
    assert!(
        events.windows(2).all(|w| w[0].timestamp >= w[1].timestamp),
        "newest first"
    );
    let two = tool
        .list_events(EventQuery {
            since: None,
            after: None,
            limit: Some(2),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(two.len(), 2);
    let future = tool
        .list_events(EventQuery {
            since: Some(events[0].timestamp + 60_000),
            after: None,
            limit: None,
        })
        .await
        .unwrap()
        .unwrap();
    assert!(future.is_empty(), "{future:?}");
}

#[tokio::test]
async fn execute_takes_the_parameters_as_the_model_sends_them() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();

    // The spec's own examples.
    let out = tool
        .execute(
            &json!({
                "action": "create_task",
                "title": "Fix auth bug",
                "description": "Users can't log in",
                "status": "todo",
                "assignedAgent": ADMIN_AGENT,
                "priority": "critical",
                "tags": ["bug", "auth"]
            })
            .to_string(),
        )
        .await
        .unwrap()
        .unwrap();
    let out: Value = serde_json::from_str(&out).unwrap();
    let id = out["task"]["id"].as_str().unwrap().to_string();
    assert_eq!(out["task"]["priority"], "critical");

    let out = tool
        .execute(
            &json!({"action": "move_task", "taskId": id, "newStatus": "in-progress"}).to_string(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["task"]["status"],
        "in-progress"
    );

    let out = tool
        .execute(&json!({"action": "list_tasks", "status": "in-progress"}).to_string())
        .await
        .unwrap()
        .unwrap();
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(out["tasks"][0]["id"], id.as_str());

    let out = tool
        .execute(
            &json!({"action": "update_task", "taskId": id, "status": "done", "description": null})
                .to_string(),
        )
        .await
        .unwrap()
        .unwrap();
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["task"]["status"], "done");
    assert_eq!(out["task"]["description"], Value::Null);
    let body = server.admin.get_task(&id).await.body;
    assert_eq!(body["task"]["status"], "done");

    // Null for a field the action does not use counts as absent.
    let out = tool
        .execute(&json!({"action": "get_task", "taskId": id, "newStatus": null}).to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["task"]["id"],
        id.as_str()
    );

    let out = tool
        .execute(
            &json!({"action": "set_agent_status", "agentId": ADMIN_AGENT, "agentStatus": "online"})
                .to_string(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["agent"]["status"],
        "online"
    );

    let out = tool
        .execute(r#"{"action":"list_agents"}"#)
        .await
        .unwrap()
        .unwrap();
    assert!(serde_json::from_str::<Value>(&out).unwrap()["agents"].is_array());
    let out = tool
        .execute(r#"{"action":"list_events","limit":3}"#)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["events"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let out = tool
        .execute(&json!({"action": "delete_task", "taskId": id}).to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"deleted": id})
    );
    let body = server.admin.list_tasks("").await.body;
    assert_eq!(body["tasks"], json!([]));
}

#[tokio::test]
async fn bad_arguments_name_the_field() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();
    let cases = [
        (
            json!({"action": "move_task", "taskId": "task-1", "newStatus": "archived"}),
            "newStatus",
        ),
        (
            json!({"action": "move_task", "taskId": "task-1"}),
            "newStatus",
        ),
        (
            json!({"action": "move_task", "newStatus": "done"}),
            "taskId",
        ),
        (json!({"action": "create_task"}), "title"),
        (
            json!({"action": "create_task", "title": "x", "priority": "urgent"}),
            "priority",
        ),
        (
            json!({"action": "create_task", "title": "x", "tags": "bug"}),
            "tags",
        ),
        (
            json!({"action": "list_tasks", "status": "finished"}),
            "status",
        ),
        (json!({"action": "list_events", "limit": 0}), "limit"),
        (
            json!({"action": "set_agent_status", "agentId": ADMIN_AGENT, "agentStatus": "away"}),
            "agentStatus",
        ),
        (
            json!({"action": "update_task", "taskId": "task-1"}),
            "title",
        ),
        (
            json!({"action": "list_tasks", "newStatus": "done"}),
            "newStatus",
        ),
        (
            json!({"action": "create_task", "title": "x", "colour": "red"}),
            "colour",
        ),
        (json!({"action": "archive_task"}), "action"),
        (json!({"title": "x"}), "action"),
        (json!(["create_task"]), "action"),
    ];
    for (params, field) in cases {
        let err = tool
            .execute(&params.to_string())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(invalid_field(&err), field, "{params}: {err:?}");
    }
    let err = tool.execute("{not json").await.unwrap().unwrap_err();
    assert_eq!(invalid_field(&err), "action");

    // Rejected by the server's own validation: still invalid-arguments, field named.
    let err = tool
        .execute(&json!({"action": "create_task", "title": "   "}).to_string())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(invalid_field(&err), "title", "{err:?}");
    let err = tool
        .execute(&json!({"action": "create_task", "title": "x".repeat(201)}).to_string())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(invalid_field(&err), "title", "{err:?}");
    let err = tool
        .create_task(&NewTask {
            title: "Assigned to a stranger".into(),
            description: None,
            status: None,
            assigned_agent: Some("agent-nobody".into()),
            priority: None,
            tags: None,
            blocked_by: None,
            idempotency_key: None,
        })
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(invalid_field(&err), "assignedAgent", "{err:?}");

    // Nothing reached the database.
    let body = server.admin.list_tasks("").await.body;
    assert_eq!(body["tasks"], json!([]));
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();
    let missing = "task-00000000-0000-7000-8000-000000000000";
    for result in [
        tool.get_task(missing).await.unwrap().map(|_| ()),
        tool.move_task(missing, TaskStatus::Done, None)
            .await
            .unwrap()
            .map(|_| ()),
        tool.delete_task(missing).await.unwrap(),
        tool.set_agent_status("agent-nobody", AgentStatus::Busy)
            .await
            .unwrap()
            .map(|_| ()),
    ] {
        assert!(matches!(result, Err(ToolError::NotFound(_))), "{result:?}");
    }
    let err = tool
        .execute(&json!({"action": "update_task", "taskId": missing, "title": "x"}).to_string())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ToolError::NotFound(_)), "{err:?}");
}
