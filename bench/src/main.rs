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
//! claims, postgres (beside SQLite; see `postgres`), attack. `--attacks` runs some of the attack scenario's attacks only (see `attack`).

mod attack;
mod claims;
mod fanout;
mod http;
mod live;
mod mcp;
mod plan;
mod postgres;
mod reads;
mod report;
mod server;
mod socket;
mod stats;
mod sustained;
mod writes;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::plan::{Args, parse_args, server_binary};
use crate::server::{Server, busy_percent, load_average};
use crate::stats::Samples;

pub(crate) use crate::plan::Plan;
pub(crate) use crate::report::{Fact, Report, Row, mb, measure, ms, set_target};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

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
        writes::create(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("update") {
        writes::update(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("list") {
        reads::list(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("events") {
        reads::events(&plan, &bin, tmp.path(), &mut report).await?;
    }
    if wants("fanout") {
        for &n in &plan.fanout_clients {
            fanout::fanout(&plan, &bin, tmp.path(), n, &mut report).await?;
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
    report::print_report(&plan, &report, tmp.path(), &load_before, began.elapsed());
    Ok(())
}

/// A fresh folder and database file for one server.
fn fresh_db(tmp: &Path, name: &str) -> Res<PathBuf> {
    let dir = tmp.join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir.join("mission-control.db"))
}
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
