//! What the attacks are built from: agents with tokens of their own, a board of big tasks,
//! connections from a chosen loopback address with a small receive buffer (a client that
//! stops reading holds what the server sends in its buffers, not in ours), and raw requests.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use mission_control_testkit::socketio::{self, Socket};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

use super::frame::Target;
use crate::server::Server;
use crate::{Res, fresh_db, http};

/// The attackers' address (127.0.0.1), as the attacker had: one address.
pub const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// The receive buffer a stalled client asks for: the kernel's smallest, near enough.
const STALLED_RECEIVE_BUFFER: u32 = 4096;
/// A task description of 40 KB: 10,000 characters (the most a description may hold) of four
/// bytes each.
pub const BIG_DESCRIPTION_CHARS: usize = 10_000;

/// A description of `chars` four-byte characters.
pub fn big_text(chars: usize) -> String {
    "\u{1F6F0}".repeat(chars)
}

/// Registers the agent `id` (as the operator) and mints its token.
pub async fn agent(base: &str, operator: &str, id: &str) -> Res<String> {
    let c = http::client()?;
    let registered = c
        .post(format!("{base}/api/agents"))
        .bearer_auth(operator)
        .json(&json!({"id": id, "name": id.trim_start_matches("agent-"), "role": "Dev"}))
        .send()
        .await?;
    if registered.status() != StatusCode::CREATED {
        return Err(format!("registering {id}: {}", registered.text().await?).into());
    }
    let minted: Value = c
        .post(format!("{base}/api/auth/tokens"))
        .bearer_auth(operator)
        .json(&json!({"agentId": id, "expiresInDays": 1}))
        .send()
        .await?
        .json()
        .await?;
    minted["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("minting a token for {id}: {minted}").into())
}

/// What seeding got: the ids made, and why the server refused the rest, if it did.
pub struct Seeded {
    pub ids: Vec<String>,
    pub refused: Option<String>,
}

/// Creates `count` tasks from 8 clients, the `n`th with the JSON `task(n)`; stops at the first
/// refusal (a bound the server keeps, which a later version may have) and says what it was.
pub async fn seed<F>(base: &str, token: &str, count: usize, task: F) -> Res<Seeded>
where
    F: Fn(usize) -> Value + Send + Sync + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let task = Arc::new(task);
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (next, task) = (next.clone(), task.clone());
        let (base, token) = (base.to_owned(), token.to_owned());
        let c = http::client()?;
        workers.push(tokio::spawn(async move {
            let (mut made, mut refused) = (Vec::new(), None);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    break;
                }
                match create(&c, &base, &token, &task(n)).await {
                    Ok(id) => made.push((n, id)),
                    Err(why) => {
                        refused = Some(why);
                        next.fetch_add(count, Ordering::Relaxed);
                        break;
                    }
                }
            }
            (made, refused)
        }));
    }
    let (mut made, mut refused) = (Vec::with_capacity(count), None);
    for w in workers {
        let (ids, why) = w.await?;
        made.extend(ids);
        refused = refused.or(why);
    }
    made.sort_unstable();
    Ok(Seeded {
        ids: made.into_iter().map(|(_, id)| id).collect(),
        refused,
    })
}

/// `POST /api/tasks`; the new task's id, or why it was refused.
pub async fn create(c: &Client, base: &str, token: &str, task: &Value) -> Result<String, String> {
    let r = c
        .post(format!("{base}/api/tasks"))
        .bearer_auth(token)
        .json(task)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body: Value = r.json().await.map_err(|e| e.to_string())?;
    match body["task"]["id"].as_str() {
        Some(id) if status == StatusCode::CREATED => Ok(id.to_owned()),
        _ => Err(format!("{status}: {}", truncated(&body.to_string()))),
    }
}

/// `PATCH /api/tasks/{id}` with `changes`; Ok, or why not.
pub async fn patch(
    c: &Client,
    base: &str,
    token: &str,
    id: &str,
    changes: &Value,
) -> Result<(), String> {
    let r = c
        .patch(format!("{base}/api/tasks/{id}"))
        .bearer_auth(token)
        .json(changes)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "{status}: {}",
            truncated(&String::from_utf8_lossy(&body))
        ))
    }
}

