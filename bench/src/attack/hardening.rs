//! The attacks of the earlier hardening, measured by the shared frame: junk bearer tokens, a
//! sign-in flood, slow bodies, stalled readers of the whole board, and huge Socket.io packets.
//! The regression tests of each hole are in `mission-control-server/tests/it/hardening.rs`;
//! these are the figures.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use mission_control_testkit::socketio::{self, Message};
use reqwest::Client;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::frame::{Stop, under_attack};
use super::kit::Arena;
use super::{Row, Sizes};
use crate::{Report, Res, http};

pub const NAME: &str = "hardening";
const FINDING: &str = "earlier hardening";

/// `workers` loops of `request` until `time` has passed; "N answered, by status".
async fn flood<F>(workers: usize, time: Duration, request: F) -> String
where
    F: Fn(&Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let counts: Arc<[AtomicUsize; 6]> = Arc::new(Default::default());
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (request, counts) = (request.clone(), counts.clone());
        tasks.push(tokio::spawn(async move {
            let Ok(c) = http::client() else { return };
            let started = Instant::now();
            let mut n = w;
            while started.elapsed() < time {
                let slot = match request(&c, n).send().await {
                    Ok(r) => (r.status().as_u16() / 100) as usize,
                    Err(_) => 0,
                };
                counts[slot.min(5)].fetch_add(1, Ordering::Relaxed);
                n += workers;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let c: Vec<usize> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    format!(
        "{} requests answered ({} 4xx, {} 5xx, {} failed to connect)",
        c[1] + c[2] + c[3] + c[4] + c[5],
        c[4],
        c[5],
        c[0]
    )
}

/// Connections that send a request head and then one body byte a second; how many the
/// server had closed by the end.
async fn slow_bodies(addr: SocketAddr, count: usize, time: Duration) -> String {
    let mut tasks = Vec::new();
    for _ in 0..count {
        tasks.push(tokio::spawn(async move {
            let Ok(mut s) = TcpStream::connect(addr).await else {
                return false;
            };
            let head = "POST /api/tasks HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n";
            if s.write_all(head.as_bytes()).await.is_err() {
                return true;
            }
            let started = Instant::now();
            while started.elapsed() < time {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if s.write_all(b" ").await.is_err() {
                    return true;
                }
            }
            false
        }));
    }
    let mut closed = 0;
    for t in tasks {
        closed += usize::from(t.await.unwrap_or(false));
    }
    format!("{count} connections, {closed} closed by the server while trickling")
}

/// Connections that ask for the whole board and never read the answer, held until `stop`.
async fn stalled_readers(addr: SocketAddr, token: String, count: usize, mut stop: Stop) -> String {
    let mut held = Vec::new();
    let request =
        format!("GET /api/tasks HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n");
    for _ in 0..count {
        if let Ok(mut s) = TcpStream::connect(addr).await
            && s.write_all(request.as_bytes()).await.is_ok()
        {
            held.push(s);
        }
    }
    stop.wait().await;
    format!(
        "{} connections asked for the board and read nothing",
        held.len()
    )
}

/// Anonymous sockets that each send one huge `authenticate` packet over WebSocket.
async fn huge_packets(addr: SocketAddr, count: usize, bytes: usize) -> String {
    let packet = format!(
        "42[\"authenticate\",{{\"token\":\"{}\"}}]",
        "x".repeat(bytes)
    );
    let packet: Arc<str> = packet.into();
    let mut tasks = Vec::new();
    for _ in 0..count {
        let packet = packet.clone();
        tasks.push(tokio::spawn(async move {
            let Ok(mut ws) = socketio::connect_with(addr, &json!({})).await else {
                return false;
            };
            ws.send(Message::text(packet.to_string())).await.is_ok()
                && socketio::next_packet(&mut ws).await.is_none()
        }));
    }
    let mut dropped = 0;
    for t in tasks {
        dropped += usize::from(t.await.unwrap_or(false));
    }
    format!(
        "{count} sockets sent {} MB each; {dropped} were disconnected",
        bytes / 1_000_000
    )
}

pub async fn run(sizes: &Sizes, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!(" {FINDING}");
    let time = if sizes.quick {
        sizes.time
    } else {
        Duration::from_secs(10)
    };
    // The default limits on sign-ins and failed authentications, as a real server has them.
    let arena = Arena::open(
        bin,
        tmp,
        NAME,
        &[("LOGIN_RATE_LIMIT_PER_MINUTE", "10".into())],
    )
    .await?;
    let token = arena.operator.clone();
    http::seed_tasks(
        &arena.server.base,
        &token,
        if sizes.quick { 500 } else { 5_000 },
        16,
    )
    .await?;
    let (base, addr) = (arena.server.base.clone(), arena.server.addr);
    let target = arena.target();
    let settle = sizes.settle;

    let what = "junk bearer tokens: 16 connections, a new 60 KB token every request";
    let junk_base = base.clone();
    let mut m = under_attack(&target, what, time, settle, move |_| async move {
        flood(16, time, move |c, n| {
            let token = format!("{n:08}{}", "J".repeat(60_000));
            c.get(format!("{junk_base}/api/tasks")).bearer_auth(token)
        })
        .await
    })
    .await?;
    let row = Row::measured(report, FINDING, what, &mut m, None);
    report.attacks.push(row);

    let what = "sign-in flood: 16 connections of wrong passwords";
    let login_base = base.clone();
    let mut m = under_attack(&target, what, time, settle, move |_| async move {
        flood(16, time, move |c, n| {
            c.post(format!("{login_base}/api/auth/login")).json(
                &json!({"username": crate::server::ADMIN_USERNAME, "password": format!("wrong-{n}")}),
            )
        })
        .await
    })
    .await?;
    let row = Row::measured(report, FINDING, what, &mut m, None);
    report.attacks.push(row);

    let what = "slow bodies: 400 connections sending one byte a second";
    let mut m = under_attack(&target, what, time, settle, move |_| async move {
        slow_bodies(addr, 400, time).await
    })
    .await?;
    let row = Row::measured(report, FINDING, what, &mut m, None);
    report.attacks.push(row);

    let what = "stalled readers: 100 connections asking for the whole board and never reading";
    let stalled_token = token.clone();
    let mut m = under_attack(&target, what, time, settle, move |stop| async move {
        stalled_readers(addr, stalled_token, 100, stop).await
    })
    .await?;
    let row = Row::measured(report, FINDING, what, &mut m, None);
    report.attacks.push(row);

    let what = "huge packets: 64 anonymous Socket.io sockets sending a 16 MB authenticate";
    let mut m = under_attack(&target, what, time, settle, move |_| async move {
        huge_packets(addr, 64, 16_000_000).await
    })
    .await?;
    let row = Row::measured(report, FINDING, what, &mut m, None);
    report.attacks.push(row);

    arena.close().await
}
