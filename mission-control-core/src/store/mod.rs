//! The store: where the board's rows live, an embedded SQLite file or a PostgreSQL database,
//! behind one interface ([`Connection`]); the SQL for each table, written once for both; the
//! migrations; a pool of read connections; and the single writer of each process.
//!
//! Writes never come through here directly: they go to the writer thread in [`writer`], which
//! batches them into shared transactions (group commit). Reads run on pooled connections on
//! tokio's blocking threads; both databases let them proceed while a write commits.

pub(crate) mod agents;
pub(crate) mod changes;
pub(crate) mod comments;
mod connection;
pub(crate) mod events;
pub mod health;
pub(crate) mod idempotency;
mod migrate;
pub(crate) mod postgres;
pub(crate) mod settings;
pub(crate) mod sqlite;
pub(crate) mod tasks;
pub(crate) mod tokens;
pub(crate) mod users;
mod value;
pub(crate) mod writer;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub(crate) use connection::{Connection, Dialect, Row, Sql, params};
pub use events::{EventPage, EventQuery};
pub(crate) use postgres::PgTarget;
pub use sqlite::wal::{DEFAULT_WAL_MAX_BYTES, WalStats};
pub use tasks::{TaskCursor, TaskFilter};
pub(crate) use value::{Cell, Column, Param, Value, parsed};

use crate::error::{Error, Result};
use health::StoreHealth;

/// Idle read connections kept open; more are opened on demand and closed after use.
const MAX_IDLE_READERS: usize = 8;

/// Where a board lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (created, with its folder, when missing and allowed).
    Sqlite(PathBuf),
    /// A PostgreSQL database, as a `postgres://user:password@host:port/db?sslmode=...` URL.
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            // The URL may hold a password.
            Database::Postgres(_) => f.write_str("Postgres(..)"),
        }
    }
}

impl Database {
    /// A PostgreSQL database, once its URL is checked: the message names what is wrong.
    pub fn postgres(url: &str) -> std::result::Result<Database, String> {
        PgTarget::parse(url)?;
        Ok(Database::Postgres(url.to_owned()))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Self {
        Database::Sqlite(path)
    }
}

impl From<&PathBuf> for Database {
    fn from(path: &PathBuf) -> Self {
        Database::Sqlite(path.clone())
    }
}

impl From<&std::path::Path> for Database {
    fn from(path: &std::path::Path) -> Self {
        Database::Sqlite(path.to_owned())
    }
}

impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

/// A URL with its password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".into();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// What opening a database gives: the write connection, readers, and the store's health.
pub(crate) struct Opened {
    pub writer: Connection,
    pub readers: ReadPool,
    pub health: Arc<StoreHealth>,
}

/// Opens the board's database and applies any migrations not yet applied. An SQLite file is
/// created (with its folder, readable by its owner only) when `create` allows, and its
/// write-ahead log kept under `wal_max_bytes`.
pub(crate) fn open(database: &Database, create: bool, wal_max_bytes: u64) -> Result<Opened> {
    match database {
        Database::Sqlite(path) => {
            let writer = sqlite::open(path, create, wal_max_bytes)?;
            let health = Arc::new(StoreHealth::for_file(path));
            let readers = ReadPool::new(Source::Sqlite(path.clone()), health.clone());
            Ok(Opened {
                writer,
                readers,
                health,
            })
        }
        Database::Postgres(url) => {
            let target = PgTarget::parse(url).map_err(|e| Error::field("DATABASE_URL", e))?;
            let writer = Connection::Postgres(Box::new(target.connect()?));
            migrate::apply(&writer)?;
            let health = Arc::new(StoreHealth::for_server());
            let readers = ReadPool::new(Source::Postgres(Box::new(target)), health.clone());
            Ok(Opened {
                writer,
                readers,
                health,
            })
        }
    }
}

/// Where new read connections come from.
#[derive(Clone)]
enum Source {
    Sqlite(PathBuf),
    Postgres(Box<PgTarget>),
}

/// Read connections, reused across requests.
#[derive(Clone)]
pub(crate) struct ReadPool {
    source: Source,
    idle: Arc<Mutex<Vec<Connection>>>,
    health: Arc<StoreHealth>,
}

impl ReadPool {
    fn new(source: Source, health: Arc<StoreHealth>) -> Self {
        ReadPool {
            source,
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
            if conn.is_lost() {
                // The database went away (restarted, or the network failed): the idle
                // connections are gone too, so the next reads make new ones.
                self.forget_idle();
            }
        }
        self.checkin(conn);
        result
    }

    fn forget_idle(&self) {
        let dropped: Vec<Connection> = self
            .idle
            .lock()
            .map(|mut idle| idle.drain(..).collect())
            .unwrap_or_default();
        drop(dropped);
    }

    /// A read connection of one's own, until [`ReadPool::checkin`].
    pub fn checkout(&self) -> Result<Connection> {
        if let Some(conn) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return Ok(conn);
        }
        match &self.source {
            Source::Sqlite(path) => Ok(Connection::Sqlite(sqlite::connect_reader(path)?)),
            Source::Postgres(target) => Ok(Connection::Postgres(Box::new(target.connect()?))),
        }
    }

    /// Gives a connection back (it is closed when enough are idle already, or when it is in
    /// a transaction or broken).
    pub fn checkin(&self, conn: Connection) {
        if conn.is_idle()
            && let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("postgres://mc:s3cret@db.example:5432/board?sslmode=require"),
            "postgres://mc:***@db.example:5432/board?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db.example/board"),
            "postgres://db.example/board"
        );
        assert_eq!(
            format!("{}", Database::Postgres("postgres://a:b@h/d".into())),
            "postgres://a:***@h/d"
        );
    }
}
