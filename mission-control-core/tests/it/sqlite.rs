//! What is SQLite's own, skipped on PostgreSQL: the write-ahead log stays under its configured
//! bound however steadily writes come (a bounded count of creates from concurrent writers that
//! never pause, the size of the WAL file on disk watched from another thread the whole time),
//! a reader that holds on to the old log stalls no writes (the log outgrows its bound only until
//! that reader lets go), checkpoints move the log into the file in the background, and a board
//! made by the previous release upgrades in place (see `fixtures/README.md` for how the fixture
//! was made). Nothing here is timed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::support::*;
use mission_control_core::*;

/// The smallest bound the store accepts, so that a short run reaches it many times.
const BOUND: u64 = 1024 * 1024;
const WRITERS: usize = 8;
const CREATES: usize = 4_000;
/// The secret the fixture's board was made with.
const FIXTURE_SECRET: &str = "previous-main-fixture-secret-0123456789abcdef";

fn open(db: &Path) -> MissionControl {
    let mut options = Options::new(db, SECRET);
    options.wal_max_bytes = BOUND;
    MissionControl::open_with(options).unwrap()
}

fn wal_path(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push("-wal");
    PathBuf::from(path)
}

/// Creates `count` tasks from [`WRITERS`] writers, each sending its next create as soon as the
/// last one is answered: the writer thread never sees a pause in which the checkpoint thread
/// could catch up by itself.
async fn write_continuously(mc: &MissionControl, count: usize) {
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mc = mc.clone();
            tokio::spawn(async move {
                let me = Actor::new(format!("agent-writer-{w}"));
                for i in 0..count / WRITERS {
                    let title = format!("Task {i} of writer {w}");
                    mc.create_task(&me, NewTask::titled(&title).unwrap())
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
}

fn file_size(file: &Path) -> u64 {
    std::fs::metadata(file).map_or(0, |m| m.len())
}

/// Watches the size of `file` until `stop`; the largest seen.
fn watch(file: PathBuf, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut largest = 0;
        while !stop.load(Ordering::Relaxed) {
            largest = largest.max(file_size(&file));
            std::thread::sleep(Duration::from_micros(200));
        }
        largest.max(file_size(&file))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_never_outgrows_its_bound_by_more_than_one_group_commit() {
    if on_postgres() {
        return skip("the WAL bound is SQLite's");
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("board.db");
    let mc = open(&db);
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = watch(wal_path(&db), stop.clone());

    write_continuously(&mc, CREATES).await;
    stop.store(true, Ordering::Relaxed);
    let largest_file = watcher.join().unwrap();
    let stats = mc.wal_stats();

    assert_eq!(stats.max_bytes, BOUND);
    assert!(
        stats.restarts >= 5 && stats.failed_restarts == 0,
        "the bound was reached and the log started over each time: {stats:?}"
    );
    // One group commit is small beside the bound, so the bound below says something.
    assert!(
        stats.largest_commit_bytes > 0 && stats.largest_commit_bytes < BOUND / 4,
        "{stats:?}"
    );
    let allowed = BOUND + stats.largest_commit_bytes;
    assert!(
        stats.largest_bytes <= allowed,
        "the log held {} bytes after a commit; bound {BOUND} + one group commit {}",
        stats.largest_bytes,
        stats.largest_commit_bytes
    );
    assert!(
        largest_file <= allowed,
        "the WAL file reached {largest_file} bytes; bound {BOUND} + one group commit {}",
        stats.largest_commit_bytes
    );

    // Every write committed, and the board reads back whole.
    let tasks = mc.list_tasks(TaskFilter::default()).await.unwrap();
    assert_eq!(tasks.len(), CREATES);
    mc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_holding_the_old_log_delays_the_bound_but_never_the_writes() {
    if on_postgres() {
        return skip("the WAL bound is SQLite's");
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("board.db");
    let mc = open(&db);
    write_continuously(&mc, 200).await;

    // Another connection (it could be another process) opens a read transaction and keeps it.
    let reader = rusqlite::Connection::open(&db).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let seen: i64 = reader
        .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seen, 200);
    write_continuously(&mc, CREATES).await;
    let held = mc.wal_stats();
    assert!(held.failed_restarts >= 1, "{held:?}");
    assert!(
        file_size(&wal_path(&db)) > BOUND,
        "the log had to outgrow its bound while the old snapshot was held"
    );
    // The reader still sees its snapshot, and nothing written meanwhile was lost.
    let still: i64 = reader
        .query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(still, 200);
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);

    // Once it lets go, the next attempt succeeds and the file is cut back to the bound.
    let mut rounds = 0;
    while mc.wal_stats().restarts <= held.restarts {
        rounds += 1;
        assert!(
            rounds <= 500,
            "the log never started over: {:?}",
            mc.wal_stats()
        );
        write_continuously(&mc, 2 * WRITERS).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    write_continuously(&mc, WRITERS).await;
    let after = mc.wal_stats();
    assert!(
        file_size(&wal_path(&db)) <= BOUND + after.largest_commit_bytes,
        "{after:?}"
    );
    let tasks = mc.list_tasks(TaskFilter::default()).await.unwrap();
    assert!(tasks.len() >= 200 + CREATES);
    mc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_wal_found_at_open_is_cut_back_to_the_bound() {
    if on_postgres() {
        return skip("the WAL bound is SQLite's");
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("board.db");
    // Another program leaves a WAL of several times the bound (it keeps the file open, so the
    // log is not checkpointed away on close).
    let other = rusqlite::Connection::open(&db).unwrap();
    other
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE other (data BLOB);",
        )
        .unwrap();
    for _ in 0..40 {
        other
            .execute("INSERT INTO other VALUES (zeroblob(100000))", [])
            .unwrap();
    }
    assert!(file_size(&wal_path(&db)) > 3 * BOUND);

    // Opening copies that log into the database, so the first writes start it over, and the file
    // is cut back to the bound.
    let mc = open(&db);
    write_continuously(&mc, 4 * WRITERS).await;
    let stats = mc.wal_stats();
    assert!(
        file_size(&wal_path(&db)) <= BOUND + stats.largest_commit_bytes,
        "{} bytes; {stats:?}",
        file_size(&wal_path(&db))
    );
    mc.shutdown().await;
    drop(other);
}

#[tokio::test]
async fn checkpoints_move_the_wal_into_the_database_file_in_the_background() {
    if on_postgres() {
        return skip("checkpoints are SQLite's");
    }
    let b = board().await;
    let initial = std::fs::metadata(b.store.sqlite_file()).unwrap().len();
    for i in 0..300 {
        let description = format!(r#"{{"title":"t{i}","description":"{}"}}"#, "x".repeat(2000));
        b.create_task(&patch(), new_task(&description))
            .await
            .unwrap();
    }
    // The checkpoint thread runs every 250 ms; give it a few rounds.
    let mut grown = 0;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        grown = std::fs::metadata(b.store.sqlite_file()).unwrap().len();
        if grown > initial + 300 * 2000 {
            break;
        }
    }
    assert!(
        grown > initial + 300 * 2000,
        "database file {initial} -> {grown} bytes"
    );
}

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
    let mut options = Options::new(&path, FIXTURE_SECRET);
    options.create = false;
    options.operator = Some(AgentId::parse("agent-patch").unwrap());
    (dir, MissionControl::open_with(options).unwrap())
}

#[tokio::test]
async fn a_board_from_the_previous_release_upgrades_in_place() {
    if on_postgres() {
        return skip("the previous release's board is an SQLite file");
    }
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
