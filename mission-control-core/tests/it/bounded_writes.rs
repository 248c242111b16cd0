//! What one write may cost, whatever the board holds: a blocker that finishes, reopens or goes
//! writes the same few rows however many tasks wait for it (their `blocked` is worked out on
//! read); the cycle check walks only the blockers a change adds, and refuses a graph too deep
//! to walk rather than walk it; how many tasks may wait for one task, and how many one agent
//! may hold, are bounded; and only a task's holder (or the operator) may change what it waits
//! for.

use super::support::*;
use mission_control_core::*;

/// `count` tasks waiting for `blocker`, made by eight writers at once.
async fn waiting_for(b: &Board, blocker: &str, count: usize) -> Vec<String> {
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let mc = b.handle();
            let blocker = blocker.to_owned();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in (w..count).step_by(8) {
                    let json = format!(r#"{{"title":"waits {n}","blockedBy":["{blocker}"]}}"#);
                    ids.push(mc.create_task(&patch(), new_task(&json)).await.unwrap().id);
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::new();
    for w in writers {
        ids.extend(w.await.unwrap());
    }
    ids
}

/// The names of the changes logged after `after`.
async fn logged_after(b: &Board, after: i64) -> Vec<String> {
    all_changes_after(b, after)
        .await
        .into_iter()
        .map(|c| c.name)
        .collect()
}

/// Every task on the board but `except`: none rewritten (version 1), each `blocked` as given.
async fn all_waiting_unchanged(b: &Board, except: &str, blocked: bool) {
    let tasks = b.list_tasks(TaskFilter::default()).await.unwrap();
    for t in tasks.iter().filter(|t| t.id != except) {
        assert_eq!((t.version, t.blocked), (1, blocked), "{}", t.title);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocker_finishing_reopening_or_going_writes_the_same_few_rows_however_many_wait() {
    let b = board().await;
    let p = patch();
    let blocker = b
        .create_task(&p, new_task(r#"{"title":"Blocker","status":"todo"}"#))
        .await
        .unwrap();
    let waiting = waiting_for(&b, &blocker.id, TaskRefs::MAX_WAITING).await;
    assert_eq!(waiting.len(), 2_000);
    all_waiting_unchanged(&b, &blocker.id, true).await;

    // Done: the blocker's change, its line, and one line for all 2,000 unblocked.
    let before = b.latest_seq().await.unwrap();
    let mut feed = b.subscribe();
    b.move_task(&p, &blocker.id, TaskStatus::Done)
        .await
        .unwrap();
    assert_eq!(
        logged_after(&b, before).await,
        ["task.updated", "event.new", "event.new"]
    );
    let mut lines = Vec::new();
    while let Ok(change) = feed.try_recv() {
        if let DomainEvent::EventLogged(e) = &change.event {
            lines.push(e.message.clone());
        }
    }
    assert_eq!(
        lines,
        [
            "Patch moved “Blocker” to Done",
            "“Blocker” is done: 2000 tasks are unblocked"
        ]
    );
    all_waiting_unchanged(&b, &blocker.id, false).await;

    // Back to todo: the blocker's change and its line; they all wait again, unwritten.
    let before = b.latest_seq().await.unwrap();
    b.move_task(&p, &blocker.id, TaskStatus::Todo)
        .await
        .unwrap();
    assert_eq!(
        logged_after(&b, before).await,
        ["task.updated", "event.new"]
    );
    all_waiting_unchanged(&b, &blocker.id, true).await;

    // Completed: the same few rows as a move (and the closing line).
    let before = b.latest_seq().await.unwrap();
    b.complete(&p, &blocker.id, None).await.unwrap();
    assert_eq!(
        logged_after(&b, before).await,
        ["task.updated", "event.new", "event.new"]
    );

    // No 2,001st task may wait for it, whether created so or changed to.
    let one_more = new_task(&format!(
        r#"{{"title":"one more","blockedBy":["{}"]}}"#,
        blocker.id
    ));
    let err = b.create_task(&p, one_more).await.unwrap_err();
    assert_eq!(
        conflict(err),
        Conflict::TooManyWaiting {
            blocker: blocker.id.clone(),
            limit: 2_000
        }
    );
    let free = b
        .create_task(&p, NewTask::titled("free").unwrap())
        .await
        .unwrap();
    let wait = changes(&format!(r#"{{"blockedBy":["{}"]}}"#, blocker.id));
    let err = b.update_task(&p, &free.id, wait).await.unwrap_err();
    assert!(matches!(conflict(err), Conflict::TooManyWaiting { .. }));
    // A task already waiting for it keeps doing so when its blockers are named again.
    let same = changes(&format!(r#"{{"blockedBy":["{}"]}}"#, blocker.id));
    b.update_task(&p, &waiting[0], same).await.unwrap();

    // Deleted: its change and its line; the tasks that waited for it wait for nothing now.
    let before = b.latest_seq().await.unwrap();
    b.delete_task(&p, &blocker.id).await.unwrap();
    assert_eq!(
        logged_after(&b, before).await,
        ["task.deleted", "event.new"]
    );
    let left = b.list_tasks(TaskFilter::default()).await.unwrap();
    assert!(left.iter().all(|t| t.blocked_by.is_empty() && !t.blocked));
    assert!(
        left.iter()
            .filter(|t| t.id != free.id)
            .all(|t| t.version == 1)
    );
}

/// A chain of `length` tasks, each waiting for the one made before it; their ids in order.
async fn chain(b: &Board, length: usize) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(length);
    for n in 0..length {
        let blockers = ids.last().map(|id| format!(r#","blockedBy":["{id}"]"#));
        let json = format!(r#"{{"title":"c{n}"{}}}"#, blockers.unwrap_or_default());
        ids.push(b.create_task(&patch(), new_task(&json)).await.unwrap().id);
    }
    ids
}

fn wait_for(ids: &[&String]) -> TaskChanges {
    let list: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    changes(&format!(r#"{{"blockedBy":[{}]}}"#, list.join(",")))
}

#[tokio::test]
async fn the_cycle_check_walks_only_the_blockers_a_change_adds_and_refuses_a_graph_too_deep() {
    let b = board().await;
    let p = patch();
    // 501 tasks in a row: the last waits, through the others, for 500 tasks.
    let c = chain(&b, TaskRefs::MAX_UPSTREAM + 1).await;
    let (last, next_to_last) = (&c[c.len() - 1], &c[c.len() - 2]);
    let top = b
        .create_task(
            &p,
            new_task(&format!(r#"{{"title":"top","blockedBy":["{last}"]}}"#)),
        )
        .await
        .unwrap();

    // Naming the blockers it has walks nothing: accepted, and (changing nothing) not written.
    let same = b.update_task(&p, &top.id, wait_for(&[last])).await.unwrap();
    assert_eq!(same.version, top.version);
    let renamed = changes(&format!(
        r#"{{"title":"top, renamed","blockedBy":["{last}"]}}"#
    ));
    b.update_task(&p, &top.id, renamed).await.unwrap();

    // Adding a task whose upstream is more than can be walked is refused, naming the limit;
    // exactly as much as can be walked is checked and accepted.
    let fresh = b
        .create_task(&p, NewTask::titled("fresh").unwrap())
        .await
        .unwrap();
    let err = b
        .update_task(&p, &fresh.id, wait_for(&[last]))
        .await
        .unwrap_err();
    assert_eq!(
        conflict(err),
        Conflict::TooDeepToCheck {
            task_id: fresh.id.clone(),
            limit: 500
        }
    );
    b.update_task(&p, &fresh.id, wait_for(&[next_to_last]))
        .await
        .unwrap();
    // Only what a change adds is walked: a small blocker beside the deep one it had.
    let small = b
        .create_task(&p, NewTask::titled("small").unwrap())
        .await
        .unwrap();
    b.update_task(&p, &top.id, wait_for(&[last, &small.id]))
        .await
        .unwrap();
    b.update_task(&p, &top.id, wait_for(&[&small.id]))
        .await
        .unwrap();

    // Cycles are still refused, naming the blocker that closes one.
    let err = b
        .update_task(&p, &c[0], wait_for(&[&small.id, &c[5]]))
        .await
        .unwrap_err();
    assert_eq!(
        conflict(err),
        Conflict::Cycle {
            task_id: c[0].clone(),
            via: c[5].clone()
        }
    );
    let err = b
        .update_task(&p, &small.id, wait_for(&[&small.id]))
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Cycle { via, .. } if via == small.id));
}

#[tokio::test]
async fn only_the_holder_or_the_operator_changes_what_a_held_task_waits_for() {
    let b = board_at_work().await;
    let (nova, rex, p) = (actor("agent-nova"), actor("agent-rex"), patch());
    let work = b
        .create_task(&p, new_task(r#"{"title":"work","status":"todo"}"#))
        .await
        .unwrap();
    let done = b
        .create_task(&p, new_task(r#"{"title":"done","status":"done"}"#))
        .await
        .unwrap();
    b.claim(&nova, &work.id, LeaseDuration::DEFAULT)
        .await
        .unwrap();

    // Rex cannot make Nova's task wait for a done task and reopen it to stop her finishing.
    let err = b
        .update_task(&rex, &work.id, wait_for(&[&done.id]))
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::Held { holder, .. } if holder == "agent-nova"));
    b.move_task(&rex, &done.id, TaskStatus::Todo).await.unwrap();
    assert_eq!(
        b.complete(&nova, &work.id, None).await.unwrap().task.status,
        TaskStatus::Done
    );

    // The holder and the operator may.
    let other = b
        .create_task(&p, new_task(r#"{"title":"other","status":"todo"}"#))
        .await
        .unwrap();
    b.claim(&nova, &other.id, LeaseDuration::DEFAULT)
        .await
        .unwrap();
    b.update_task(&nova, &other.id, wait_for(&[&work.id]))
        .await
        .unwrap();
    b.update_task(&p, &other.id, wait_for(&[])).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_agent_holds_at_most_its_share_of_tasks() {
    let b = board_at_work().await;
    let nova = actor("agent-nova");
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let mc = b.handle();
            tokio::spawn(async move {
                for n in (w..=Work::MAX_HELD).step_by(4) {
                    let json = format!(r#"{{"title":"t{n}","status":"todo"}}"#);
                    mc.create_task(&patch(), new_task(&json)).await.unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let mut held = Vec::new();
    for _ in 0..Work::MAX_HELD {
        let task = b
            .claim_next(&nova, ClaimFilter::default(), LeaseDuration::DEFAULT)
            .await
            .unwrap()
            .unwrap();
        held.push(task.id);
    }
    let last = b
        .list_tasks(TaskFilter {
            status: Some(TaskStatus::Todo),
            agent: None,
        })
        .await
        .unwrap();
    assert_eq!(last.len(), 1);
    let err = b
        .claim(&nova, &last[0].id, LeaseDuration::DEFAULT)
        .await
        .unwrap_err();
    assert_eq!(
        conflict(err),
        Conflict::TooManyHeld {
            agent: "agent-nova".into(),
            limit: 100
        }
    );
    let err = b
        .claim_next(&nova, ClaimFilter::default(), LeaseDuration::DEFAULT)
        .await
        .unwrap_err();
    assert!(matches!(conflict(err), Conflict::TooManyHeld { .. }));
    // Renewing one it holds is no new hold; another agent has its own share.
    b.claim(&nova, &held[0], LeaseDuration::DEFAULT)
        .await
        .unwrap();
    // Once it gives one back, it may take another.
    b.release(&nova, &held[1]).await.unwrap();
    b.claim(&nova, &last[0].id, LeaseDuration::DEFAULT)
        .await
        .unwrap();
    b.claim(&actor("agent-rex"), &held[1], LeaseDuration::DEFAULT)
        .await
        .unwrap();
}
