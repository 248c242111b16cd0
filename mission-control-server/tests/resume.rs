//! Resuming Socket.io clients, with the raw client of the testkit: a socket that reconnects
//! with `since` gets exactly the changes it missed, in order, then `resumed`, then the live
//! stream, across restarts too; one whose `since` the log no longer covers is told
//! `resync_required`; a storm of writes during the seam neither loses nor repeats a change
//! (a property test comparing what arrived with the change log in the database file); and two
//! servers on one database file each serve every change, whichever of them made it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::Server;
use common::live::{Logged, change_log, changes_only, create_tasks, events_until, latest_seq};
use mission_control_core::{Actor, MissionControl, NewTask};
use mission_control_testkit::socketio::{self, Socket};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
const FAST: &[(&str, &str)] = &[("RATE_LIMIT_PER_MINUTE", "1000000")];

async fn resume(s: &Server, token: &str, since: i64) -> Socket {
    socketio::connect_with(s.process.addr, &json!({"token": token, "since": since}))
        .await
        .unwrap()
}

/// Reads a resuming socket up to and including its `resumed` (or `resync_required`).
async fn until_resumed(ws: &mut Socket) -> Vec<(String, Value)> {
    events_until(ws, WAIT, |got| {
        got.last()
            .is_some_and(|(n, _)| n == "resumed" || n == "resync_required")
    })
    .await
}

