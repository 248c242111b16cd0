//! The watch over signed-in sockets: a socket whose token expires is ended at expiry, and every
//! half minute each token in use is checked again, so a token revoked elsewhere (the command
//! line, another process) ends its sockets too.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mission_control_core::now_millis;

use super::session::Session;
use super::{Hub, SIGNED_IN};

const EVERY: Duration = Duration::from_secs(1);
const RECHECK_EVERY: u64 = 30;

pub async fn watch(hub: Arc<Hub>) {
    let mut tick = tokio::time::interval(EVERY);
    let mut round: u64 = 0;
    loop {
        tick.tick().await;
        round += 1;
        let Some(root) = hub.io.of("/") else { return };
        let now = now_millis();
        let recheck = round.is_multiple_of(RECHECK_EVERY);
        let mut tokens: HashMap<String, (Arc<Session>, Vec<socketioxide::extract::SocketRef>)> =
            HashMap::new();
        for socket in root.to(SIGNED_IN).sockets() {
            let Some(session) = socket.extensions.get::<Arc<Session>>() else {
                continue;
            };
            if session.token.expires_at() <= now {
                socket.leave(SIGNED_IN);
                hub.gate.kick(&socket);
                continue;
            }
            if recheck {
                tokens
                    .entry(session.token.token_hash().to_owned())
                    .or_insert_with(|| (session.clone(), Vec::new()))
                    .1
                    .push(socket);
            }
        }
        for (session, sockets) in tokens.into_values() {
            if hub.mc.authorize(&session.token).await.is_err() {
                for socket in sockets {
                    socket.leave(SIGNED_IN);
                    hub.gate.kick(&socket);
                }
            }
        }
        if round.is_multiple_of(60) {
            hub.gate.tidy();
        }
    }
}
