//! Nothing acknowledged is lost: data and tokens survive closing and reopening the board, and
//! many concurrent writers (failing ones among them) all land. A board closes cleanly wherever
//! its last handle goes.

use super::support::*;
use mission_control_core::*;

#[tokio::test]
async fn data_survives_reopening() {
    let b = board().await;
    let task = b
        .create_task(&patch(), NewTask::titled("Persist me").unwrap())
        .await
        .unwrap();
    let token = b.issue_login_token("agent-patch").await.unwrap();
    b.shutdown().await;
    assert!(matches!(
        b.create_task(&patch(), NewTask::titled("late").unwrap())
            .await,
        Err(Error::Unavailable(_))
    ));

    let reopened = b.reopen(|_| {});
    assert_eq!(reopened.get_task(&task.id).await.unwrap(), task);
    assert_eq!(reopened.verify_token(&token.token).await.unwrap(), patch());
    assert_eq!(reopened.list_agents().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_writers_lose_nothing() {
    let b = board().await;
    let mut handles = vec![];
    for i in 0..200 {
        let mc = b.handle();
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
    let stored = b.list_tasks(TaskFilter::default()).await.unwrap();
    assert_eq!(stored.len(), 200);
    let created_events = b
        .list_events(EventQuery::latest(500))
        .await
        .unwrap()
        .events
        .into_iter()
        .filter(|e| e.event_type == EventType::TaskCreated)
        .count();
    assert_eq!(created_events, 200);
}

/// The last handle on a board may go inside async code (an embedding program's task, a test):
/// closing the board there must not panic, on either database.
#[tokio::test]
async fn a_board_dropped_inside_async_code_closes_cleanly() {
    let b = board().await;
    b.create_task(&patch(), NewTask::titled("A").unwrap())
        .await
        .unwrap();
    // A read connection in the pool, as a serving board has.
    b.list_tasks(TaskFilter::default()).await.unwrap();
    let last = b.handle();
    drop(b);
    drop(last);
}
