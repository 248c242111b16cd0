//! The board's clock runs only where it is started: opening a board (what a command such as
//! `export` does beside a running server) writes nothing and sweeps nothing, however much is
//! due; `start_sweeps` then applies every clock-driven rule.

use std::sync::Arc;
use std::time::Duration;

use super::support::*;
use mission_control_core::*;

/// Options under which everything on the board is due for a sweep: every agent is silent,
/// every change is past retention.
fn everything_due(options: &mut Options) {
    options.operator = None;
    options.create = false;
    options.agent_offline_after = Duration::from_millis(1);
    options.change_log_retention = Duration::ZERO;
}

/// What the sweeps would change, read straight from the store.
#[derive(Debug, PartialEq, Eq)]
struct Due {
    tokens: i64,
    /// The oldest change kept (`i64::MAX` when none is).
    oldest_change: i64,
    offline_agents: i64,
    leased_tasks: i64,
}

fn due(raw: &mut Raw) -> Due {
    Due {
        tokens: raw.number("SELECT COUNT(*) FROM auth_tokens").unwrap(),
        oldest_change: raw
            .number("SELECT MIN(seq) FROM changes")
            .unwrap_or(i64::MAX),
        offline_agents: raw
            .number("SELECT COUNT(*) FROM agents WHERE status = 'offline'")
            .unwrap(),
        leased_tasks: raw
            .number("SELECT COUNT(*) FROM tasks WHERE lease_expires_at IS NOT NULL")
            .unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_board_writes_nothing_until_its_clock_is_started() {
    let store = Arc::new(TestStore::with_sqlite_file("board.db"));

    // A board with a held task, an expired token and a change log, closed.
    let mc = Board::open_with(store.clone(), |o| o.operator = None);
    mc.register_agent(None, agent("agent-nova", "Nova", "Research"))
        .await
        .unwrap();
    let nova = Actor::new("agent-nova");
    let task = mc
        .create_task(&nova, NewTask::titled("Held").unwrap())
        .await
        .unwrap();
    mc.claim(&nova, &task.id, LeaseDuration::seconds(60).unwrap())
        .await
        .unwrap();
    mc.issue_token("agent-nova", -60_000).await.unwrap();
    mc.shutdown().await;
    drop(mc);

    // The lease has run out by now, as far as the store says.
    let mut raw = store.raw();
    raw.execute("UPDATE tasks SET lease_expires_at = 1", &[]);
    let before = due(&mut raw);
    assert_eq!(
        before,
        Due {
            tokens: 1,
            oldest_change: 1,
            offline_agents: 0,
            leased_tasks: 1,
        }
    );
    let closed_at = raw.number("SELECT MAX(seq) FROM changes").unwrap();
    let version = raw.writes_mark();

    // Opened and read from, as a command reads it: nothing written, no sweeps, even with a
    // pause long enough for a sweeper's first rounds.
    let mc = Board::open_with(store.clone(), everything_due);
    assert!(!mc.sweeping());
    mc.export().await.unwrap();
    mc.list_agents().await.unwrap();
    mc.list_tokens(None, "agent-nova").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(!mc.sweeping());
    assert_eq!(due(&mut raw), before);
    assert_eq!(raw.writes_mark(), version, "no commit by the board");
    mc.shutdown().await;
    drop(mc);
    assert_eq!(due(&mut raw), before);
    assert_eq!(raw.writes_mark(), version, "nor when it closed");

    // Started, the clock applies the rules that are due (expired tokens go at the first
    // minute's sweep: they are refused anyway).
    let mc = Board::open_with(store.clone(), everything_due);
    mc.start_sweeps().unwrap();
    mc.start_sweeps().unwrap();
    assert!(mc.sweeping());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now = due(&mut raw);
        if now.oldest_change > closed_at && now.offline_agents == 1 && now.leased_tasks == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sweeps did not run: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let task = mc.get_task(&task.id).await.unwrap();
    assert_eq!((task.status, task.assigned_agent), (TaskStatus::Todo, None));
    mc.shutdown().await;
    assert!(!mc.sweeping());
}
