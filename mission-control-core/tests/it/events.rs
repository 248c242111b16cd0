//! The event feed and the bus: every write logs a readable line, the feed reads newest first
//! within its cap, and the bus announces commits in order.

use super::support::*;
use mission_control_core::*;

#[tokio::test]
async fn every_write_logs_an_event_with_a_readable_message() {
    let b = board().await;
    let task = b
        .create_task(&patch(), NewTask::titled("Build rate limiter").unwrap())
        .await
        .unwrap();
    b.move_task(&patch(), &task.id, TaskStatus::Done)
        .await
        .unwrap();
    b.update_task(
        &patch(),
        &task.id,
        changes(r#"{"assignedAgent":"agent-nova"}"#),
    )
    .await
    .unwrap();
    b.update_task(
        &patch(),
        &task.id,
        changes(r#"{"title":"Build the rate limiter"}"#),
    )
    .await
    .unwrap();
    b.set_agent_status(&patch(), "agent-nova", AgentStatus::Busy)
        .await
        .unwrap();
    b.delete_task(&patch(), &task.id).await.unwrap();

    let events = b.list_events(EventQuery::latest(6)).await.unwrap().events;
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
async fn events_are_newest_first_since_a_timestamp_and_capped() {
    let b = board().await;
    for i in 0..30 {
        b.create_task(&patch(), NewTask::titled(&format!("t{i}")).unwrap())
            .await
            .unwrap();
    }
    let latest = b.list_events(EventQuery::latest(10)).await.unwrap().events;
    assert_eq!(latest.len(), 10);
    assert!(
        latest
            .windows(2)
            .all(|w| (w[0].timestamp, &w[0].id) >= (w[1].timestamp, &w[1].id))
    );
    assert_eq!(latest[0].message, "Patch created task “t29”");

    let all = b.list_events(EventQuery::latest(500)).await.unwrap().events;
    let cut = all[5].timestamp;
    let since = b
        .list_events(EventQuery {
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
    let capped = b
        .list_events(EventQuery {
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
async fn the_bus_announces_commits_in_order() {
    let b = board().await;
    let mut bus = b.subscribe();
    let task = b
        .create_task(&patch(), NewTask::titled("A").unwrap())
        .await
        .unwrap();
    b.move_task(&patch(), &task.id, TaskStatus::Todo)
        .await
        .unwrap();
    b.delete_task(&patch(), &task.id).await.unwrap();
    let _ = b.delete_task(&patch(), &task.id).await; // fails: nothing announced

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
