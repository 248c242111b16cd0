//! PostgreSQL beside SQLite, in the same run: task creates at 16 and 64 clients on one
//! process and on three (the clients spread over them), `claim-next` with 64 agents racing,
//! delivery from a write on one process to the last socket on another, and what the writers'
//! per-batch advisory lock costs (see [`lock`]).
//!
//! The cluster is a throwaway one started with `scripts/postgres.sh` in a temporary folder and
//! stopped at the end, or the one `MISSION_CONTROL_BENCH_POSTGRES` names; each board gets a
//! fresh database, dropped after. Without PostgreSQL the scenario says so and is skipped.

mod board;
mod cluster;
mod fanout;
mod lock;

use std::path::Path;
use std::time::Duration;

use board::Board;
use cluster::Cluster;

use crate::http::{self, Op};
use crate::server::own_cpu_time;
use crate::{Plan, Report, Res, Row, claims, live, ms};

pub const SCENARIO: &str = "postgres";

/// Processes of the several-process board.
const PROCESSES: usize = 3;

pub async fn run(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    eprintln!("PostgreSQL beside SQLite");
    let Some(cluster) = tokio::task::spawn_blocking(Cluster::start).await?? else {
        report
            .missed
            .push("the PostgreSQL scenario (no cluster)".into());
        return Ok(());
    };
    let result = scenarios(plan, bin, tmp, &cluster, report).await;
    tokio::task::spawn_blocking(move || cluster.stop()).await?;
    result
}

async fn scenarios(
    plan: &Plan,
    bin: &Path,
    tmp: &Path,
    cluster: &Cluster,
    report: &mut Report,
) -> Res<()> {
    for clients in [16, 64] {
        let board = Board::sqlite(bin, tmp, &format!("pg-ref-create-{clients}")).await?;
        creates(plan, report, &board, "SQLite, 1 process", clients).await?;
        board.stop().await?;
        for processes in [1, PROCESSES] {
            let name = format!("pg-create-{clients}-{processes}");
            let board = Board::postgres(bin, tmp, cluster, &name, processes, &[]).await?;
            let label = format!("PostgreSQL, {processes} process(es)");
            let mut run = creates(plan, report, &board, &label, clients).await?;
            if clients == 64 && processes == PROCESSES {
                let (rate, p99) = (run.throughput(), run.latencies.percentile_ms(0.99));
                let r1 = report.verdict(
                    ">= 5,000 creates/s at 64 clients through 3 PostgreSQL processes",
                    rate >= 5_000.0,
                );
                let r2 = report.verdict(
                    "create p99 < 50 ms at 64 clients through 3 PostgreSQL processes",
                    p99 < 50.0,
                );
                if let Some(row) = report.rows.last_mut() {
                    row.target = ">= 5,000/s; p99 < 50 ms".into();
                    row.result = format!("rate {r1}; p99 {r2}");
                }
            }
            board.stop().await?;
        }
    }

    let tasks = if plan.quick { 200 } else { 1_000 };
    let board = Board::sqlite(bin, tmp, "pg-ref-claims").await?;
    race(report, &board, "SQLite, 1 process", tasks).await?;
    board.stop().await?;
    for processes in [1, PROCESSES] {
        let name = format!("pg-claims-{processes}");
        let board = Board::postgres(bin, tmp, cluster, &name, processes, &[]).await?;
        race(
            report,
            &board,
            &format!("PostgreSQL, {processes} process(es)"),
            tasks,
        )
        .await?;
        board.stop().await?;
    }

    let sockets = if plan.quick { 50 } else { 100 };
    let board = Board::postgres(bin, tmp, cluster, "pg-fanout", 2, &live::roomy(sockets)).await?;
    let mut delivery = fanout::across(&board, sockets, plan.fanout_writes).await?;
    board.stop().await?;
    let p50 = delivery.after_answer.percentile_ms(0.5);
    let missing = delivery.missing;
    let target = "cross-process delivery p50 < 10 ms";
    let result = report.verdict(target, p50 < 10.0 && missing == 0);
    report.rows.push(Row {
        written: String::new(),
        what: format!(
            "PostgreSQL: write answered by process A → `task.created` at the last of {sockets} \
             sockets on process B"
        ),
        clients: sockets.to_string(),
        requests: format!(
            "{} writes{}",
            delivery.after_answer.len(),
            if missing > 0 {
                format!(" ({missing} events missing)")
            } else {
                String::new()
            }
        ),
        throughput: "-".into(),
        p50: ms(p50),
        p99: ms(delivery.after_answer.percentile_ms(0.99)),
        cpu: String::new(),
        target: target.into(),
        result,
    });
    report.rows.push(Row {
        written: String::new(),
        what: format!("PostgreSQL: write request start on A → last of {sockets} sockets on B"),
        clients: sockets.to_string(),
        requests: format!("{} writes", delivery.after_request.len()),
        throughput: "-".into(),
        p50: ms(delivery.after_request.percentile_ms(0.5)),
        p99: ms(delivery.after_request.percentile_ms(0.99)),
        cpu: String::new(),
        target: String::new(),
        result: String::new(),
    });

    advisory_lock(plan, cluster, report).await
}

