//! Socket.io fan-out with the receiving sockets spread over [`LISTENERS`] listener processes.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::{LISTENERS, monotonic_ns, plan, roomy};
use crate::server::Server;
use crate::stats::Samples;
use crate::{Fact, Report, Res, Row, fresh_db, http, mb, ms, set_target, socket};

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
    let mut early = 0usize;
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
                early += 1;
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
        written: String::new(),
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
        written: String::new(),
        target: String::new(),
        result: String::new(),
    });
    if early > 0 {
        eprintln!(
            "  {} write(s): every socket had the event before the HTTP response",
            early
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
