//! Live-update scenarios: how long a client takes to catch up on changes it missed (over
//! Socket.io and Server-Sent Events), and Socket.io fan-out with the receiving sockets spread
//! over several listener processes, so that the figure measures the server rather than one
//! client process's event loop.
//!
//! A listener is this very binary started as `mission-control-bench --listen <addr> <token>
//! <sockets>`: it connects its sockets, says `ready`, and for every numbered write prints
//! `seen <write> <ns>` once all its sockets have the write's `task.created`, `<ns>` being the
//! arrival at the last of them on `CLOCK_MONOTONIC`, the clock every process shares.

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mission_control_testkit::socketio::{self, Message, next_packet, parse_event};
use mission_control_testkit::sse::EventStream;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::server::Server;
use crate::stats::Samples;
use crate::{Fact, Report, Res, Row, fresh_db, http, mb, ms, set_target, socket};

pub const SCENARIOS: [&str; 2] = ["catchup", "spread"];

/// Listener processes the sockets are spread over.
const LISTENERS: usize = 4;
/// Catch-up runs per size (the figure is their median).
const CATCHUP_RUNS: usize = 3;

struct Plan {
    missed: Vec<usize>,
    sockets: Vec<usize>,
    writes: u32,
}

fn plan(quick: bool) -> Plan {
    if quick {
        Plan {
            missed: vec![1_000, 10_000],
            sockets: vec![200],
            writes: 10,
        }
    } else {
        Plan {
            missed: vec![1_000, 100_000],
            sockets: vec![1_000, 10_000],
            writes: 100,
        }
    }
}

/// Environment for a server that takes `sockets` connections from one address.
pub fn roomy(sockets: usize) -> Vec<(&'static str, String)> {
    vec![
        ("MAX_CONNECTIONS_PER_ADDRESS", (sockets + 64).to_string()),
        ("MAX_CONNECTIONS", (sockets + 128).to_string()),
    ]
}

/// Nanoseconds on `CLOCK_MONOTONIC`, comparable between processes.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}

// ---- catch-up ----

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

// ---- fan-out over several listener processes ----

pub async fn spread(quick: bool, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    let plan = plan(quick);
    let floor = tokio::task::spawn_blocking(|| loopback_send_floor(1_000, 20)).await??;
    report.facts.push(Fact {
        what: "kernel floor: CPU of one loopback TCP send of a 1.3 KB frame (1,000 connections, nothing else done)".into(),
        value: format!("{:.1} µs (so {:.1} ms per write to 1,000 sockets)", floor * 1e6, floor * 1e6),
        target: String::new(),
        result: String::new(),
    });
    for &n in &plan.sockets {
        spread_one(n, plan.writes, bin, tmp, report).await?;
    }
    Ok(())
}

struct Listener {
    child: Child,
    pid: u32,
}