fn assert_exactly(received: &[Logged], expected: &[Logged]) {
    assert_eq!(
        received.iter().map(|c| c.seq).collect::<Vec<_>>(),
        expected.iter().map(|c| c.seq).collect::<Vec<_>>(),
        "the seqs, in order"
    );
    assert_eq!(received, expected, "names and payloads as logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_socket_that_resumes_gets_exactly_the_changes_it_missed_in_order() {
    let s = Arc::new(Server::start_with(FAST).await);
    let token = s.login().await;
    let mut ws = socketio::connect(s.process.addr, &token).await.unwrap();
    s.call(
        "POST",
        "/api/tasks",
        Some(json!({"title": "seen"})),
        Some(&token),
    )
    .await;
    let seen = events_until(&mut ws, WAIT, |got| got.len() == 2).await;
    let since = seen[1].1["seq"].as_i64().unwrap();
    assert_eq!(seen[0].1["seq"].as_i64().unwrap(), since - 1);
    drop(ws);

    create_tasks(&s, &token, 500, 8).await;
    let missed = change_log(&s.dir, since);
    assert_eq!(missed.len(), 1000);

    let mut ws = resume(&s, &token, since).await;
    let got = until_resumed(&mut ws).await;
    let (last, _) = got.last().unwrap();
    assert_eq!(last, "resumed");
    assert_exactly(&changes_only(&got), &missed);
    assert_eq!(
        got.last().unwrap().1,
        json!({"since": since, "seq": since + 1000, "replayed": 1000})
    );

    // Then live, with nothing repeated.
    s.call(
        "POST",
        "/api/tasks",
        Some(json!({"title": "live"})),
        Some(&token),
    )
    .await;
    let live = events_until(&mut ws, WAIT, |got| got.len() == 2).await;
    assert_exactly(&changes_only(&live), &change_log(&s.dir, since + 1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resuming_works_across_a_crash_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(Server::start_in(dir.path(), FAST).await);
    let token = s.login().await;
    let since = latest_seq(&s, &token).await;
    create_tasks(&s, &token, 250, 8).await;
    // SIGKILL: no chance to flush anything; every acknowledged change must still be there.
    Arc::into_inner(s).unwrap().kill().await;

    let s = Arc::new(Server::start_in(dir.path(), FAST).await);
    create_tasks(&s, &token, 250, 8).await;
    let missed = change_log(dir.path(), since);
    assert_eq!(missed.len(), 1000);

    let mut ws = resume(&s, &token, since).await;
    let got = until_resumed(&mut ws).await;
    assert_eq!(got.last().unwrap().0, "resumed");
    assert_exactly(&changes_only(&got), &missed);
    assert_eq!(got.last().unwrap().1["replayed"], 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_whose_since_fell_out_of_retention_is_told_to_resync() {
    let dir = tempfile::tempdir().unwrap();
    let keep = [("CHANGE_LOG_MAX_ENTRIES", "1000"), FAST[0]];
    let s = Arc::new(Server::start_in(dir.path(), &keep).await);
    let token = s.login().await;
    let since = latest_seq(&s, &token).await;
    create_tasks(&s, &token, 600, 8).await;
    let latest = latest_seq(&s, &token).await;
    assert_eq!(latest, since + 1200);
    // The log is trimmed at start and every minute; a restart trims it at once.
    Arc::into_inner(s).unwrap().terminate().await;
    let s = Server::start_in(dir.path(), &keep).await;

    let deadline = tokio::time::Instant::now() + WAIT;
    let told = loop {
        let mut ws = resume(&s, &token, since).await;
        let got = until_resumed(&mut ws).await;
        let (name, payload) = got.last().cloned().unwrap();
        // The first server may have trimmed a little already; wait for the restart's trim.
        if name == "resync_required" && payload["oldest"] == latest - 999 {
            assert!(changes_only(&got).is_empty(), "nothing replayed: {got:?}");
            break (ws, payload);
        }
        assert!(tokio::time::Instant::now() < deadline, "never trimmed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let (mut ws, payload) = told;
    assert_eq!(
        payload,
        json!({"since": since, "oldest": latest - 999, "latest": latest})
    );
    // It follows the live stream from `latest`.
    s.call(
        "POST",
        "/api/tasks",
        Some(json!({"title": "after"})),
        Some(&token),
    )
    .await;
    let live = events_until(&mut ws, WAIT, |got| got.len() == 2).await;
    assert_eq!(live[0].1["seq"], latest + 1);

    // A position ahead of the log (another board's, say) is no better.
    let mut ws = resume(&s, &token, latest + 1_000).await;
    let got = until_resumed(&mut ws).await;
    assert_eq!(got.last().unwrap().0, "resync_required");
    assert_eq!(got.last().unwrap().1["latest"], latest + 2);
    s.call(
        "POST",
        "/api/tasks",
        Some(json!({"title": "later"})),
        Some(&token),
    )
    .await;
    let live = events_until(&mut ws, WAIT, |got| got.len() == 2).await;
    assert_eq!(
        live[0].1["seq"],
        latest + 3,
        "live from the log's newest seq"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resuming_through_the_authenticate_event_and_refusing_a_bad_since() {
    let s = Arc::new(Server::start_with(FAST).await);
    let token = s.login().await;
    let since = latest_seq(&s, &token).await;
    create_tasks(&s, &token, 10, 2).await;
    let mut ws = socketio::connect_with(s.process.addr, &json!({}))
        .await
        .unwrap();
    use futures_util::SinkExt;
    let auth = json!(["authenticate", {"token": token, "since": since.to_string()}]);
    ws.send(format!("42{auth}").into()).await.unwrap();
    let got = until_resumed(&mut ws).await;
    assert_eq!(got[0].0, "authenticated");
    assert_exactly(&changes_only(&got[1..]), &change_log(&s.dir, since));

    let refused = socketio::connect_with(s.process.addr, &json!({"token": token, "since": "soon"}))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(refused.contains("since must be a seq"), "{refused}");
}

/// One case of the storm: writers run while a client resumes from `back` changes ago.
#[derive(Debug, Clone)]
struct Storm {
    writers: usize,
    writes: usize,
    delay_ms: u64,
    back: i64,
}

#[test]
fn a_storm_of_writes_during_the_seam_loses_and_repeats_nothing() {
    use proptest::prelude::*;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let s = Arc::new(runtime.block_on(Server::start_with(FAST)));
    let token = runtime.block_on(s.login());
    runtime.block_on(create_tasks(&s, &token, 150, 4));
    let storms = (1usize..6, 20usize..120, 0u64..40, 0i64..300).prop_map(
        |(writers, writes, delay_ms, back)| Storm {
            writers,
            writes,
            delay_ms,
            back,
        },
    );
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 8,
        failure_persistence: None,
        ..Default::default()
    });
    runner
        .run(&storms, |storm| {
            runtime.block_on(storm_case(&s, &token, &storm));
            Ok(())
        })
        .unwrap();
}

async fn storm_case(s: &Arc<Server>, token: &str, storm: &Storm) {
    let since = (latest_seq(s, token).await - storm.back).max(0);
    let writing = {
        let s = s.clone();
        let token = token.to_owned();
        let (writers, writes) = (storm.writers, storm.writes);
        tokio::spawn(async move { create_tasks(&s, &token, writes, writers).await })
    };
    tokio::time::sleep(Duration::from_millis(storm.delay_ms)).await;
    let mut ws = resume(s, token, since).await;
    let mut got = until_resumed(&mut ws).await;
    writing.await.unwrap();
    let latest = latest_seq(s, token).await;
    let has_latest = |events: &[(String, Value)]| {
        latest == since
            || events
                .iter()
                .any(|(_, p)| p["seq"].as_i64() == Some(latest))
    };
    if !has_latest(&got) {
        got.extend(events_until(&mut ws, WAIT, has_latest).await);
    }
    let resumed: Vec<_> = got.iter().filter(|(n, _)| n == "resumed").collect();
    assert_eq!(resumed.len(), 1, "{storm:?}: one resumed");
    let at = got.iter().position(|(n, _)| n == "resumed").unwrap();
    let before = changes_only(&got[..at]);
    assert_eq!(
        resumed[0].1["seq"].as_i64(),
        Some(before.last().map_or(since, |c| c.seq)),
        "{storm:?}: resumed says where the replay ended"
    );
    assert_eq!(resumed[0].1["replayed"].as_u64(), Some(before.len() as u64));
    assert_exactly(&changes_only(&got), &change_log(&s.dir, since));
}

/// Another process on the same database file (here a program embedding the core; a second
/// server is refused by the lock) writes beside the server: the server's sockets get every
/// change, whoever made it, once and in order, by following the change log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_process_on_the_same_database_reaches_the_servers_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::start_in(dir.path(), FAST).await);
    let token = server.login().await;
    let since = latest_seq(&server, &token).await;
    let mut ws = resume(&server, &token, since).await;
    until_resumed(&mut ws).await;
    let other = MissionControl::open(dir.path().join("mission-control.db")).unwrap();
    let actor = Actor::new(format!("agent-{}", common::ADMIN_USER));
    // Writes through the server and through the other process, at once.
    tokio::join!(create_tasks(&server, &token, 40, 4), async {
        for i in 0..40 {
            let task = NewTask::titled(&format!("from the other process {i}")).unwrap();
            other.create_task(&actor, task).await.unwrap();
        }
    });
    other.shutdown().await;
    let expected = change_log(dir.path(), since);
    let latest = expected.last().unwrap().seq;
    assert_eq!(expected.len(), 160, "one log, every write of both");
    let got = events_until(&mut ws, WAIT, |got| {
        got.last()
            .is_some_and(|(_, p)| p["seq"].as_i64() == Some(latest))
    })
    .await;
    assert_exactly(&changes_only(&got), &expected);
}
