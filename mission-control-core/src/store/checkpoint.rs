//! Moves WAL checkpoints off the writer thread.
//!
//! SQLite's automatic checkpoint runs inside the `COMMIT` that crosses the threshold, on the
//! committing connection: with one writer thread, every write queued behind that commit waits
//! for the checkpoint's fsyncs (several milliseconds). The writer therefore turns automatic
//! checkpoints off, and this thread runs passive checkpoints from its own connection instead:
//! a passive checkpoint takes no write lock, so commits carry on while it copies and syncs.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, Result};

/// How often to checkpoint whatever the WAL has gathered.
const INTERVAL: Duration = Duration::from_millis(250);

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
    loop {
        stopped = match wake.wait_timeout(stopped, INTERVAL) {
            Ok((guard, _)) => guard,
            Err(_) => return,
        };
        if *stopped {
            return;
        }
        // (busy, pages in the WAL, pages checkpointed); a busy or partial checkpoint is fine:
        // the next round continues where this one stopped.
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}
