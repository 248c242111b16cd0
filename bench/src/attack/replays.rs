//! Finding 5: replays starved others. Over a change log of big changes (tasks of 40 KB changed
//! again and again), slow Socket.io resumers from `since=0` (reading a packet every 20 ms,
//! starting over when dropped) and Server-Sent Events streams replaying from `since=0` (reading
//! 4 KB every 20 ms) run, while a dashboard on another address reconnects every two seconds
//! from a recent seq and waits for its `resumed`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mission_control_testkit::socketio::{is_event, next_packet};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::frame::{Stop, WELL_BEHAVED, under_attack};
use super::kit::{self, ATTACKER, Arena, Ask, BIG_DESCRIPTION_CHARS};
use super::{Row, Sizes};
use crate::stats::Samples;
use crate::{Report, Res, http, ms};

pub const NAME: &str = "replays";
const FINDING: &str = "5. replays starve others";

/// Tasks of 40 KB whose changes fill the log.
const CHANGED_TASKS: usize = 300;
/// A slow reader's pause between two reads.
const SLOW: Duration = Duration::from_millis(20);
/// How often the dashboard reconnects, and how long it waits for `resumed` at most.
const RECONNECT_EVERY: Duration = Duration::from_secs(2);
const RESUME_LIMIT: Duration = Duration::from_secs(60);
/// Event streams one token may hold (`MAX_EVENT_STREAMS_PER_TOKEN`'s default): the replays
/// are spread over as many tokens as that takes.
const STREAMS_PER_TOKEN: usize = 8;

pub async fn run(sizes: &Sizes, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!(
        " {FINDING}: a log of {} changes of 40 KB",
        sizes.log_changes
    );
    let arena = Arena::open(bin, tmp, NAME, &[]).await?;
    let base = arena.server.base.clone();
    let attacker = kit::agent(&base, &arena.operator, "agent-attacker").await?;
    let mut stream_tokens = vec![attacker.clone()];
    for i in 1..sizes.replays.div_ceil(STREAMS_PER_TOKEN) {
        stream_tokens
            .push(kit::agent(&base, &arena.operator, &format!("agent-replayer-{i}")).await?);
    }
    let big = kit::big_text(BIG_DESCRIPTION_CHARS);
    let tasks = kit::seed(
        &base,
        &arena.operator,
        CHANGED_TASKS.min(sizes.log_changes),
        move |n| json!({"title": format!("Changed {n}"), "status": "todo", "description": big}),
    )
    .await?
    .ids;
    let c = http::client()?;
    let failed = futures_util::stream::iter(0..sizes.log_changes)
        .map(|n| {
            let (c, base, operator, id) = (
                c.clone(),
                base.clone(),
                arena.operator.clone(),
                tasks[n % tasks.len()].clone(),
            );
            async move {
                kit::patch(
                    &c,
                    &base,
                    &operator,
                    &id,
                    &json!({"title": format!("Changed, {n}")}),
                )
                .await
                .is_err()
            }
        })
        .buffer_unordered(8)
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    if failed > 0 {
        eprintln!("    {failed} changes of the log failed");
    }
    let recent = kit::latest_seq(&base, &arena.operator).await?;

    let what = format!(
        "{} slow Socket.io resumers and {} SSE replays from since=0 over {} changes of 40 KB",
        sizes.resumers, sizes.replays, sizes.log_changes
    );
    let (addr, resumers, replays, operator) = (
        arena.server.addr,
        sizes.resumers,
        sizes.replays,
        arena.operator.clone(),
    );
    let mut m = under_attack(
        &arena.target(),
        &what,
        sizes.time,
        sizes.settle,
        move |stop| async move {
            let mut slow = Vec::new();
            for _ in 0..resumers {
                slow.push(tokio::spawn(slow_resumer(
                    addr,
                    attacker.clone(),
                    stop.clone(),
                )));
            }
            let mut streams = Vec::new();
            for i in 0..replays {
                let token = stream_tokens[i / STREAMS_PER_TOKEN % stream_tokens.len()].clone();
                streams.push(tokio::spawn(slow_replay(addr, token, stop.clone())));
            }
            let dashboard = tokio::spawn(dashboard(addr, operator, recent, stop.clone()));
            let (mut reconnects, mut admitted, mut refused) = (0, 0, 0);
            for s in slow {
                reconnects += s.await.unwrap_or(0);
            }
            for s in streams {
                match s.await {
                    Ok(true) => admitted += 1,
                    _ => refused += 1,
                }
            }
            let (mut waits, cut_short) = dashboard.await.unwrap_or_default();
            format!(
                "a dashboard reconnecting from 127.0.0.2 waited p50 {} / max {} ms for `resumed` \
             ({} tries, {cut_short} still waiting at the end); the resumers connected \
             {reconnects} times; {admitted} replays admitted, {refused} refused",
                ms(waits.percentile_ms(0.5)),
                ms(waits.percentile_ms(1.0)),
                waits.len()
            )
        },
    )
    .await?;
    let row = Row::measured(report, FINDING, &what, &mut m, None);
    report.attacks.push(row);
    arena.close().await
}

