//! What the store knows about its own health, for `/health` and for refusing writes that could
//! not last.
//!
//! - The file: the database file open now must still be the one at its path. A file deleted
//!   (or replaced) under a running server would take every later write with it into an
//!   unlinked inode, so once that is seen every write is refused as unavailable.
//! - The last commit: a write that failed (a full disk, an I/O error) is reported until one
//!   succeeds again.
//! - Damage: once SQLite reports a corrupt page, the store says so until restarted (start-up
//!   runs `PRAGMA quick_check` and refuses a damaged file).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long a failed commit is reported when no write has succeeded since.
const WRITE_FAILURE_SHOWN_FOR: Duration = Duration::from_secs(60);

/// The store's view of itself; see [`crate::MissionControl::health`].
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// Empty when all is well; otherwise one sentence per problem.
    pub problems: Vec<String>,
    /// PostgreSQL only: how full the server's queue of notifications is (0 to 1). It fills
    /// when a process listening for changes stops reading; at 1 commits that notify fail.
    pub notification_queue_usage: Option<f64>,
}

impl HealthReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

pub(crate) struct StoreHealth {
    /// The SQLite file, and which file it was at open; `None` on a database server.
    file: Option<(PathBuf, Option<FileIdentity>)>,
    moved: AtomicBool,
    corrupt: AtomicBool,
    last_failure: Mutex<Option<(Instant, String)>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    device: u64,
    inode: u64,
}

fn identity(path: &Path) -> Option<FileIdentity> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).ok()?;
        Some(FileIdentity {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).ok().map(|_| FileIdentity {
            device: 0,
            inode: 0,
        })
    }
}

impl StoreHealth {
    /// Remembers which file is open at `path` now.
    pub fn for_file(path: &Path) -> Self {
        Self::with_file(Some((path.to_owned(), identity(path))))
    }

    /// For a database server: no file to watch.
    pub fn for_server() -> Self {
        Self::with_file(None)
    }

    fn with_file(file: Option<(PathBuf, Option<FileIdentity>)>) -> Self {
        StoreHealth {
            file,
            moved: AtomicBool::new(false),
            corrupt: AtomicBool::new(false),
            last_failure: Mutex::new(None),
        }
    }

    /// Fails once the file at the path is gone or is another file.
    pub fn check_file(&self) -> Result<()> {
        let Some((path, at_open)) = &self.file else {
            return Ok(());
        };
        if !self.moved.load(Ordering::Relaxed) && identity(path) != *at_open {
            self.moved.store(true, Ordering::Relaxed);
            tracing::error!(
                path = %path.display(),
                "the database file was deleted or replaced; refusing writes until restarted"
            );
        }
        if self.moved.load(Ordering::Relaxed) {
            return Err(Error::Unavailable(format!(
                "the database file {} was deleted or replaced while the server was running; \
                 restart the server",
                path.display()
            )));
        }
        Ok(())
    }

    pub fn note_commit(&self, committed: &std::result::Result<(), String>) {
        if let Ok(mut last) = self.last_failure.lock() {
            *last = committed
                .as_ref()
                .err()
                .map(|reason| (Instant::now(), reason.clone()));
        }
    }

    /// Looks at an error on its way out for signs of a damaged file.
    pub fn note_error(&self, error: &Error) {
        if error.is_corruption() && !self.corrupt.swap(true, Ordering::Relaxed) {
            tracing::error!(error = %error, "the database file is damaged");
        }
    }

    pub fn report(&self) -> HealthReport {
        let mut problems = Vec::new();
        let path = self
            .file
            .as_ref()
            .map_or_else(String::new, |(p, _)| p.display().to_string());
        if self.check_file().is_err() {
            problems.push(format!("the database file {path} was deleted or replaced"));
        }
        if self.corrupt.load(Ordering::Relaxed) {
            problems.push(format!(
                "the database file {path} is damaged; restore it from a backup"
            ));
        }
        if let Ok(last) = self.last_failure.lock()
            && let Some((at, reason)) = last.as_ref()
            && at.elapsed() < WRITE_FAILURE_SHOWN_FOR
        {
            problems.push(format!(
                "the last write failed {} s ago: {reason}",
                at.elapsed().as_secs()
            ));
        }
        HealthReport {
            problems,
            notification_queue_usage: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::write(&path, b"x").unwrap();
        // Held open, as SQLite holds the database: its inode cannot be reused meanwhile.
        let _open = std::fs::File::open(&path).unwrap();
        let health = StoreHealth::for_file(&path);
        assert!(health.check_file().is_ok() && health.report().is_ok());
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"y").unwrap();
        assert!(matches!(health.check_file(), Err(Error::Unavailable(_))));
        assert_eq!(health.report().problems.len(), 1);
    }

    #[test]
    fn a_failed_commit_is_reported_until_one_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::write(&path, b"x").unwrap();
        let health = StoreHealth::for_file(&path);
        health.note_commit(&Err("database or disk is full".into()));
        assert!(health.report().problems[0].contains("disk is full"));
        health.note_commit(&Ok(()));
        assert!(health.report().is_ok());
    }
}