/// Task creates from `clients` clients spread over the board's processes; adds its row.
async fn creates(
    plan: &Plan,
    report: &mut Report,
    board: &Board,
    label: &str,
    clients: usize,
) -> Res<http::Run> {
    eprintln!("  task create, {label}, {clients} clients...");
    let bases = board.bases();
    let token = http::login(bases[0]).await?;
    let (server_cpu, own_cpu) = (board.cpu_time(), own_cpu_time());
    let run = http::run_spread(
        &bases,
        &token,
        Op::Create,
        clients,
        plan.create_max,
        plan.create_time,
    )
    .await?;
    let sent = (run.ok + run.failed + clients * 5).max(1) as f64;
    let server_us = (board.cpu_time() - server_cpu).as_secs_f64() * 1e6 / sent;
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
        written: String::new(),
        what: format!("task create, {label}"),
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

async fn race(report: &mut Report, board: &Board, label: &str, tasks: usize) -> Res<()> {
    eprintln!("  claim-next, {label}...");
    let label = format!("claim-next, {label}, 64 agents racing over {tasks} todo tasks");
    claims::race(report, &label, &board.bases(), tasks, &|| board.cpu_time()).await
}

/// Group commits with and without the advisory lock (see [`lock`]), on a database of their own.
async fn advisory_lock(plan: &Plan, cluster: &Cluster, report: &mut Report) -> Res<()> {
    eprintln!("  the writers' advisory lock, without the server...");
    let database = cluster.database().await?;
    let url = database.url.clone();
    let time = if plan.quick {
        Duration::from_secs(1)
    } else {
        Duration::from_secs(6)
    };
    // (writers, jobs per group commit, with the lock)
    const RUNS: [(usize, usize, bool); 5] = [
        (1, 1, false),
        (1, 1, true),
        (1, 16, false),
        (1, 16, true),
        (3, 16, true),
    ];
    // In turns, a short run of each configuration per round, so that a machine whose load
    // changes during the measurement weighs on every configuration alike.
    let rounds: u32 = if plan.quick { 2 } else { 6 };
    let results = cluster::blocking(move || {
        lock::prepare(&url)?;
        let mut results: Vec<Option<lock::Commits>> = RUNS.iter().map(|_| None).collect();
        for _ in 0..rounds {
            for (&(writers, batch, with), total) in RUNS.iter().zip(&mut results) {
                let run = lock::group_commits(&url, writers, batch, with, time / rounds)?;
                match total {
                    Some(total) => total.add(run),
                    None => *total = Some(run),
                }
            }
        }
        Ok(results.into_iter().flatten().collect::<Vec<_>>())
    })
    .await?;
    drop(database);
    let mut p50s = Vec::new();
    for ((writers, batch, with), mut commits) in RUNS.into_iter().zip(results) {
        let p50 = commits.batches.percentile_ms(0.5);
        p50s.push(p50);
        report.rows.push(Row {
            written: String::new(),
            what: format!(
                "PostgreSQL group commits of {batch} job(s), {writers} writer(s), {} the \
                 advisory lock (no server)",
                if with { "with" } else { "without" }
            ),
            clients: writers.to_string(),
            requests: if commits.failed > 0 {
                format!(
                    "{} commits ({} failed)",
                    commits.batches.len(),
                    commits.failed
                )
            } else {
                format!("{} commits", commits.batches.len())
            },
            throughput: format!(
                "{:.0} jobs/s",
                commits.jobs as f64 / commits.elapsed.as_secs_f64().max(1e-9)
            ),
            p50: ms(p50),
            p99: ms(commits.batches.percentile_ms(0.99)),
            cpu: String::new(),
            target: String::new(),
            result: String::new(),
        });
    }
    report.facts.push(crate::Fact {
        what: "the advisory lock's cost per group commit, one writer (p50 with − without)".into(),
        value: format!(
            "{} ms at 1 job, {} ms at 16 jobs",
            ms(p50s[1] - p50s[0]),
            ms(p50s[3] - p50s[2])
        ),
        target: String::new(),
        result: String::new(),
    });
    Ok(())
}
