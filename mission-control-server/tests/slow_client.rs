//! A client that stops reading must not hold up the writer or the other clients: its buffer
//! fills, the server disconnects it, and everyone else gets every event.
//!
//! The clients here speak Socket.io v5 over a raw WebSocket, so that one of them can simply
//! stop reading (the official JavaScript client always reads).

mod common;

use std::time::Duration;

use common::Server;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects and authenticates in the handshake; returns once the namespace accepted it.
async fn socket_io_client(s: &Server, token: &str) -> Ws {
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        s.url.replace("http://", "ws://")
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let open = next_text(&mut ws).await.unwrap();
    assert!(open.starts_with('0'), "engine.io open packet, got {open}");
    ws.send(Message::text(format!(r#"40{{"token":"{token}"}}"#)))
        .await
        .unwrap();
    let connected = next_text(&mut ws).await.unwrap();
    assert!(
        connected.starts_with("40"),
        "namespace connect, got {connected}"
    );
    ws
}

/// The next text frame, answering engine.io pings on the way; None once the server closed.
async fn next_text(ws: &mut Ws) -> Option<String> {
    while let Some(frame) = ws.next().await {
        match frame {
            Ok(Message::Text(text)) if text.as_str() == "2" => {
                let _ = ws.send(Message::text("3")).await;
            }
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stalled_client_is_dropped_and_holds_nobody_up() {
    const WRITES: usize = 2000;
    let s = std::sync::Arc::new(Server::start_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await);
    let token = s.login().await;

    let mut reader = socket_io_client(&s, &token).await;
    let stalled = socket_io_client(&s, &token).await; // never read again until the end
    let reading = tokio::spawn(async move {
        let mut created = 0;
        while created < WRITES {
            match tokio::time::timeout(Duration::from_secs(30), next_text(&mut reader)).await {
                Ok(Some(text)) if text.starts_with(r#"42["task.created""#) => created += 1,
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
        while let Some(text) = next_text(&mut stalled).await {
            if text.starts_with(r#"42["task.created""#) {
                created += 1;
            }
            if text.starts_with("41") {
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
