//! Sustained writes: what a board looks like after a minute of agents writing without pause.
//!
//! Sixteen clients create tasks back to back for a minute while two paced readers (one
//! `GET /api/tasks/:id`, one the event feed `GET /api/events?limit=50`, each a request every
//! few milliseconds) measure what reads cost meanwhile (and, for reference, for a few seconds
//! before the writes start), and a sampler watches the database file and its write-ahead log on
//! disk. The WAL must stay within the server's bound (`WAL_MAX_MB`, give or take one group
//! commit) however long the writes go on; the reads must stay fast. Then one client writes on,
//! on the same board: the tail a lone agent sees, over a longer run than `create` makes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::http::{self, Op};
use crate::server::{Server, WAL_MAX_MB};
use crate::stats::Samples;
use crate::{Fact, Plan, Report, Res, Row, fresh_db, mb, measure, ms};

/// Time between two requests of one paced reader.
const READ_EVERY: Duration = Duration::from_millis(5);
/// Time between two looks at the file sizes.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);
/// Tasks created before the run, for the reader of single tasks.
const SEED_TASKS: usize = 1_000;
/// What the WAL may hold beyond its bound: one group commit, far less than this.
const ONE_GROUP_COMMIT: u64 = 1 << 20;

pub async fn sustained(plan: &Plan, bin: &Path, tmp: &Path, report: &mut Report) -> Res<()> {
    let secs = plan.sustained_time.as_secs();
    let clients = plan.sustained_clients;
    eprintln!("sustained writes: {clients} clients for {secs} s, with paced reads");
    let db = fresh_db(tmp, "sustained")?;
    let server = Server::start(bin, &db).await?;
    let token = http::login(&server.base).await?;
    let ids = Arc::new(http::seed_tasks(&server.base, &token, SEED_TASKS, 16).await?);

    // The same readers alone first, for reference.
    let reads = Readers::start(&server, &token, &ids);
    tokio::time::sleep(plan.sustained_idle_reads).await;
    let (mut idle_by_id, mut idle_feed) = reads.stop().await?;

    let stop = Arc::new(AtomicBool::new(false));
    let files = tokio::spawn(watch_files(db.clone(), stop.clone()));
    let reads = Readers::start(&server, &token, &ids);
    let written = measure(
        report,
        &server,
        &token,
        &format!("sustained task create (POST /api/tasks), {secs} s, with paced reads"),
        Op::Create,
        clients,
        plan.sustained_max,
        plan.sustained_time,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let (largest_wal, wal_at_end, db_at_end) = files.await?;
    let (by_id, feed) = reads.stop().await?;
    let mut written = written?;
    let wal_target = format!("WAL ≤ {WAL_MAX_MB} MB (+ one group commit)");
    let wal_result = report.verdict(
        &wal_target,
        largest_wal <= (WAL_MAX_MB << 20) + ONE_GROUP_COMMIT,
    );
    if let Some(row) = report.rows.last_mut() {
        row.target = wal_target.clone();
        row.result = format!("{wal_result} (largest {})", mb(largest_wal));
    }
    for (what, mut reads, idle) in [
        ("GET /api/tasks/:id", by_id, &mut idle_by_id),
        ("GET /api/events?limit=50 (the feed)", feed, &mut idle_feed),
    ] {
        report.rows.push(Row {
            what: format!(
                "{what} during the sustained writes, one request every {} ms",
                READ_EVERY.as_millis()
            ),
            clients: "1".into(),
            requests: reads.len().to_string(),
            throughput: "-".into(),
            p50: ms(reads.percentile_ms(0.5)),
            p99: ms(reads.percentile_ms(0.99)),
            cpu: String::new(),
            written: String::new(),
            target: String::new(),
            result: format!(
                "max {} ms; without the writes p50 {}, p99 {} ms",
                ms(reads.percentile_ms(1.0)),
                ms(idle.percentile_ms(0.5)),
                ms(idle.percentile_ms(0.99))
            ),
        });
    }
    report.facts.push(Fact {
        what: format!("largest WAL seen during {secs} s of writes at {clients} clients"),
        value: mb(largest_wal),
        target: wal_target,
        result: wal_result,
    });
    report.facts.push(Fact {
        what: format!(
            "database and WAL after {} creates (+{SEED_TASKS} seeded); write p99.9 / max",
            written.ok
        ),
        value: format!(
            "{} and {}; {} / {} ms",
            mb(db_at_end),
            mb(wal_at_end),
            ms(written.latencies.percentile_ms(0.999)),
            ms(written.latencies.percentile_ms(1.0))
        ),
        target: String::new(),
        result: String::new(),
    });
    single(plan, &server, &token, report).await?;
    server.stop().await?;
    Ok(())
}

/// One client writing on, on the same server: the tail a lone agent sees on a board that has
/// just taken the sustained writes, over a longer run than the `create` scenario makes.
async fn single(plan: &Plan, server: &Server, token: &str, report: &mut Report) -> Res<()> {
    let secs = plan.sustained_single_time.as_secs();
    let mut run = measure(
        report,
        server,
        token,
        &format!("then task create at 1 client on the same board, {secs} s"),
        Op::Create,
        1,
        plan.sustained_max,
        plan.sustained_single_time,
    )
    .await?;
    let p99 = run.latencies.percentile_ms(0.99);
    let target = "create p99 < 2 ms at 1 client";
    let result = report.verdict(target, p99 < 2.0);
    if let Some(row) = report.rows.last_mut() {
        row.target = target.into();
        row.result = format!(
            "{result} (p99.9 {} ms, max {} ms)",
            ms(run.latencies.percentile_ms(0.999)),
            ms(run.latencies.percentile_ms(1.0))
        );
    }
    Ok(())
}

/// The two paced readers: single tasks by id, and the event feed.
struct Readers {
    stop: Arc<AtomicBool>,
    by_id: tokio::task::JoinHandle<Res<Samples>>,
    feed: tokio::task::JoinHandle<Res<Samples>>,
}

impl Readers {
    fn start(server: &Server, token: &str, ids: &Arc<Vec<String>>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let reader = |op| {
            tokio::spawn(paced_reads(
                server.base.clone(),
                token.to_owned(),
                op,
                stop.clone(),
            ))
        };
        Readers {
            by_id: reader(Op::GetTask(ids.clone())),
            feed: reader(Op::Get("/api/events?limit=50".into())),
            stop,
        }
    }

    /// Stops both; their latencies.
    async fn stop(self) -> Res<(Samples, Samples)> {
        self.stop.store(true, Ordering::Relaxed);
        Ok((self.by_id.await??, self.feed.await??))
    }
}

/// Sends `op` every [`READ_EVERY`] until `stop`; the latencies of the successful requests.
async fn paced_reads(base: String, token: String, op: Op, stop: Arc<AtomicBool>) -> Res<Samples> {
    let client = http::client()?;
    let mut samples = Samples::default();
    let mut tick = tokio::time::interval(READ_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failed = 0usize;
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let started = std::time::Instant::now();
        match http::send(&op, &client, &base, &token, n).await {
            Ok(_) => samples.record(started.elapsed()),
            Err(why) => {
                failed += 1;
                if failed == 1 {
                    eprintln!("  a paced read failed: {why}");
                }
            }
        }
        n += 1;
    }
    if failed > 0 {
        eprintln!("  {failed} paced read(s) failed");
    }
    Ok(samples)
}

/// Looks at the sizes of the database file and its WAL every [`SAMPLE_EVERY`] until `stop`:
/// the largest WAL seen, then the WAL and the database at the end.
async fn watch_files(db: PathBuf, stop: Arc<AtomicBool>) -> (u64, u64, u64) {
    let mut wal_path = db.clone().into_os_string();
    wal_path.push("-wal");
    let wal_path = PathBuf::from(wal_path);
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut largest = 0;
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        largest = largest.max(size(&wal_path));
    }
    let wal = size(&wal_path);
    (largest.max(wal), wal, size(&db))
}
