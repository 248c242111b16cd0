//! What the writers' advisory lock costs, measured without the server: group commits shaped
//! like the server's (a transaction; per job a savepoint, a row and a change-log row; the
//! one-row counter of the last seq written back; a `NOTIFY`; the commit), with and without
//! `pg_advisory_xact_lock` at the start of each.
//!
//! Without the lock only one writer is measured: with two or more, two batches would read the
//! same last seq and collide (that is what the lock is for), so that mode exists here only,
//! never in the server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::Res;
use crate::stats::Samples;

/// One measured configuration.
pub struct Commits {
    pub jobs: usize,
    pub elapsed: Duration,
    /// Each group commit, from `BEGIN` to the end of `COMMIT`.
    pub batches: Samples,
    /// Batches that failed (rolled back).
    pub failed: usize,
}

impl Commits {
    /// Adds another run of the same configuration.
    pub fn add(&mut self, other: Commits) {
        self.jobs += other.jobs;
        self.elapsed += other.elapsed;
        self.batches.merge(other.batches);
        self.failed += other.failed;
    }
}

/// A payload the size of a created task's change.
const PAYLOAD_BYTES: usize = 600;

/// Makes the tables the commits write to.
pub fn prepare(url: &str) -> Res<()> {
    let mut client = postgres::Client::connect(url, postgres::NoTls)?;
    client.batch_execute(
        "CREATE TABLE bench_rows (id TEXT PRIMARY KEY, body TEXT NOT NULL);
         CREATE TABLE bench_changes (seq BIGINT PRIMARY KEY, payload TEXT NOT NULL);
         CREATE TABLE bench_position (id SMALLINT PRIMARY KEY, last_seq BIGINT NOT NULL);
         INSERT INTO bench_position VALUES (1, 0);",
    )?;
    Ok(())
}

/// `writers` connections committing batches of `batch` jobs back to back for `time`.
pub fn group_commits(
    url: &str,
    writers: usize,
    batch: usize,
    lock: bool,
    time: Duration,
) -> Res<Commits> {
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    let barrier = Arc::new(std::sync::Barrier::new(writers));
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let (url, barrier) = (url.to_owned(), barrier.clone());
            std::thread::spawn(move || writer(&url, run, w, batch, lock, time, &barrier))
        })
        .collect();
    let mut total = Commits {
        jobs: 0,
        elapsed: Duration::ZERO,
        batches: Samples::default(),
        failed: 0,
    };
    for t in threads {
        let one = t.join().map_err(|_| "a writer thread panicked")??;
        total.jobs += one.jobs;
        total.elapsed = total.elapsed.max(one.elapsed);
        total.batches.merge(one.batches);
        total.failed += one.failed;
    }
    Ok(total)
}

fn writer(
    url: &str,
    run: usize,
    w: usize,
    batch: usize,
    lock: bool,
    time: Duration,
    barrier: &std::sync::Barrier,
) -> Res<Commits> {
    let mut c = postgres::Client::connect(url, postgres::NoTls)?;
    let take_lock = c.prepare("SELECT pg_advisory_xact_lock(4242, 1)")?;
    let last = c.prepare("SELECT last_seq FROM bench_position WHERE id = 1")?;
    let row = c.prepare("INSERT INTO bench_rows (id, body) VALUES ($1, $2)")?;
    let change = c.prepare("INSERT INTO bench_changes (seq, payload) VALUES ($1, $2)")?;
    let set_last = c.prepare("UPDATE bench_position SET last_seq = $1 WHERE id = 1")?;
    let notify = c.prepare("SELECT pg_notify('bench_changes', $1)")?;
    let payload = "x".repeat(PAYLOAD_BYTES);
    let mut out = Commits {
        jobs: 0,
        elapsed: Duration::ZERO,
        batches: Samples::default(),
        failed: 0,
    };
    let mut n = 0usize;
    barrier.wait();
    let started = Instant::now();
    while started.elapsed() < time {
        let t = Instant::now();
        let committed = (|| -> Result<(), postgres::Error> {
            let mut tx = c.transaction()?;
            if lock {
                tx.execute(&take_lock, &[])?;
            }
            let mut seq: i64 = tx.query_one(&last, &[])?.get(0);
            for _ in 0..batch {
                tx.batch_execute("SAVEPOINT job")?;
                n += 1;
                seq += 1;
                tx.execute(&row, &[&format!("{run}-{w}-{n}"), &payload])?;
                tx.execute(&change, &[&seq, &payload])?;
                tx.batch_execute("RELEASE job")?;
            }
            tx.execute(&set_last, &[&seq])?;
            tx.execute(&notify, &[&seq.to_string()])?;
            tx.commit()
        })();
        match committed {
            Ok(()) => {
                out.jobs += batch;
                out.batches.record(t.elapsed());
            }
            Err(_) => out.failed += 1,
        }
    }
    out.elapsed = started.elapsed();
    Ok(out)
}
