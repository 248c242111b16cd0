//! [`MissionControl`]: the one API through which everything reads and writes.
//!
//! Every write follows the same path: the caller hands over already-validated domain values;
//! the store's writer thread checks what needs the database (does the task exist, may this
//! actor do this, is the assignee registered), writes the rows, their event-log row and their
//! change-log entries in one transaction, and after the commit publishes the change on the bus.
//! The server, an embedding program and tests all go through here, so they all behave the same
//! way. One module per concept: [`tasks`](self) and their claims, comments, agents, people and
//! the policy that says who may do what, presence, tokens, the board's history (the event log and the change log), and the sweeper that runs
//! the clock-driven rules.
//!
//! Opening a board reads it and writes nothing of its own accord: the clock-driven rules
//! (leases that run out, silent agents going offline, forgetting what has expired) run only
//! once [`MissionControl::start_sweeps`] is called, in the one process that serves the board.
//! A command that reads the board (an export, a backup) therefore changes nothing, and never
//! marks offline an agent whose live connection another process holds.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::Connection;
use tokio::sync::{broadcast, watch};

use crate::bus::{Committed, EventBus};
use crate::credentials::JwtKeys;
use crate::domain::{AgentId, Event, EventType};
use crate::error::{Error, Result};
use crate::store::health::{HealthReport, StoreHealth};
use crate::store::sqlite::checkpoint::Checkpointer;
use crate::store::writer::{Seqs, Writer, Written};
use crate::store::{self, Database, ReadPool, Sql, params};

mod agents;
mod blockers;
mod claims;
mod comments;
mod export;
mod history;
mod idempotency;
mod import;
mod pages;
mod people;
mod policy;
mod presence;
mod settings;
mod snapshot;
mod sweeper;
mod tasks;
mod tokens;

pub use claims::{Completed, Heartbeat};
pub use comments::CommentPage;
pub use export::{BoardExport, EXPORT_PAGE};
pub use history::{Catchup, ChangePage};
pub use idempotency::Idempotent;
pub use import::ImportReport;
pub use pages::{CHANGES_PAGE_MAX_BYTES, PAGE_MAX_BYTES};
pub use presence::LiveConnection;
pub use settings::Setting;
pub use snapshot::{BoardReader, Snapshot};
pub use tasks::TaskPage;

pub use people::{INVITE_TTL_MS, Invite, MAX_PEOPLE, SignInRecord};
pub use policy::{Action, Policy, Principal, Target};
use presence::Presence;
use sweeper::Sweeper;
use tokens::VerifiedTokens;

/// Who is making a change: an agent with its token, or a person signed in, acting as their
/// own card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The card whose name the change carries.
    pub agent_id: String,
    /// What the policy weighs: a person's access role, or an agent.
    pub principal: Principal,
}

impl Actor {
    /// An agent acting with its token.
    pub fn new(agent_id: impl Into<String>) -> Self {
        Actor {
            agent_id: agent_id.into(),
            principal: Principal::Agent,
        }
    }

    /// A person signed in with this access role.
    pub fn person(agent_id: impl Into<String>, access: crate::domain::Access) -> Self {
        Actor {
            agent_id: agent_id.into(),
            principal: Principal::Person(access),
        }
    }
}

/// How to open a [`MissionControl`]. Build with [`Options::new`] and change what you need.
#[derive(Clone)]
pub struct Options {
    /// Where the board lives: an SQLite file or a PostgreSQL database.
    pub database: Database,
    /// PostgreSQL only: a URL that reaches the server directly, for the two connections that
    /// must stay open (listening for other processes' commits, and leading the board's clock),
    /// when `database` goes through a pooler such as PgBouncer in transaction mode, which
    /// supports neither. `None`: `database` itself.
    pub database_direct: Option<String>,
    /// Key for signing tokens; at least 32 bytes. Tokens signed with another key are refused.
    pub jwt_secret: Vec<u8>,
    /// Whether to create the database when the file is missing (default). Tools that must
    /// find an existing board set it to `false`.
    pub create: bool,
    /// The operator's agent: the one actor who may register, rename, re-role or remove
    /// agents, mint and revoke their tokens, and override claims. `None`: nobody may.
    pub operator: Option<AgentId>,
    /// An agent not heard from for this long is marked offline. Two minutes by default.
    pub agent_offline_after: Duration,
    /// How long the change log keeps each change (seven days by default) ...
    pub change_log_retention: Duration,
    /// ... how many changes it keeps at most (a million by default) ...
    pub change_log_max_entries: u64,
    /// ... and how many bytes of payloads at most (1 GiB by default): past any of the three,
    /// the oldest changes go first (a client resuming from before them is told to resync).
    pub change_log_max_bytes: u64,
    /// Most bytes one agent's idempotency keys may take (key, fingerprint and answer): past
    /// it, its oldest keys are forgotten first. 8 MiB by default.
    pub idempotency_bytes_per_agent: u64,
    /// Most bytes the write-ahead log may hold, however steady the writes (at least 1 MiB);
    /// [`crate::DEFAULT_WAL_MAX_BYTES`] by default.
    pub wal_max_bytes: u64,
}

