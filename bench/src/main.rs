//! The Mission Control load generator.
//!
//! Starts the release server binary on loopback with a fresh SQLite file (a fresh server per
//! scenario, so one scenario's data never slows the next), drives it over HTTP/1.1 keep-alive
//! and Socket.io (WebSocket), and prints the figures as a markdown table beside the project's
//! targets. Every loop is bounded both in count and in time.
//!
//! Usage: mission-control-bench [--quick] [--server <path>] [--tmp <dir>] [--only <scenario>,...]
//! [--attacks <attack>,...]
//! `--tmp` chooses where the databases go (default: the system's temp folder); a tmpfs such as
//! /dev/shm takes the disk's fsync cost out of the figures, which helps to attribute a tail.
//! Scenarios: create, update, list, events, fanout, startup, mcp, catchup, spread, sustained,
//! claims, attack, postgres (beside SQLite; see `postgres`). `--attacks` runs some of the attack scenario's attacks only (see `attack`).

mod attack;
mod claims;
mod http;
mod live;
mod mcp;
mod postgres;
mod server;
mod socket;
mod stats;
mod sustained;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rusqlite::params;
use tokio::sync::mpsc;

use crate::http::{Op, Run};
use crate::server::{Server, busy_percent, load_average, own_cpu_time};
use crate::stats::Samples;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const SCENARIOS: [&str; 13] = [
    "create",
    "update",
    "list",
    "events",
    "fanout",
    "startup",
    "mcp",
    live::SCENARIOS[0],
    live::SCENARIOS[1],
    "sustained",
    claims::SCENARIO,
    attack::SCENARIO,
    postgres::SCENARIO,
];

/// How much of everything: the full run, or a smoke run under 30 seconds.
struct Plan {
    quick: bool,
    create_clients: Vec<usize>,
    create_time: Duration,
    create_max: usize,
    update_seed: usize,
    update_time: Duration,
    list_tasks: usize,
    list_requests: usize,
    list_time: Duration,
    event_rows: usize,
    event_requests: usize,
    event_time: Duration,
    fanout_clients: Vec<usize>,
    fanout_writes: u32,
    cold_starts: usize,
    sustained_clients: usize,
    sustained_time: Duration,
    sustained_idle_reads: Duration,
    sustained_single_time: Duration,
    sustained_max: usize,
}

impl Plan {
    fn full() -> Self {
        Plan {
            quick: false,
            create_clients: vec![1, 16, 64],
            create_time: Duration::from_secs(5),
            create_max: 200_000,
            update_seed: 1_000,
            update_time: Duration::from_secs(5),
            list_tasks: 10_000,
            list_requests: 200,
            list_time: Duration::from_secs(15),
            event_rows: 1_000_000,
            event_requests: 2_000,
            event_time: Duration::from_secs(5),
            fanout_clients: vec![100, 1_000],
            fanout_writes: 100,
            cold_starts: 5,
            sustained_clients: 16,
            sustained_time: Duration::from_secs(60),
            sustained_idle_reads: Duration::from_secs(5),
            sustained_single_time: Duration::from_secs(20),
            sustained_max: 2_000_000,
        }
    }

    fn quick() -> Self {
        Plan {
            quick: true,
            create_clients: vec![1, 16, 64],
            create_time: Duration::from_millis(1_000),
            create_max: 20_000,
            update_seed: 200,
            update_time: Duration::from_millis(1_000),
            list_tasks: 2_000,
            list_requests: 20,
            list_time: Duration::from_secs(3),
            event_rows: 100_000,
            event_requests: 300,
            event_time: Duration::from_secs(1),
            fanout_clients: vec![50, 200],
            fanout_writes: 10,
            cold_starts: 3,
            sustained_clients: 16,
            sustained_time: Duration::from_secs(4),
            sustained_idle_reads: Duration::from_secs(1),
            sustained_single_time: Duration::from_secs(2),
            sustained_max: 500_000,
        }
    }
}

/// One line of the throughput and latency table.
struct Row {
    what: String,
    clients: String,
    requests: String,
    throughput: String,
    p50: String,
    p99: String,
    cpu: String,
    target: String,
    result: String,
}

/// One line of the memory and start-up table.
struct Fact {
    what: String,
    value: String,
    target: String,
    result: String,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
    facts: Vec<Fact>,
    attacks: Vec<attack::Row>,
    missed: Vec<String>,
}

impl Report {
    fn verdict(&mut self, target: &str, met: bool) -> String {
        if met {
            "met".into()
        } else {
            self.missed.push(target.to_owned());
            "**missed**".into()
        }
    }
}

