//! A minimal Socket.io v5 client over Engine.IO v4, WebSocket transport only: enough to sign
//! in with a handshake token, answer pings, and notice `task.created` events.
//!
//! Wire format (text frames): the server opens with `0{"sid":...,"pingInterval":...}`; the
//! client connects to the default namespace with `40{"token":"..."}` and is answered `40{...}`
//! (or `44{"message":...}` when refused); the server pings with `2` and wants `3`; an event is
//! `42["name",payload]`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{WebSocketStream, client_async};

use crate::Res;

/// Title prefix of the writes whose events are timed; followed by the write's number.
pub const MARKER: &str = "fanout-";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

type Ws = WebSocketStream<TcpStream>;

/// Opens a socket, signs in with `token`, and returns it once the namespace is joined.
pub async fn connect(addr: SocketAddr, token: &str) -> Res<Ws> {
    tokio::time::timeout(CONNECT_TIMEOUT, async {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (mut ws, _) = client_async(url, tcp).await?;
        let open = next_text(&mut ws).await?;
        if !open.starts_with('0') {
            return Err(format!("expected an Engine.IO open packet, got {open}").into());
        }
        let auth = serde_json::json!({ "token": token });
        ws.send(Message::text(format!("40{auth}"))).await?;
        loop {
            let packet = next_text(&mut ws).await?;
            if packet == "2" {
                ws.send(Message::text("3")).await?;
            } else if packet.starts_with("40") {
                return Ok(ws);
            } else if packet.starts_with("44") {
                return Err(format!("connection refused: {packet}").into());
            }
        }
    })
    .await
    .map_err(|_| "socket connect timed out")?
}

async fn next_text(ws: &mut Ws) -> Res<String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Message::Close(_))) | None => return Err("socket closed".into()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

/// Reads the socket until it closes: answers pings, and for every `task.created` whose title
/// carries [`MARKER`] sends (write number, arrival time) to `seen`.
pub fn listen(mut ws: Ws, seen: mpsc::UnboundedSender<(u32, Instant)>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let text = text.as_str();
            if text == "2" {
                if ws.send(Message::text("3")).await.is_err() {
                    break;
                }
            } else if text.starts_with("42[\"task.created\"") {
                let at = Instant::now();
                if let Some(n) = marker_number(text) {
                    let _ = seen.send((n, at));
                }
            } else if text.starts_with('1') {
                break;
            }
        }
    })
}

/// The write number in `"title":"fanout-<n>"`, found without parsing the whole payload.
fn marker_number(text: &str) -> Option<u32> {
    let key = format!("\"title\":\"{MARKER}");
    let start = text.find(&key)? + key.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_write_number() {
        let packet = r#"42["task.created",{"task":{"id":"task-1","title":"fanout-17","tags":[]}}]"#;
        assert_eq!(marker_number(packet), Some(17));
        assert_eq!(
            marker_number(r#"42["task.created",{"task":{"title":"x"}}]"#),
            None
        );
    }
}
