//! The in-process event bus: every committed change, in commit order, for whoever listens
//! (the server's Socket.io and SSE fan-out, an embedding program, tests).
//!
//! Each change is also in the durable change log with its `seq` (see [`Committed`]): the bus
//! is how a change reaches listeners at once, the log is how a listener that missed some (or
//! lives in another process) catches up. It is a tokio broadcast channel: publishing never
//! waits for a listener, and a listener that falls more than [`CAPACITY`] changes behind is
//! told how many it missed (`Lagged`) and should catch up from the log.
//!
//! Most entries are changes to the board, which clients receive. A revoked token is an entry
//! too ([`REVOKED_TOKEN`]), so that every process following the log hears of it as soon as of
//! any change (its token checks forget the token, its live connections made with it end), but
//! no client ever receives it: the seqs a client sees therefore increase without being
//! consecutive.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::domain::{Agent, Comment, Event, Task};

/// Changes buffered for the slowest listener before it starts to miss some.
pub const CAPACITY: usize = 8192;

/// The name of a change-log entry that says a token was revoked; its payload is
/// `{"tokenHash": "<hex SHA-256 of the token>"}`. Never sent to clients.
pub const REVOKED_TOKEN: &str = "token.revoked";

/// The names of the changes clients receive (the Socket.io events, the SSE `event:`s).
const WIRE_NAMES: [&str; 7] = [
    "task.created",
    "task.updated",
    "task.deleted",
    "agent.status_changed",
    "agent.removed",
    "event.new",
    "comment.created",
];

/// Whether a change-log entry of this name goes to clients: the changes to the board do;
/// revocations, and any name this version does not know, do not.
pub fn is_wire_name(name: &str) -> bool {
    WIRE_NAMES.contains(&name)
}

/// A change, as the service produces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    TaskCreated(Task),
    TaskUpdated(Task),
    TaskDeleted {
        task_id: String,
    },
    /// An agent was registered or changed (status, name, role or colour).
    AgentStatusChanged(Agent),
    /// An agent was removed by the operator.
    AgentRemoved {
        agent_id: String,
    },
    /// A row was added to the event log.
    EventLogged(Event),
    /// A note was added to a task.
    CommentCreated(Comment),
    /// A token was revoked; live connections made with it must end. Carries the hex SHA-256
    /// of the token, never the token. In the change log as [`REVOKED_TOKEN`]; never sent to
    /// clients.
    TokenRevoked {
        token_hash: String,
    },
}

impl DomainEvent {
    /// The name of the change on the wire (the Socket.io event, the SSE `event:`); `None` for
    /// signals that are not changes to the board (a revoked token).
    pub fn wire_name(&self) -> Option<&'static str> {
        match self.log_name() {
            REVOKED_TOKEN => None,
            name => Some(name),
        }
    }

    /// The name of its change-log entry: the wire name, or [`REVOKED_TOKEN`].
    pub fn log_name(&self) -> &'static str {
        match self {
            DomainEvent::TaskCreated(_) => WIRE_NAMES[0],
            DomainEvent::TaskUpdated(_) => WIRE_NAMES[1],
            DomainEvent::TaskDeleted { .. } => WIRE_NAMES[2],
            DomainEvent::AgentStatusChanged(_) => WIRE_NAMES[3],
            DomainEvent::AgentRemoved { .. } => WIRE_NAMES[4],
            DomainEvent::EventLogged(_) => WIRE_NAMES[5],
            DomainEvent::CommentCreated(_) => WIRE_NAMES[6],
            DomainEvent::TokenRevoked { .. } => REVOKED_TOKEN,
        }
    }

    /// The payload of its change-log entry: for a change, exactly as the specification writes
    /// it (`{"task": {...}}`, `{"taskId": "..."}`, ...).
    pub(crate) fn log_payload(&self) -> serde_json::Result<String> {
        #[derive(Serialize)]
        struct TaskPayload<'a> {
            task: &'a Task,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct TaskIdPayload<'a> {
            task_id: &'a str,
        }
        #[derive(Serialize)]
        struct AgentPayload<'a> {
            agent: &'a Agent,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct AgentIdPayload<'a> {
            agent_id: &'a str,
        }
        #[derive(Serialize)]
        struct EventPayload<'a> {
            event: &'a Event,
        }
        #[derive(Serialize)]
        struct CommentPayload<'a> {
            comment: &'a Comment,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct RevokedTokenPayload<'a> {
            token_hash: &'a str,
        }
        match self {
            DomainEvent::TaskCreated(task) | DomainEvent::TaskUpdated(task) => {
                serde_json::to_string(&TaskPayload { task })
            }
            DomainEvent::TaskDeleted { task_id } => {
                serde_json::to_string(&TaskIdPayload { task_id })
            }
            DomainEvent::AgentStatusChanged(agent) => {
                serde_json::to_string(&AgentPayload { agent })
            }
            DomainEvent::AgentRemoved { agent_id } => {
                serde_json::to_string(&AgentIdPayload { agent_id })
            }
            DomainEvent::EventLogged(event) => serde_json::to_string(&EventPayload { event }),
            DomainEvent::CommentCreated(comment) => {
                serde_json::to_string(&CommentPayload { comment })
            }
            DomainEvent::TokenRevoked { token_hash } => {
                serde_json::to_string(&RevokedTokenPayload { token_hash })
            }
        }
    }
}

/// A change that has committed, as the bus carries it: the change, and its entry in the
/// change log (its place and its payload, serialised once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub event: DomainEvent,
    pub logged: ChangeEntry,
}

/// One entry of the change log: what the bus carries beside each change as it commits, and
/// what reading the log gives back (`MissionControl::changes_after`), the same either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEntry {
    /// Strictly increasing across the database's life, in commit order.
    pub seq: i64,
    /// The entry's name, as [`DomainEvent::log_name`]: clients receive it when
    /// [`is_wire_name`] says so.
    pub name: String,
    /// The payload, a JSON object.
    pub payload: String,
}

impl ChangeEntry {
    /// Whether clients receive this entry: the changes to the board do; a revoked token
    /// ([`REVOKED_TOKEN`]) and names this version does not know do not (a client then sees
    /// the seq skipped).
    pub fn for_clients(&self) -> bool {
        is_wire_name(&self.name)
    }

    /// The token this entry revokes (its hex SHA-256), if it is a revocation.
    pub fn revoked_token(&self) -> Option<String> {
        (self.name == REVOKED_TOKEN)
            .then(|| revoked_token_hash(&self.payload))
            .flatten()
    }
}

/// The payload of a [`REVOKED_TOKEN`] entry: the token's hex SHA-256, if the payload is one.
fn revoked_token_hash(payload: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct RevokedToken {
        token_hash: String,
    }
    serde_json::from_str::<RevokedToken>(payload)
        .ok()
        .map(|r| r.token_hash)
}

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<Committed>>,
}

impl EventBus {
    pub fn new() -> Self {
        EventBus {
            sender: broadcast::channel(CAPACITY).0,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Committed>> {
        self.sender.subscribe()
    }

    pub(crate) fn publish(&self, committed: Committed) {
        // An error only means nobody is listening right now, which is fine.
        let _ = self.sender.send(Arc::new(committed));
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}
