//! Relays the core's committed changes to every signed-in socket.

use mission_control_core::DomainEvent;
use serde::Serialize;
use serde_json::value::RawValue;
use socketioxide::SocketIo;
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::SIGNED_IN;
use super::auth::SignedInWith;

/// The Socket.io event name and payload of a domain event, as the specification writes them;
/// `None` for changes that are not sent to clients.
pub fn wire_event(
    event: &DomainEvent,
) -> Option<(&'static str, serde_json::Result<Box<RawValue>>)> {
    use serde_json::value::to_raw_value as raw;
    Some(match event {
        DomainEvent::TaskCreated(task) => ("task.created", raw(&TaskPayload { task })),
        DomainEvent::TaskUpdated(task) => ("task.updated", raw(&TaskPayload { task })),
        DomainEvent::TaskDeleted { task_id } => ("task.deleted", raw(&Deleted { task_id })),
        DomainEvent::AgentStatusChanged(agent) => {
            ("agent.status_changed", raw(&AgentPayload { agent }))
        }
        DomainEvent::EventLogged(event) => ("event.new", raw(&EventPayload { event })),
        DomainEvent::TokenRevoked { .. } => return None,
    })
}

#[derive(Serialize)]
struct TaskPayload<'a> {
    task: &'a mission_control_core::Task,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Deleted<'a> {
    task_id: &'a str,
}

#[derive(Serialize)]
struct AgentPayload<'a> {
    agent: &'a mission_control_core::Agent,
}

#[derive(Serialize)]
struct EventPayload<'a> {
    event: &'a mission_control_core::Event,
}

pub async fn relay(io: SocketIo, mut events: Receiver<DomainEvent>) {
    loop {
        match events.recv().await {
            Ok(DomainEvent::TokenRevoked { token_hash }) => sign_out(&io, &token_hash),
            Ok(event) => broadcast(&io, &event),
            Err(RecvError::Lagged(missed)) => {
                // Events were lost between the bus and the sockets: every client's view may be
                // stale now, so make them all reconnect and resynchronise.
                tracing::warn!(
                    missed,
                    "real-time relay fell behind; disconnecting clients to force a resync"
                );
                if let Some(root) = io.of("/") {
                    let _ = root.to(SIGNED_IN).disconnect().await;
                }
            }
            Err(RecvError::Closed) => break,
        }
    }
}

fn broadcast(io: &SocketIo, event: &DomainEvent) {
    // The namespace is gone once the server is shutting down; writes still draining then have
    // nobody left to tell.
    let Some(root) = io.of("/") else { return };
    let Some((name, payload)) = wire_event(event) else {
        return;
    };
    let payload = match payload {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, name, "cannot serialise a real-time event");
            return;
        }
    };
    for socket in root.to(SIGNED_IN).sockets() {
        let full = matches!(
            socket.emit(name, &*payload),
            Err(socketioxide::SendError::Socket(
                socketioxide::SocketError::InternalChannelFull
            ))
        );
        if full {
            drop_slow_client(socket);
        }
    }
}

/// Ends the connections signed in with a token that has just been revoked.
fn sign_out(io: &SocketIo, token_hash: &str) {
    let Some(root) = io.of("/") else { return };
    for socket in root.to(SIGNED_IN).sockets() {
        if socket
            .extensions
            .get::<SignedInWith>()
            .is_some_and(|s| s.0 == token_hash)
        {
            socket.leave(SIGNED_IN);
            let _ = socket.disconnect();
        }
    }
}

/// Stops sending to a socket whose buffer is full, then disconnects it as soon as the
/// disconnect packet fits (a slow client drains, gets it, reconnects and resynchronises). A
/// dead client never drains; the Engine.IO heartbeat closes it.
fn drop_slow_client(socket: socketioxide::extract::SocketRef) {
    tracing::warn!(socket = %socket.id, "client too slow for real-time updates; disconnecting it");
    socket.leave(SIGNED_IN);
    tokio::spawn(async move {
        for _ in 0..DISCONNECT_ATTEMPTS {
            if !socket.connected() || socket.clone().disconnect().is_ok() {
                return;
            }
            tokio::time::sleep(DISCONNECT_RETRY).await;
        }
    });
}

const DISCONNECT_ATTEMPTS: u32 = 120;
const DISCONNECT_RETRY: std::time::Duration = std::time::Duration::from_millis(500);
