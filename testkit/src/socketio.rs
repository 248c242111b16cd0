//! A minimal Socket.io v5 client over Engine.IO v4, WebSocket transport only: enough to sign
//! in with a handshake token, answer pings, and read events, or to stop reading on purpose.
//! (The JavaScript tests use the official `socket.io-client`; this one exists for what that
//! client cannot do: thousands of sockets from one process, and a client that stalls.)
//!
//! Wire format (text frames): the server opens with `0{"sid":...}`; the client joins the
//! default namespace with `40{"token":"..."}` and is answered `40{...}` (or `44{...}` when
//! refused); the server pings with `2` and wants `3`; an event is `42["name",payload]`; `41`
//! is the server leaving the namespace.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
pub use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{WebSocketStream, client_async};

use crate::Result;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

pub type Socket = WebSocketStream<TcpStream>;

/// Opens a socket, signs in with `token`, and returns it once the namespace is joined.
pub async fn connect(addr: SocketAddr, token: &str) -> Result<Socket> {
    connect_with(addr, &serde_json::json!({ "token": token })).await
}

/// Opens a socket whose handshake sends `auth` (`{"token": ..., "since": 12}` to resume), and
/// returns it once the namespace is joined.
pub async fn connect_with(addr: SocketAddr, auth: &serde_json::Value) -> Result<Socket> {
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| "socket connect timed out")??;
    connect_over(tcp, auth).await
}

/// [`connect_with`] over a connection whose receive window is a few kilobytes
/// ([`crate::stall::narrow`]): a client that stops reading makes the server hold what it sends.
pub async fn connect_narrow(addr: SocketAddr, auth: &serde_json::Value) -> Result<Socket> {
    let tcp = crate::stall::narrow(addr).await?;
    connect_over(tcp, auth).await
}

/// As [`connect_with`], over a connection the caller opened: from another local address, or
/// with a small receive buffer, as a client that stops reading has.
pub async fn connect_over(tcp: TcpStream, auth: &serde_json::Value) -> Result<Socket> {
    tokio::time::timeout(CONNECT_TIMEOUT, async {
        let addr = tcp.peer_addr()?;
        tcp.set_nodelay(true)?;
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (mut ws, _) = client_async(url, tcp).await?;
        let open = next_packet(&mut ws).await.ok_or("closed before opening")?;
        if !open.starts_with('0') {
            return Err(format!("expected an Engine.IO open packet, got {open}").into());
        }
        ws.send(Message::text(format!("40{auth}"))).await?;
        loop {
            let packet = next_packet(&mut ws).await.ok_or("closed before joining")?;
            if packet.starts_with("40") {
                return Ok(ws);
            } else if packet.starts_with("44") {
                return Err(format!("connection refused: {packet}").into());
            }
        }
    })
    .await
    .map_err(|_| "socket connect timed out")?
}

/// The next packet other than a ping (pings are answered on the way); `None` once the
/// connection has closed.
pub async fn next_packet(ws: &mut Socket) -> Option<String> {
    while let Some(frame) = ws.next().await {
        match frame {
            Ok(Message::Text(text)) if text.as_str() == "2" => {
                ws.send(Message::text("3")).await.ok()?;
            }
            Ok(Message::Text(text)) => return Some(text.as_str().to_owned()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    None
}

/// An event packet (`42["name",payload]`) as its name and payload.
pub fn parse_event(packet: &str) -> Option<(String, serde_json::Value)> {
    let array: serde_json::Value = serde_json::from_str(packet.strip_prefix("42")?).ok()?;
    let name = array.get(0)?.as_str()?.to_owned();
    Some((
        name,
        array.get(1).cloned().unwrap_or(serde_json::Value::Null),
    ))
}

/// Whether `packet` is the event `name`.
pub fn is_event(packet: &str, name: &str) -> bool {
    packet
        .strip_prefix("42[\"")
        .and_then(|rest| rest.strip_prefix(name))
        .is_some_and(|rest| rest.starts_with('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_recognised_by_name() {
        assert!(is_event(
            r#"42["task.created",{"task":{}}]"#,
            "task.created"
        ));
        assert!(!is_event(r#"42["task.created.x",{}]"#, "task.created"));
        assert!(!is_event(r#"42["event.new",{}]"#, "task.created"));
        assert!(!is_event("41", "task.created"));
    }

    #[test]
    fn events_are_parsed_into_name_and_payload() {
        let (name, payload) = parse_event(r#"42["task.deleted",{"taskId":"t","seq":3}]"#).unwrap();
        assert_eq!(name, "task.deleted");
        assert_eq!(payload["seq"], 3);
        assert!(parse_event("41").is_none());
    }
}
