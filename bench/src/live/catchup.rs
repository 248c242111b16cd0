//! Catch-up: a client that missed N changes connects with its last seq; the time until it has
//! them all and is told `resumed`, over Socket.io and over `GET /api/stream`.

use std::path::Path;
use std::time::{Duration, Instant};

use mission_control_testkit::socketio::{self, next_packet, parse_event};
use mission_control_testkit::sse::EventStream;

use super::{CATCHUP_RUNS, plan};
use crate::server::Server;
use crate::stats::Samples;
use crate::{Fact, Report, Res, fresh_db, http, ms};

pub async fn catchup(quick: bool, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    for &missed in &plan(quick).missed {
        eprintln!("catch-up on {missed} missed changes");
        let server = Server::start(bin, &fresh_db(tmp, &format!("catchup-{missed}"))?).await?;
        let token = http::login(&server.base).await?;
        let since = latest_seq(&server.base, &token).await?;
        let writes_started = Instant::now();
        http::seed_tasks(&server.base, &token, missed / 2, 32).await?;
        eprintln!(
            "  made {missed} changes in {:.1} s",
            writes_started.elapsed().as_secs_f64()
        );
        let resume = serde_json::json!({ "token": token, "since": since });
        let mut socket_runs = Samples::default();
        let mut stream_runs = Samples::default();
        let cpu = server.cpu_time();
        for _ in 0..CATCHUP_RUNS {
            socket_runs.record(catch_up_socket(server.addr, &resume, missed).await?);
            // A server from before `GET /api/stream` (to compare with) has only Socket.io.
            if let Some(took) = catch_up_stream(&server.base, &token, since, missed).await? {
                stream_runs.record(took);
            }
        }
        let catch_ups = (socket_runs.len() + stream_runs.len()).max(1) as f64;
        let cpu_ms = (server.cpu_time() - cpu).as_secs_f64() * 1e3 / catch_ups;
        for (how, runs) in [("Socket.io", &mut socket_runs), ("SSE", &mut stream_runs)] {
            if runs.len() == 0 {
                continue;
            }
            let median = runs.median_ms();
            report.facts.push(Fact {
                what: format!(
                    "catch-up on {missed} missed changes over {how}: connect → `resumed` (median of {CATCHUP_RUNS}; fastest, slowest)"
                ),
                value: format!(
                    "{} ms ({}, {}); {:.0} changes/s",
                    ms(median),
                    ms(runs.percentile_ms(0.0)),
                    ms(runs.percentile_ms(1.0)),
                    missed as f64 / (median / 1e3)
                ),
                target: String::new(),
                result: String::new(),
            });
        }
        report.facts.push(Fact {
            what: format!(
                "server CPU per catch-up on {missed} changes (mean over both transports)"
            ),
            value: format!("{cpu_ms:.0} ms"),
            target: String::new(),
            result: String::new(),
        });
        server.stop().await?;
    }
    Ok(())
}

async fn latest_seq(base: &str, token: &str) -> Res<i64> {
    let body: serde_json::Value = http::client()?
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

/// Connects with `since` and reads up to `resumed`; the time taken, after checking that every
/// missed change arrived.
async fn catch_up_socket(
    addr: std::net::SocketAddr,
    resume: &serde_json::Value,
    missed: usize,
) -> Res<Duration> {
    let started = Instant::now();
    let mut ws = socketio::connect_with(addr, resume).await?;
    let mut changes = 0usize;
    loop {
        let packet = tokio::time::timeout(Duration::from_secs(60), next_packet(&mut ws))
            .await
            .map_err(|_| "catch-up stalled")?
            .ok_or("the socket closed during catch-up")?;
        match parse_event(&packet) {
            Some((name, _)) if name == "resumed" => break,
            Some((name, _)) if name == "resync_required" => {
                return Err("the server asked for a resync".into());
            }
            Some(_) => changes += 1,
            None => {}
        }
    }
    let took = started.elapsed();
    if changes != missed {
        return Err(format!("caught up on {changes} changes, not {missed}").into());
    }
    Ok(took)
}

/// The same over `GET /api/stream` with `Last-Event-ID`; `None` if the server has no stream.
async fn catch_up_stream(
    base: &str,
    token: &str,
    since: i64,
    missed: usize,
) -> Res<Option<Duration>> {
    let started = Instant::now();
    let client = http::client()?;
    let since = since.to_string();
    let mut stream =
        match EventStream::open(&client, &format!("{base}/api/stream"), token, Some(&since)).await?
        {
            Ok(stream) => stream,
            Err((404, _)) => return Ok(None),
            Err((status, body)) => {
                return Err(format!("the stream was refused: {status} {body}").into());
            }
        };
    let mut changes = 0usize;
    loop {
        let event = stream
            .next_event(Duration::from_secs(60))
            .await
            .ok_or("the stream stalled or ended during catch-up")?;
        match event.event.as_str() {
            "resumed" => break,
            "resync_required" => return Err("the server asked for a resync".into()),
            _ => changes += 1,
        }
    }
    let took = started.elapsed();
    if changes != missed {
        return Err(format!("caught up on {changes} changes, not {missed}").into());
    }
    Ok(Some(took))
}
