//! Agents at work through the tool against a live server: heartbeat, claim, claim_next,
//! release, complete, comment, list_comments; `version` as `If-Match` and `idempotencyKey` as
//! `Idempotency-Key`.

use super::support::{ADMIN_AGENT, Server, runtime};
use mission_control_tool_host::{
    AgentStatus, ClaimNextQuery, ClaimOptions, CommentQuery, Completion, FieldError, NewTask,
    Priority, ServerFailure, TaskChanged, TaskChanges, TaskStatus, ToolConfig, ToolError,
};
use serde_json::{Value, json};

fn new_task(title: &str, priority: Priority) -> NewTask {
    NewTask {
        title: title.into(),
        description: None,
        status: Some(TaskStatus::Todo),
        assigned_agent: None,
        priority: Some(priority),
        tags: Some(vec!["backend".into()]),
        blocked_by: None,
        idempotency_key: None,
    }
}

fn server_code(err: &ToolError) -> &str {
    match err {
        ToolError::ServerError(ServerFailure { code, .. }) => code,
        other => panic!("expected server-error, got {other:?}"),
    }
}

fn task_changed(err: ToolError) -> TaskChanged {
    match err {
        ToolError::TaskChanged(changed) => changed,
        other => panic!("expected task-changed, got {other:?}"),
    }
}

/// Registers agent-nova and returns a tool configuration acting as it.
async fn nova(server: &Server) -> ToolConfig {
    let token = server.agent_token("agent-nova", "Nova").await;
    ToolConfig::new(server.app.url.clone(), Some(token))
}

