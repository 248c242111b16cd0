//! The in-process event bus: every committed change, in commit order, for whoever listens
//! (the server's Socket.io and SSE fan-out, an embedding program, tests).
//!
//! Each change a client can see is also in the durable change log with its `seq` (see
//! [`Committed`]): the bus is how a change reaches listeners at once, the log is how a listener
//! that missed some catches up. It is a tokio broadcast channel: publishing never waits for a
//! listener, and a listener that falls more than [`CAPACITY`] changes behind is told how many
//! it missed (`Lagged`) and should catch up from the log.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::domain::{Agent, Comment, Event, Task};

/// Changes buffered for the slowest listener before it starts to miss some.
pub const CAPACITY: usize = 8192;

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
    /// of the token, never the token. Not part of the change log.
    TokenRevoked {
        token_hash: String,
    },
}

impl DomainEvent {
    /// The name of the change on the wire (the Socket.io event, the SSE `event:`); `None` for
    /// signals that are not changes to the board.
    pub fn wire_name(&self) -> Option<&'static str> {
        Some(match self {
            DomainEvent::TaskCreated(_) => "task.created",
            DomainEvent::TaskUpdated(_) => "task.updated",
            DomainEvent::TaskDeleted { .. } => "task.deleted",
            DomainEvent::AgentStatusChanged(_) => "agent.status_changed",
            DomainEvent::AgentRemoved { .. } => "agent.removed",
            DomainEvent::EventLogged(_) => "event.new",
            DomainEvent::CommentCreated(_) => "comment.created",
            DomainEvent::TokenRevoked { .. } => return None,
        })
    }

    /// The payload of the change, exactly as the specification writes it (`{"task": {...}}`,
    /// `{"taskId": "..."}`, ...).
    pub(crate) fn wire_payload(&self) -> serde_json::Result<String> {
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
            DomainEvent::TokenRevoked { .. } => Ok(String::new()),
        }
    }
}

/// A change that has committed, as the bus carries it: the change, and (for changes to the
/// board) its place in the change log and its wire payload, serialised once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub event: DomainEvent,
    pub logged: Option<Logged>,
}

/// A change's entry in the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// Strictly increasing across the database's life, in commit order.
    pub seq: i64,
    /// The wire name, as [`DomainEvent::wire_name`].
    pub name: &'static str,
    /// The wire payload, a JSON object.
    pub payload: Arc<str>,
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
