//! Moves WAL checkpoints off the writer thread.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that crosses the threshold, on the
//! committing connection: with one writer thread, every write queued behind that commit waits
//! for the checkpoint's fsyncs (several milliseconds). The writer therefore turns automatic
//! checkpoints off, and this thread runs passive checkpoints from its own connection instead:
//! a passive checkpoint takes no write lock, so commits carry on while it copies and syncs.
//!
//! Passive checkpoints alone never let a busy log start over (see [`super::wal`]); they do
//! the bulk of the copying, so that the writer's own restart has little left to copy. While
//! the writer keeps ahead of it, this thread therefore checkpoints again soon rather than
//! waiting a whole interval.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::ErrorCode;
use rusqlite::wal::CheckpointMode;

use crate::error::{Error, Result};

/// How often to checkpoint whatever the WAL has gathered.
const INTERVAL: Duration = Duration::from_millis(250);
/// How often a checkpoint that keeps failing is reported: once when it starts failing, then
/// at most this often, with the count of failures since (a damaged or replaced file would
/// otherwise log four warnings a second).
const REPORT_FAILURES_EVERY: Duration = Duration::from_secs(60);
/// How soon to go again while writes keep coming (or while the writer holds the checkpoint
/// for a restart): the less a pass leaves behind, the less the writer's restart has to copy.
const BEHIND_INTERVAL: Duration = Duration::from_millis(20);

pub(crate) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> Result<Self> {
        let conn = super::connect(path)?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = stop.clone();
        let thread = std::thread::Builder::new()
            .name("mission-control-checkpoint".into())
            .spawn(move || run(conn, &signal))
            .map_err(|e| Error::Internal(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            stop,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Stops the thread after its current checkpoint; blocks until it has.
    pub fn stop_blocking(&self) {
        let (flag, wake) = &*self.stop;
        if let Ok(mut stopped) = flag.lock() {
            *stopped = true;
        }
        wake.notify_all();
        if let Some(thread) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop_blocking();
    }
}

fn run(conn: rusqlite::Connection, stop: &(Mutex<bool>, Condvar)) {
    let (flag, wake) = stop;
    let Ok(mut stopped) = flag.lock() else { return };
    let mut wait = INTERVAL;
    // (frames in the log, frames copied) after the last pass.
    let mut last = (0, 0);
    // Failures since the last report, and when that report was made.
    let mut failures: u64 = 0;
    let mut reported: Option<Instant> = None;
    loop {
        stopped = match wake.wait_timeout(stopped, wait) {
            Ok((guard, _)) => guard,
            Err(_) => return,
        };
        if *stopped {
            return;
        }
        // A pass copies the frames committed before it began; while writes keep coming, more
        // are waiting by the time it ends, so go again soon. A busy or partial pass is fine:
        // the next one continues where it stopped.
        wait = match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
            Ok(now) => {
                if failures > 0 || reported.is_some() {
                    tracing::info!(failures, "WAL checkpoints succeed again");
                    (failures, reported) = (0, None);
                }
                if now == last {
                    INTERVAL
                } else {
                    last = now;
                    BEHIND_INTERVAL
                }
            }
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) => BEHIND_INTERVAL,
            Err(e) => {
                failures += 1;
                if reported.is_none_or(|at| at.elapsed() >= REPORT_FAILURES_EVERY) {
                    tracing::warn!(error = %e, failures, "WAL checkpoint failed");
                    (failures, reported) = (0, Some(Instant::now()));
                }
                INTERVAL
            }
        };
    }
}
