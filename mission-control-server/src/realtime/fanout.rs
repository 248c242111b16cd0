//! Relays the core's committed changes to every signed-in socket.
//!
//! Each change's payload, with its `seq`, is serialised once for all sockets. The relay takes
//! every change waiting on the bus at once and offers them to each socket in turn, so a socket
//! gets a burst (a task and its event-log line) in one wake-up. If the relay falls behind the
//! bus, it reads what it missed from the change log rather than dropping anyone.

use std::sync::Arc;

use mission_control_core::{Catchup, Committed, DomainEvent};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::session::{Delivered, Outgoing, Session};
use super::{Hub, SIGNED_IN};

/// Changes taken from the bus per round.
const BATCH: usize = 256;

pub async fn relay(hub: Arc<Hub>, mut bus: Receiver<Arc<Committed>>) {
    // Only changes committed from now on are live; earlier ones are what `since` is for.
    let mut relayed = hub.mc.latest_seq().await.unwrap_or(0);
    loop {
        let first = match bus.recv().await {
            Ok(change) => change,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "real-time relay fell behind the bus; reading the change log"
                );
                recover(&hub, &mut relayed).await;
                continue;
            }
            Err(RecvError::Closed) => break,
        };
        let mut batch = vec![first];
        let mut lagged = false;
        while batch.len() < BATCH {
            match bus.try_recv() {
                Ok(change) => batch.push(change),
                Err(TryRecvError::Lagged(_)) => {
                    lagged = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let mut outgoing = Vec::with_capacity(batch.len());
        for change in &batch {
            match (&change.event, &change.logged) {
                (DomainEvent::TokenRevoked { token_hash }, _) => {
                    deliver(&hub, &std::mem::take(&mut outgoing));
                    sign_out(&hub, token_hash);
                }
                (_, Some(logged)) if logged.seq > relayed => {
                    relayed = logged.seq;
                    if let Some(out) = Outgoing::new(logged.seq, logged.name, &logged.payload) {
                        outgoing.push(Arc::new(out));
                    }
                }
                _ => {}
            }
        }
        deliver(&hub, &outgoing);
        if lagged {
            recover(&hub, &mut relayed).await;
        }
    }
}

/// Offers changes to every signed-in socket.
fn deliver(hub: &Hub, outgoing: &[Arc<Outgoing>]) {
    if outgoing.is_empty() {
        return;
    }
    // The namespace is gone once the server is shutting down; writes still draining then have
    // nobody left to tell.
    let Some(root) = hub.io.of("/") else { return };
    for socket in root.to(SIGNED_IN).sockets() {
        let Some(session) = socket.extensions.get::<Arc<Session>>() else {
            continue;
        };
        for change in outgoing {
            match session.offer(&socket, change) {
                Delivered::Sent | Delivered::Held => {}
                Delivered::Closed => break,
                Delivered::Full => {
                    tracing::warn!(socket = %socket.id, "client too slow for real-time updates; dropping its connection");
                    socket.leave(SIGNED_IN);
                    hub.gate.drop_transport(&socket);
                    break;
                }
            }
        }
    }
}

/// Reads the changes after `relayed` from the log and delivers them.
async fn recover(hub: &Hub, relayed: &mut i64) {
    loop {
        match hub.mc.changes_after(*relayed, 500).await {
            Ok(Catchup::Changes(page)) => {
                let count = page.changes.len();
                let outgoing: Vec<_> = page
                    .changes
                    .iter()
                    .filter_map(|c| Outgoing::new(c.seq, &c.name, &c.payload).map(Arc::new))
                    .collect();
                if let Some(last) = page.changes.last() {
                    *relayed = last.seq;
                }
                deliver(hub, &outgoing);
                if count < 500 {
                    return;
                }
            }
            Ok(Catchup::ResyncRequired { latest, .. }) => {
                // The log lost what the relay missed: every socket must reload.
                *relayed = latest;
                drop_everyone(hub);
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the change log; dropping live sockets so they resume");
                drop_everyone(hub);
                return;
            }
        }
    }
}

fn drop_everyone(hub: &Hub) {
    if let Some(root) = hub.io.of("/") {
        for socket in root.to(SIGNED_IN).sockets() {
            hub.gate.drop_transport(&socket);
        }
    }
}

/// Ends the connections signed in with a token that has just been revoked.
fn sign_out(hub: &Hub, token_hash: &str) {
    let Some(root) = hub.io.of("/") else { return };
    for socket in root.to(SIGNED_IN).sockets() {
        let signed_out = socket
            .extensions
            .get::<Arc<Session>>()
            .is_some_and(|s| s.token.token_hash() == token_hash);
        if signed_out {
            socket.leave(SIGNED_IN);
            hub.gate.kick(&socket);
        }
    }
}
