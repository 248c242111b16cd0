//! A client that stops reading must not hold up the writer or the other clients: its buffer
//! fills, the server disconnects it, and everyone else gets every event.
//!
//! The clients here speak Socket.io v5 over a raw WebSocket, so that one of them can simply
//! stop reading (the official JavaScript client always reads).

mod common;

use std::time::Duration;

use common::Server;
use mission_control_testkit::socketio::{self, is_event, next_packet};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_client_is_dropped_and_holds_nobody_up() {
    const WRITES: usize = 2000;
    let s = std::sync::Arc::new(Server::start_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await);
    let token = s.login().await;

    let mut reader = socketio::connect(s.process.addr, &token).await.unwrap();
    let stalled = socketio::connect(s.process.addr, &token).await.unwrap(); // unread till the end
    let reading = tokio::spawn(async move {
        let mut created = 0;
        while created < WRITES {
            match tokio::time::timeout(Duration::from_secs(30), next_packet(&mut reader)).await {
                Ok(Some(packet)) if is_event(&packet, "task.created") => created += 1,
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        created
    });

    let description = "x".repeat(8 * 1024);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let s = s.clone();
            let token = token.clone();
            let description = description.clone();
            tokio::spawn(async move {
                let mut ok = 0;
                for n in 0..WRITES / 8 {
                    let body = json!({"title": format!("w{w}-{n}"), "description": description});
                    if s.call("POST", "/api/tasks", Some(body), Some(&token))
                        .await
                        .status
                        == 201
                    {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    let mut written = 0;
    for w in writers {
        written += w.await.unwrap();
    }
    assert_eq!(written, WRITES, "every write went through");
    assert_eq!(
        reading.await.unwrap(),
        WRITES,
        "the reading client got every event"
    );

    // The stalled client: what it had buffered, then the end of the stream, not every event.
    let mut stalled = stalled;
    let mut created = 0;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(packet) = next_packet(&mut stalled).await {
            if is_event(&packet, "task.created") {
                created += 1;
            }
            if packet.starts_with("41") {
                break; // the namespace disconnect: the server let go of this client
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the server closed the stalled socket (it got {created} events)"
    );
    assert!(
        created < WRITES,
        "the stalled socket was cut off (it got {created} of {WRITES})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_count_against_the_connection_caps() {
    let s = Server::start_with(&[("MAX_CONNECTIONS_PER_ADDRESS", "3")]).await;
    let token = s.login().await;
    // The login's keep-alive connection may hold one of the three places.
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..6 {
        match socketio::connect(s.process.addr, &token).await {
            Ok(ws) => open.push(ws),
            Err(_) => refused += 1,
        }
    }
    assert!(
        open.len() <= 3,
        "{} sockets open past a cap of 3",
        open.len()
    );
    assert!(refused >= 3);
    // A closed socket gives its place back.
    drop(open.pop());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while socketio::connect(s.process.addr, &token).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
