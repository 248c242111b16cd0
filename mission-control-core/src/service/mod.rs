//! [`MissionControl`]: the one API through which everything reads and writes.
//!
//! Every write follows the same path: the caller hands over already-validated domain values;
//! the store's writer thread checks what needs the database (does the task exist, is the
//! assignee registered), writes the row and its event-log row in one transaction, refreshes the
//! acting agent's `lastActive`, and after the commit publishes the change on the bus. The server,
//! an embedding program and tests all go through here, so they all behave the same way.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::broadcast;

use crate::auth::JwtKeys;
use crate::bus::{DomainEvent, EventBus};
use crate::domain::{Event, EventType, now_millis};
use crate::error::{Error, Result};
use crate::store::checkpoint::Checkpointer;
use crate::store::health::{HealthReport, StoreHealth};
use crate::store::writer::{Writer, Written};
use crate::store::{self, ReadPool};

mod agents;
mod feed;
mod tasks;
mod tokens;

/// Who is making a change: a registered agent (or the operator signed in as one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub agent_id: String,
}

impl Actor {
    pub fn new(agent_id: impl Into<String>) -> Self {
        Actor {
            agent_id: agent_id.into(),
        }
    }
}

/// How to open a [`MissionControl`]. Build with [`Options::new`] and change what you need.
#[derive(Clone)]
pub struct Options {
    pub database_path: PathBuf,
    /// Key for signing tokens; at least 32 bytes. Tokens signed with another key are refused.
    pub jwt_secret: Vec<u8>,
    /// Whether to create the database when the file is missing (default). Tools that must
    /// find an existing board set it to `false`.
    pub create: bool,
}

impl Options {
    /// The defaults for a database file and a signing key.
    pub fn new(database_path: impl Into<PathBuf>, jwt_secret: impl Into<Vec<u8>>) -> Self {
        Options {
            database_path: database_path.into(),
            jwt_secret: jwt_secret.into(),
            create: true,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("database_path", &self.database_path)
            .field("jwt_secret", &"..")
            .field("create", &self.create)
            .finish()
    }
}

/// Cheap to clone: all clones share one store, one writer and one bus.
#[derive(Clone)]
pub struct MissionControl {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Writer,
    checkpointer: Checkpointer,
    readers: ReadPool,
    bus: EventBus,
    keys: JwtKeys,
    /// Tokens already checked against `auth_tokens`, by SHA-256 of the token, with their
    /// expiry: most requests then need no database read to authenticate. Revoking a token
    /// removes it here too.
    verified: Mutex<HashMap<String, (Actor, i64)>>,
    health: Arc<StoreHealth>,
}

/// Most verified tokens remembered; past that the cache starts over.
pub(crate) const VERIFIED_CACHE: usize = 10_000;

impl MissionControl {
    /// Opens (or creates) the database at `path` with a random signing key, so tokens last only
    /// as long as this value. Servers use [`MissionControl::open_with`] and a stored key.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(Options::new(
            path.as_ref(),
            crate::auth::generate_secret()?.into_bytes(),
        ))
    }

    pub fn open_with(options: Options) -> Result<Self> {
        let keys = JwtKeys::new(&options.jwt_secret)?;
        let (conn, readers, health) = store::open(&options.database_path, options.create)?;
        let swept = store::tokens::delete_expired(&conn, now_millis())?;
        if swept > 0 {
            tracing::debug!(swept, "removed expired tokens");
        }
        let bus = EventBus::new();
        let writer = Writer::start(conn, bus.clone(), health.clone())?;
        let checkpointer = Checkpointer::start(&options.database_path)?;
        Ok(MissionControl {
            inner: Arc::new(Inner {
                writer,
                checkpointer,
                readers,
                bus,
                keys,
                verified: Mutex::default(),
                health,
            }),
        })
    }

    /// Every change committed from now on, in commit order.
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.inner.bus.subscribe()
    }

    /// Lets queued writes commit, then closes the database. Later writes fail with
    /// [`Error::Unavailable`].
    pub async fn shutdown(&self) {
        let inner = self.inner.clone();
        let _ = tokio::task::spawn_blocking(move || {
            inner.checkpointer.stop_blocking();
            inner.writer.shutdown_blocking();
        })
        .await;
    }

    /// Whether the database answers a query.
    pub async fn check_database(&self) -> Result<()> {
        self.read(|conn| store::sql(conn.query_row("SELECT 1", [], |_| Ok(()))))
            .await
    }

    /// What is wrong with the store, if anything: the file deleted or replaced, a recent write
    /// failure, damage SQLite reported, or no answer to a query.
    pub async fn health(&self) -> HealthReport {
        let mut report = self.inner.health.report();
        if let Err(e) = self.check_database().await {
            report
                .problems
                .push(format!("the database does not answer: {e}"));
        }
        report
    }

    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Written<T>> + Send + 'static,
    {
        self.inner.writer.write(work).await
    }

    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.inner.readers.read(f).await
    }
}

pub(crate) fn not_found(kind: &'static str, id: &str) -> Error {
    Error::NotFound {
        kind,
        id: id.to_owned(),
    }
}

/// Writes an event-log row for a change the actor made, and marks the actor active.
pub(crate) fn log(
    conn: &Connection,
    actor: &Actor,
    event_type: EventType,
    message: String,
    task_id: Option<&str>,
    now: i64,
) -> Result<Event> {
    store::agents::touch(conn, &actor.agent_id, now)?;
    insert_event(
        conn,
        event_type,
        message,
        Some(&actor.agent_id),
        task_id,
        now,
    )
}

pub(crate) fn insert_event(
    conn: &Connection,
    event_type: EventType,
    message: String,
    agent_id: Option<&str>,
    task_id: Option<&str>,
    now: i64,
) -> Result<Event> {
    let event = Event {
        id: format!("evt-{}", uuid::Uuid::now_v7()),
        event_type,
        message,
        agent_id: agent_id.map(str::to_owned),
        task_id: task_id.map(str::to_owned),
        timestamp: now,
    };
    store::events::insert(conn, &event)?;
    Ok(event)
}
