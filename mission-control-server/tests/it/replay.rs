//! Replay for Socket.io clients, with the raw client of the testkit: a socket that reconnects
//! with `since` gets exactly the changes it missed, in order, then `resumed`, then the live
//! stream, across restarts too; one whose `since` the log no longer covers is told
//! `resync_required`; a storm of writes during the seam neither loses nor repeats a change
//! (a property test comparing what arrived with the change log in the store); and another
//! process on the same database reaches the server's sockets with every change it makes.

use std::time::Duration;

use super::support::live::{Logged, change_log, changes_only, create_tasks, events_until};
use super::support::*;
use mission_control_core::{Actor, MissionControl, NewTask, Options};
use mission_control_testkit::socketio::{self, Socket};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
const FAST: &[(&str, &str)] = &[("RATE_LIMIT_PER_MINUTE", "1000000")];

async fn resume(s: &App, session: &Session, since: i64) -> Socket {
    socketio::connect_with(s.addr(), &json!({"token": session.token(), "since": since}))
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
    let s = App::start_with(FAST).await;
    let admin = s.login().await;
    let mut ws = socketio::connect(s.addr(), admin.token()).await.unwrap();
    admin.create_task(json!({"title": "seen"})).await;
    let seen = events_until(&mut ws, WAIT, |got| got.len() == 2).await;
    let since = seen[1].1["seq"].as_i64().unwrap();
    assert_eq!(seen[0].1["seq"].as_i64().unwrap(), since - 1);
    drop(ws);

    create_tasks(&admin, 500, 8).await;
    let missed = change_log(s.store(), since);
    assert_eq!(missed.len(), 1000);

    let mut ws = resume(&s, &admin, since).await;
    let got = until_resumed(&mut ws).await;
    let (last, _) = got.last().unwrap();
    assert_eq!(last, "resumed");
    assert_exactly(&changes_only(&got), &missed);
    assert_eq!(
        got.last().unwrap().1,
        json!({"since": since, "seq": since + 1000, "replayed": 1000})
    );

    // Then live, with nothing repeated.
    admin.create_task(json!({"title": "live"})).await;
    let live = events_until(&mut ws, WAIT, |got| got.len() == 2).await;
    assert_exactly(&changes_only(&live), &change_log(s.store(), since + 1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resuming_works_across_a_crash_and_a_restart() {
    let s = App::start_with(FAST).await;
    let store = s.store().clone();
    let admin = s.login().await;
    let since = admin.latest_seq().await;
    create_tasks(&admin, 250, 8).await;
    // SIGKILL: no chance to flush anything; every acknowledged change must still be there.
    s.kill().await;

    let s = App::start_on(&store, FAST).await;
    let admin = s.session(admin.token());
    create_tasks(&admin, 250, 8).await;
    let missed = change_log(&store, since);
    assert_eq!(missed.len(), 1000);

    let mut ws = resume(&s, &admin, since).await;
    let got = until_resumed(&mut ws).await;
    assert_eq!(got.last().unwrap().0, "resumed");
    assert_exactly(&changes_only(&got), &missed);
    assert_eq!(got.last().unwrap().1["replayed"], 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_whose_since_fell_out_of_retention_is_told_to_resync() {
    let keep = [("CHANGE_LOG_MAX_ENTRIES", "1000"), FAST[0]];
    let s = App::start_with(&keep).await;
    let store = s.store().clone();
    let admin = s.login().await;
    let since = admin.latest_seq().await;
    create_tasks(&admin, 600, 8).await;
    let latest = admin.latest_seq().await;
    assert_eq!(latest, since + 1200);
    // The log is trimmed at start and every minute; a restart trims it at once.
    s.terminate().await;
    let s = App::start_on(&store, &keep).await;
    let admin = s.session(admin.token());

    let deadline = tokio::time::Instant::now() + WAIT;
    let told = loop {
        let mut ws = resume(&s, &admin, since).await;
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
    admin.create_task(json!({"title": "after"})).await;
    let live = events_until(&mut ws, WAIT, |got| got.len() == 2).await;
    assert_eq!(live[0].1["seq"], latest + 1);

    // A position ahead of the log (another board's, say) is no better.
    let mut ws = resume(&s, &admin, latest + 1_000).await;
    let got = until_resumed(&mut ws).await;
    assert_eq!(got.last().unwrap().0, "resync_required");
    assert_eq!(got.last().unwrap().1["latest"], latest + 2);
    admin.create_task(json!({"title": "later"})).await;
    let live = events_until(&mut ws, WAIT, |got| got.len() == 2).await;
    assert_eq!(
        live[0].1["seq"],
        latest + 3,
        "live from the log's newest seq"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resuming_through_the_authenticate_event_and_refusing_a_bad_since() {
    let s = App::start_with(FAST).await;
    let admin = s.login().await;
    let since = admin.latest_seq().await;
    create_tasks(&admin, 10, 2).await;
    let mut ws = socketio::connect_with(s.addr(), &json!({})).await.unwrap();
    use futures_util::SinkExt;
    let auth = json!(["authenticate", {"token": admin.token(), "since": since.to_string()}]);
    ws.send(format!("42{auth}").into()).await.unwrap();
    let got = until_resumed(&mut ws).await;
    assert_eq!(got[0].0, "authenticated");
    assert_exactly(&changes_only(&got[1..]), &change_log(s.store(), since));

    let refused =
        socketio::connect_with(s.addr(), &json!({"token": admin.token(), "since": "soon"}))
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
    let s = runtime.block_on(App::start_with(FAST));
    let admin = runtime.block_on(s.login());
    runtime.block_on(create_tasks(&admin, 150, 4));
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
            runtime.block_on(storm_case(&s, &admin, &storm));
            Ok(())
        })
        .unwrap();
}

async fn storm_case(s: &App, admin: &Session, storm: &Storm) {
    let since = (admin.latest_seq().await - storm.back).max(0);
    let writing = {
        let admin = admin.clone();
        let (writers, writes) = (storm.writers, storm.writes);
        tokio::spawn(async move { create_tasks(&admin, writes, writers).await })
    };
    tokio::time::sleep(Duration::from_millis(storm.delay_ms)).await;
    let mut ws = resume(s, admin, since).await;
    let mut got = until_resumed(&mut ws).await;
    writing.await.unwrap();
    let latest = admin.latest_seq().await;
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
    assert_exactly(&changes_only(&got), &change_log(s.store(), since));
}

/// Another process on the same database (here a program embedding the core; a second server on
/// an SQLite file is refused by the lock) writes beside the server: the server's sockets get
/// every change, whoever made it, once and in order, by following the change log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_process_on_the_same_database_reaches_the_servers_sockets() {
    let server = App::start_with(FAST).await;
    let admin = server.login().await;
    let since = admin.latest_seq().await;
    let mut ws = resume(&server, &admin, since).await;
    until_resumed(&mut ws).await;
    let other = open_beside(server.store());
    let actor = Actor::new(ADMIN_AGENT);
    // Writes through the server and through the other process, at once.
    tokio::join!(create_tasks(&admin, 40, 4), async {
        for i in 0..40 {
            let task = NewTask::titled(&format!("from the other process {i}")).unwrap();
            other.create_task(&actor, task).await.unwrap();
        }
    });
    other.shutdown().await;
    let expected = change_log(server.store(), since);
    let latest = expected.last().unwrap().seq;
    assert_eq!(expected.len(), 160, "one log, every write of both");
    let got = events_until(&mut ws, WAIT, |got| {
        got.last()
            .is_some_and(|(_, p)| p["seq"].as_i64() == Some(latest))
    })
    .await;
    assert_exactly(&changes_only(&got), &expected);
}

/// The server's database opened by a program embedding the core, with a key of its own; on a
/// thread of its own, as the synchronous PostgreSQL client needs.
fn open_beside(store: &TestStore) -> MissionControl {
    let secret = mission_control_core::credentials::generate_secret().unwrap();
    let options = Options::new(core_database(store), secret.into_bytes());
    std::thread::spawn(move || MissionControl::open_with(options))
        .join()
        .unwrap()
        .unwrap()
}
