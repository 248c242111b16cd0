//! The change log (what replay reads): one unbroken run of seqs in commit order, read back
//! exactly by `changes_after`, trimmed by count and by bytes from the front only, and shared by every
//! process on the store (two boards on one store stand in for two server processes: each has
//! its own connections and writer thread, and the database's lock is all they share),
//! revocations included, which reach the token checks of a process that follows the log.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::support::*;
use mission_control_core::*;

/// A board on `store` whose log keeps `keep` changes.
fn open_keeping(store: &Arc<TestStore>, keep: u64) -> Board {
    Board::open_with(store.clone(), |o| {
        o.operator = None;
        o.change_log_max_entries = keep;
    })
}

fn fresh_store() -> Arc<TestStore> {
    Arc::new(TestStore::with_sqlite_file("board.db"))
}

fn me() -> Actor {
    Actor::new("agent-patch")
}

async fn create(mc: &MissionControl, title: &str) -> Task {
    mc.create_task(&me(), NewTask::titled(title).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_make_one_unbroken_run_of_seqs_in_commit_order() {
    let mc = open_keeping(&fresh_store(), 1_000_000);
    let start = mc.latest_seq().await.unwrap();
    let mut bus = mc.subscribe();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let mc = mc.handle();
            tokio::spawn(async move {
                for n in 0..25 {
                    create(&mc, &format!("w{w}-{n}")).await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let logged = all_changes_after(&mc, start).await;
    assert_eq!(logged.len(), 400, "a task and its event-log line per write");
    let seqs: Vec<i64> = logged.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (start + 1..=start + 400).collect::<Vec<_>>());
    assert_eq!(mc.latest_seq().await.unwrap(), start + 400);
    // The bus carries the same changes, in the same order, with the same payloads.
    for stored in &logged {
        let committed = bus.recv().await.unwrap();
        assert_eq!(&committed.logged, stored);
    }
    // Pages are exact: any position gives exactly what follows it.
    for after in [start, start + 1, start + 199, start + 399, start + 400] {
        let rest = all_changes_after(&mc, after).await;
        assert_eq!(rest.len() as i64, start + 400 - after);
        assert!(rest.first().is_none_or(|c| c.seq == after + 1));
    }
    mc.shutdown().await;
}

#[tokio::test]
async fn a_position_the_log_cannot_continue_from_asks_for_a_resync() {
    let mc = open_keeping(&fresh_store(), 1_000_000);
    create(&mc, "one").await;
    let latest = mc.latest_seq().await.unwrap();
    for bad in [latest + 1, latest + 1000, -1] {
        assert_eq!(
            mc.changes_after(bad, 10).await.unwrap(),
            Catchup::ResyncRequired {
                oldest: Some(1),
                latest
            }
        );
    }
    match mc.changes_after(latest, 10).await.unwrap() {
        Catchup::Changes(page) => assert!(page.changes.is_empty() && page.latest == latest),
        other => panic!("unexpected {other:?}"),
    }
    mc.shutdown().await;
}

#[tokio::test]
async fn the_log_is_trimmed_from_the_front_and_survives_reopening() {
    let store = fresh_store();
    let mc = open_keeping(&store, 1_000_000);
    for n in 0..30 {
        create(&mc, &format!("t{n}")).await;
    }
    let latest = mc.latest_seq().await.unwrap();
    mc.shutdown().await;
    drop(mc);

    // Reopened with room for 10 and served: the sweeper trims right after start.
    let mc = open_keeping(&store, 10);
    mc.start_sweeps().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Catchup::ResyncRequired { oldest, latest: l } =
            mc.changes_after(0, 10).await.unwrap()
        {
            assert_eq!((oldest, l), (Some(latest - 9), latest));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log was not trimmed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // From just before the oldest kept, the rest is all there; seqs go on where they were.
    assert_eq!(all_changes_after(&mc, latest - 10).await.len(), 10);
    assert!(matches!(
        mc.changes_after(latest - 11, 10).await.unwrap(),
        Catchup::ResyncRequired { .. }
    ));
    create(&mc, "after").await;
    let next = all_changes_after(&mc, latest).await;
    assert_eq!(
        next.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [latest + 1, latest + 2]
    );
    mc.shutdown().await;
}

/// The bytes of the payloads the log holds, added up row by row behind the board's back.
fn stored_bytes(b: &Board) -> i64 {
    b.raw()
        .number("SELECT CAST(COALESCE(SUM(octet_length(payload)), 0) AS BIGINT) FROM changes")
        .unwrap()
}

#[tokio::test]
async fn the_log_is_trimmed_to_its_bytes_from_the_front() {
    let store = fresh_store();
    let mc = open_keeping(&store, 1_000_000);
    let wordy = |n: usize| {
        let json = format!(
            r#"{{"title":"t{n}","description":"{}"}}"#,
            "words ".repeat(300)
        );
        NewTask::parse(serde_json::from_str(&json).unwrap()).unwrap()
    };
    for n in 0..40 {
        mc.create_task(&me(), wordy(n)).await.unwrap();
    }
    // The size kept beside the log is what its rows add up to.
    let all = all_changes_after(&mc, 0).await;
    let total: usize = all.iter().map(|c| c.payload.len()).sum();
    assert_eq!(mc.change_log_bytes().await.unwrap(), total as u64);
    assert_eq!(stored_bytes(&mc), total as i64);
    let latest = mc.latest_seq().await.unwrap();
    mc.shutdown().await;
    drop(mc);

    // Reopened with room for about a quarter of it and served: the sweeper trims at start.
    let max_bytes = total as u64 / 4;
    let mc = Board::open_with(store.clone(), |o| {
        o.operator = None;
        o.change_log_max_bytes = max_bytes;
    });
    mc.start_sweeps().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let oldest = loop {
        if let Catchup::ResyncRequired { oldest, .. } = mc.changes_after(0, 10).await.unwrap() {
            break oldest.unwrap();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log was not trimmed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // What is kept is the newest run that fits: one unbroken run up to the latest, within the
    // bound, and the change before it would not have fitted.
    let kept = all_changes_after(&mc, oldest - 1).await;
    assert_eq!(kept.first().map(|c| c.seq), Some(oldest));
    assert_eq!(kept.last().map(|c| c.seq), Some(latest));
    let kept_bytes: usize = kept.iter().map(|c| c.payload.len()).sum();
    assert!(kept_bytes as u64 <= max_bytes, "{kept_bytes} > {max_bytes}");
    let before_oldest = &all[all.iter().position(|c| c.seq == oldest).unwrap() - 1];
    assert!((kept_bytes + before_oldest.payload.len()) as u64 > max_bytes);
    assert_eq!(mc.change_log_bytes().await.unwrap(), kept_bytes as u64);
    assert_eq!(stored_bytes(&mc), kept_bytes as i64);
    // A client from before the oldest kept is told to resync; the log goes on where it was.
    assert!(matches!(
        mc.changes_after(oldest - 2, 10).await.unwrap(),
        Catchup::ResyncRequired { .. }
    ));
    create(&mc, "after").await;
    assert_eq!(
        mc.change_log_bytes().await.unwrap() as i64,
        stored_bytes(&mc)
    );
    mc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_file_share_one_log_and_each_can_tail_it() {
    let store = fresh_store();
    let first = open_keeping(&store, 1_000_000);
    let second = open_keeping(&store, 1_000_000);
    let start = first.latest_seq().await.unwrap();
    let writers: Vec<_> = [first.handle(), second.handle()]
        .into_iter()
        .enumerate()
        .map(|(i, mc)| {
            tokio::spawn(async move {
                for n in 0..40 {
                    create(&mc, &format!("p{i}-{n}")).await;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    // Both see one unbroken run holding every write of both, in the same order.
    let seen_by_first = all_changes_after(&first, start).await;
    let seen_by_second = all_changes_after(&second, start).await;
    assert_eq!(seen_by_first, seen_by_second);
    let seqs: Vec<i64> = seen_by_first.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, (start + 1..=start + 160).collect::<Vec<_>>());
    let titles: HashSet<String> = seen_by_first
        .iter()
        .filter(|c| c.name == "task.created")
        .map(|c| {
            let payload: serde_json::Value = serde_json::from_str(&c.payload).unwrap();
            payload["task"]["title"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(titles.len(), 80, "every write of both processes");
    assert_eq!(
        first.latest_seq().await.unwrap(),
        second.latest_seq().await.unwrap()
    );
    first.shutdown().await;
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_by_another_process_reaches_the_token_checks_of_one_that_follows_the_log() {
    let store = fresh_store();
    let server = open_keeping(&store, 1_000_000);
    let command = open_keeping(&store, 1_000_000);
    let nova = NewAgent::parse(NewAgentRequest {
        id: Some("agent-nova".into()),
        name: Some("Nova".into()),
        role: Some("Research".into()),
        ..Default::default()
    })
    .unwrap();
    server.register_agent(None, nova).await.unwrap();
    let token = server
        .mint_token(None, "agent-nova", TokenLifetime::DEFAULT)
        .await
        .unwrap()
        .token;
    let nova = Actor::new("agent-nova");
    assert_eq!(server.verify_token(&token).await.unwrap(), nova);
    let at = server.latest_seq().await.unwrap();

    // The other process revokes it and marks Nova offline. Until the server reads the log,
    // it trusts the token it checked a moment ago.
    assert_eq!(
        command.revoke_all_tokens(None, "agent-nova").await.unwrap(),
        1
    );
    let offline = AgentChanges::status(AgentStatus::Offline);
    command
        .update_agent(&nova, "agent-nova", offline)
        .await
        .unwrap();
    assert_eq!(server.verify_token(&token).await.unwrap(), nova);

    // The log holds the revocation, in its place, for servers only.
    let entries = all_changes_after(&server, at).await;
    let revocation = &entries[0];
    assert_eq!(revocation.seq, at + 1);
    assert!(!revocation.for_clients());
    assert_eq!(
        revocation.revoked_token(),
        Some(credentials::sha256_hex(&token))
    );
    assert!(entries[1..].iter().all(ChangeEntry::for_clients));
    assert_eq!(entries[1].revoked_token(), None);

    // Learned, the revocation is refused at once, and Nova's next sign of life here brings
    // it back online (the server knows it went offline elsewhere).
    for entry in &entries {
        server.learn(entry);
    }
    assert!(matches!(
        server.verify_token(&token).await,
        Err(Error::Unauthorized(_))
    ));
    server.saw(&nova).await.unwrap();
    assert_eq!(
        server.get_agent("agent-nova").await.unwrap().status,
        AgentStatus::Online
    );
    server.shutdown().await;
    command.shutdown().await;
}