/// Resumes from `since=0`, reading a packet every [`SLOW`]; starts over when dropped. How many
/// times it connected.
async fn slow_resumer(addr: SocketAddr, token: String, stop: Stop) -> usize {
    let mut connected = 0;
    while !stop.now() {
        let Ok(mut socket) =
            kit::socket(ATTACKER, addr, &json!({"token": token, "since": 0}), true).await
        else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        connected += 1;
        while !stop.now() {
            let mut stop = stop.clone();
            let packet = tokio::select! {
                packet = next_packet(&mut socket) => packet,
                _ = stop.wait() => None,
            };
            if packet.is_none() {
                break;
            }
            tokio::time::sleep(SLOW).await;
        }
    }
    connected
}

/// An event stream from `since=0` read 4 KB every [`SLOW`], until `stop`; whether the server
/// admitted it.
async fn slow_replay(addr: SocketAddr, token: String, mut stop: Stop) -> bool {
    let Ok(mut s) = kit::connect(ATTACKER, addr, true).await else {
        return false;
    };
    if s.write_all(&Ask::get("/api/stream?since=0").raw(&token))
        .await
        .is_err()
    {
        return false;
    }
    let mut buffer = vec![0u8; 4096];
    let admitted = match s.read(&mut buffer).await {
        Ok(n) => buffer[..n].starts_with(b"HTTP/1.1 200"),
        Err(_) => false,
    };
    while admitted && !stop.now() {
        tokio::select! {
            read = s.read(&mut buffer) => if !matches!(read, Ok(n) if n > 0) { break },
            _ = stop.wait() => break,
        }
        tokio::time::sleep(SLOW).await;
    }
    admitted
}

/// A dashboard on the well-behaved address reconnecting every [`RECONNECT_EVERY`] from
/// `since`: how long each wait for `resumed` took (from opening the connection; a wait the
/// attack's end cut short counts as long as it had lasted), and how many were cut short.
async fn dashboard(addr: SocketAddr, token: String, since: i64, stop: Stop) -> (Samples, usize) {
    let (mut waits, mut cut_short) = (Samples::default(), 0);
    while !stop.now() {
        let started = Instant::now();
        let resume = tokio::time::timeout(RESUME_LIMIT, async {
            let auth = json!({"token": token, "since": since});
            let mut socket = kit::socket(WELL_BEHAVED, addr, &auth, false).await.ok()?;
            while let Some(packet) = next_packet(&mut socket).await {
                if is_event(&packet, "resumed") {
                    return Some(());
                }
            }
            None
        });
        let mut stop = stop.clone();
        tokio::select! {
            resumed = resume => match resumed {
                Ok(Some(())) => waits.record(started.elapsed()),
                _ => waits.record(RESUME_LIMIT),
            },
            _ = stop.wait() => {
                waits.record(started.elapsed());
                cut_short += 1;
                break;
            }
        }
        stop.pause(RECONNECT_EVERY).await;
    }
    (waits, cut_short)
}