struct Args {
    quick: bool,
    server: Option<PathBuf>,
    tmp: Option<PathBuf>,
    only: Vec<String>,
    attacks: Vec<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        server: None,
        tmp: None,
        only: SCENARIOS.iter().map(|s| s.to_string()).collect(),
        attacks: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--server" => args.server = Some(it.next().ok_or("--server needs a path")?.into()),
            "--tmp" => args.tmp = Some(it.next().ok_or("--tmp needs a folder")?.into()),
            "--only" => {
                let list = it.next().ok_or("--only needs a list")?;
                args.only = list.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(bad) = args.only.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
                    return Err(format!("unknown scenario {bad}; known: {SCENARIOS:?}"));
                }
            }
            "--attacks" => {
                let list = it.next().ok_or("--attacks needs a list")?;
                args.attacks = list.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(bad) = args
                    .attacks
                    .iter()
                    .find(|s| !attack::ATTACKS.contains(&s.as_str()))
                {
                    return Err(format!(
                        "unknown attack {bad}; known: {:?}",
                        attack::ATTACKS
                    ));
                }
            }
            "-h" | "--help" => {
                println!(
                    "usage: mission-control-bench [--quick] [--server <path>] [--tmp <dir>] [--only {}] [--attacks {}]",
                    SCENARIOS.join(","),
                    attack::ATTACKS.join(",")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    Ok(args)
}

/// The release server: --server, else $CARGO_TARGET_DIR/release, else target/release.
fn server_binary(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(path) = explicit {
        return path;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release").join("mission-control-server")
}

fn main() -> std::process::ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--listen") {
        return live::listener_main(&argv[2..]);
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Res<()> {
    let bin = server_binary(args.server);
    if !bin.is_file() {
        return Err(format!(
            "no server binary at {} (build it: cargo build --release -p mission-control-server)",
            bin.display()
        )
        .into());
    }
    let plan = if args.quick {
        Plan::quick()
    } else {
        Plan::full()
    };
    let mut tmp = tempfile::Builder::new();
    tmp.prefix("mc-bench-");
    let tmp = match &args.tmp {
        Some(dir) => tmp.tempdir_in(dir)?,
        None => tmp.tempdir()?,
    };
    let busy_before = busy_percent(Duration::from_secs(1))
        .await
        .map_or_else(|| "?".into(), |b| format!("{b:.0}%"));
    let load_before = format!(
        "{} (CPU busy in the second before: {busy_before})",
        load_average()
    );
    let began = Instant::now();
    eprintln!(
        "benchmarking {} ({} run, databases in {}), load average {load_before}",
        bin.display(),
        if plan.quick { "quick" } else { "full" },
        tmp.path().display()
    );
    let mut report = Report::default();
    let wants = |s: &str| args.only.iter().any(|o| o == s);
    if wants("startup") {
        startup(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("create") {
        create(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("update") {
        update(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("list") {
        list(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("events") {
        events(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("fanout") {
        for &n in &plan.fanout_clients {
            fanout(&plan, &bin, tmp.path(), n, &mut report).await?;
        }
    }
    if wants("mcp") {
        mcp::run(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("catchup") {
        live::catchup(plan.quick, &bin, tmp.path(), &mut report).await?;
    }
    if wants("spread") {
        live::spread(plan.quick, &bin, tmp.path(), &mut report).await?;
    }
    if wants("sustained") {
        sustained::sustained(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants(claims::SCENARIO) {
        claims::run(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants(postgres::SCENARIO) {
        postgres::run(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants(attack::SCENARIO) {
        attack::run(&plan, &bin, tmp.path(), &args.attacks, &mut report).await?;
    }
    print_report(&plan, &report, tmp.path(), &load_before, began.elapsed());
    Ok(())
}

/// A fresh folder and database file for one server.
fn fresh_db(tmp: &Path, name: &str) -> Res<PathBuf> {
    let dir = tmp.join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("mission-control.db"))
}

/// Runs `op` and adds its row; server and bench CPU are per request (warm-up included).
#[allow(clippy::too_many_arguments)]
async fn measure(
    report: &mut Report,
    server: &Server,
    token: &str,
    what: &str,
    op: Op,
    clients: usize,
    max_requests: usize,
    max_time: Duration,
) -> Res<Run> {
    eprintln!("  {what}, {clients} client(s)...");
    let (server_cpu, own_cpu) = (server.cpu_time(), own_cpu_time());
    let run = http::run(&server.base, token, op, clients, max_requests, max_time).await?;
    let sent = (run.ok + run.failed + clients * 5).max(1) as f64;
    let server_us = (server.cpu_time() - server_cpu).as_secs_f64() * 1e6 / sent;
    let own_us = (own_cpu_time() - own_cpu).as_secs_f64() * 1e6 / sent;
    if run.failed > 0 {
        eprintln!(
            "  {} request(s) failed; the first: {}",
            run.failed,
            run.first_failure.as_deref().unwrap_or("?")
        );
    }
    let mut latencies = run.latencies.clone();
    report.rows.push(Row {
        what: what.into(),
        clients: clients.to_string(),
        requests: if run.failed > 0 {
            format!("{} ({} failed)", run.ok, run.failed)
        } else {
            run.ok.to_string()
        },
        throughput: format!("{:.0}/s", run.throughput()),
        p50: ms(latencies.percentile_ms(0.5)),
        p99: ms(latencies.percentile_ms(0.99)),
        cpu: format!("{server_us:.0} / {own_us:.0}"),
        target: String::new(),
        result: String::new(),
    });
    Ok(run)
}

fn ms(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// Resident memory and thread count, e.g. "43.4 MB (12 threads)".
fn rss_and_threads(server: &Server) -> Res<String> {
    Ok(format!(
        "{} ({} threads)",
        mb(server.rss_bytes()?),
        server.threads()?
    ))
}

fn set_target(report: &mut Report, target: &str, met: bool) {
    let result = report.verdict(target, met);
    if let Some(row) = report.rows.last_mut() {
        row.target = target.into();
        row.result = result;
    }
}

// ---- scenarios ----

async fn startup(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("cold start and idle memory ({} starts)", plan.cold_starts);
    let (mut listening, mut healthy, mut idle) =
        (Samples::default(), Samples::default(), Vec::new());
    for i in 0..plan.cold_starts {
        let db = fresh_db(tmp, &format!("start-{i}"))?;
        let server = Server::start(bin, &db).await?;
        let to_health =
            http::wait_healthy(&server.base, server.spawned_at, Duration::from_secs(30)).await?;
        listening.record(server.started_in);
        healthy.record(to_health);
        tokio::time::sleep(Duration::from_millis(500)).await;
        idle.push(server.rss_bytes()?);
        server.stop().await?;
    }
    idle.sort_unstable();
    let idle_rss = idle[idle.len() / 2];
    report.facts.push(Fact {
        what: format!(
            "cold start: spawn to first 200 from /health (median of {})",
            plan.cold_starts
        ),
        value: format!(
            "{} ms (listening line at {} ms)",
            ms(healthy.median_ms()),
            ms(listening.median_ms())
        ),
        target: String::new(),
        result: String::new(),
    });
    let target = "RSS < 50 MB idle";
    let result = report.verdict(target, idle_rss < 50 * 1024 * 1024);
    report.facts.push(Fact {
        what: "server RSS idle after start (median)".into(),
        value: mb(idle_rss),
        target: target.into(),
        result,
    });
    Ok(())
}

async fn create(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("task create");
    for &clients in &plan.create_clients {
        let server = Server::start(bin, &fresh_db(tmp, &format!("create-{clients}"))?).await?;
        let token = http::login(&server.base).await?;
        let mut run = measure(
            report,
            &server,
            &token,
            "task create (POST /api/tasks)",
            Op::Create,
            clients,
            plan.create_max,
            plan.create_time,
        )
        .await?;
        if clients == 16 {
            let p99 = run.latencies.percentile_ms(0.99);
            let rate = run.throughput();
            let p99_ok = p99 < 5.0;
            let rate_ok = rate >= 5_000.0;
            let r1 = report.verdict("create p99 < 5 ms at 16 clients", p99_ok);
            let r2 = report.verdict(">= 5,000 creates/s at 16 clients", rate_ok);
            if let Some(row) = report.rows.last_mut() {
                row.target = "p99 < 5 ms; >= 5,000/s".into();
                row.result = format!("p99 {r1}; rate {r2}");
            }
        }
        server.stop().await?;
    }
    Ok(())
}

async fn update(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("task update");
    let server = Server::start(bin, &fresh_db(tmp, "update")?).await?;
    let token = http::login(&server.base).await?;
    let ids = Arc::new(http::seed_tasks(&server.base, &token, plan.update_seed, 32).await?);
    measure(
        report,
        &server,
        &token,
        &format!("task update (PATCH), {} tasks", plan.update_seed),
        Op::Update(ids.clone()),
        16,
        plan.create_max,
        plan.update_time,
    )
    .await?;
    // Reference points for the write path: the same auth and HTTP work without a write.
    measure(
        report,
        &server,
        &token,
        "reference: GET /api/tasks/:id",
        Op::GetTask(ids),
        16,
        plan.create_max,
        plan.update_time / 2,
    )
    .await?;
    measure(
        report,
        &server,
        "",
        "reference: GET /health (no auth)",
        Op::Get("/health".into()),
        16,
        plan.create_max,
        plan.update_time / 2,
    )
    .await?;
    server.stop().await?;
    Ok(())
}

async fn list(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("GET /api/tasks with {} tasks", plan.list_tasks);
    let server = Server::start(bin, &fresh_db(tmp, "list")?).await?;
    let token = http::login(&server.base).await?;
    let started = Instant::now();
    let cpu = server.cpu_time();
    let ids = http::seed_tasks(&server.base, &token, plan.list_tasks, 64).await?;
    let took = started.elapsed();
    report.rows.push(Row {
        what: format!("seeding: task create, {} tasks", ids.len()),
        clients: "64".into(),
        requests: ids.len().to_string(),
        throughput: format!("{:.0}/s", ids.len() as f64 / took.as_secs_f64()),
        p50: "-".into(),
        p99: "-".into(),
        cpu: format!(
            "{:.0} / -",
            (server.cpu_time() - cpu).as_secs_f64() * 1e6 / ids.len().max(1) as f64
        ),
        target: String::new(),
        result: String::new(),
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    report.facts.push(Fact {
        what: format!(
            "server RSS with {} tasks (after seeding at 64 clients)",
            plan.list_tasks
        ),
        value: rss_and_threads(&server)?,
        target: String::new(),
        result: String::new(),
    });
    let run = measure(
        report,
        &server,
        &token,
        &format!("GET /api/tasks, {} tasks", plan.list_tasks),
        Op::Get("/api/tasks".into()),
        1,
        plan.list_requests,
        plan.list_time,
    )
    .await?;
    if let Some(row) = report.rows.last_mut() {
        row.what = format!(
            "{} ({:.1} MB body)",
            row.what,
            run.body_bytes as f64 / 1_048_576.0
        );
    }
    report.facts.push(Fact {
        what: format!(
            "server RSS with {} tasks (after the GETs of the whole board)",
            plan.list_tasks
        ),
        value: rss_and_threads(&server)?,
        target: String::new(),
        result: String::new(),
    });
    server.stop().await?;
    Ok(())
}

async fn events(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("GET /api/events with {} events", plan.event_rows);
    let db = fresh_db(tmp, "events")?;
    // Start once to create the schema and sign in, stop, then bulk-load the events table.
    let server = Server::start(bin, &db).await?;
    let token = http::login(&server.base).await?;
    server.stop().await?;
    let (first, step) = insert_events(&db, plan.event_rows)?;
    let server = Server::start(bin, &db).await?;
    http::wait_healthy(&server.base, Instant::now(), Duration::from_secs(30)).await?;
    // `since` spread evenly over the whole log, so that queries see from all to almost no
    // later rows; in a shuffled order.
    let count = 1_000usize;
    let span = plan.event_rows as i64 * step;
    let mut since: Vec<i64> = (0..count as i64)
        .map(|i| first - 1 + span * i / count as i64)
        .collect();
    shuffle(&mut since);
    let since = Arc::new(since);
    let rows = plan.event_rows;
    let mut run = measure(
        report,
        &server,
        &token,
        &format!("GET /api/events?since=…&limit=50, {rows} events"),
        Op::EventsSince(since.clone()),
        1,
        plan.event_requests,
        plan.event_time,
    )
    .await?;
    let p99 = run.latencies.percentile_ms(0.99);
    if rows >= 1_000_000 {
        set_target(
            report,
            "events query p99 < 5 ms at 1,000,000 rows",
            p99 < 5.0,
        );
    }
    measure(
        report,
        &server,
        &token,
        &format!("GET /api/events?since=…&limit=50, {rows} events"),
        Op::EventsSince(since),
        16,
        plan.event_requests * 4,
        plan.event_time,
    )
    .await?;
    measure(
        report,
        &server,
        &token,
        &format!("GET /api/events?limit=50 (latest), {rows} events"),
        Op::Get("/api/events?limit=50".into()),
        1,
        plan.event_requests,
        plan.event_time,
    )
    .await?;
    report.facts.push(Fact {
        what: format!("server RSS with {rows} events (after the queries)"),
        value: rss_and_threads(&server)?,
        target: String::new(),
        result: String::new(),
    });
    server.stop().await?;
    Ok(())
}

/// Appends `rows` events in one transaction; returns the first timestamp and the step.
fn insert_events(db: &Path, rows: usize) -> Res<(i64, i64)> {
    let started = Instant::now();
    let step = 10i64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let first = now - rows as i64 * step - 60_000;
    let mut conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO events (id, type, message, agent_id, task_id, timestamp) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        const TYPES: [&str; 3] = ["task_created", "task_updated", "task_deleted"];
        for i in 0..rows {
            let ts = first + i as i64 * step;
            let id = format!("evt-{}", uuid::Uuid::now_v7());
            let task = format!("task-{}", uuid::Uuid::now_v7());
            insert.execute(params![
                id,
                TYPES[i % TYPES.len()],
                format!("Bench moved task {i}"),
                "agent-bench",
                task,
                ts
            ])?;
        }
    }
    tx.commit()?;
    drop(conn);
    eprintln!(
        "  inserted {rows} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok((first, step))
}

/// A deterministic Fisher-Yates shuffle (xorshift), so that runs are comparable.
fn shuffle<T>(items: &mut [T]) {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        items.swap(i, (state % (i as u64 + 1)) as usize);
    }
}

async fn fanout(plan: &Plan, bin: &Path, tmp: &Path, n: usize, report: &mut Report) -> Res<()> {
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
        let sent = Instant::now();
        let response = writer
            .post(format!("{}/api/tasks", server.base))
            .header("authorization", &auth)
            .json(&serde_json::json!({ "title": format!("{}{k}", socket::MARKER) }))
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        let answered = Instant::now();
        if status != reqwest::StatusCode::CREATED {
            return Err(format!("the fan-out write failed: {status}").into());
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let (mut got, mut last) = (0usize, None::<Instant>);
        while got < n {
            match tokio::time::timeout_at(deadline, seen.recv()).await {
                Ok(Some((write, at))) if write == k => {
                    got += 1;
                    last = Some(last.map_or(at, |l: Instant| l.max(at)));
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
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
        target: String::new(),
        result: String::new(),
    });
    if n >= 1_000 {
        set_target(
            report,
            "fan-out p99 < 100 ms at 1,000 clients",
            p99 < 100.0 && missing == 0,
        );
    }
    report.rows.push(Row {
        what: format!("Socket.io fan-out: write request start → last of {n} sockets"),
        clients: n.to_string(),
        requests: format!("{writes} writes"),
        throughput: "-".into(),
        p50: ms(after_request.percentile_ms(0.5)),
        p99: ms(after_request.percentile_ms(0.99)),
        cpu: String::new(),
        target: String::new(),
        result: String::new(),
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

fn print_report(plan: &Plan, report: &Report, tmp: &Path, load_before: &str, took: Duration) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "## Mission Control benchmark ({} run)\n",
        if plan.quick { "quick" } else { "full" }
    );
    println!(
        "Release server on 127.0.0.1, fresh database per scenario (in {}), {cores} cores shared by \
         server and load generator. Load average (1/5/15 min): {load_before} at start, {} at end. \
         Took {:.0} s.\n",
        tmp.display(),
        load_average(),
        took.as_secs_f64()
    );
    if !report.rows.is_empty() {
        println!(
            "| scenario | clients | requests | throughput | p50 (ms) | p99 (ms) | CPU µs/req server / bench | target | result |"
        );
        println!("| --- | --: | --: | --: | --: | --: | --: | --- | --- |");
        for r in &report.rows {
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.what,
                r.clients,
                r.requests,
                r.throughput,
                r.p50,
                r.p99,
                r.cpu,
                r.target,
                r.result
            );
        }
        println!(
            "\nCPU µs/req: CPU time (user + system) the server and this load generator each used per \
             request, warm-up included; for fan-out, the server's per write (both events to every \
             socket). A fan-out p50 of 0 means the last socket had the event before the writer had \
             its HTTP response.\n"
        );
    }
    if !report.facts.is_empty() {
        println!("| measure | value | target | result |");
        println!("| --- | --: | --- | --- |");
        for f in &report.facts {
            println!("| {} | {} | {} | {} |", f.what, f.value, f.target, f.result);
        }
        println!();
    }
    attack::print_table(&report.attacks);
    if report.missed.is_empty() {
        println!("All targets met.");
    } else {
        println!("Targets missed: {}.", report.missed.join("; "));
    }
}
