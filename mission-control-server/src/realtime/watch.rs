//! The watch over signed-in sockets: a socket whose token expires is ended at expiry, and every
//! half minute each token in use is checked against the database again (revocations reach the
//! relay through the change log within a second and end their sockets there; this is the
//! backstop for one the log could not deliver). Sessions whose socket has gone without a word
//! are forgotten.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mission_control_core::{Error as CoreError, now_millis};

use super::Hub;
use super::session::Session;

const EVERY: Duration = Duration::from_secs(1);
/// Rounds between checks of every token in use against the database.
pub const RECHECK_EVERY: u64 = 30;

pub async fn watch(hub: Arc<Hub>) {
    let mut tick = tokio::time::interval(EVERY);
    let mut round: u64 = 0;
    loop {
        tick.tick().await;
        round += 1;
        let now = now_millis();
        let recheck = round.is_multiple_of(RECHECK_EVERY);
        let mut by_token: HashMap<String, Vec<Arc<Session>>> = HashMap::new();
        for session in hub.sessions.all() {
            if !session.socket.connected() {
                hub.sessions.remove(session.socket.id);
                continue;
            }
            if session.expires_at() <= now {
                hub.kick(&session);
                continue;
            }
            if recheck {
                by_token
                    .entry(session.token().token_hash().to_owned())
                    .or_default()
                    .push(session);
            }
        }
        for sessions in by_token.into_values() {
            let token = sessions[0].token();
            // Only a refusal ends them: a database that cannot answer right now is no reason.
            if let Err(CoreError::Unauthorized(_)) = hub.mc.authorize(&token).await {
                for session in sessions {
                    hub.kick(&session);
                }
            }
        }
        if round.is_multiple_of(60) {
            hub.gate.tidy();
        }
    }
}
