//! A board made by the previous release upgrades in place: every row kept, the new columns
//! and tables in force, the old token still valid, and the change log starting after the
//! events that were already there. See `fixtures/README.md` for how the fixture was made.

use mission_control_core::*;

const SECRET: &str = "previous-main-fixture-secret-0123456789abcdef";

fn open_copy() -> (tempfile::TempDir, MissionControl) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mission-control.db");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/previous-main.db"
        ),
        &path,
    )
    .unwrap();
    let mut options = Options::new(&path, SECRET);
    options.create = false;
    options.operator = Some(AgentId::parse("agent-patch").unwrap());
    (dir, MissionControl::open_with(options).unwrap())
}

#[tokio::test]
async fn a_board_from_the_previous_release_upgrades_in_place() {
    let (_dir, mc) = open_copy();

    let tasks = mc.list_tasks(TaskFilter::default()).await.unwrap();
    let titles: Vec<&str> = tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Fix auth bug", "Build rate limiter", "Write docs"]);
    assert!(
        tasks
            .iter()
            .all(|t| t.version == 1 && t.blocked_by.is_empty() && !t.blocked)
    );
    assert!(tasks.iter().all(|t| t.lease_expires_at.is_none()));
    assert_eq!(tasks[0].tags, ["bug", "auth"]);
    assert_eq!(tasks[1].assigned_agent.as_deref(), Some("agent-nova"));
    assert_eq!(tasks[1].status, TaskStatus::InProgress);

    // Display names are unique now: the old duplicate got its id appended.
    let agents = mc.list_agents().await.unwrap();
    let names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Nova", "nova (agent-nova2)", "Patch"]);

    // Every old event has a seq, in order, and the log continues after them.
    let events = mc
        .list_events(EventQuery {
            since: None,
            after: Some(0),
            limit: 50,
        })
        .await
        .unwrap()
        .events;
    assert_eq!(events.len(), 8);
    let seqs: Vec<i64> = events.iter().map(|e| e.seq.unwrap()).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    assert_eq!(mc.latest_seq().await.unwrap(), 8);
    assert!(matches!(
        mc.changes_after(0, 10).await.unwrap(),
        Catchup::ResyncRequired { .. }
    ));

    // The old token still works, as Nova.
    let token = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/previous-main.nova-token"
    ))
    .unwrap();
    let nova = mc.verify_token(token.trim()).await.unwrap();
    assert_eq!(nova.agent_id, "agent-nova");

    // New work goes on from there: claims, versions, the change log.
    let mut changes = mc.subscribe();
    let claimed = mc
        .claim(&nova, &tasks[0].id, LeaseDuration::DEFAULT)
        .await
        .unwrap();
    assert_eq!(claimed.version, 2);
    assert_eq!(claimed.assigned_agent.as_deref(), Some("agent-nova"));
    let first = changes.recv().await.unwrap();
    assert_eq!(first.logged.seq, 9);
    match mc.changes_after(8, 10).await.unwrap() {
        Catchup::Changes(page) => {
            let names: Vec<&str> = page.changes.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names, ["task.updated", "event.new"]);
        }
        other => panic!("expected the new changes, got {other:?}"),
    }
    mc.shutdown().await;
}