async fn spread_one(n: usize, writes: u32, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("Socket.io fan-out to {n} sockets in {LISTENERS} listener processes");
    let server =
        Server::start_with(bin, &fresh_db(tmp, &format!("spread-{n}"))?, &roomy(n)).await?;
    let token = http::login(&server.base).await?;
    let (seen_tx, mut seen) = mpsc::unbounded_channel::<(u32, u64)>();
    let mut listeners = Vec::new();
    let connect_started = Instant::now();
    let mut ready = Vec::new();
    for i in 0..LISTENERS {
        let count = n / LISTENERS + usize::from(i < n % LISTENERS);
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                "--listen",
                &server.addr.to_string(),
                &token,
                &count.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or("a listener exited at once")?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let seen_tx = seen_tx.clone();
        tokio::spawn(async move {
            let mut ready_tx = Some(ready_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                let mut words = line.split_whitespace();
                match (words.next(), words.next(), words.next()) {
                    (Some("ready"), _, _) => {
                        if let Some(tx) = ready_tx.take() {
                            let _ = tx.send(Ok(()));
                        }
                    }
                    (Some("failed"), _, _) => {
                        if let Some(tx) = ready_tx.take() {
                            let _ = tx.send(Err(line.clone()));
                        }
                    }
                    (Some("seen"), Some(write), Some(at)) => {
                        if let (Ok(write), Ok(at)) = (write.parse(), at.parse()) {
                            let _ = seen_tx.send((write, at));
                        }
                    }
                    _ => {}
                }
            }
        });
        ready.push(ready_rx);
        listeners.push(Listener { child, pid });
    }
    drop(seen_tx);
    for r in ready {
        r.await
            .map_err(|_| "a listener exited before it was ready")?
            .map_err(|e| format!("a listener failed: {e}"))?;
    }
    let connect_took = connect_started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = server.rss_bytes()?;

    let writer = http::client()?;
    let auth = format!("Bearer {token}");
    writer
        .get(format!("{}/api/agents", server.base))
        .header("authorization", &auth)
        .send()
        .await?
        .bytes()
        .await?;
    let (mut after_answer, mut after_request) = (Samples::default(), Samples::default());
    let mut incomplete = 0u32;
    let mut early: HashMap<u32, ()> = HashMap::new();
    let (server_cpu, listeners_cpu) = (server.cpu_time(), cpu_of(&listeners));
    for k in 0..writes {
        let sent = monotonic_ns();
        let response = writer
            .post(format!("{}/api/tasks", server.base))
            .header("authorization", &auth)
            .json(&serde_json::json!({ "title": format!("{}{k}", socket::MARKER) }))
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        let answered = monotonic_ns();
        if status != reqwest::StatusCode::CREATED {
            return Err(format!("the fan-out write failed: {status}").into());
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let (mut processes, mut last) = (0usize, 0u64);
        while processes < LISTENERS {
            match tokio::time::timeout_at(deadline, seen.recv()).await {
                Ok(Some((write, at))) if write == k => {
                    processes += 1;
                    last = last.max(at);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        if processes < LISTENERS {
            incomplete += 1;
        } else {
            if last < answered {
                early.insert(k, ());
            }
            after_answer.record(Duration::from_nanos(last.saturating_sub(answered)));
            after_request.record(Duration::from_nanos(last.saturating_sub(sent)));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let server_ms = (server.cpu_time() - server_cpu).as_secs_f64() * 1e3 / f64::from(writes);
    let listeners_ms = (cpu_of(&listeners) - listeners_cpu).as_secs_f64() * 1e3 / f64::from(writes);
    let rss_after = server.rss_bytes()?;
    for mut l in listeners {
        let _ = l.child.kill().await;
    }
    let (p50, p99) = (
        after_answer.percentile_ms(0.5),
        after_answer.percentile_ms(0.99),
    );
    let timed = after_answer.len();
    report.rows.push(Row {
        what: format!(
            "Socket.io fan-out, sockets in {LISTENERS} processes: write response → `task.created` at the last of {n}"
        ),
        clients: n.to_string(),
        requests: if incomplete > 0 {
            format!("{timed} writes ({incomplete} not seen by every socket)")
        } else {
            format!("{timed} writes")
        },
        throughput: "-".into(),
        p50: ms(p50),
        p99: ms(p99),
        cpu: format!("{:.0} / {:.0} (per write)", server_ms * 1e3, listeners_ms * 1e3),
        target: String::new(),
        result: String::new(),
    });
    match n {
        1_000 => set_target(
            report,
            "at 1,000: p50 ≤ 10 ms, ≤ 5 ms server CPU per write",
            p50 <= 10.0 && server_ms <= 5.0 && incomplete == 0,
        ),
        10_000 => set_target(
            report,
            "at 10,000: p99 < 100 ms, RSS < 250 MB",
            p99 < 100.0 && rss_after < 250 * 1024 * 1024 && incomplete == 0,
        ),
        _ => {}
    }
    report.rows.push(Row {
        what: format!(
            "Socket.io fan-out, sockets in {LISTENERS} processes: write request start → last of {n}"
        ),
        clients: n.to_string(),
        requests: format!("{timed} writes"),
        throughput: "-".into(),
        p50: ms(after_request.percentile_ms(0.5)),
        p99: ms(after_request.percentile_ms(0.99)),
        cpu: String::new(),
        target: String::new(),
        result: String::new(),
    });
    if !early.is_empty() {
        eprintln!(
            "  {} write(s): every socket had the event before the HTTP response",
            early.len()
        );
    }
    report.facts.push(Fact {
        what: format!("server RSS with {n} sockets connected: idle / after {writes} writes"),
        value: format!("{} / {}", mb(rss), mb(rss_after)),
        target: if n >= 10_000 {
            "< 250 MB".into()
        } else {
            String::new()
        },
        result: String::new(),
    });
    report.facts.push(Fact {
        what: format!("server CPU per write delivering both events to {n} sockets"),
        value: format!(
            "{server_ms:.2} ms ({:.1} µs per socket)",
            server_ms * 1e3 / n as f64
        ),
        target: if n == 1_000 {
            "≤ 5 ms".into()
        } else {
            String::new()
        },
        result: String::new(),
    });
    report.facts.push(Fact {
        what: format!("time to connect and sign in {n} sockets from {LISTENERS} processes"),
        value: format!("{} ms", ms(connect_took.as_secs_f64() * 1e3)),
        target: String::new(),
        result: String::new(),
    });
    server.stop().await?;
    Ok(())
}

/// Reads one socket: answers pings, and for every `task.created` of a numbered write sends
/// (write, arrival). Lean on purpose (no copy of the frame, no parse of the payload), so that
/// the listeners take as little of the CPU they share with the server as they can.
async fn listen_lean(mut ws: socketio::Socket, seen: mpsc::UnboundedSender<(u32, Instant)>) {
    use futures_util::SinkExt;
    const CREATED: &str = "42[\"task.created\"";
    let title = format!("\"title\":\"{}", socket::MARKER);
    while let Some(Ok(frame)) = ws.next().await {
        let at = Instant::now();
        let Message::Text(text) = frame else {
            continue;
        };
        let text = text.as_str();
        if text == "2" {
            if ws.send(Message::text("3")).await.is_err() {
                return;
            }
        } else if text.starts_with(CREATED)
            && let Some(start) = text.find(&title).map(|i| i + title.len())
        {
            let write = text[start..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            if seen.send((write, at)).is_err() {
                return;
            }
        }
    }
}

/// Seconds of this thread's CPU (user + system) per `send` of a 1.3 KB frame, over `sockets`
/// loopback connections `rounds` times: what the kernel alone costs per socket per write, the
/// floor under any fan-out on this machine.
fn loopback_send_floor(sockets: usize, rounds: usize) -> Res<f64> {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let mut pairs = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let client = std::net::TcpStream::connect(addr)?;
        let (server, _) = listener.accept()?;
        server.set_nodelay(true)?;
        pairs.push((client, server));
    }
    let frame = vec![b'x'; 1300];
    let thread_cpu = || {
        // SAFETY: getrusage fills the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        seconds(usage.ru_utime) + seconds(usage.ru_stime)
    };
    let started = thread_cpu();
    for _ in 0..rounds {
        for (_, server) in &mut pairs {
            server.write_all(&frame)?;
        }
    }
    Ok((thread_cpu() - started) / (sockets * rounds) as f64)
}

fn cpu_of(listeners: &[Listener]) -> Duration {
    listeners
        .iter()
        .map(|l| crate::server::cpu_time_of(&format!("/proc/{}/stat", l.pid)))
        .sum()
}

// ---- the listener process ----

/// `--listen <addr> <token> <sockets>`: see the module documentation.
pub fn listener_main(args: &[String]) -> std::process::ExitCode {
    // One thread: four listeners and the server already share two cores.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            println!("failed cannot start a runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(listen(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            println!("failed {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn listen(args: &[String]) -> Res<()> {
    // Never outlive the benchmark, however it ends.
    // SAFETY: prctl with PR_SET_PDEATHSIG only sets this process's parent-death signal.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    let [addr, token, count] = args else {
        return Err("usage: --listen <addr> <token> <sockets>".into());
    };
    let addr: std::net::SocketAddr = addr.parse()?;
    let count: usize = count.parse()?;
    let sockets: Vec<_> = futures_util::stream::iter(0..count)
        .map(|_| socket::connect(addr, token))
        .buffer_unordered(32)
        .collect()
        .await;
    let sockets = sockets.into_iter().collect::<Res<Vec<_>>>()?;
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let _listening: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(listen_lean(ws, seen_tx.clone())))
        .collect();
    drop(seen_tx);
    println!("ready");
    // Instants of this process, on the clock every process shares.
    let (base_instant, base_ns) = (Instant::now(), monotonic_ns());
    let to_ns = |at: Instant| {
        let offset = at.saturating_duration_since(base_instant).as_nanos();
        base_ns + u64::try_from(offset).unwrap_or(0)
    };
    let mut arrivals: HashMap<u32, (usize, Instant)> = HashMap::new();
    while let Some((write, at)) = seen.recv().await {
        let entry = arrivals.entry(write).or_insert((0, at));
        entry.0 += 1;
        entry.1 = entry.1.max(at);
        if entry.0 == count {
            println!("seen {write} {}", to_ns(entry.1));
            arrivals.remove(&write);
        }
    }
    Ok(())
}
