//! Tasks through the core's service API: every field written and read back, the board's
//! filters, partial updates, and writes that are refused change nothing.

use super::support::*;
use mission_control_core::*;

#[tokio::test]
async fn create_then_read_back_every_field() {
    let b = board().await;
    let task = b.create_task(
            &patch(),
            new_task(
                r#"{"title":" Build rate limiter ","description":"Redis based","status":"in-progress",
                    "assignedAgent":"agent-nova","priority":"high","tags":["backend","security"]}"#,
            ),
        )
        .await
        .unwrap();
    assert!(task.id.starts_with("task-"));
    assert_eq!(task.title, "Build rate limiter");
    assert_eq!(task.created_by.as_deref(), Some("agent-patch"));
    assert_eq!(task.created_at, task.updated_at);
    assert_eq!(b.get_task(&task.id).await.unwrap(), task);

    let json = serde_json::to_value(&task).unwrap();
    for key in [
        "id",
        "title",
        "description",
        "status",
        "assignedAgent",
        "priority",
        "createdAt",
        "updatedAt",
        "createdBy",
        "tags",
    ] {
        assert!(json.get(key).is_some(), "wire field {key}");
    }
    assert_eq!(json["status"], "in-progress");
}

#[tokio::test]
async fn list_filters_by_status_and_agent_and_returns_all() {
    let b = board().await;
    for i in 0..120 {
        let status = ["backlog", "todo", "in-progress", "done"][i % 4];
        let agent = if i % 3 == 0 {
            "agent-nova"
        } else {
            "agent-patch"
        };
        b.create_task(
            &patch(),
            new_task(&format!(
                r#"{{"title":"t{i}","status":"{status}","assignedAgent":"{agent}"}}"#
            )),
        )
        .await
        .unwrap();
    }
    let all = b.list_tasks(TaskFilter::default()).await.unwrap();
    assert_eq!(all.len(), 120, "no silent page limit");
    assert_eq!(all[0].title, "t0", "oldest first");
    let todo = b
        .list_tasks(TaskFilter {
            status: Some(TaskStatus::Todo),
            agent: None,
        })
        .await
        .unwrap();
    assert_eq!(todo.len(), 30);
    assert!(todo.iter().all(|t| t.status == TaskStatus::Todo));
    let nova_done = b
        .list_tasks(TaskFilter {
            status: Some(TaskStatus::Done),
            agent: Some("agent-nova".into()),
        })
        .await
        .unwrap();
    assert!(
        nova_done
            .iter()
            .all(|t| t.assigned_agent.as_deref() == Some("agent-nova"))
    );
    assert_eq!(
        nova_done.len(),
        (0..120).filter(|i| i % 4 == 3 && i % 3 == 0).count()
    );
    assert_eq!(b.count_tasks().await.unwrap(), 120);
}

#[tokio::test]
async fn updates_change_only_what_is_given_and_null_clears() {
    let b = board().await;
    let task = b
        .create_task(
            &patch(),
            new_task(r#"{"title":"A","assignedAgent":"agent-nova","description":"d"}"#),
        )
        .await
        .unwrap();
    let updated = b
        .update_task(
            &patch(),
            &task.id,
            changes(r#"{"assignedAgent":null,"priority":"low"}"#),
        )
        .await
        .unwrap();
    assert_eq!(updated.assigned_agent, None);
    assert_eq!(updated.priority, Some(Priority::Low));
    assert_eq!(
        updated.description.as_deref(),
        Some("d"),
        "absent field untouched"
    );
    assert_eq!(updated.title, "A");
    assert!(updated.updated_at >= task.updated_at);
    let cleared = b
        .update_task(
            &patch(),
            &task.id,
            changes(r#"{"description":null,"priority":null,"tags":["x"]}"#),
        )
        .await
        .unwrap();
    assert_eq!(cleared.description, None);
    assert_eq!(cleared.priority, None);
    assert_eq!(cleared.tags, ["x"]);
}

#[tokio::test]
async fn bad_writes_change_nothing() {
    let b = board().await;
    let task = b
        .create_task(&patch(), NewTask::titled("A").unwrap())
        .await
        .unwrap();
    let events_before = b
        .list_events(EventQuery::latest(500))
        .await
        .unwrap()
        .events
        .len();

    let err = b
        .update_task(
            &patch(),
            &task.id,
            changes(r#"{"title":"B","assignedAgent":"agent-ghost"}"#),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::UnknownReference {
                field: "assignedAgent",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        b.get_task(&task.id).await.unwrap().title,
        "A",
        "no half write"
    );

    let err = b
        .create_task(
            &patch(),
            new_task(r#"{"title":"C","assignedAgent":"agent-ghost"}"#),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownReference { kind: "agent", .. }));

    assert!(matches!(
        b.update_task(&patch(), "task-nope", changes(r#"{"title":"x"}"#))
            .await,
        Err(Error::NotFound { kind: "task", .. })
    ));
    assert!(matches!(
        b.delete_task(&patch(), "task-nope").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        b.get_task("task-nope").await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(b.list_tasks(TaskFilter::default()).await.unwrap().len(), 1);
    assert_eq!(
        b.list_events(EventQuery::latest(500))
            .await
            .unwrap()
            .events
            .len(),
        events_before
    );
}

#[tokio::test]
async fn a_change_that_changes_nothing_is_not_logged() {
    let b = board().await;
    let task = b
        .create_task(&patch(), NewTask::titled("A").unwrap())
        .await
        .unwrap();
    let mut bus = b.subscribe();
    let same = b
        .move_task(&patch(), &task.id, TaskStatus::Backlog)
        .await
        .unwrap();
    assert_eq!(same, task);
    assert!(bus.try_recv().is_err());
    assert_eq!(
        b.list_events(EventQuery::latest(50)).await.unwrap().events[0].event_type,
        EventType::TaskCreated
    );
}