impl Options {
    pub const DEFAULT_AGENT_OFFLINE_AFTER: Duration = Duration::from_secs(120);
    pub const DEFAULT_CHANGE_LOG_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);
    pub const DEFAULT_CHANGE_LOG_MAX_ENTRIES: u64 = 1_000_000;
    pub const DEFAULT_CHANGE_LOG_MAX_BYTES: u64 = 1024 * 1024 * 1024;
    pub const DEFAULT_IDEMPOTENCY_BYTES_PER_AGENT: u64 = 8 * 1024 * 1024;

    /// The defaults for a database (an SQLite file's path, or a [`Database`]) and a signing
    /// key.
    pub fn new(database: impl Into<Database>, jwt_secret: impl Into<Vec<u8>>) -> Self {
        Options {
            database: database.into(),
            database_direct: None,
            jwt_secret: jwt_secret.into(),
            create: true,
            operator: None,
            agent_offline_after: Self::DEFAULT_AGENT_OFFLINE_AFTER,
            change_log_retention: Self::DEFAULT_CHANGE_LOG_RETENTION,
            change_log_max_entries: Self::DEFAULT_CHANGE_LOG_MAX_ENTRIES,
            change_log_max_bytes: Self::DEFAULT_CHANGE_LOG_MAX_BYTES,
            idempotency_bytes_per_agent: Self::DEFAULT_IDEMPOTENCY_BYTES_PER_AGENT,
            wal_max_bytes: crate::DEFAULT_WAL_MAX_BYTES,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("database", &self.database)
            .field(
                "database_direct",
                &self.database_direct.as_ref().map(|_| ".."),
            )
            .field("jwt_secret", &"..")
            .field("create", &self.create)
            .field("operator", &self.operator)
            .field("agent_offline_after", &self.agent_offline_after)
            .field("change_log_retention", &self.change_log_retention)
            .field("change_log_max_entries", &self.change_log_max_entries)
            .field("change_log_max_bytes", &self.change_log_max_bytes)
            .field(
                "idempotency_bytes_per_agent",
                &self.idempotency_bytes_per_agent,
            )
            .field("wal_max_bytes", &self.wal_max_bytes)
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
    /// SQLite only: checkpoints off the writer thread.
    checkpointer: Option<Checkpointer>,
    readers: ReadPool,
    bus: EventBus,
    keys: JwtKeys,
    policy: Policy,
    agent_offline_after: Duration,
    change_log_retention: Duration,
    change_log_max_entries: u64,
    change_log_max_bytes: u64,
    idempotency_bytes_per_agent: u64,
    /// Tokens already checked against `auth_tokens` (see [`VerifiedTokens`]): most requests
    /// then need no database read to authenticate.
    verified: Mutex<VerifiedTokens>,
    /// When each token (by id) was last used, gathered between flushes to the database.
    token_use: Mutex<HashMap<String, i64>>,
    presence: Arc<Presence>,
    health: Arc<StoreHealth>,
    /// The clock-driven rules, once [`MissionControl::start_sweeps`] has started them.
    sweeper: Mutex<Option<Sweeper>>,
    /// On PostgreSQL: where the database is, for the connections of the listener and the
    /// leader, which live outside the pools.
    postgres: Option<store::PgTarget>,
    /// The newest seq known to be committed, by this process or (on PostgreSQL, once
    /// [`MissionControl::watch_log`] has started listening) by any other.
    announced: watch::Sender<i64>,
    listener: Mutex<Option<store::postgres::Listener>>,
}

impl MissionControl {
    /// Opens (or creates) the database at `path` with a random signing key, so tokens last only
    /// as long as this value. Servers use [`MissionControl::open_with`] and a stored key.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(Options::new(
            path.as_ref(),
            crate::credentials::generate_secret()?.into_bytes(),
        ))
    }

    /// Opens (or, when `options.create` allows, creates) the database and brings an older
    /// file's schema up to date. Opening writes nothing else and starts no clock-driven rule:
    /// see [`MissionControl::start_sweeps`].
    pub fn open_with(options: Options) -> Result<Self> {
        // PostgreSQL's synchronous client runs a small runtime of its own, which may not be
        // started from inside another: opening from async code does its reads on a thread of
        // its own.
        if matches!(options.database, Database::Postgres(_))
            && tokio::runtime::Handle::try_current().is_ok()
        {
            return std::thread::scope(|scope| {
                scope
                    .spawn(|| Self::open_here(options))
                    .join()
                    .unwrap_or_else(|_| Err(Error::Internal("opening the board panicked".into())))
            });
        }
        Self::open_here(options)
    }

    fn open_here(options: Options) -> Result<Self> {
        let keys = JwtKeys::new(&options.jwt_secret)?;
        let store::Opened {
            writer: conn,
            readers,
            health,
        } = store::open(&options.database, options.create, options.wal_max_bytes)?;
        let presence = Arc::new(Presence::load(&conn)?);
        let bus = EventBus::new();
        let (checkpointer, reconnect, postgres) = match &options.database {
            Database::Sqlite(path) => (Some(Checkpointer::start(path)?), None, None),
            Database::Postgres(url) => {
                let main =
                    store::PgTarget::parse(url).map_err(|e| Error::field("DATABASE_URL", e))?;
                let direct = match &options.database_direct {
                    Some(direct) => store::PgTarget::parse(direct)
                        .map_err(|e| Error::field("DATABASE_DIRECT_URL", e))?,
                    None => main.clone(),
                };
                (None, Some(main), Some(direct))
            }
        };
        let announced = watch::Sender::new(store::changes::latest(&conn)?);
        let writer = Writer::start(
            conn,
            reconnect,
            bus.clone(),
            announced.clone(),
            health.clone(),
        )?;
        Ok(MissionControl {
            inner: Arc::new(Inner {
                writer,
                checkpointer,
                readers,
                bus,
                keys,
                policy: Policy::new(options.operator.map(|id| id.as_str().to_owned())),
                agent_offline_after: options.agent_offline_after,
                change_log_retention: options.change_log_retention,
                change_log_max_entries: options.change_log_max_entries,
                change_log_max_bytes: options.change_log_max_bytes,
                idempotency_bytes_per_agent: options.idempotency_bytes_per_agent,
                verified: Mutex::default(),
                token_use: Mutex::default(),
                presence,
                health,
                sweeper: Mutex::new(None),
                postgres,
                announced,
                listener: Mutex::new(None),
            }),
        })
    }

    /// Starts the board's clock in this process: the rules that run on time rather than on a
    /// request. Every second, claims whose lease ran out go back to `todo`; every few seconds,
    /// agents silent for `agent_offline_after` (with no live connection here) are marked
    /// offline; every half minute, signs of life and token use are written down; every minute,
    /// expired tokens, day-old idempotency keys and changes past the change log's bounds (age,
    /// count and bytes) are forgotten (the old changes also at once). Runs on a thread of its own until
    /// [`MissionControl::shutdown`] (or the last handle is dropped); calling it again does
    /// nothing.
    ///
    /// Start it in one process per board: the one that serves it, since only that process
    /// knows which agents hold live connections. A program that only reads the board, or
    /// writes beside a running server, leaves it off.
    pub fn start_sweeps(&self) -> Result<()> {
        let mut slot = self.inner.sweeper.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(Sweeper::start(Arc::downgrade(&self.inner))?);
        }
        Ok(())
    }

    /// Whether a server process serves this PostgreSQL board now (one of them leads its
    /// clock); `false` on SQLite, where the server's lock file says it instead.
    pub async fn served_elsewhere(&self) -> Result<bool> {
        let Some(target) = self.inner.postgres.clone() else {
            return Ok(false);
        };
        tokio::task::spawn_blocking(move || store::postgres::led(&target))
            .await
            .map_err(|e| Error::Internal(format!("cannot ask who serves the board: {e}")))?
    }

    /// Whether [`MissionControl::start_sweeps`] has started the clock in this process.
    pub fn sweeping(&self) -> bool {
        self.inner
            .sweeper
            .lock()
            .map(|s| s.is_some())
            .unwrap_or(false)
    }

    /// The newest seq known to be committed: by this process at once, and on PostgreSQL by any
    /// process on the database within milliseconds (the first call starts listening for their
    /// commits; see `store/postgres/listener.rs`). A follower of the change log waits on it
    /// and then reads the log from where it stands; it is a doorbell, not the data, so a
    /// follower should still read the log now and then in case a ring was missed.
    pub fn watch_log(&self) -> Result<watch::Receiver<i64>> {
        if let Some(target) = &self.inner.postgres {
            let mut listener = self
                .inner
                .listener
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if listener.is_none() {
                *listener = Some(store::postgres::Listener::start(
                    target.clone(),
                    self.inner.announced.clone(),
                )?);
            }
        }
        Ok(self.inner.announced.subscribe())
    }

    /// Every change committed from now on, in commit order; each change a client can see
    /// carries its place in the change log.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.inner.bus.subscribe()
    }

    /// Lets queued writes commit, then closes the database. Later writes fail with
    /// [`Error::Unavailable`].
    pub async fn shutdown(&self) {
        let inner = self.inner.clone();
        let _ = tokio::task::spawn_blocking(move || {
            inner.listener.lock().ok().and_then(|mut l| l.take());
            let sweeper = inner.sweeper.lock().ok().and_then(|mut s| s.take());
            if let Some(sweeper) = sweeper {
                sweeper.stop_blocking();
            }
            if let Some(checkpointer) = &inner.checkpointer {
                checkpointer.stop_blocking();
            }
            inner.writer.shutdown_blocking();
        })
        .await;
    }

    /// Whether `actor` may do everything: an admin, or the operator (see `service/policy.rs`).
    pub fn is_admin(&self, actor: &Actor) -> bool {
        self.inner.policy.is_admin(actor)
    }

    /// Whether `actor` may change the board's work at all (a viewer may not).
    pub(crate) fn may_work(&self, actor: &Actor) -> Result<()> {
        self.allows(Some(actor), Action::Work, Target::Board)
    }

    /// Whether `actor` (`None`: the system itself) may do `action` to `target`: the one
    /// question every door asks (see `service/policy.rs`).
    pub fn allows(
        &self,
        actor: Option<&Actor>,
        action: Action<'_>,
        target: Target<'_>,
    ) -> Result<()> {
        self.inner.policy.allows(actor, action, target)
    }

    /// How the write-ahead log has fared since opening: its bound, the most it held, restarts.
    pub fn wal_stats(&self) -> crate::WalStats {
        self.inner.writer.wal_stats()
    }

    /// Whether the database answers a query.
    pub async fn check_database(&self) -> Result<()> {
        self.read(|conn| conn.exists(&Sql::new("SELECT 1"), params![]).map(|_| ()))
            .await
    }

    /// What is wrong with the store, if anything: the file deleted or replaced, a recent write
    /// failure, damage SQLite reported, or no answer to a query.
    pub async fn health(&self) -> HealthReport {
        /// The queue's use in parts per million (the driver reads whole numbers).
        const QUEUE: Sql =
            Sql::new("SELECT CAST(pg_notification_queue_usage() * 1000000 AS BIGINT)");
        let mut report = self.inner.health.report();
        if let Err(e) = self.check_database().await {
            report
                .problems
                .push(format!("the database does not answer: {e}"));
            return report;
        }
        if self.inner.postgres.is_some() {
            let usage = self
                .read(|conn| conn.value::<i64>(&QUEUE, params![]))
                .await
                .ok()
                .flatten()
                .map(|ppm| ppm as f64 / 1_000_000.0);
            if let Some(usage) = usage
                && usage >= 0.5
            {
                report.problems.push(format!(
                    "PostgreSQL's notification queue is {:.0}% full: a process listening for \
                     changes is not reading them",
                    usage * 100.0
                ));
            }
            report.notification_queue_usage = usage;
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

    /// [`Self::write`] for a job that sets seqs aside (an import keeping its feed's order).
    pub(crate) async fn write_with_seqs<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Seqs) -> Result<Written<T>> + Send + 'static,
    {
        self.inner.writer.write_with_seqs(work).await
    }

    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.inner.readers.read(f).await
    }

    /// Runs `f` in one read transaction, so that everything it reads is one consistent view.
    pub(crate) async fn read_snapshot<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.read(move |conn| {
            conn.begin_read()?;
            let result = f(conn);
            let _ = conn.batch("COMMIT");
            result
        })
        .await
    }
}

pub(crate) fn not_found(kind: &'static str, id: &str) -> Error {
    Error::NotFound {
        kind,
        id: id.to_owned(),
    }
}

/// A line of the feed for a change the actor made (see [`feed_line`]); marks the actor active.
pub(crate) fn log(
    conn: &Connection,
    actor: &Actor,
    event_type: EventType,
    message: String,
    task_id: Option<&str>,
    now: i64,
) -> Result<Event> {
    store::agents::touch(conn, &actor.agent_id, now)?;
    feed_line(event_type, message, Some(&actor.agent_id), task_id, now)
}

/// A new line of the feed. Announced as `DomainEvent::EventLogged`, it is written by the writer
/// with its place in the change log (its seq), in the same transaction as the change it tells.
pub(crate) fn feed_line(
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
        seq: None,
    };
    Ok(event)
}

/// A title as it appears inside a sentence of the feed: quoted.
pub(crate) fn quoted(title: &str) -> String {
    format!("“{title}”")
}
