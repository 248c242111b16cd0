//! The SQLite store: opening the file, migrations, a pool of read connections, and the SQL for
//! each table.
//!
//! Writes never come through here directly: they go to the single writer thread in
//! [`writer`], which batches them into shared transactions (group commit). Reads run on pooled
//! connections on tokio's blocking threads; WAL mode lets them proceed while a write commits.

pub(crate) mod agents;
pub(crate) mod checkpoint;
pub(crate) mod events;
mod migrate;
pub(crate) mod tasks;
pub(crate) mod tokens;
pub(crate) mod wal;
pub(crate) mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use events::EventQuery;
pub use tasks::TaskFilter;
pub use wal::{DEFAULT_WAL_MAX_BYTES, WalStats};

use crate::error::{Error, Result};

/// How long a connection waits on a lock before giving up with "busy".
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle read connections kept open; more are opened on demand and closed after use.
const MAX_IDLE_READERS: usize = 8;

/// Opens (creating if needed) and configures one connection to the database file.
pub(crate) fn connect(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(Error::from_sqlite)?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(Error::from_sqlite)?;
    // WAL lets readers run beside the writer; NORMAL sync is durable across process crashes
    // (the case the server guarantees: every 2xx is committed) and loses at most the last
    // transactions on power loss, which is the usual trade for an app database.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(Error::from_sqlite)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(Error::from_sqlite)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(Error::from_sqlite)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Opens the file, creating its folder, and applies any migrations not yet applied; the write
/// connection keeps the WAL under `wal_max_bytes` (at least [`wal::MIN_WAL_MAX_BYTES`]).
pub(crate) fn open(path: &Path, wal_max_bytes: u64) -> Result<(Connection, ReadPool)> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Unavailable(format!("cannot create the folder {}: {e}", dir.display()))
        })?;
    }
    let mut conn = connect(path)?;
    migrate::apply(&mut conn)?;
    // Checkpoints run on their own thread (see `checkpoint`), and the writer starts the log
    // over before it outgrows this bound (see `wal`); SQLite cuts the file back to it whenever
    // the log starts over.
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(Error::from_sqlite)?;
    let limit = i64::try_from(wal_max_bytes.max(wal::MIN_WAL_MAX_BYTES)).unwrap_or(i64::MAX);
    conn.pragma_update(None, "journal_size_limit", limit)
        .map_err(Error::from_sqlite)?;
    Ok((conn, ReadPool::new(path.to_owned())))
}

/// Read connections, reused across requests.
#[derive(Clone)]
pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl ReadPool {
    fn new(path: PathBuf) -> Self {
        ReadPool {
            path,
            idle: Arc::default(),
        }
    }

    /// Runs `f` on a read connection on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || pool.read_blocking(f))
            .await
            .map_err(|e| Error::Internal(format!("read task failed: {e}")))?
    }

    /// Runs `f` on a read connection on the calling thread.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = match self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            Some(conn) => conn,
            None => {
                let conn = connect(&self.path)?;
                conn.pragma_update(None, "query_only", true)
                    .map_err(Error::from_sqlite)?;
                conn
            }
        };
        let result = f(&conn);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
        result
    }
}

/// Wraps a rusqlite error in the crate's error, sorting out "unavailable" ones.
pub(crate) fn sql<T>(result: rusqlite::Result<T>) -> Result<T> {
    result.map_err(Error::from_sqlite)
}
