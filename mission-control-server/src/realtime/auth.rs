//! Socket authentication: the handshake token, the `authenticate` event, and the deadline.

use mission_control_core::auth::sha256_hex;
use mission_control_core::{Error as CoreError, MissionControl};
use serde::{Deserialize, Serialize};
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, TryData};

use super::{AUTH_DEADLINE, SIGNED_IN};
use crate::http::wire::User;

#[derive(Debug, Default, Deserialize)]
struct TokenPayload {
    token: Option<String>,
}

/// The hex SHA-256 of the token a socket signed in with, kept in the socket's extensions so
/// that signing out with that token can end the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInWith(pub String);

#[derive(Serialize)]
struct Authenticated {
    user: User,
}

#[derive(Serialize)]
struct AuthError {
    message: String,
}

/// Why a handshake token was refused; its text reaches the client as `connect_error`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

pub fn register(io: &SocketIo, mc: MissionControl) {
    let on_connect = {
        let mc = mc.clone();
        async move |socket: SocketRef, TryData(auth): TryData<TokenPayload>| {
            let token = auth.ok().and_then(|a| a.token).filter(|t| !t.is_empty());
            if let Some(token) = token {
                // The middleware already checked it.
                socket.extensions.insert(SignedInWith(sha256_hex(&token)));
                socket.join(SIGNED_IN);
            } else {
                disconnect_if_anonymous_later(socket.clone());
            }
            let mc = mc.clone();
            socket.on(
                "authenticate",
                async move |socket: SocketRef, TryData(payload): TryData<TokenPayload>| {
                    let token = payload.ok().and_then(|p| p.token).unwrap_or_default();
                    match sign_in(&mc, &token).await {
                        Ok(user) => {
                            socket.extensions.insert(SignedInWith(sha256_hex(&token)));
                            socket.join(SIGNED_IN);
                            let _ = socket.emit("authenticated", &Authenticated { user });
                        }
                        Err(message) => {
                            let _ = socket.emit("auth_error", &AuthError { message });
                        }
                    }
                },
            );
        }
    };
    let check_handshake = async move |TryData(auth): TryData<TokenPayload>| {
        match auth.ok().and_then(|a| a.token).filter(|t| !t.is_empty()) {
            // No token yet: the socket may still use the `authenticate` event.
            None => Ok(()),
            Some(token) => sign_in(&mc, &token).await.map(|_| ()).map_err(Refused),
        }
    };
    use socketioxide::handler::ConnectHandler;
    io.ns("/", on_connect.with(check_handshake));
}

/// Verifies `token`; the user it acts as, or a message for the client.
async fn sign_in(mc: &MissionControl, token: &str) -> Result<User, String> {
    if token.is_empty() {
        return Err("a token is required".into());
    }
    let actor = mc.verify_token(token).await.map_err(|e| match e {
        CoreError::Unauthorized(why) => why.to_owned(),
        _ => "authentication is unavailable right now".to_owned(),
    })?;
    match mc.get_agent(&actor.agent_id).await {
        Ok(agent) => Ok(User::from(agent)),
        Err(_) => Err("the token's agent is not registered".into()),
    }
}

fn disconnect_if_anonymous_later(socket: SocketRef) {
    tokio::spawn(async move {
        tokio::time::sleep(AUTH_DEADLINE).await;
        let signed_in = socket.rooms().iter().any(|room| room == SIGNED_IN);
        if socket.connected() && !signed_in {
            let _ = socket.disconnect();
        }
    });
}
