//! The server under attack: what a misbehaving client (a stuck process, a buggy loop, a stolen
//! token) costs it. One module per finding of the cost review, each attack measured by the same
//! frame ([`frame`]: the server's memory before, at its peak and after, the data folder's
//! growth, and a well-behaved client's writes from another address), with the targets beside
//! each figure:
//!
//! 1. [`blocker_flip`]: flipping a blocker that 2,000 tasks of 40 KB wait for;
//! 2. [`cycle_check`]: a `PATCH` naming `blockedBy` at the bottom of a 4,000-task lattice;
//! 3. [`big_answers`]: big answers asked for and never read (MCP `list_tasks`, the heartbeat,
//!    a board page, the board resource);
//! 4. [`stalled_sockets`]: 150 signed-in sockets of one token that stop reading;
//! 5. [`replays`]: slow resumers from `since=0` over a log of big changes, beside a
//!    reconnecting dashboard;
//! 6. [`snapshot_streams`]: 32 stalled full-board and export streams from 8 addresses;
//! 7. [`storage`]: one token writing big answers with idempotency keys at the default rate.
//!
//! [`hardening`] holds the attacks of the earlier hardening (junk tokens, a sign-in flood, slow
//! bodies, stalled readers, huge packets). `--attacks name,...` runs some of them only.

mod big_answers;
mod blocker_flip;
mod cycle_check;
mod frame;
mod hardening;
mod kit;
mod replays;
mod snapshot_streams;
mod stalled_sockets;
mod storage;

use std::path::Path;
use std::time::Duration;

pub use frame::Measured;

use crate::{Plan, Report, Res, ms};

pub const SCENARIO: &str = "attack";

/// The attacks, by the name `--attacks` takes.
pub const ATTACKS: [&str; 8] = [
    hardening::NAME,
    blocker_flip::NAME,
    cycle_check::NAME,
    big_answers::NAME,
    stalled_sockets::NAME,
    replays::NAME,
    snapshot_streams::NAME,
    storage::NAME,
];

/// The targets that hold for every attack.
const WRITE_P99_TARGET_MS: f64 = 50.0;
const RSS_AFTER_TARGET_MB: f64 = 50.0;

/// How big and how long: the sizes for the full run, small ones for `--quick`.
pub struct Sizes {
    pub quick: bool,
    /// How long each attack runs.
    pub time: Duration,
    /// How long the server is left alone after an attack before its memory is read again.
    pub settle: Duration,
    pub dependents: usize,
    pub lattice: usize,
    pub held: usize,
    pub listed: usize,
    pub stalled_lists: usize,
    pub stalled_heartbeats: usize,
    pub stalled_pages: usize,
    pub sockets: usize,
    pub log_changes: usize,
    pub resumers: usize,
    pub replays: usize,
    pub board: usize,
    pub storage_time: Duration,
}

impl Sizes {
    fn of(plan: &Plan) -> Sizes {
        if plan.quick {
            Sizes {
                quick: true,
                time: Duration::from_millis(1500),
                settle: Duration::from_millis(500),
                dependents: 100,
                lattice: 400,
                held: 100,
                listed: 100,
                stalled_lists: 8,
                stalled_heartbeats: 4,
                stalled_pages: 4,
                sockets: 15,
                log_changes: 300,
                resumers: 4,
                replays: 4,
                board: 100,
                storage_time: Duration::from_secs(3),
            }
        } else {
            Sizes {
                quick: false,
                time: Duration::from_secs(20),
                settle: Duration::from_secs(3),
                dependents: 2_000,
                lattice: 4_000,
                held: 2_000,
                listed: 500,
                stalled_lists: 80,
                stalled_heartbeats: 40,
                stalled_pages: 40,
                sockets: 150,
                log_changes: 6_000,
                resumers: 16,
                replays: 24,
                board: 500,
                storage_time: Duration::from_secs(60),
            }
        }
    }
}

/// One line of the attack table.
pub struct Row {
    pub finding: &'static str,
    pub what: String,
    pub memory: String,
    pub disk: String,
    pub writes: String,
    pub observed: String,
    pub targets: String,
    pub result: String,
}

