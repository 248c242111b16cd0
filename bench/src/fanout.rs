//! Socket.io fan-out: one writer creates tasks while N sockets (in this process) listen; how long
//! after the writer's answer the last socket hears of each write, and the server's CPU per
//! write, beside the project's targets.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::plan::Plan;
use crate::report::{Fact, Report, Row, mb, ms};
use crate::server::Server;
use crate::stats::Samples;
use crate::{Res, fresh_db, http, live, socket};

/// At 1,000 sockets: the last socket hears a write at most this long after the answer (p50,
/// half the plain stack's 22 ms), and the server spends at most this much CPU per write.
const LAST_SOCKET_P50_MS: f64 = 11.0;
const CPU_PER_WRITE_MS: f64 = 10.0;
/// At 1,000 sockets: the tail.
const LAST_SOCKET_P99_MS: f64 = 100.0;

pub async fn fanout(plan: &Plan, bin: &Path, tmp: &Path, n: usize, report: &mut Report) -> Res<()> {
    eprintln!("Socket.io fan-out to {n} clients");
    // WebSockets count against the per-address cap (512 by default): room for all of them.
    let server = Server::start_with(
        bin,
        &fresh_db(tmp, &format!("fanout-{n}"))?,
        &live::roomy(n),
    )
    .await?;
    let token = http::login(&server.base).await?;
    let connect_started = Instant::now();
    let addr = server.addr;
    let sockets: Vec<_> = futures_util::stream::iter(0..n)
        .map(|_| socket::connect(addr, &token))
        .buffer_unordered(32)
        .collect()
        .await;
    let sockets = sockets.into_iter().collect::<Res<Vec<_>>>()?;
    let connect_took = connect_started.elapsed();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let listeners: Vec<_> = sockets
        .into_iter()
        .map(|ws| socket::listen(ws, seen_tx.clone()))
        .collect();
    drop(seen_tx);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = server.rss_bytes()?;

    let writer = http::client()?;
    let auth = format!("Bearer {token}");
    // Warm the writer's connection.
    writer
        .get(format!("{}/api/agents", server.base))
        .header("authorization", &auth)
        .send()
        .await?
        .bytes()
        .await?;
    let (mut after_response, mut after_request) = (Samples::default(), Samples::default());
    let (mut missing, mut early) = (0usize, 0usize);
    let cpu = server.cpu_time();
    for k in 0..plan.fanout_writes {
        let (sent, answered) = socket::marked_write(&writer, &server.base, &auth, k).await?;
        let (got, last) = socket::arrivals(&mut seen, k, n).await;
        missing += n - got;
        if let Some(last) = last
            && got == n
        {
            if last < answered {
                early += 1;
            }
            after_response.record(last.saturating_duration_since(answered));
            after_request.record(last - sent);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let server_ms_per_write =
        (server.cpu_time() - cpu).as_secs_f64() * 1e3 / f64::from(plan.fanout_writes);
    for l in listeners {
        l.abort();
    }
    let p99 = after_response.percentile_ms(0.99);
    let writes = after_response.len();
    report.rows.push(Row {
        what: format!(
            "Socket.io fan-out: write response → `task.created` at the last of {n} sockets"
        ),
        clients: n.to_string(),
        requests: format!(
            "{writes} writes{}",
            if missing > 0 {
                format!(" ({missing} events missing)")
            } else {
                String::new()
            }
        ),
        throughput: "-".into(),
        p50: ms(after_response.percentile_ms(0.5)),
        p99: ms(p99),
        cpu: format!("{:.0} / - (per write)", server_ms_per_write * 1000.0),
        ..Row::default()
    });
    if n >= 1_000 {
        let p50 = after_response.percentile_ms(0.5);
        report.judge_last(&[
            (
                format!("p50 ≤ {LAST_SOCKET_P50_MS} ms at 1,000"),
                p50 <= LAST_SOCKET_P50_MS && missing == 0,
            ),
            (
                format!("p99 < {LAST_SOCKET_P99_MS} ms at 1,000"),
                p99 < LAST_SOCKET_P99_MS && missing == 0,
            ),
            (
                format!("≤ {CPU_PER_WRITE_MS} ms server CPU/write"),
                server_ms_per_write <= CPU_PER_WRITE_MS,
            ),
        ]);
    }
    report.rows.push(Row {
        what: format!("Socket.io fan-out: write request start → last of {n} sockets"),
        clients: n.to_string(),
        requests: format!("{writes} writes"),
        throughput: "-".into(),
        p50: ms(after_request.percentile_ms(0.5)),
        p99: ms(after_request.percentile_ms(0.99)),
        ..Row::default()
    });
    if early > 0 {
        eprintln!("  {early} write(s): every socket had the event before the HTTP response");
    }
    report.facts.push(Fact {
        what: format!("server RSS with {n} sockets connected"),
        value: mb(rss),
        target: String::new(),
        result: String::new(),
    });
    report.facts.push(Fact {
        what: format!("time to connect and sign in {n} sockets (32 at a time)"),
        value: format!("{} ms", ms(connect_took.as_secs_f64() * 1e3)),
        target: String::new(),
        result: String::new(),
    });
    server.stop().await?;
    Ok(())
}
