//! Finding 6: stalled full-board and export streams locked others out. One agent token opens, from
//! eight addresses (127.0.0.10 to .17, four each: the per-address share), 32 streams of the
//! whole board and of the export that it never reads, while the board keeps changing; a
//! dashboard on the well-behaved address loads the whole board and the export every second.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::frame::{Stop, under_attack, well_behaved_client};
use super::kit::{self, Arena, Ask, BIG_DESCRIPTION_CHARS};
use super::{Row, Sizes};
use crate::server::WAL_MAX_MB;
use crate::{Report, Res, http};

pub const NAME: &str = "snapshot-streams";
const FINDING: &str = "6. stalled board and export streams";

/// Addresses the streams come from, and streams from each.
const ADDRESSES: u8 = 8;
const PER_ADDRESS: usize = 4;
/// The board's activity meanwhile: a change of a task of 40 KB, then this pause.
const CHANGE_EVERY: Duration = Duration::from_millis(10);
/// How often the dashboard loads the board and the export.
const LOAD_EVERY: Duration = Duration::from_secs(1);

pub async fn run(sizes: &Sizes, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!(" {FINDING}: a board of {} tasks of 40 KB", sizes.board);
    let arena = Arena::open(bin, tmp, NAME, &[]).await?;
    let base = arena.server.base.clone();
    let attacker = kit::agent(&base, &arena.operator, "agent-attacker").await?;
    let big = kit::big_text(BIG_DESCRIPTION_CHARS);
    let tasks = kit::seed(
        &base,
        &arena.operator,
        sizes.board,
        move |n| json!({"title": format!("Board {n}"), "status": "todo", "description": big}),
    )
    .await?
    .ids;

    let streams = usize::from(ADDRESSES) * PER_ADDRESS;
    let what = format!(
        "{streams} stalled full-board and export streams of one token from {ADDRESSES} addresses, \
         {} tasks of 40 KB, the board changing",
        sizes.board
    );
    let (addr, operator) = (arena.server.addr, arena.operator.clone());
    let refused = Arc::new(AtomicUsize::new(0));
    let refused_to_dashboard = refused.clone();
    let mut m = under_attack(&arena.target(), &what, sizes.time, sizes.settle, move |mut stop| async move {
        let mut held = Vec::new();
        let mut admitted = 0;
        for a in 0..ADDRESSES {
            let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10 + a));
            for i in 0..PER_ADDRESS {
                let ask = if i % 2 == 0 { Ask::get("/api/tasks") } else { Ask::get("/api/export") };
                if let Some((stream, ok)) = stalled_stream(from, addr, &ask.raw(&attacker)).await {
                    admitted += usize::from(ok);
                    held.push(stream);
                }
            }
        }
        let changes = tokio::spawn(changes(base.clone(), operator.clone(), tasks, stop.clone()));
        let loads = tokio::spawn(dashboard(base, operator, refused_to_dashboard, stop.clone()));
        stop.wait().await;
        let changes = changes.await.unwrap_or(0);
        let (board, export) = loads.await.unwrap_or_default();
        format!(
            "{} streams held ({admitted} answered 200); the dashboard on 127.0.0.2: board {board}, \
             export {export}; {changes} changes meanwhile",
            held.len()
        )
    })
    .await?;
    let wal_mb = m.wal_peak as f64 / 1e6;
    let row = Row::measured(report, FINDING, &what, &mut m, None)
        .with_target(
            report,
            &format!("WAL ≤ {WAL_MAX_MB} MB (WAL_MAX_MB)"),
            wal_mb <= WAL_MAX_MB as f64 * 1.048_576,
        )
        .with_target(
            report,
            "the well-behaved board and export load",
            refused.load(Ordering::Relaxed) == 0,
        );
    report.attacks.push(row);
    arena.close().await
}

/// A connection from `from` that asks `request` and reads only the status line; whether it
/// was answered 200.
async fn stalled_stream(
    from: IpAddr,
    server: SocketAddr,
    request: &[u8],
) -> Option<(tokio::net::TcpStream, bool)> {
    let mut s = kit::connect(from, server, true).await.ok()?;
    s.write_all(request).await.ok()?;
    let mut head = [0u8; 12];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut head))
        .await
        .ok()?
        .ok()?;
    Some((s, head[..n].starts_with(b"HTTP/1.1 200")))
}

/// Changes tasks one after another until `stop`; how many.
async fn changes(base: String, token: String, tasks: Vec<String>, stop: Stop) -> usize {
    let Ok(c) = http::client() else { return 0 };
    let mut n = 0;
    while !stop.now() && !tasks.is_empty() {
        let change = json!({"title": format!("Board, change {n}")});
        let _ = kit::patch(&c, &base, &token, &tasks[n % tasks.len()], &change).await;
        n += 1;
        tokio::time::sleep(CHANGE_EVERY).await;
    }
    n
}

/// Loads the whole board and the export every [`LOAD_EVERY`] from the well-behaved address
/// until `stop`, counting the loads that failed in `refused`; for each, "N of M loaded (K
/// answered 503)".
async fn dashboard(
    base: String,
    token: String,
    refused: Arc<AtomicUsize>,
    stop: Stop,
) -> (String, String) {
    let Ok(c) = well_behaved_client() else {
        return Default::default();
    };
    let (mut board, mut export) = ([0usize; 3], [0usize; 3]);
    while !stop.now() {
        for (path, tally) in [("/api/tasks", &mut board), ("/api/export", &mut export)] {
            let answer = c
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await;
            // 0: loaded; 1: refused with 503; 2: anything else.
            let slot = match answer {
                Ok(r) => match r.status() {
                    StatusCode::OK => 2 * usize::from(r.bytes().await.is_err()),
                    StatusCode::SERVICE_UNAVAILABLE => 1,
                    _ => 2,
                },
                Err(_) => 2,
            };
            tally[slot] += 1;
            if slot > 0 {
                refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        stop.pause(LOAD_EVERY).await;
    }
    let say = |t: [usize; 3]| {
        format!(
            "{} of {} loaded ({} answered 503)",
            t[0],
            t[0] + t[1] + t[2],
            t[1]
        )
    };
    (say(board), say(export))
}
