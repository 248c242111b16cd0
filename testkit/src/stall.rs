//! Clients that stop reading, as a stuck agent or an attacker makes them: a TCP connection whose
//! receive window is a few kilobytes, so that what the server sends stays on the server's side
//! (in its memory, or its socket's send buffer) instead of piling up in this process.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

use crate::Result;

/// The receive buffer asked for; the kernel doubles it and keeps a floor.
const WINDOW: u32 = 4096;

/// A connection to `addr` with a narrow receive window.
pub async fn narrow(addr: SocketAddr) -> Result<TcpStream> {
    narrow_from(addr, None).await
}

/// A connection to `addr` from the local address `from` (another loopback address, for a
/// client the server counts as someone else), with a narrow receive window.
pub async fn narrow_from(addr: SocketAddr, from: Option<std::net::IpAddr>) -> Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_recv_buffer_size(WINDOW)?;
    if let Some(from) = from {
        socket.bind(SocketAddr::new(from, 0))?;
    }
    Ok(socket.connect(addr).await?)
}

/// Sends an HTTP/1.1 request on a narrow connection and never reads the answer: the
/// connection, to keep open for as long as the client should stall.
pub async fn request(
    addr: SocketAddr,
    from: Option<std::net::IpAddr>,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> Result<TcpStream> {
    let mut tcp = narrow_from(addr, from).await?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Accept: application/json, text/event-stream\r\n"
    );
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nMCP-Protocol-Version: {}\r\nContent-Length: {}\r\n",
            crate::mcp::PROTOCOL,
            body.len()
        ));
    }
    head.push_str("\r\n");
    tcp.write_all(head.as_bytes()).await?;
    if let Some(body) = body {
        tcp.write_all(body.as_bytes()).await?;
    }
    Ok(tcp)
}
