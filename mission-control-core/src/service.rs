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

use crate::auth::{Claims, IssuedToken, JwtKeys, LOGIN_TOKEN_TTL_MS, sha256_hex};
use crate::bus::{DomainEvent, EventBus};
use crate::domain::{
    Agent, AgentChanges, AgentId, AgentStatus, Event, EventType, NewAgent, NewTask, Task,
    TaskChanges, TaskStatus, now_millis,
};
use crate::error::{Error, Result};
use crate::store::checkpoint::Checkpointer;
use crate::store::writer::{Writer, Written};
use crate::store::{self, EventQuery, ReadPool, TaskFilter, agents, events, tasks, tokens};

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

/// How to open a [`MissionControl`].
#[derive(Debug, Clone)]
pub struct Options {
    pub database_path: PathBuf,
    /// Key for signing tokens; at least 32 bytes. Tokens signed with another key are refused.
    pub jwt_secret: Vec<u8>,
    /// Most bytes the write-ahead log may hold, however steady the writes (at least 1 MiB);
    /// usually [`crate::DEFAULT_WAL_MAX_BYTES`].
    pub wal_max_bytes: u64,
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
}

/// Most verified tokens remembered; past that the cache starts over.
const VERIFIED_CACHE: usize = 10_000;

impl MissionControl {
    /// Opens (or creates) the database at `path` with a random signing key, so tokens last only
    /// as long as this value. Servers use [`MissionControl::open_with`] and a stored key.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(Options {
            database_path: path.as_ref().to_owned(),
            jwt_secret: crate::auth::generate_secret()?.into_bytes(),
            wal_max_bytes: crate::DEFAULT_WAL_MAX_BYTES,
        })
    }

    pub fn open_with(options: Options) -> Result<Self> {
        let keys = JwtKeys::new(&options.jwt_secret)?;
        let (conn, readers) = store::open(&options.database_path, options.wal_max_bytes)?;
        let swept = tokens::delete_expired(&conn, now_millis())?;
        if swept > 0 {
            tracing::debug!(swept, "removed expired tokens");
        }
        let bus = EventBus::new();
        let writer = Writer::start(conn, bus.clone())?;
        let checkpointer = Checkpointer::start(&options.database_path)?;
        Ok(MissionControl {
            inner: Arc::new(Inner {
                writer,
                checkpointer,
                readers,
                bus,
                keys,
                verified: Mutex::default(),
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

    /// How the write-ahead log has fared since opening: its bound, the most it held, restarts.
    pub fn wal_stats(&self) -> crate::WalStats {
        self.inner.writer.wal_stats()
    }

    /// Whether the database answers a query.
    pub async fn check_database(&self) -> Result<()> {
        self.read(|conn| store::sql(conn.query_row("SELECT 1", [], |_| Ok(()))))
            .await
    }

    // ---- tasks ----

    pub async fn create_task(&self, actor: &Actor, new: NewTask) -> Result<Task> {
        let actor = actor.clone();
        self.write(move |conn| {
            let now = now_millis();
            if let Some(agent) = &new.assigned_agent {
                ensure_agent_exists(conn, agent)?;
            }
            let task = Task {
                id: format!("task-{}", uuid::Uuid::now_v7()),
                title: new.title.as_str().to_owned(),
                description: new.description.map(|d| d.as_str().to_owned()),
                status: new.status,
                assigned_agent: new.assigned_agent.map(|a| a.as_str().to_owned()),
                priority: Some(new.priority),
                created_at: now,
                updated_at: now,
                created_by: Some(actor.agent_id.clone()),
                tags: new.tags.iter().map(str::to_owned).collect(),
            };
            tasks::insert(conn, &task)?;
            let who = agents::display_name(conn, &actor.agent_id)?;
            let message = format!("{who} created task: {}", task.title);
            let event = log(
                conn,
                &actor,
                EventType::TaskCreated,
                message,
                Some(&task.id),
                now,
            )?;
            Ok((
                task.clone(),
                vec![
                    DomainEvent::TaskCreated(task),
                    DomainEvent::EventLogged(event),
                ],
            ))
        })
        .await
    }

    /// Applies `changes`; a change that alters nothing writes nothing and announces nothing.
    pub async fn update_task(&self, actor: &Actor, id: &str, changes: TaskChanges) -> Result<Task> {
        let actor = actor.clone();
        let id = id.to_owned();
        self.write(move |conn| {
            let before = tasks::get(conn, &id)?.ok_or_else(|| not_found("task", &id))?;
            if let Some(Some(agent)) = &changes.assigned_agent {
                ensure_agent_exists(conn, agent)?;
            }
            let mut task = before.clone();
            apply_changes(&mut task, changes);
            if task == before {
                return Ok((task, vec![]));
            }
            let now = now_millis();
            task.updated_at = now.max(before.updated_at);
            tasks::update(conn, &task)?;
            let message = describe_update(conn, &actor, &before, &task)?;
            let event = log(
                conn,
                &actor,
                EventType::TaskUpdated,
                message,
                Some(&task.id),
                now,
            )?;
            Ok((
                task.clone(),
                vec![
                    DomainEvent::TaskUpdated(task),
                    DomainEvent::EventLogged(event),
                ],
            ))
        })
        .await
    }

    /// Moves a task to another column.
    pub async fn move_task(&self, actor: &Actor, id: &str, status: TaskStatus) -> Result<Task> {
        self.update_task(actor, id, TaskChanges::move_to(status))
            .await
    }

    pub async fn delete_task(&self, actor: &Actor, id: &str) -> Result<()> {
        let actor = actor.clone();
        let id = id.to_owned();
        self.write(move |conn| {
            let task = tasks::get(conn, &id)?.ok_or_else(|| not_found("task", &id))?;
            tasks::delete(conn, &id)?;
            let now = now_millis();
            let who = agents::display_name(conn, &actor.agent_id)?;
            let message = format!("{who} deleted task: {}", task.title);
            let event = log(
                conn,
                &actor,
                EventType::TaskDeleted,
                message,
                Some(&id),
                now,
            )?;
            Ok((
                (),
                vec![
                    DomainEvent::TaskDeleted { task_id: id },
                    DomainEvent::EventLogged(event),
                ],
            ))
        })
        .await
    }

    pub async fn get_task(&self, id: &str) -> Result<Task> {
        let id = id.to_owned();
        self.read(move |conn| tasks::get(conn, &id)?.ok_or_else(|| not_found("task", &id)))
            .await
    }

    /// Matching tasks, oldest first; every match, however many.
    pub async fn list_tasks(&self, filter: TaskFilter) -> Result<Vec<Task>> {
        self.read(move |conn| tasks::list(conn, &filter)).await
    }

    pub async fn count_tasks(&self) -> Result<i64> {
        self.read(tasks::count).await
    }

    // ---- agents ----

    /// Adds a new agent; `Conflict` when the id is taken.
    pub async fn register_agent(&self, actor: Option<&Actor>, new: NewAgent) -> Result<Agent> {
        let actor = actor.cloned();
        self.write(move |conn| {
            if agents::exists(conn, new.id.as_str())? {
                return Err(Error::Conflict {
                    kind: "agent",
                    id: new.id.as_str().to_owned(),
                });
            }
            insert_agent(conn, actor.as_ref(), new)
        })
        .await
    }

    /// Registers the agent if it is new, else brings its name and role up to date (used at
    /// start-up for the operator's own agent). Never changes its status.
    pub async fn ensure_agent(&self, new: NewAgent) -> Result<Agent> {
        self.write(move |conn| match agents::get(conn, new.id.as_str())? {
            None => insert_agent(conn, None, new),
            Some(mut agent) => {
                let before = agent.clone();
                agent.name = new.name.as_str().to_owned();
                agent.role = new.role;
                if agent == before {
                    return Ok((agent, vec![]));
                }
                agents::update(conn, &agent)?;
                Ok((agent.clone(), vec![DomainEvent::AgentStatusChanged(agent)]))
            }
        })
        .await
    }

    pub async fn update_agent(
        &self,
        actor: &Actor,
        id: &str,
        changes: AgentChanges,
    ) -> Result<Agent> {
        let actor = actor.clone();
        let id = id.to_owned();
        self.write(move |conn| {
            let before = agents::get(conn, &id)?.ok_or_else(|| not_found("agent", &id))?;
            let mut agent = before.clone();
            if let Some(status) = changes.status {
                agent.status = status;
            }
            if let Some(name) = changes.name {
                agent.name = name.as_str().to_owned();
            }
            if let Some(role) = changes.role {
                agent.role = role;
            }
            if let Some(color) = changes.avatar_color {
                agent.avatar_color = color.map(|c| c.as_str().to_owned());
            }
            if agent == before {
                return Ok((agent, vec![]));
            }
            let now = now_millis();
            if actor.agent_id == agent.id {
                agent.last_active = agent.last_active.max(now);
            }
            agents::update(conn, &agent)?;
            if actor.agent_id != agent.id {
                agents::touch(conn, &actor.agent_id, now)?;
            }
            let mut published = vec![DomainEvent::AgentStatusChanged(agent.clone())];
            if agent.status != before.status {
                let message = format!("{} is now {}", agent.name, agent.status);
                let event = insert_event(
                    conn,
                    EventType::AgentStatusChanged,
                    message,
                    Some(&agent.id),
                    None,
                    now,
                )?;
                published.push(DomainEvent::EventLogged(event));
            }
            Ok((agent, published))
        })
        .await
    }

    /// Sets only the agent's status.
    pub async fn set_agent_status(
        &self,
        actor: &Actor,
        id: &str,
        status: AgentStatus,
    ) -> Result<Agent> {
        self.update_agent(actor, id, AgentChanges::status(status))
            .await
    }

    pub async fn get_agent(&self, id: &str) -> Result<Agent> {
        let id = id.to_owned();
        self.read(move |conn| agents::get(conn, &id)?.ok_or_else(|| not_found("agent", &id)))
            .await
    }

    /// Every agent, by name.
    pub async fn list_agents(&self) -> Result<Vec<Agent>> {
        self.read(agents::list).await
    }

    // ---- events ----

    /// The event log, newest first.
    pub async fn list_events(&self, query: EventQuery) -> Result<Vec<Event>> {
        self.read(move |conn| events::list(conn, query)).await
    }

    // ---- tokens ----

    /// Issues a token acting as `agent_id`, valid for `ttl_ms` milliseconds. The agent must be
    /// registered.
    pub async fn issue_token(&self, agent_id: &str, ttl_ms: i64) -> Result<IssuedToken> {
        let now = now_millis();
        let claims = Claims {
            sub: agent_id.to_owned(),
            jti: uuid::Uuid::now_v7().to_string(),
            iat: now / 1000,
            exp: (now + ttl_ms) / 1000,
        };
        let token = self.inner.keys.sign(&claims)?;
        let issued = IssuedToken {
            token: token.clone(),
            expires_at: claims.exp * 1000,
        };
        let agent_id = agent_id.to_owned();
        self.write(move |conn| {
            if !agents::exists(conn, &agent_id)? {
                return Err(Error::NotFound {
                    kind: "agent",
                    id: agent_id,
                });
            }
            tokens::insert(
                conn,
                &tokens::TokenRow {
                    id_hash: &sha256_hex(&claims.jti),
                    user_id: &agent_id,
                    token_hash: &sha256_hex(&token),
                    created_at: now,
                    expires_at: claims.exp * 1000,
                },
            )?;
            Ok(((), vec![]))
        })
        .await?;
        Ok(issued)
    }

    /// A token for the specification's login: 7 days.
    pub async fn issue_login_token(&self, agent_id: &str) -> Result<IssuedToken> {
        self.issue_token(agent_id, LOGIN_TOKEN_TTL_MS).await
    }

    /// Checks signature, expiry and that the token has not been revoked; returns who it acts as.
    pub async fn verify_token(&self, token: &str) -> Result<Actor> {
        let claims = self.inner.keys.decode(token)?;
        let token_hash = sha256_hex(token);
        if let Some(actor) = self.cached_actor(&token_hash) {
            return Ok(actor);
        }
        let id_hash = sha256_hex(&claims.jti);
        let stored = self
            .read(move |conn| tokens::live_hash(conn, &id_hash, now_millis()))
            .await?;
        match stored {
            Some(hash) if crate::auth::constant_time_eq(&hash, &token_hash) => {
                let actor = Actor::new(claims.sub);
                if let Ok(mut verified) = self.inner.verified.lock() {
                    if verified.len() >= VERIFIED_CACHE {
                        verified.clear();
                    }
                    verified.insert(token_hash, (actor.clone(), claims.exp * 1000));
                }
                Ok(actor)
            }
            _ => Err(Error::Unauthorized("the token has been revoked")),
        }
    }

    fn cached_actor(&self, token_hash: &str) -> Option<Actor> {
        let verified = self.inner.verified.lock().ok()?;
        let (actor, expires_at) = verified.get(token_hash)?;
        (*expires_at > now_millis()).then(|| actor.clone())
    }

    /// Revokes a token so that it is refused from now on, and announces it on the bus (so that
    /// live connections made with it can be closed). Returns whether it was live.
    pub async fn revoke_token(&self, token: &str) -> Result<bool> {
        let claims = self.inner.keys.decode(token)?;
        let token_hash = sha256_hex(token);
        if let Ok(mut verified) = self.inner.verified.lock() {
            verified.remove(&token_hash);
        }
        let id_hash = sha256_hex(&claims.jti);
        self.write(move |conn| {
            let revoked = tokens::delete(conn, &id_hash)?;
            let announce = revoked.then_some(DomainEvent::TokenRevoked { token_hash });
            Ok((revoked, announce.into_iter().collect()))
        })
        .await
    }

    // ---- plumbing ----

    async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Written<T>> + Send + 'static,
    {
        self.inner.writer.write(work).await
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.inner.readers.read(f).await
    }
}

fn not_found(kind: &'static str, id: &str) -> Error {
    Error::NotFound {
        kind,
        id: id.to_owned(),
    }
}

fn ensure_agent_exists(conn: &Connection, agent: &AgentId) -> Result<()> {
    if agents::exists(conn, agent.as_str())? {
        Ok(())
    } else {
        Err(Error::field(
            "assignedAgent",
            format!("no agent is registered with the id {agent}"),
        ))
    }
}

fn apply_changes(task: &mut Task, changes: TaskChanges) {
    if let Some(title) = changes.title {
        task.title = title.as_str().to_owned();
    }
    if let Some(description) = changes.description {
        task.description = description.map(|d| d.as_str().to_owned());
    }
    if let Some(status) = changes.status {
        task.status = status;
    }
    if let Some(agent) = changes.assigned_agent {
        task.assigned_agent = agent.map(|a| a.as_str().to_owned());
    }
    if let Some(priority) = changes.priority {
        task.priority = priority;
    }
    if let Some(tags) = changes.tags {
        task.tags = tags.iter().map(str::to_owned).collect();
    }
}

/// "Patch moved Build rate limiter to done", or the closest sentence for what changed.
fn describe_update(
    conn: &Connection,
    actor: &Actor,
    before: &Task,
    after: &Task,
) -> Result<String> {
    let who = agents::display_name(conn, &actor.agent_id)?;
    Ok(if before.status != after.status {
        format!("{who} moved {} to {}", after.title, after.status)
    } else if before.assigned_agent != after.assigned_agent && before.title == after.title {
        match &after.assigned_agent {
            Some(agent) => {
                let name = agents::display_name(conn, agent)?;
                format!("{who} assigned {} to {name}", after.title)
            }
            None => format!("{who} unassigned {}", after.title),
        }
    } else {
        format!("{who} updated task: {}", after.title)
    })
}

/// Writes an event-log row for a change the actor made, and marks the actor active.
fn log(
    conn: &Connection,
    actor: &Actor,
    event_type: EventType,
    message: String,
    task_id: Option<&str>,
    now: i64,
) -> Result<Event> {
    agents::touch(conn, &actor.agent_id, now)?;
    insert_event(
        conn,
        event_type,
        message,
        Some(&actor.agent_id),
        task_id,
        now,
    )
}

fn insert_event(
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
    events::insert(conn, &event)?;
    Ok(event)
}

fn insert_agent(conn: &Connection, actor: Option<&Actor>, new: NewAgent) -> Result<Written<Agent>> {
    let now = now_millis();
    let agent = Agent {
        id: new.id.as_str().to_owned(),
        name: new.name.as_str().to_owned(),
        role: new.role,
        status: new.status,
        last_active: now,
        avatar_color: new.avatar_color.map(|c| c.as_str().to_owned()),
    };
    agents::insert(conn, &agent)?;
    if let Some(actor) = actor {
        agents::touch(conn, &actor.agent_id, now)?;
    }
    let message = format!(
        "{} joined as {} and is {}",
        agent.name, agent.role, agent.status
    );
    let event = insert_event(
        conn,
        EventType::AgentStatusChanged,
        message,
        Some(&agent.id),
        None,
        now,
    )?;
    Ok((
        agent.clone(),
        vec![
            DomainEvent::AgentStatusChanged(agent),
            DomainEvent::EventLogged(event),
        ],
    ))
}