#[tokio::test]
async fn the_worker_loop_heartbeat_claim_comment_complete() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();
    let low = tool
        .create_task(&new_task("Tidy the logs", Priority::Low))
        .await
        .unwrap()
        .unwrap();
    let urgent = tool
        .create_task(&new_task("Fix the outage", Priority::Critical))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(urgent.version, 1);
    assert!(!urgent.blocked);

    // The heartbeat says what to do next, without claiming it.
    let work = tool
        .heartbeat(Some(AgentStatus::Busy))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(work.agent.id, ADMIN_AGENT);
    assert_eq!(work.agent.status, AgentStatus::Busy);
    assert!(work.held.is_empty());
    assert_eq!(
        work.next.as_ref().map(|t| t.id.as_str()),
        Some(urgent.id.as_str())
    );

    // claim_next takes the most urgent one; claim takes a named one with a lease of its own.
    let claimed = tool
        .claim_next(&ClaimNextQuery {
            tag: Some("backend".into()),
            priority: None,
            lease_seconds: Some(600),
            idempotency_key: None,
        })
        .await
        .unwrap()
        .unwrap()
        .expect("a task to take");
    assert_eq!(claimed.id, urgent.id);
    assert_eq!(claimed.status, TaskStatus::InProgress);
    assert_eq!(claimed.assigned_agent.as_deref(), Some(ADMIN_AGENT));
    let lease = claimed.lease_expires_at.expect("a lease");
    assert!(lease > claimed.updated_at + 590_000, "{lease}");
    let other = tool
        .claim(
            &low.id,
            &ClaimOptions {
                lease_seconds: Some(60),
                idempotency_key: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.status, TaskStatus::InProgress);
    let nothing = tool
        .claim_next(&ClaimNextQuery {
            tag: None,
            priority: None,
            lease_seconds: None,
            idempotency_key: None,
        })
        .await
        .unwrap()
        .unwrap();
    assert!(nothing.is_none(), "{nothing:?}");
    let work = tool.heartbeat(None).await.unwrap().unwrap();
    assert_eq!(work.held.len(), 2);
    assert!(work.next.is_none());

    // Notes, then done with a closing note; the other goes back to todo.
    let note = tool
        .add_comment(&urgent.id, "Found it: the cache expired early.", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.author, ADMIN_AGENT);
    assert!(note.id.starts_with("cmt-"), "{}", note.id);
    let done = tool
        .complete(
            &urgent.id,
            &Completion {
                note: Some("Fixed; see the incident notes.".into()),
                idempotency_key: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.task.status, TaskStatus::Done);
    assert_eq!(done.task.lease_expires_at, None);
    assert_eq!(
        done.comment.map(|c| c.text).as_deref(),
        Some("Fixed; see the incident notes.")
    );
    let released = tool.release(&low.id).await.unwrap().unwrap();
    assert_eq!(released.status, TaskStatus::Todo);
    assert_eq!(released.assigned_agent, None);

    let page = tool
        .list_comments(
            &urgent.id,
            &CommentQuery {
                limit: Some(1),
                after: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page.comments.len(), 1);
    assert!(page.has_more);
    let rest_of = tool
        .list_comments(
            &urgent.id,
            &CommentQuery {
                limit: None,
                after: Some(page.comments[0].id.clone()),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest_of.comments.len(), 1);
    assert!(!rest_of.has_more);

    // The server agrees.
    let body = server.admin.get_task(&urgent.id).await.body;
    assert_eq!(body["task"]["status"], "done");
    let body = server.admin.comments(&urgent.id, "").await.body;
    assert_eq!(body["comments"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn execute_runs_the_new_actions_with_their_wrapper_keys() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();
    let exec = async |tool: &mut mission_control_tool_host::Tool, params: Value| -> Value {
        let out = tool
            .execute(&params.to_string())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{params}: {e:?}"));
        serde_json::from_str(&out).unwrap()
    };
    let created = exec(
        &mut tool,
        json!({"action": "create_task", "title": "Write the release notes", "status": "todo"}),
    )
    .await;
    let id = created["task"]["id"].as_str().unwrap().to_owned();
    let beat = exec(
        &mut tool,
        json!({"action": "heartbeat", "agentStatus": "online"}),
    )
    .await;
    assert_eq!(beat["next"]["id"], id.as_str());
    assert_eq!(beat["agent"]["status"], "online");
    let claimed = exec(
        &mut tool,
        json!({"action": "claim_next", "leaseSeconds": 120}),
    )
    .await;
    assert_eq!(claimed["task"]["id"], id.as_str());
    let comment = exec(
        &mut tool,
        json!({"action": "comment", "taskId": id, "text": "Halfway there"}),
    )
    .await;
    assert_eq!(comment["comment"]["text"], "Halfway there");
    let comments = exec(&mut tool, json!({"action": "list_comments", "taskId": id})).await;
    assert_eq!(comments["comments"].as_array().unwrap().len(), 1);
    assert_eq!(comments["hasMore"], false);
    let done = exec(
        &mut tool,
        json!({"action": "complete", "taskId": id, "note": "Published"}),
    )
    .await;
    assert_eq!(done["task"]["status"], "done");
    assert_eq!(done["comment"]["text"], "Published");
    let empty = exec(&mut tool, json!({"action": "claim_next"})).await;
    assert_eq!(empty, json!({"task": null}));
    let events = exec(
        &mut tool,
        json!({"action": "list_events", "after": 0, "limit": 3}),
    )
    .await;
    assert_eq!(events["events"].as_array().unwrap().len(), 3);
    assert_eq!(events["hasMore"], true);
    let tasks = exec(&mut tool, json!({"action": "list_tasks", "limit": 1})).await;
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 1);

    // Bad arguments name the field, before anything reaches the server.
    for (params, field) in [
        (
            json!({"action": "claim", "taskId": id, "leaseSeconds": 1}),
            "leaseSeconds",
        ),
        (
            json!({"action": "heartbeat", "agentStatus": "offline"}),
            "agentStatus",
        ),
        (json!({"action": "comment", "taskId": id}), "text"),
        (json!({"action": "complete"}), "taskId"),
        (
            json!({"action": "list_comments", "taskId": id, "limit": 501}),
            "limit",
        ),
    ] {
        let err = tool
            .execute(&params.to_string())
            .await
            .unwrap()
            .unwrap_err();
        match err {
            ToolError::InvalidArguments(FieldError { field: f, .. }) => {
                assert_eq!(f, field, "{params}")
            }
            other => panic!("{params}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn version_sends_if_match_and_a_stale_one_is_refused() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();
    let task = tool
        .create_task(&new_task("Shared card", Priority::Medium))
        .await
        .unwrap()
        .unwrap();
    let moved = tool
        .move_task(&task.id, TaskStatus::InProgress, Some(task.version))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.version, task.version + 1);
    // The version read before the move is stale now: nothing is overwritten, and the error
    // names the version to retry with.
    let err = tool
        .update_task(
            &task.id,
            &TaskChanges {
                title: Some("Overwrite".into()),
                description: None,
                status: None,
                assigned_agent: None,
                priority: None,
                tags: None,
                blocked_by: None,
                version: Some(task.version),
            },
        )
        .await
        .unwrap()
        .unwrap_err();
    let changed = task_changed(err);
    assert!(
        changed.message.contains(&format!(
            "changed since version {}: it is at version {}",
            task.version, moved.version
        )),
        "{}",
        changed.message
    );
    assert_eq!(changed.current_version, Some(moved.version));
    let err = tool
        .execute(
            &json!({"action": "move_task", "taskId": task.id, "newStatus": "done", "version": 1})
                .to_string(),
        )
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(task_changed(err).current_version, Some(moved.version));
    let body = server.admin.get_task(&task.id).await.body;
    assert_eq!(body["task"]["title"], "Shared card");
    assert_eq!(body["task"]["status"], "in-progress");

    // The retry with the current version goes through.
    let done = tool
        .move_task(&task.id, TaskStatus::Done, Some(moved.version))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, TaskStatus::Done);
}

#[tokio::test]
async fn an_idempotency_key_makes_a_retry_safe() {
    let server = Server::start().await;
    let mut tool = runtime().instantiate(server.config()).await.unwrap();
    let call = json!({
        "action": "create_task", "title": "Only once", "idempotencyKey": "retry-7f3a"
    })
    .to_string();
    let first: Value = serde_json::from_str(&tool.execute(&call).await.unwrap().unwrap()).unwrap();
    let again: Value = serde_json::from_str(&tool.execute(&call).await.unwrap().unwrap()).unwrap();
    assert_eq!(first, again);
    let body = server.admin.list_tasks("").await.body;
    assert_eq!(body["tasks"].as_array().unwrap().len(), 1);
    // The same key for another request is refused, naming the argument.
    let err = tool
        .execute(
            &json!({"action": "create_task", "title": "Another", "idempotencyKey": "retry-7f3a"})
                .to_string(),
        )
        .await
        .unwrap()
        .unwrap_err();
    match err {
        ToolError::InvalidArguments(FieldError { field, .. }) => {
            assert_eq!(field, "idempotencyKey")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_task_another_agent_holds_cannot_be_claimed() {
    let server = Server::start().await;
    let mut patch = runtime().instantiate(server.config()).await.unwrap();
    let mut nova = runtime().instantiate(nova(&server).await).await.unwrap();
    let task = patch
        .create_task(&new_task("Contested", Priority::High))
        .await
        .unwrap()
        .unwrap();
    nova.claim(
        &task.id,
        &ClaimOptions {
            lease_seconds: None,
            idempotency_key: None,
        },
    )
    .await
    .unwrap()
    .unwrap();
    // Held by Nova: nobody else may take it, not even the operator.
    let err = patch
        .claim(
            &task.id,
            &ClaimOptions {
                lease_seconds: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(server_code(&err), "held", "{err:?}");
    // Claiming a task one holds renews it.
    let renewed = nova
        .claim(
            &task.id,
            &ClaimOptions {
                lease_seconds: Some(30),
                idempotency_key: None,
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renewed.assigned_agent.as_deref(), Some("agent-nova"));
    let err = nova
        .release("task-00000000-0000-7000-8000-000000000000")
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, ToolError::NotFound(_)), "{err:?}");
    // Done work cannot be claimed again.
    nova.complete(
        &task.id,
        &Completion {
            note: None,
            idempotency_key: None,
        },
    )
    .await
    .unwrap()
    .unwrap();
    let err = patch
        .claim(
            &task.id,
            &ClaimOptions {
                lease_seconds: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(server_code(&err), "done", "{err:?}");
}
