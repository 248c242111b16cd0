//! Keeps the write-ahead log under its bound, from the writer thread.
//!
//! Why this is needed: automatic checkpoints are off (see [`super::checkpoint`]), and the
//! checkpoint thread's passive checkpoints copy frames into the database beside the writer
//! without ever stopping it. SQLite can only write the log from its start again when a write
//! transaction begins with every frame already copied; a writer that never pauses appends new
//! frames before each pass finishes, so that moment never comes and the file grows without limit
//! (measured: 1.4 GB in 10 s at 16 clients, and 690 MB in 15 s at a single client).
//!
//! What happens instead: after each commit SQLite tells the writer how many frames the log holds
//! (the WAL hook). When the next group commit could take the log past its bound, the writer,
//! between two group commits and with every caller of the last one already answered, runs a
//! RESTART checkpoint itself: it copies the frames the passive checkpoints have not copied yet,
//! waits for readers still on the old log, and so makes its next transaction write the log from
//! its start. Writes that arrive meanwhile queue (a brief pause: an fsync of the log, the last
//! few pages copied, an fsync of the database); reads carry on. The file is then overwritten in
//! place rather than emptied: a TRUNCATE checkpoint, which empties it, made each pause about three
//! times longer, since the file must then grow again block by block.
//!
//! The bound is the connection's `journal_size_limit`, which [`super::open`] sets from
//! [`crate::Options::wal_max_bytes`]: SQLite also trims the file back to it whenever the log
//! starts over, so a file that outgrew it (an old WAL found at start) shrinks again at once.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, ErrorCode};

use crate::error::{Error, Result};

/// The bound used when none is configured: 64 MiB.
pub const DEFAULT_WAL_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// The smallest bound accepted; smaller requests are raised to it.
pub const MIN_WAL_MAX_BYTES: u64 = 1024 * 1024;

/// Bytes of the WAL file's header, and of each frame's header before its page.
const WAL_HEADER_BYTES: u64 = 32;
const FRAME_HEADER_BYTES: u64 = 24;
/// Longest the writer waits for a restart (for a passive pass to end, and for readers still on
/// the old log); past that it gives up and writes on, and the log may outgrow its bound until a
/// later attempt succeeds.
const RESTART_PATIENCE: Duration = Duration::from_millis(250);
/// Step of that wait: readers are short, and SQLite's own busy handler sleeps up to 100 ms.
const RESTART_POLL: Duration = Duration::from_micros(100);
/// After a restart that could not finish, writes go on this long before the next attempt,
/// doubling with each further failure up to the longest.
const RETRY_AFTER: Duration = Duration::from_secs(1);
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(32);

/// How the write-ahead log has fared since the store was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalStats {
    /// The bound the log is kept under, in bytes.
    pub max_bytes: u64,
    /// The most the log has held after any commit, in bytes.
    pub largest_bytes: u64,
    /// The largest single group commit: the bytes one transaction added to the log.
    pub largest_commit_bytes: u64,
    /// Times the writer paused to start the log over.
    pub restarts: u64,
    /// Restarts given up because readers (or another process) held on to the old log.
    pub failed_restarts: u64,
    /// Time writes spent waiting for restarts, in all and at the longest.
    pub paused: Duration,
    pub longest_pause: Duration,
}

/// The writer thread's side of the bound: what the log holds, and when to start it over.
pub(crate) struct WalBound {
    max_bytes: u64,
    frame_bytes: u64,
    /// Frames in the log after the latest commit, as the WAL hook reported.
    frames: Arc<AtomicU32>,
    /// Frames after the commit [`WalBound::after_commit`] last looked at.
    seen: u32,
    /// The largest group commit since the log last started over, in frames: the room kept free
    /// for the next one.
    headroom: u32,
    /// Set after a restart that could not finish: no new attempt before then.
    retry_after: Option<Instant>,
    /// Restarts that could not finish since the last one that did.
    failures: u32,
    stats: Arc<Mutex<WalStats>>,
}

