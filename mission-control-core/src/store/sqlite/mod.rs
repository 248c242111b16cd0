//! The embedded SQLite file: opening and creating it (readable by its owner only), checking it
//! is sound, and what only SQLite has: its write-ahead log kept under a bound ([`wal`]), and
//! checkpoints moved off the writer thread ([`checkpoint`]).

pub(crate) mod checkpoint;
pub(crate) mod conversions;
pub(crate) mod wal;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// How long a connection waits on a lock before giving up with "busy".
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
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
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// Opens the file (creating it and its folder, readable by their owner only, when
/// `create` allows), checks it is sound, and applies any migrations not yet applied; the write
/// connection keeps the WAL under `wal_max_bytes` (at least [`wal::MIN_WAL_MAX_BYTES`]).
pub(crate) fn open(path: &Path, create: bool, wal_max_bytes: u64) -> Result<super::Connection> {
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
            damaged(path, &e.to_string())
        } else {
            e
        }
    };
    let conn = connect(path).map_err(damaged)?;
    quick_check(&conn, path)?;
    // Checkpoints run on their own thread (see `checkpoint`), and the writer starts the log
    // over before it outgrows this bound (see `wal`); SQLite cuts the file back to it whenever
    // the log starts over.
    conn.pragma_update(None, "wal_autocheckpoint", 0)
        .map_err(Error::from_sqlite)?;
    let limit = i64::try_from(wal_max_bytes.max(wal::MIN_WAL_MAX_BYTES)).unwrap_or(i64::MAX);
    conn.pragma_update(None, "journal_size_limit", limit)
        .map_err(Error::from_sqlite)?;
    // Each write job runs in a savepoint, whose statement journal (the pages as they were before
    // the job) SQLite otherwise writes to a temporary file: four times the bytes the WAL takes
    // per write, for an undo record that never outlives the transaction. Kept in memory instead.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(Error::from_sqlite)?;
    let conn = super::Connection::Sqlite(conn);
    super::migrate::apply(&conn).map_err(damaged)?;
    Ok(conn)
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

/// A connection for reads only, with a small page cache: reads of the whole board scan rather
/// than revisit, so many concurrent readers stay cheap; the OS page cache does the rest.
pub(crate) fn connect_reader(path: &Path) -> Result<Connection> {
    let conn = connect(path)?;
    conn.pragma_update(None, "query_only", true)
        .map_err(Error::from_sqlite)?;
    conn.pragma_update(None, "cache_size", READER_CACHE_KIB)
        .map_err(Error::from_sqlite)?;
    Ok(conn)
}

/// `PRAGMA quick_check` on the open database: Ok, or the first problems SQLite found.
pub(crate) fn quick_check(conn: &rusqlite::Connection, path: &Path) -> Result<()> {
    let mut stmt = conn
        .prepare("PRAGMA quick_check(5)")
        .map_err(|e| damaged(path, &e.to_string()))?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| damaged(path, &e.to_string()))?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        Err(damaged(path, &rows.join("; ")))
    }
}

pub(crate) fn damaged(path: &Path, detail: &str) -> Error {
    Error::Unavailable(format!(
        "the database file {} is damaged ({detail}); restore it from a backup, or move it \
         away to start with an empty board",
        path.display()
    ))
}
