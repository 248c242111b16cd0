//! One server per database. Which agents are connected (presence) and the sweeps that end
//! leases live in the serving process, so a second server on the file would show its own
//! clients a board whose presence is half true; it refuses to start instead. Other processes
//! (programs embedding the core, the command line) may share the file: every change they make
//! reaches the server's clients through the change log.
//! The lock is an exclusive lock on `<database>.lock` (the file holds the server's pid, for
//! the message), released when the process ends however it ends.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another Mission Control server{pid} is already serving {database}. One server serves a \
         database: it alone knows which agents are connected. Stop it first, or give this one \
         its own DATABASE_PATH. (Other programs share the board through this server's API, or \
         by embedding mission-control-core on the same file: their changes reach this server's \
         clients through the change log.)"
    )]
    Held { database: String, pid: String },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Held while this process serves the database.
#[derive(Debug)]
pub struct ServerLock {
    _file: File,
}

fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl ServerLock {
    /// Takes the lock, or says who holds it.
    pub fn acquire(database: &Path) -> Result<Self, LockError> {
        let path = lock_path(database);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0).map_err(io)?;
                writeln!(file, "{}", std::process::id()).map_err(io)?;
                Ok(ServerLock { _file: file })
            }
            Err(TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path)
                    .ok()
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .map(|p| format!(" (pid {p})"))
                    .unwrap_or_default();
                Err(LockError::Held {
                    database: database.display().to_string(),
                    pid,
                })
            }
            Err(TryLockError::Error(e)) => Err(io(e)),
        }
    }

    /// Fails when a server is serving `database` now (for commands that must not run beside one).
    pub fn ensure_free(database: &Path) -> Result<(), LockError> {
        if !lock_path(database).exists() {
            return Ok(());
        }
        Self::acquire(database).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mc.db");
        let first = ServerLock::acquire(&db).unwrap();
        let err = ServerLock::acquire(&db).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(ServerLock::ensure_free(&db).is_err());
        drop(first);
        assert!(ServerLock::ensure_free(&db).is_ok());
    }
}
