//! The figures of a run and how they are printed: one table of throughput, latency, CPU and
//! bytes written per request, one of facts (memory, start-up), each beside its target.

use std::path::Path;
use std::time::Duration;

use crate::http::{self, Op, Run};
use crate::plan::Plan;
use crate::server::{Server, load_average, own_cpu_time};
use crate::{Res, attack};

/// One line of the throughput and latency table.
#[derive(Default)]
pub struct Row {
    pub what: String,
    pub clients: String,
    pub requests: String,
    pub throughput: String,
    pub p50: String,
    pub p99: String,
    pub cpu: String,
    /// Bytes the server wrote per request (`/proc/<pid>/io`): `wchar / write_bytes`.
    pub written: String,
    pub target: String,
    pub result: String,
}

/// One line of the memory and start-up table.
pub struct Fact {
    pub what: String,
    pub value: String,
    pub target: String,
    pub result: String,
}

#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
    pub facts: Vec<Fact>,
    pub attacks: Vec<attack::Row>,
    pub missed: Vec<String>,
}

impl Report {
    pub fn verdict(&mut self, target: &str, met: bool) -> String {
        if met {
            "met".into()
        } else {
            self.missed.push(target.to_owned());
            "**missed**".into()
        }
    }

    /// Judges the last row against every `(target, met)` and writes the targets and verdicts
    /// into it.
    pub fn judge_last(&mut self, checks: &[(String, bool)]) {
        let subject = self
            .rows
            .last()
            .map(|r| format!("{} at {} clients: ", r.what, r.clients))
            .unwrap_or_default();
        let verdicts: Vec<String> = checks
            .iter()
            .map(|(target, met)| self.verdict(&format!("{subject}{target}"), *met))
            .collect();
        if let Some(row) = self.rows.last_mut() {
            row.target = checks
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            row.result = verdicts.join("; ");
        }
    }
}

/// What one run of `op` measured, server side, per request sent (warm-up included).
pub struct Measured {
    pub run: Run,
    pub server_cpu_us: f64,
    /// `wchar`: bytes handed to write calls (the log, checkpoints, answers sent with `writev`).
    pub wchar_per_request: f64,
}

/// Runs `op` and adds its row; server and bench CPU and the server's bytes written are per
/// request (warm-up included).
#[allow(clippy::too_many_arguments)]
pub async fn measure(
    report: &mut Report,
    server: &Server,
    token: &str,
    what: &str,
    op: Op,
    clients: usize,
    max_requests: usize,
    max_time: Duration,
) -> Res<Run> {
    Ok(measure_io(
        report,
        server,
        token,
        what,
        op,
        clients,
        max_requests,
        max_time,
    )
    .await?
    .run)
}

/// As [`measure`], with the per-request server figures for a verdict.
#[allow(clippy::too_many_arguments)]
pub async fn measure_io(
    report: &mut Report,
    server: &Server,
    token: &str,
    what: &str,
    op: Op,
    clients: usize,
    max_requests: usize,
    max_time: Duration,
) -> Res<Measured> {
    eprintln!("  {what}, {clients} client(s)...");
    let (server_cpu, own_cpu, io) = (server.cpu_time(), own_cpu_time(), server.io());
    let run = http::run(&server.base, token, op, clients, max_requests, max_time).await?;
    let sent = (run.ok + run.failed + clients * http::WARMUP_PER_CLIENT).max(1) as f64;
    let server_us = (server.cpu_time() - server_cpu).as_secs_f64() * 1e6 / sent;
    let own_us = (own_cpu_time() - own_cpu).as_secs_f64() * 1e6 / sent;
    let written = server.io().since(&io);
    let (wchar, disk) = (
        written.wchar as f64 / sent,
        written.write_bytes as f64 / sent,
    );
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
        written: format!("{} / {}", kb(wchar), kb(disk)),
        target: String::new(),
        result: String::new(),
    });
    Ok(Measured {
        run,
        server_cpu_us: server_us,
        wchar_per_request: wchar,
    })
}

pub fn ms(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v < 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.1}")
    }
}

/// Bytes as kilobytes with one decimal.
pub fn kb(bytes: f64) -> String {
    format!("{:.1}", bytes / 1024.0)
}

pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// Resident memory and thread count, e.g. "43.4 MB (12 threads)".
pub fn rss_and_threads(server: &Server) -> Res<String> {
    Ok(format!(
        "{} ({} threads)",
        mb(server.rss_bytes()?),
        server.threads()?
    ))
}

pub fn set_target(report: &mut Report, target: &str, met: bool) {
    let result = report.verdict(target, met);
    if let Some(row) = report.rows.last_mut() {
        row.target = target.into();
        row.result = result;
    }
}

pub fn print_report(plan: &Plan, report: &Report, tmp: &Path, load_before: &str, took: Duration) {
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
            "| scenario | clients | requests | throughput | p50 (ms) | p99 (ms) | CPU µs/req server / bench | KB written/req wchar / disk | target | result |"
        );
        println!("| --- | --: | --: | --: | --: | --: | --: | --: | --- | --- |");
        for r in &report.rows {
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.what,
                r.clients,
                r.requests,
                r.throughput,
                r.p50,
                r.p99,
                r.cpu,
                r.written,
                r.target,
                r.result
            );
        }
        println!(
            "\nCPU µs/req: CPU time (user + system) the server and this load generator each used per \
             request, warm-up included; for fan-out, the server's per write (both events to every \
             socket). A fan-out p50 of 0 means the last socket had the event before the writer had \
             its HTTP response. KB written/req: what the server wrote per request, from \
             /proc/<pid>/io: `wchar` (bytes handed to write calls: the database, its log, \
             checkpoints, and answers sent with writev) / `write_bytes` (bytes sent to storage, \
             whole pages).\n"
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
