//! The server under attack: what hostile clients cost it. Each scenario runs one attack from
//! the outside for a while (junk bearer tokens, a sign-in flood, slow bodies, stalled readers,
//! huge Socket.io packets) while a well-behaved client asks for `/health` and a page of the
//! board every 10 ms; it reports the server's memory before, at its peak and after, and how
//! long the well-behaved requests took. The regression tests of each hole are in
//! `mission-control-server/tests/it/hardening.rs`; these are the figures.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use mission_control_testkit::socketio::{self, Message};
use reqwest::Client;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::server::Server;
use crate::stats::Samples;
use crate::{Fact, Plan, Report, Res, fresh_db, http, ms};

pub const SCENARIO: &str = "attack";

/// What the well-behaved client saw during an attack.
struct Probe {
    health: Samples,
    reads: Samples,
    failed: usize,
}

/// Asks for `/health` and `GET /api/tasks?limit=50` every 10 ms until `stop`.
async fn probe(base: String, token: String, stop: Arc<AtomicBool>) -> Probe {
    let mut out = Probe {
        health: Samples::with_capacity(2048),
        reads: Samples::with_capacity(2048),
        failed: 0,
    };
    // From another loopback address than the attackers', as a real client is: the limits
    // per address must not hold it back for what others did.
    let Ok(c) = Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(10))
        .build()
    else {
        return out;
    };
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        match c.get(format!("{base}/health")).send().await {
            Ok(r) if r.status().is_success() => out.health.record(t.elapsed()),
            _ => out.failed += 1,
        }
        let t = Instant::now();
        let read = c
            .get(format!("{base}/api/tasks?limit=50"))
            .bearer_auth(&token)
            .send()
            .await;
        let read_ok = match read {
            Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
            Err(_) => false,
        };
        if read_ok {
            out.reads.record(t.elapsed());
        } else {
            out.failed += 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    out
}

/// Runs `attack` for `time` beside the probe; one line of the report.
async fn measure<F>(
    server: &Server,
    token: &str,
    what: &str,
    time: Duration,
    attack: F,
) -> Res<Fact>
where
    F: std::future::Future<Output = String> + Send + 'static,
{
    eprintln!("  {what}");
    let before = server.rss_bytes()?;
    let stop = Arc::new(AtomicBool::new(false));
    let prober = tokio::spawn(probe(server.base.clone(), token.to_owned(), stop.clone()));
    let attacker = tokio::spawn(attack);
    let started = Instant::now();
    let mut peak = before;
    while started.elapsed() < time {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak = peak.max(server.rss_bytes()?);
    }
    stop.store(true, Ordering::Relaxed);
    let done = attacker.await?;
    let mut seen = prober.await?;
    // Whatever the attack left behind, a few seconds after it ended.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = server.rss_bytes()?;
    let mb = |b: u64| b as f64 / 1e6;
    Ok(Fact {
        what: format!("under attack: {what}"),
        value: format!(
            "RSS {:.1} → peak {:.1} → after {:.1} MB; /health p50 {} / p99 {} ms, board page p50 {} / p99 {} ms ({} probes failed); {done}",
            mb(before),
            mb(peak),
            mb(after),
            ms(seen.health.percentile_ms(0.5)),
            ms(seen.health.percentile_ms(0.99)),
            ms(seen.reads.percentile_ms(0.5)),
            ms(seen.reads.percentile_ms(0.99)),
            seen.failed,
        ),
        target: String::new(),
        result: String::new(),
    })
}

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
async fn slow_bodies(addr: std::net::SocketAddr, count: usize, time: Duration) -> String {
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

/// Connections that ask for the whole board and never read the answer, held for `time`.
async fn stalled_readers(
    addr: std::net::SocketAddr,
    token: String,
    count: usize,
    time: Duration,
) -> String {
    let mut held = Vec::new();
    let request =
        format!("GET /api/tasks HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n");
    for _ in 0..count {
        if let Ok(mut s) = TcpStream::connect(addr).await {
            // A small receive buffer, as a client that does not read has.
            let _ = s.set_nodelay(true);
            if s.write_all(request.as_bytes()).await.is_ok() {
                held.push(s);
            }
        }
    }
    tokio::time::sleep(time).await;
    format!(
        "{} connections asked for the board and read nothing",
        held.len()
    )
}

/// Anonymous sockets that each send one huge `authenticate` packet over WebSocket.
async fn huge_packets(addr: std::net::SocketAddr, count: usize, bytes: usize) -> String {
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

pub async fn run(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("the server under attack");
    let time = if plan.quick {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(10)
    };
    // The default limits on sign-ins and failed authentications, as a real server has them.
    let server = Server::start_with(
        bin,
        &fresh_db(tmp, "attack")?,
        &[("LOGIN_RATE_LIMIT_PER_MINUTE", "10".into())],
    )
    .await?;
    let token = http::login(&server.base).await?;
    http::seed_tasks(
        &server.base,
        &token,
        if plan.quick { 500 } else { 5_000 },
        16,
    )
    .await?;
    let (base, addr) = (server.base.clone(), server.addr);

    let junk_base = base.clone();
    report.facts.push(
        measure(
            &server,
            &token,
            "junk bearer tokens: 16 connections, a new 60 KB token every request",
            time,
            async move {
                flood(16, time, move |c, n| {
                    let token = format!("{n:08}{}", "J".repeat(60_000));
                    c.get(format!("{junk_base}/api/tasks")).bearer_auth(token)
                })
                .await
            },
        )
        .await?,
    );

    let login_base = base.clone();
    report.facts.push(measure(&server, &token, "sign-in flood: 16 connections of wrong passwords", time, async move {
        flood(16, time, move |c, n| {
            c.post(format!("{login_base}/api/auth/login"))
                .json(&json!({"username": crate::server::ADMIN_USERNAME, "password": format!("wrong-{n}")}))
        })
        .await
    })
    .await?);

    report.facts.push(
        measure(
            &server,
            &token,
            "slow bodies: 400 connections sending one byte a second",
            time,
            async move { slow_bodies(addr, 400, time).await },
        )
        .await?,
    );

    let stalled_token = token.clone();
    report.facts.push(
        measure(
            &server,
            &token,
            "stalled readers: 100 connections asking for the whole board and never reading",
            time,
            async move { stalled_readers(addr, stalled_token, 100, time).await },
        )
        .await?,
    );

    report.facts.push(
        measure(
            &server,
            &token,
            "huge packets: 64 anonymous Socket.io sockets sending a 16 MB authenticate",
            time,
            async move { huge_packets(addr, 64, 16_000_000).await },
        )
        .await?,
    );

    server.stop().await?;
    Ok(())
}
