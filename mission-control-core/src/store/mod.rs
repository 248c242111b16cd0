//! The SQLite store: opening the file, migrations, a pool of read connections, and the SQL for
//! each table.
//!
//! Writes never come through here directly: they go to the single writer thread in
//! [`writer`], which batches them into shared transactions (group commit). Reads run on pooled
//! connections on tokio's blocking threads; WAL mode lets them proceed while a write commits.

pub(crate) mod agents;
pub(crate) mod changes;
pub(crate) mod checkpoint;
pub(crate) mod comments;
pub(crate) mod events;
pub mod health;
pub(crate) mod idempotency;
mod migrate;
pub(crate) mod tasks;
pub(crate) mod tokens;
pub(crate) mod wal;
pub(crate) mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use changes::StoredChange;
pub use events::{EventPage, EventQuery};
pub use tasks::{TaskCursor, TaskFilter};
pub use wal::{DEFAULT_WAL_MAX_BYTES, WalStats};

use crate::error::{Error, Result};
use health::StoreHealth;

/// How long a connection waits on a lock before giving up with "busy".
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle read connections kept open; more are opened on demand and closed after use.
const MAX_IDLE_READERS: usize = 8;
/// Page cache of a read connection, in KiB, as SQLite's negative `cache_size` says it.
const READER_CACHE_KIB: i64 = -512;

/// Opens and configures one connection to the database file, which must exist: only
/// [`open`] creates it, so a file deleted under a running server is never silently replaced
/// by an empty one.
pub(crate) fn connect(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
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

/// Opens the file (creating it and its folder, readable by their owner only, when
/// `create` allows), checks it is sound, and applies any migrations not yet applied; the write
/// connection keeps the WAL under `wal_max_bytes` (at least [`wal::MIN_WAL_MAX_BYTES`]).
pub(crate) fn open(
    path: &Path,
    create: bool,
    wal_max_bytes: u64,
) -> Result<(Connection, ReadPool, Arc<StoreHealth>)> {
    if create {
        create_private(path)?;
    } else if !path.is_file() {
        return Err(Error::Unavailable(format!(
            "no database at {}",
            path.display()
        )));
    }
    let damaged = |e: Error| {
        if e.is_corruption() {
            health::damaged(path, &e.to_string())
        } else {
            e
        }
    };
    let mut conn = connect(path).map_err(damaged)?;
    health::quick_check(&conn, path)?;
    migrate::apply(&mut conn).map_err(damaged)?;
    // Checkpoints run on their own thread (see `checkpoint`), and the writer starts the log
    // over before it outgrows this bound (see `wal`); SQLite cuts the file back to it whenever
    // the log starts over.
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(Error::from_sqlite)?;
    let limit = i64::try_from(wal_max_bytes.max(wal::MIN_WAL_MAX_BYTES)).unwrap_or(i64::MAX);
    conn.pragma_update(None, "journal_size_limit", limit)
        .map_err(Error::from_sqlite)?;
    let health = Arc::new(StoreHealth::new(path));
    Ok((conn, ReadPool::new(path.to_owned(), health.clone()), health))
}

/// Creates the database file (and its folder) if missing, readable by its owner only. SQLite
/// gives the WAL and shared-memory files the database file's permissions.
fn create_private(path: &Path) -> Result<()> {
    let cannot = |what: &Path, e: std::io::Error| {
        Error::Unavailable(format!("cannot create {}: {e}", what.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.is_dir()
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| cannot(dir, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(cannot(path, e)),
    }
}

/// Read connections, reused across requests.
#[derive(Clone)]
pub(crate) struct ReadPool {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
    health: Arc<StoreHealth>,
}

impl ReadPool {
    fn new(path: PathBuf, health: Arc<StoreHealth>) -> Self {
        ReadPool {
            path,
            idle: Arc::default(),
            health,
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
        let conn = self.checkout()?;
        let result = f(&conn);
        if let Err(e) = &result {
            self.health.note_error(e);
        }
        self.checkin(conn);
        result
    }

    /// A read connection of one's own, until [`ReadPool::checkin`].
    pub fn checkout(&self) -> Result<Connection> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        let conn = connect(&self.path)?;
        conn.pragma_update(None, "query_only", true)
            .map_err(Error::from_sqlite)?;
        // Reads of the whole board scan rather than revisit: a small cache per connection
        // keeps many concurrent readers cheap; the OS page cache does the rest.
        conn.pragma_update(None, "cache_size", READER_CACHE_KIB)
            .map_err(Error::from_sqlite)?;
        Ok(conn)
    }

    /// Gives a connection back (it is closed when enough are idle already).
    pub fn checkin(&self, conn: Connection) {
        if conn.is_autocommit()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
    }
}

/// Wraps a rusqlite error in the crate's error, sorting out "unavailable" ones.
pub(crate) fn sql<T>(result: rusqlite::Result<T>) -> Result<T> {
    result.map_err(Error::from_sqlite)
}
