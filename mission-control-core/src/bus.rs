//! The in-process event bus: every committed change, in commit order, for whoever listens
//! (the server's Socket.io fan-out, an embedding program, tests).
//!
//! It is a tokio broadcast channel: publishing never waits for a listener, and a listener that
//! falls more than [`CAPACITY`] events behind is told how many it missed (`Lagged`) and should
//! resynchronise from the store.

use tokio::sync::broadcast;

use crate::domain::{Agent, Event, Task};

/// Events buffered for the slowest listener before it starts to miss some.
pub const CAPACITY: usize = 8192;

/// A change that has been committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    TaskCreated(Task),
    TaskUpdated(Task),
    TaskDeleted {
        task_id: String,
    },
    /// An agent was registered or changed (status, name, role or colour).
    AgentStatusChanged(Agent),
    /// A row was added to the event log.
    EventLogged(Event),
    /// A token was revoked (signed out); live connections made with it must end. Carries the
    /// hex SHA-256 of the token, never the token.
    TokenRevoked {
        token_hash: String,
    },
}

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<DomainEvent>,
}

impl EventBus {
    pub fn new() -> Self {
        EventBus {
            sender: broadcast::channel(CAPACITY).0,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }

    pub(crate) fn publish(&self, event: DomainEvent) {
        // An error only means nobody is listening right now, which is fine.
        let _ = self.sender.send(event);
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}