/// Claims each of `ids` for a day as `token`, 8 at a time; how many it holds, and why the
/// server refused the rest, if it did.
pub async fn claim_all(base: &str, token: &str, ids: &[String]) -> Res<(usize, Option<String>)> {
    let c = http::client()?;
    let results: Vec<Result<(), String>> = futures_util::stream::iter(ids.iter())
        .map(|id| {
            let c = c.clone();
            async move {
                let r = c
                    .post(format!("{base}/api/tasks/{id}/claim"))
                    .bearer_auth(token)
                    .json(&json!({"leaseSeconds": 86_400}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("{status}: {}", truncated(&body)))
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let held = results.iter().filter(|r| r.is_ok()).count();
    let refused = results.into_iter().find_map(Result::err);
    Ok((held, refused))
}

/// The change log's latest seq, as `GET /api/tasks?limit=1` says it.
pub async fn latest_seq(base: &str, token: &str) -> Res<i64> {
    let body: Value = http::client()?
        .get(format!("{base}/api/tasks?limit=1"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    body["seq"]
        .as_i64()
        .ok_or_else(|| format!("no seq in {body}").into())
}

/// A TCP connection to `server` from `from`; with a small receive buffer when `stalled`.
pub async fn connect(
    from: IpAddr,
    server: SocketAddr,
    stalled: bool,
) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if stalled {
        socket.set_recv_buffer_size(STALLED_RECEIVE_BUFFER)?;
    }
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(server).await
}

/// A request an attacker makes: the method, the path and query, a JSON body.
#[derive(Clone)]
pub struct Ask {
    pub method: &'static str,
    pub path: String,
    pub body: Option<String>,
}

impl Ask {
    pub fn get(path: &str) -> Ask {
        Ask {
            method: "GET",
            path: path.to_owned(),
            body: None,
        }
    }

    pub fn post(path: &str, body: Option<String>) -> Ask {
        Ask {
            method: "POST",
            path: path.to_owned(),
            body,
        }
    }

    /// The request as the client writes it on the wire, with the bearer `token` (and the
    /// headers MCP asks for, which other endpoints ignore).
    pub fn raw(&self, token: &str) -> Vec<u8> {
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
             Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-06-18\r\n",
            self.method, self.path
        );
        match &self.body {
            Some(body) => head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )),
            None => head.push_str("Content-Length: 0\r\n\r\n"),
        }
        head.into_bytes()
    }

    /// The answer's status and size, for a client that reads it.
    pub async fn answer(&self, base: &str, token: &str) -> String {
        let Ok(c) = http::client() else {
            return "no client".into();
        };
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap_or_default();
        let mut call = c
            .request(method, format!("{base}{}", self.path))
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-06-18");
        if let Some(body) = &self.body {
            call = call
                .header("content-type", "application/json")
                .body(body.clone());
        }
        match call.send().await {
            Ok(r) => {
                let status = r.status();
                match r.bytes().await {
                    Ok(b) if b.len() >= 1_000_000 => {
                        format!("{status}, {:.1} MB", b.len() as f64 / 1e6)
                    }
                    Ok(b) => format!(
                        "{status}, {} bytes: {}",
                        b.len(),
                        truncated(&String::from_utf8_lossy(&b))
                    ),
                    Err(e) => format!("{status}, then failed: {e}"),
                }
            }
            Err(e) => format!("failed: {e}"),
        }
    }
}

/// Connections from `from` that each send `request` and never read the answer; those the
/// server took.
pub async fn stalled_requests(
    from: IpAddr,
    server: SocketAddr,
    request: &[u8],
    count: usize,
) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        if let Ok(mut s) = connect(from, server, true).await
            && s.write_all(request).await.is_ok()
        {
            held.push(s);
        }
    }
    held
}

/// A Socket.io socket from `from` that signed in with `auth`; with a small receive buffer
/// when it is to stall.
pub async fn socket(from: IpAddr, server: SocketAddr, auth: &Value, stalled: bool) -> Res<Socket> {
    let tcp = tokio::time::timeout(Duration::from_secs(20), connect(from, server, stalled))
        .await
        .map_err(|_| "connect timed out")??;
    socketio::connect_over(tcp, auth).await
}

fn truncated(text: &str) -> String {
    text.chars().take(200).collect()
}

/// A server of an attack's own: a fresh database, the operator signed in, and the
/// well-behaved client (`agent-probe`) with a task of its own to change.
pub struct Arena {
    pub server: Server,
    pub db: PathBuf,
    pub operator: String,
    probe_token: String,
    probe_task: String,
}

impl Arena {
    /// Starts the server on a fresh database named `name`, with `settings` beside the bench's.
    pub async fn open(
        bin: &Path,
        tmp: &Path,
        name: &str,
        settings: &[(&str, String)],
    ) -> Res<Arena> {
        let db = fresh_db(tmp, name)?;
        let server = Server::start_with(bin, &db, settings).await?;
        let operator = http::login(&server.base).await?;
        let probe_token = agent(&server.base, &operator, "agent-probe").await?;
        let probe_task = create(
            &http::client()?,
            &server.base,
            &probe_token,
            &json!({"title": "Well-behaved work", "status": "todo"}),
        )
        .await?;
        Ok(Arena {
            server,
            db,
            operator,
            probe_token,
            probe_task,
        })
    }

    /// The server as the frame measures it, the well-behaved client writing every 10 ms from
    /// two connections.
    pub fn target(&self) -> Target<'_> {
        self.target_paced(2, Duration::from_millis(10))
    }

    /// As [`Arena::target`], the well-behaved client writing from `loops` connections, each
    /// pausing `every` between writes.
    pub fn target_paced(&self, loops: usize, every: Duration) -> Target<'_> {
        Target {
            server: &self.server,
            db: self.db.clone(),
            probe_token: self.probe_token.clone(),
            probe_task: self.probe_task.clone(),
            probe_loops: loops,
            probe_every: every,
        }
    }

    /// Stops the server and deletes its folder.
    pub async fn close(self) -> Res<()> {
        self.server.stop().await?;
        if let Some(dir) = self.db.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
        Ok(())
    }
}
