//! Socket.io connections as hostile or careless clients make them: a client that stops reading
//! is dropped and holds nobody up (its buffer fills, everyone else gets every event), sockets
//! count against the connection caps, an anonymous socket loses its connection at the deadline,
//! and packets are capped on both transports.
//!
//! The clients here speak Socket.io v5 over a raw WebSocket, so that one of them can simply stop
//! reading (the official JavaScript client always reads).

use std::time::Duration;

use super::support::live::closed_within;
use super::support::*;
use mission_control_testkit::socketio::{self, is_event, next_packet};
use serde_json::{Value, json};
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_client_is_dropped_and_holds_nobody_up() {
    const WRITES: usize = 2000;
    let s = App::start_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await;
    let admin = s.login().await;

    let mut reader = socketio::connect(s.addr(), admin.token()).await.unwrap();
    let stalled = socketio::connect(s.addr(), admin.token()).await.unwrap(); // unread till the end
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
            let admin = admin.clone();
            let description = description.clone();
            tokio::spawn(async move {
                let mut ok = 0;
                for n in 0..WRITES / 8 {
                    let body = json!({"title": format!("w{w}-{n}"), "description": description});
                    if admin.create_task(body).await.status == 201 {
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
    let s = App::start_with(&[("MAX_CONNECTIONS_PER_ADDRESS", "3")]).await;
    let admin = s.login().await;
    // The login's keep-alive connection may hold one of the three places.
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..6 {
        match socketio::connect(s.addr(), admin.token()).await {
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
    while socketio::connect(s.addr(), admin.token()).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_anonymous_socket_loses_its_connection_at_the_deadline_and_cannot_rejoin() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let s = App::start().await;
    let tcp = TcpStream::connect(s.addr()).await.unwrap();
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", s.addr());
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
    let open = socketio::next_packet(&mut ws).await.unwrap();
    let sid: Value = serde_json::from_str(&open[1..]).unwrap();
    ws.send(Message::text("40")).await.unwrap();
    let started = std::time::Instant::now();
    // The transport itself closes, not only the namespace.
    assert!(closed_within(&mut ws, Duration::from_secs(20)).await);
    assert!(started.elapsed() >= Duration::from_secs(9));
    // Its session id is refused from now on.
    let r = s
        .http
        .get(format!(
            "{}/socket.io/?EIO=4&transport=polling&sid={}",
            s.url,
            sid["sid"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn socket_packets_are_capped_on_both_transports() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let s = App::start().await;
    // WebSocket: an anonymous socket sends a 1 MB authenticate packet and is dropped.
    let tcp = TcpStream::connect(s.addr()).await.unwrap();
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", s.addr());
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
    let _open = next_packet(&mut ws).await;
    let big = format!(
        "42[\"authenticate\",{{\"token\":\"{}\"}}]",
        "x".repeat(1024 * 1024)
    );
    let _ = ws.send(Message::text(big)).await;
    assert!(
        closed_within(&mut ws, Duration::from_secs(5)).await,
        "the connection was closed"
    );
    // Polling: a body over the cap is refused.
    let open = s
        .http
        .get(format!("{}/socket.io/?EIO=4&transport=polling", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sid: Value = serde_json::from_str(&open[1..]).unwrap();
    let r = s
        .http
        .post(format!(
            "{}/socket.io/?EIO=4&transport=polling&sid={}",
            s.url,
            sid["sid"].as_str().unwrap()
        ))
        .body("x".repeat(1024 * 1024))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let fresh = reqwest::Client::new();
    let health = fresh.get(format!("{}/health", s.url)).send().await.unwrap();
    assert_eq!(health.status(), 200, "still serving");
}
