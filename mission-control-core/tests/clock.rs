//! The board's clock runs only where it is started: opening a board (what a command such as
//! `export` does beside a running server) writes nothing and sweeps nothing, however much is
//! due; `start_sweeps` then applies every clock-driven rule.

use std::path::Path;
use std::time::Duration;

use mission_control_core::*;

const SECRET: &[u8] = b"a-test-secret-of-at-least-32-bytes!!";

/// Options under which everything on the board is due for a sweep: every agent is silent,
/// every change is past retention.
fn everything_due(path: &Path) -> Options {
    let mut options = Options::new(path, SECRET);
    options.create = false;
    options.agent_offline_after = Duration::from_millis(1);
    options.change_log_retention = Duration::ZERO;
    options
}

/// What the sweeps would change, read straight from the file.
#[derive(Debug, PartialEq, Eq)]
struct Due {
    tokens: i64,
    /// The oldest change kept (`i64::MAX` when none is).
    oldest_change: i64,
    offline_agents: i64,
    leased_tasks: i64,
}

fn due(conn: &rusqlite::Connection) -> Due {
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get(0)).unwrap();
    Due {
        tokens: count("SELECT COUNT(*) FROM auth_tokens"),
        oldest_change: conn
            .query_row("SELECT MIN(seq) FROM changes", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .unwrap()
            .unwrap_or(i64::MAX),
        offline_agents: count("SELECT COUNT(*) FROM agents WHERE status = 'offline'"),
        leased_tasks: count("SELECT COUNT(*) FROM tasks WHERE lease_expires_at IS NOT NULL"),
    }
}

/// Commits made by any other connection since this connection last asked.
fn data_version(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_board_writes_nothing_until_its_clock_is_started() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.db");

    // A board with a held task, an expired token and a change log, closed.
    let mc = MissionControl::open_with(Options::new(&path, SECRET)).unwrap();
    let nova = NewAgent::parse(NewAgentRequest {
        id: Some("agent-nova".into()),
        name: Some("Nova".into()),
        role: Some("Research".into()),
        ..Default::default()
    })
    .unwrap();
    mc.register_agent(None, nova).await.unwrap();
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

    // The lease has run out by now, as far as the file says.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE tasks SET lease_expires_at = 1", [])
        .unwrap();
    let before = due(&raw);
    assert_eq!(
        before,
        Due {
            tokens: 1,
            oldest_change: 1,
            offline_agents: 0,
            leased_tasks: 1,
        }
    );
    let closed_at: i64 = raw
        .query_row("SELECT MAX(seq) FROM changes", [], |r| r.get(0))
        .unwrap();
    let version = data_version(&raw);

    // Opened and read from, as a command reads it: nothing written, no sweeps, even with a
    // pause long enough for a sweeper's first rounds.
    let mc = MissionControl::open_with(everything_due(&path)).unwrap();
    assert!(!mc.sweeping());
    mc.export().await.unwrap();
    mc.list_agents().await.unwrap();
    mc.list_tokens(None, "agent-nova").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(!mc.sweeping());
    assert_eq!(due(&raw), before);
    assert_eq!(data_version(&raw), version, "no commit by the board");
    mc.shutdown().await;
    drop(mc);
    assert_eq!(due(&raw), before);
    assert_eq!(data_version(&raw), version, "nor when it closed");

    // Started, the clock applies the rules that are due (expired tokens go at the first
    // minute's sweep: they are refused anyway).
    let mc = MissionControl::open_with(everything_due(&path)).unwrap();
    mc.start_sweeps().unwrap();
    mc.start_sweeps().unwrap();
    assert!(mc.sweeping());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let now = due(&raw);
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
