//! The core's service API against a real SQLite file: every query, every write path, the event
//! log, the bus, tokens, and durability across reopening.

use mission_control_core::*;

struct Board {
    mc: MissionControl,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

const SECRET: &[u8] = b"a-test-secret-of-at-least-32-bytes!!";

fn open_at(path: &std::path::Path) -> MissionControl {
    let mut options = Options::new(path, SECRET);
    options.operator = Some(AgentId::parse("agent-patch").unwrap());
    MissionControl::open_with(options).unwrap()
}

async fn board() -> Board {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folder/board.db");
    let mc = open_at(&path);
    for (id, name, role) in [
        ("agent-patch", "Patch", "Dev"),
        ("agent-nova", "Nova", "Research"),
    ] {
        mc.register_agent(
            None,
            NewAgent::parse(NewAgentRequest {
                id: Some(id.into()),
                name: Some(name.into()),
                role: Some(role.into()),
                ..Default::default()
            })
            .unwrap(),
        )
        .await
        .unwrap();
    }
    Board {
        mc,
        _dir: dir,
        path,
    }
}

fn patch() -> Actor {
    Actor::new("agent-patch")
}

fn new_task(json: &str) -> NewTask {
    NewTask::parse(serde_json::from_str(json).unwrap()).unwrap()
}

fn changes(json: &str) -> TaskChanges {
    TaskChanges::parse(serde_json::from_str(json).unwrap()).unwrap()
}

#[tokio::test]
async fn create_then_read_back_every_field() {
    let b = board().await;
    let task = b
        .mc
        .create_task(
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
    assert_eq!(b.mc.get_task(&task.id).await.unwrap(), task);

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
        b.mc.create_task(
            &patch(),
            new_task(&format!(
                r#"{{"title":"t{i}","status":"{status}","assignedAgent":"{agent}"}}"#
            )),
        )
        .await
        .unwrap();
    }
    let all = b.mc.list_tasks(TaskFilter::default()).await.unwrap();
    assert_eq!(all.len(), 120, "no silent page limit");
    assert_eq!(all[0].title, "t0", "oldest first");
    let todo =
        b.mc.list_tasks(TaskFilter {
            status: Some(TaskStatus::Todo),
            agent: None,
        })
        .await
        .unwrap();
    assert_eq!(todo.len(), 30);
    assert!(todo.iter().all(|t| t.status == TaskStatus::Todo));
    let nova_done =
        b.mc.list_tasks(TaskFilter {
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
    assert_eq!(b.mc.count_tasks().await.unwrap(), 120);
}

#[tokio::test]
async fn updates_change_only_what_is_given_and_null_clears() {
    let b = board().await;
    let task =
        b.mc.create_task(
            &patch(),
            new_task(r#"{"title":"A","assignedAgent":"agent-nova","description":"d"}"#),
        )
        .await
        .unwrap();
    let updated =
        b.mc.update_task(
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
    let cleared =
        b.mc.update_task(
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
    let task =
        b.mc.create_task(&patch(), NewTask::titled("A").unwrap())
            .await
            .unwrap();
    let events_before =
        b.mc.list_events(EventQuery::latest(500))
            .await
            .unwrap()
            .events
            .len();

    let err =
        b.mc.update_task(
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
        b.mc.get_task(&task.id).await.unwrap().title,
        "A",
        "no half write"
    );

    let err =
        b.mc.create_task(
            &patch(),
            new_task(r#"{"title":"C","assignedAgent":"agent-ghost"}"#),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownReference { kind: "agent", .. }));

    assert!(matches!(
        b.mc.update_task(&patch(), "task-nope", changes(r#"{"title":"x"}"#))
            .await,
        Err(Error::NotFound { kind: "task", .. })
    ));
    assert!(matches!(
        b.mc.delete_task(&patch(), "task-nope").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        b.mc.get_task("task-nope").await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        b.mc.list_tasks(TaskFilter::default()).await.unwrap().len(),
        1
    );
    assert_eq!(
        b.mc.list_events(EventQuery::latest(500))
            .await
            .unwrap()
            .events
            .len(),
        events_before
    );
}

#[tokio::test]
async fn every_write_logs_an_event_with_a_readable_message() {
    let b = board().await;
    let task =
        b.mc.create_task(&patch(), NewTask::titled("Build rate limiter").unwrap())
            .await
            .unwrap();
    b.mc.move_task(&patch(), &task.id, TaskStatus::Done)
        .await
        .unwrap();
    b.mc.update_task(
        &patch(),
        &task.id,
        changes(r#"{"assignedAgent":"agent-nova"}"#),
    )
    .await
    .unwrap();
    b.mc.update_task(
        &patch(),
        &task.id,
        changes(r#"{"title":"Build the rate limiter"}"#),
    )
    .await
    .unwrap();
    b.mc.set_agent_status(&patch(), "agent-nova", AgentStatus::Busy)
        .await
        .unwrap();
    b.mc.delete_task(&patch(), &task.id).await.unwrap();

    let events =
        b.mc.list_events(EventQuery::latest(6))
            .await
            .unwrap()
            .events;
    let messages: Vec<&str> = events.iter().rev().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "Patch created task “Build rate limiter”",
            "Patch moved “Build rate limiter” to Done",
            "Patch assigned “Build rate limiter” to Nova",
            "Patch updated task “Build the rate limiter”",
            "Patch set Nova to busy",
            "Patch deleted task “Build the rate limiter”",
        ]
    );
    let types: Vec<EventType> = events.iter().rev().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            EventType::TaskCreated,
            EventType::TaskUpdated,
            EventType::TaskUpdated,
            EventType::TaskUpdated,
            EventType::AgentStatusChanged,
            EventType::TaskDeleted,
        ]
    );
    assert!(events.iter().all(|e| e.id.starts_with("evt-")));
    assert_eq!(
        events.last().unwrap().task_id.as_deref(),
        Some(task.id.as_str())
    );
}

#[tokio::test]
async fn a_change_that_changes_nothing_is_not_logged() {
    let b = board().await;
    let task =
        b.mc.create_task(&patch(), NewTask::titled("A").unwrap())
            .await
            .unwrap();
    let mut bus = b.mc.subscribe();
    let same =
        b.mc.move_task(&patch(), &task.id, TaskStatus::Backlog)
            .await
            .unwrap();
    assert_eq!(same, task);
    assert!(bus.try_recv().is_err());
    assert_eq!(
        b.mc.list_events(EventQuery::latest(50))
            .await
            .unwrap()
            .events[0]
            .event_type,
        EventType::TaskCreated
    );
}

#[tokio::test]
async fn events_are_newest_first_since_a_timestamp_and_capped() {
    let b = board().await;
    for i in 0..30 {
        b.mc.create_task(&patch(), NewTask::titled(&format!("t{i}")).unwrap())
            .await
            .unwrap();
    }
    let latest =
        b.mc.list_events(EventQuery::latest(10))
            .await
            .unwrap()
            .events;
    assert_eq!(latest.len(), 10);
    assert!(
        latest
            .windows(2)
            .all(|w| (w[0].timestamp, &w[0].id) >= (w[1].timestamp, &w[1].id))
    );
    assert_eq!(latest[0].message, "Patch created task “t29”");

    let all =
        b.mc.list_events(EventQuery::latest(500))
            .await
            .unwrap()
            .events;
    let cut = all[5].timestamp;
    let since =
        b.mc.list_events(EventQuery {
            after: None,
            since: Some(cut),
            limit: 500,
        })
        .await
        .unwrap()
        .events;
    assert!(since.iter().all(|e| e.timestamp > cut));
    assert_eq!(
        since.len(),
        all.iter().filter(|e| e.timestamp > cut).count()
    );
    let capped =
        b.mc.list_events(EventQuery {
            after: None,
            since: None,
            limit: 100_000,
        })
        .await
        .unwrap()
        .events;
    assert!(capped.len() <= EventQuery::MAX_LIMIT as usize);
    assert_eq!(EventQuery::latest(9999).limit, 500);
}

#[tokio::test]
async fn writes_refresh_the_actor_last_active() {
    let b = board().await;
    let before = b.mc.get_agent("agent-patch").await.unwrap().last_active;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    b.mc.create_task(&patch(), NewTask::titled("A").unwrap())
        .await
        .unwrap();
    let after = b.mc.get_agent("agent-patch").await.unwrap().last_active;
    assert!(after > before);
    let nova = b.mc.get_agent("agent-nova").await.unwrap().last_active;
    b.mc.create_task(&patch(), NewTask::titled("B").unwrap())
        .await
        .unwrap();
    assert_eq!(
        b.mc.get_agent("agent-nova").await.unwrap().last_active,
        nova,
        "only the actor"
    );
}

#[tokio::test]
async fn agents_register_once_and_change_status() {
    let b = board().await;
    let dup = NewAgent::parse(NewAgentRequest {
        id: Some("agent-nova".into()),
        name: Some("Nova 2".into()),
        role: Some("Ops".into()),
        ..Default::default()
    })
    .unwrap();
    assert!(matches!(
        b.mc.register_agent(None, dup.clone()).await,
        Err(Error::Conflict(_))
    ));
    let kept = b.mc.ensure_agent(dup).await.unwrap();
    assert_eq!((kept.name.as_str(), kept.role), ("Nova 2", AgentRole::Ops));
    assert_eq!(
        kept.status,
        AgentStatus::Online,
        "ensure_agent keeps the status"
    );

    let busy =
        b.mc.set_agent_status(&patch(), "agent-nova", AgentStatus::Busy)
            .await
            .unwrap();
    assert_eq!(busy.status, AgentStatus::Busy);
    assert!(matches!(
        b.mc.set_agent_status(&patch(), "agent-ghost", AgentStatus::Busy)
            .await,
        Err(Error::NotFound { kind: "agent", .. })
    ));
    let names: Vec<String> =
        b.mc.list_agents()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
    assert_eq!(names, ["Nova 2", "Patch"]);
}

#[tokio::test]
async fn the_bus_announces_commits_in_order() {
    let b = board().await;
    let mut bus = b.mc.subscribe();
    let task =
        b.mc.create_task(&patch(), NewTask::titled("A").unwrap())
            .await
            .unwrap();
    b.mc.move_task(&patch(), &task.id, TaskStatus::Todo)
        .await
        .unwrap();
    b.mc.delete_task(&patch(), &task.id).await.unwrap();
    let _ = b.mc.delete_task(&patch(), &task.id).await; // fails: nothing announced

    let mut seen = vec![];
    let mut seqs = vec![];
    while let Ok(committed) = bus.try_recv() {
        seqs.push(committed.logged.seq);
        seen.push(committed.event.clone());
    }
    assert_eq!(seen.len(), 6);
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(seen[0], DomainEvent::TaskCreated(task.clone()));
    assert!(
        matches!(&seen[1], DomainEvent::EventLogged(e) if e.event_type == EventType::TaskCreated)
    );
    assert!(matches!(&seen[2], DomainEvent::TaskUpdated(t) if t.status == TaskStatus::Todo));
    assert!(matches!(&seen[4], DomainEvent::TaskDeleted { task_id } if *task_id == task.id));
}

#[tokio::test]
async fn tokens_verify_until_revoked_or_expired() {
    let b = board().await;
    let issued = b.mc.issue_login_token("agent-patch").await.unwrap();
    assert_eq!(b.mc.verify_token(&issued.token).await.unwrap(), patch());
    let week = 7 * 24 * 3600 * 1000;
    let now = mission_control_core::now_millis();
    assert!((issued.expires_at - (now + week)).abs() < 5_000);

    let mut bus = b.mc.subscribe();
    assert!(b.mc.revoke_token(&issued.token).await.unwrap());
    assert_eq!(
        bus.try_recv().unwrap().event,
        DomainEvent::TokenRevoked {
            token_hash: credentials::sha256_hex(&issued.token)
        },
        "live connections hear of it"
    );
    assert!(matches!(
        b.mc.verify_token(&issued.token).await,
        Err(Error::Unauthorized(_))
    ));

    let expired = b.mc.issue_token("agent-patch", -60_000).await.unwrap();
    assert!(matches!(
        b.mc.verify_token(&expired.token).await,
        Err(Error::Unauthorized(_))
    ));

    assert!(matches!(
        b.mc.issue_token("agent-ghost", 1000).await,
        Err(Error::NotFound { .. })
    ));
    assert!(b.mc.verify_token("not.a.token").await.is_err());

    // A token signed with another key is refused, even for a real agent.
    let other = MissionControl::open(b.path.with_file_name("other.db")).unwrap();
    other
        .ensure_agent(
            NewAgent::parse(NewAgentRequest {
                id: Some("agent-patch".into()),
                name: Some("Patch".into()),
                role: Some("Dev".into()),
                ..Default::default()
            })
            .unwrap(),
        )
        .await
        .unwrap();
    let foreign = other.issue_login_token("agent-patch").await.unwrap();
    assert!(b.mc.verify_token(&foreign.token).await.is_err());
}

#[tokio::test]
async fn the_database_keeps_no_usable_token() {
    let b = board().await;
    let issued = b.mc.issue_login_token("agent-patch").await.unwrap();
    b.mc.shutdown().await;
    let conn = rusqlite_free_read(&b.path);
    assert!(!conn.contains(&issued.token));
}

/// The raw bytes of the database and its WAL, to check what is stored.
fn rusqlite_free_read(path: &std::path::Path) -> String {
    let mut all = std::fs::read(path).unwrap();
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        all.extend(wal);
    }
    String::from_utf8_lossy(&all).into_owned()
}

#[tokio::test]
async fn data_survives_reopening() {
    let b = board().await;
    let task =
        b.mc.create_task(&patch(), NewTask::titled("Persist me").unwrap())
            .await
            .unwrap();
    let token = b.mc.issue_login_token("agent-patch").await.unwrap();
    b.mc.shutdown().await;
    assert!(matches!(
        b.mc.create_task(&patch(), NewTask::titled("late").unwrap())
            .await,
        Err(Error::Unavailable(_))
    ));

    let reopened = open_at(&b.path);
    assert_eq!(reopened.get_task(&task.id).await.unwrap(), task);
    assert_eq!(reopened.verify_token(&token.token).await.unwrap(), patch());
    assert_eq!(reopened.list_agents().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_writers_lose_nothing() {
    let b = board().await;
    let mut handles = vec![];
    for i in 0..200 {
        let mc = b.mc.clone();
        handles.push(tokio::spawn(async move {
            // Failing writes in the same batches must not disturb the others.
            let _ = mc.delete_task(&patch(), "task-missing").await;
            mc.create_task(&patch(), NewTask::titled(&format!("w{i}")).unwrap())
                .await
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for h in handles {
        ids.insert(h.await.unwrap().unwrap().id);
    }
    assert_eq!(ids.len(), 200);
    let stored = b.mc.list_tasks(TaskFilter::default()).await.unwrap();
    assert_eq!(stored.len(), 200);
    let created_events =
        b.mc.list_events(EventQuery::latest(500))
            .await
            .unwrap()
            .events
            .into_iter()
            .filter(|e| e.event_type == EventType::TaskCreated)
            .count();
    assert_eq!(created_events, 200);
}

#[tokio::test]
async fn checkpoints_move_the_wal_into_the_database_file_in_the_background() {
    let b = board().await;
    let initial = std::fs::metadata(&b.path).unwrap().len();
    for i in 0..300 {
        let description = format!(r#"{{"title":"t{i}","description":"{}"}}"#, "x".repeat(2000));
        b.mc.create_task(&patch(), new_task(&description))
            .await
            .unwrap();
    }
    // The checkpoint thread runs every 250 ms; give it a few rounds.
    let mut grown = 0;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        grown = std::fs::metadata(&b.path).unwrap().len();
        if grown > initial + 300 * 2000 {
            break;
        }
    }
    assert!(
        grown > initial + 300 * 2000,
        "database file {initial} -> {grown} bytes"
    );
}
