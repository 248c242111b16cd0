//! What live clients may cost: sockets that stop reading share what they are sent and are
//! capped per token, and clients resuming over a long log take turns at it (see `costs` for
//! the rest, and the helpers shared here).

use std::time::Duration;

use futures_util::future::join_all;
use mission_control_testkit::socketio::{self, is_event, next_packet};
use serde_json::json;

use super::costs::{MB, grown, large_tasks, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stalled_sockets_share_what_they_are_sent_and_are_capped_per_token() {
    let s = server(&[]).await;
    let admin = s.login().await;
    let auth = json!({ "token": admin.token() });
    // 24 sockets of one token that never read.
    let mut stalled = Vec::new();
    for _ in 0..24 {
        stalled.push(socketio::connect_narrow(s.addr(), &auth).await.unwrap());
    }
    let mut reader = socketio::connect(s.addr(), admin.token()).await.unwrap();
    let reading = tokio::spawn(async move {
        let mut created = 0;
        while created < 200 {
            match tokio::time::timeout(Duration::from_secs(60), next_packet(&mut reader)).await {
                Ok(Some(packet)) if is_event(&packet, "task.created") => created += 1,
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        created
    });
    let before = s.rss();
    large_tasks(&admin, 200).await; // 8 MB of changes, for every socket
    let grown = grown(&s, before).await;
    eprintln!(
        "24 stalled sockets: RSS {} MB + {} MB",
        before / MB,
        grown / MB
    );
    assert!(
        grown < 64 * MB,
        "24 stalled sockets grew the server by {} MB over 8 MB of changes",
        grown / MB
    );
    assert_eq!(
        reading.await.unwrap(),
        200,
        "a reading socket got every change"
    );
    drop(stalled);

    // Sockets per token are capped, and a place comes back when a socket goes.
    let s = server(&[("MAX_SOCKETS_PER_TOKEN", "3")]).await;
    let admin = s.login().await;
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(socketio::connect(s.addr(), admin.token()).await.unwrap());
    }
    let refused = socketio::connect(s.addr(), admin.token())
        .await
        .err()
        .unwrap();
    assert!(refused.to_string().contains("live sockets"), "{refused}");
    let kit = admin
        .register_agent_with_token("agent-kit", "Kit", "Dev")
        .await;
    socketio::connect(s.addr(), kit.token()).await.unwrap();
    drop(open.pop());
    let mut again = None;
    for _ in 0..50 {
        if let Ok(socket) = socketio::connect(s.addr(), admin.token()).await {
            again = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        again.is_some(),
        "the place of a socket that went is given back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_resumers_take_turns_and_keep_nobody_waiting() {
    let s = server(&[]).await;
    let admin = s.login().await;
    // A log longer than a socket may hold unsent: 4,000 changes, 8 MB.
    let text = "x".repeat(2000);
    let writers = (0..4).map(|w| {
        let admin = admin.clone();
        let text = text.clone();
        async move {
            for n in 0..500 {
                let body = json!({"title": format!("w{w} {n}"), "description": text});
                assert_eq!(admin.create_task(body).await.status, 201);
            }
        }
    });
    join_all(writers).await;
    let latest = admin.latest_seq().await;

    // 20 sockets resume from the start and read one packet every two seconds.
    let since_start = json!({ "token": admin.token(), "since": 0 });
    let (resumed_tx, mut resumed_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut ws = socketio::connect_narrow(s.addr(), &since_start)
            .await
            .unwrap();
        let resumed_tx = resumed_tx.clone();
        slow.push(tokio::spawn(async move {
            while let Some(packet) = next_packet(&mut ws).await {
                if is_event(&packet, "resumed") {
                    let _ = resumed_tx.send(());
                    return;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // A dashboard reconnecting meanwhile is caught up at once, not after them (a slow resumer
    // that held its turn was let go only after 30 s without progress).
    let auth = json!({ "token": admin.token(), "since": latest - 6 });
    let mut dashboard = socketio::connect_with(s.addr(), &auth).await.unwrap();
    let caught_up = tokio::time::timeout(Duration::from_secs(20), async {
        let mut replayed = 0;
        while let Some(packet) = next_packet(&mut dashboard).await {
            if is_event(&packet, "resumed") {
                return replayed;
            }
            replayed += 1;
        }
        -1
    })
    .await
    .expect("the dashboard resumed while the slow resumers were still at it");
    assert_eq!(caught_up, 6);
    assert!(
        resumed_rx.try_recv().is_err(),
        "no slow resumer had finished: the dashboard did not wait for them"
    );
    for task in slow {
        task.abort();
    }
}