impl WalBound {
    /// Watches the log of `conn`, the write connection, whose `journal_size_limit` is the bound.
    pub fn attach(conn: &mut Connection) -> Result<Self> {
        let limit: i64 = conn
            .pragma_query_value(None, "journal_size_limit", |r| r.get(0))
            .map_err(Error::from_sqlite)?;
        let max_bytes =
            u64::try_from(limit).map_or(DEFAULT_WAL_MAX_BYTES, |l| l.max(MIN_WAL_MAX_BYTES));
        let page_size: i64 = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .map_err(Error::from_sqlite)?;
        // What the log holds already (left by a process that stopped without closing the file,
        // or by another process on the same file). A passive checkpoint never waits; busy (another
        // connection is checkpointing) it tells nothing, and the first commit will.
        let seen = conn
            .wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE)
            .map_or(0, |(in_log, _)| u32::try_from(in_log).unwrap_or(0));
        let frames = Arc::new(AtomicU32::new(seen));
        let counter = frames.clone();
        // Replaces SQLite's automatic-checkpoint hook, which `wal_autocheckpoint = 0` turned off.
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages| {
            counter.store(u32::try_from(pages).unwrap_or(0), Ordering::Relaxed);
            Ok(())
        }))
        .map_err(Error::from_sqlite)?;
        Ok(WalBound {
            max_bytes,
            frame_bytes: page_size.unsigned_abs() + FRAME_HEADER_BYTES,
            frames,
            seen,
            headroom: 0,
            retry_after: None,
            failures: 0,
            stats: Arc::new(Mutex::new(WalStats {
                max_bytes,
                ..WalStats::default()
            })),
        })
    }

    /// The figures, shared with whoever wants to read them.
    pub fn stats(&self) -> Arc<Mutex<WalStats>> {
        self.stats.clone()
    }

    fn bytes(&self, frames: u32) -> u64 {
        WAL_HEADER_BYTES + u64::from(frames) * self.frame_bytes
    }

    /// Runs between two group commits: accounts for the last one and, if the next one could
    /// take the log past its bound, starts the log over first.
    pub fn after_commit(&mut self, conn: &mut Connection) {
        let frames = self.frames.load(Ordering::Relaxed);
        if frames == self.seen {
            return; // nothing reached the log (every job failed, or none changed anything)
        }
        // Fewer frames than before means the log started over: they are all this commit's.
        // (A log that started over on its own, after the checkpoint thread caught up with an
        // idle writer, may be counted short here; it is small then, far from its bound.)
        let added = if frames < self.seen {
            frames
        } else {
            frames - self.seen
        };
        self.seen = frames;
        self.headroom = self.headroom.max(added);
        if let Ok(mut stats) = self.stats.lock() {
            stats.largest_bytes = stats.largest_bytes.max(self.bytes(frames));
            stats.largest_commit_bytes = stats
                .largest_commit_bytes
                .max(self.bytes(added) - WAL_HEADER_BYTES);
        }
        if self.bytes(frames.saturating_add(self.headroom)) <= self.max_bytes {
            return;
        }
        if self.retry_after.is_some_and(|at| Instant::now() < at) {
            return;
        }
        self.restart(conn, frames);
    }

    fn restart(&mut self, conn: &mut Connection, frames: u32) {
        let started = Instant::now();
        let outcome = restart_checkpoint(conn, started + RESTART_PATIENCE);
        let paused = started.elapsed();
        match &outcome {
            Ok(()) => {
                self.headroom = 0;
                self.retry_after = None;
                self.failures = 0;
                tracing::debug!(
                    wal_bytes = self.bytes(frames),
                    paused_us = paused.as_micros() as u64,
                    "WAL restarted"
                );
            }
            Err(e) => {
                let wait = RETRY_AFTER
                    .saturating_mul(1 << self.failures.min(5))
                    .min(LONGEST_RETRY_AFTER);
                self.failures += 1;
                self.retry_after = Some(Instant::now() + wait);
                tracing::warn!(
                    error = %e,
                    wal_bytes = self.bytes(frames),
                    max_bytes = self.max_bytes,
                    retry_in_s = wait.as_secs(),
                    "the WAL could not start over: a reader (maybe another process) holds on to \
                     it; writes go on, and the WAL grows past its bound until a retry succeeds"
                );
            }
        }
        if let Ok(mut stats) = self.stats.lock() {
            match outcome {
                Ok(()) => stats.restarts += 1,
                Err(_) => stats.failed_restarts += 1,
            }
            stats.paused += paused;
            stats.longest_pause = stats.longest_pause.max(paused);
        }
    }
}

/// A RESTART checkpoint on the write connection, given up at `deadline`.
fn restart_checkpoint(conn: &mut Connection, deadline: Instant) -> rusqlite::Result<()> {
    // Readers still on the old log are waited for in short steps until the deadline.
    conn.busy_handler(Some(move |_| {
        std::thread::sleep(RESTART_POLL);
        Instant::now() < deadline
    }))?;
    let outcome = loop {
        match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::RESTART) {
            // Refused at once, without the busy handler: the checkpoint thread is in a pass.
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(RESTART_POLL);
            }
            other => break other.map(|_| ()),
        }
    };
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    outcome
}