impl Row {
    /// The line of a measured attack: its figures, with the targets every attack has (the
    /// well-behaved client's write p99, memory given back) and, where the issue sets one, a
    /// bound on the memory it may add.
    pub fn measured(
        report: &mut Report,
        finding: &'static str,
        what: &str,
        m: &mut Measured,
        adds_under_mb: Option<f64>,
    ) -> Row {
        let p99 = m.writes.percentile_ms(0.99);
        let mut targets = vec![format!("write p99 < {WRITE_P99_TARGET_MS:.0} ms")];
        let mut results = vec![report.verdict(
            &format!("{what}: write p99 < {WRITE_P99_TARGET_MS:.0} ms"),
            p99 < WRITE_P99_TARGET_MS && m.write_failures == 0,
        )];
        if let Some(bound) = adds_under_mb {
            targets.push(format!("adds < {bound:.0} MB"));
            results.push(report.verdict(
                &format!("{what}: adds < {bound:.0} MB"),
                m.added_mb() < bound && m.guard.is_none(),
            ));
        }
        targets.push(format!("RSS after within {RSS_AFTER_TARGET_MB:.0} MB"));
        results.push(report.verdict(
            &format!("{what}: RSS after within {RSS_AFTER_TARGET_MB:.0} MB"),
            m.kept_mb() < RSS_AFTER_TARGET_MB,
        ));
        let mb = frame::mb;
        let guard = m
            .guard
            .as_ref()
            .map(|why| format!(" (stopped: {why})"))
            .unwrap_or_default();
        Row {
            finding,
            what: what.to_owned(),
            memory: format!(
                "{:.0} → {:.0} → {:.0} (+{:.0} at peak){guard}",
                mb(m.rss_before),
                mb(m.rss_peak),
                mb(m.rss_after),
                m.added_mb()
            ),
            disk: format!(
                "+{:.1} (peak +{:.1}; WAL peak {:.1})",
                mb(m.disk_after.saturating_sub(m.disk_before)),
                mb(m.disk_peak.saturating_sub(m.disk_before)),
                mb(m.wal_peak)
            ),
            writes: format!(
                "{} / {} / {} ({} writes{}); /health p99 {}",
                ms(m.writes.percentile_ms(0.5)),
                ms(p99),
                ms(m.writes.percentile_ms(1.0)),
                m.writes.len(),
                if m.write_failures > 0 {
                    format!(
                        ", {} failed: {}",
                        m.write_failures,
                        m.first_failure.as_deref().unwrap_or("?")
                    )
                } else {
                    String::new()
                },
                ms(m.health.percentile_ms(0.99)),
            ),
            observed: m.outcome.clone(),
            targets: targets.join("; "),
            result: results.join("; "),
        }
    }

    /// A line of its own for a figure measured otherwise (a single request timed on a quiet
    /// server, say).
    pub fn figure(finding: &'static str, what: &str, observed: String) -> Row {
        Row {
            finding,
            what: what.to_owned(),
            memory: "-".into(),
            disk: "-".into(),
            writes: "-".into(),
            observed,
            targets: String::new(),
            result: String::new(),
        }
    }

    pub fn with_target(mut self, report: &mut Report, target: &str, met: bool) -> Row {
        let result = report.verdict(&format!("{}: {target}", self.what), met);
        if !self.targets.is_empty() {
            self.targets.push_str("; ");
            self.result.push_str("; ");
        }
        self.targets.push_str(target);
        self.result.push_str(&result);
        self
    }
}

pub async fn run(
    plan: &Plan,
    bin: &Path,
    tmp: &Path,
    only: &[String],
    report: &mut Report,
) -> Res<()> {
    eprintln!("the server under attack");
    let sizes = Sizes::of(plan);
    let wants = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if wants(hardening::NAME) {
        hardening::run(&sizes, bin, tmp, report).await?;
    }
    if wants(blocker_flip::NAME) {
        blocker_flip::run(&sizes, bin, tmp, report).await?;
    }
    if wants(cycle_check::NAME) {
        cycle_check::run(&sizes, bin, tmp, report).await?;
    }
    if wants(big_answers::NAME) {
        big_answers::run(&sizes, bin, tmp, report).await?;
    }
    if wants(stalled_sockets::NAME) {
        stalled_sockets::run(&sizes, bin, tmp, report).await?;
    }
    if wants(replays::NAME) {
        replays::run(&sizes, bin, tmp, report).await?;
    }
    if wants(snapshot_streams::NAME) {
        snapshot_streams::run(&sizes, bin, tmp, report).await?;
    }
    if wants(storage::NAME) {
        storage::run(&sizes, bin, tmp, report).await?;
    }
    Ok(())
}

/// The attack table, as markdown.
pub fn print_table(rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    println!(
        "| finding | attack | server RSS before → peak → after (MB) | data folder growth (MB) | \
         well-behaved writes from 127.0.0.2: p50 / p99 / max (ms) | what the attack got | \
         targets | result |"
    );
    println!("| --- | --- | --: | --: | --- | --- | --- | --- |");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.finding, r.what, r.memory, r.disk, r.writes, r.observed, r.targets, r.result
        );
    }
    println!(
        "\nEach attack runs on a server of its own (release build, default limits but the rate \
         limit, which only the storage attack keeps at its default); the well-behaved client \
         changes its own task back to back with a 10 ms pause from 127.0.0.2 while the attack \
         runs. RSS after: a few seconds after the attackers left. An attack the guard stopped \
         (6 GB of server memory, 2 GB of data, 8 GB left on the disk) gives lower bounds.\n"
    );
}
