//! How a socket signs in: with the token of its handshake or of an `authenticate` event,
//! optionally with `since` (the last seq the client saw) to resume from; the deadline for
//! sockets still anonymous; and forgetting the socket when it goes.

use std::sync::Arc;

use mission_control_core::{Actor, Error as CoreError, MissionControl, SignedToken};
use serde::{Deserialize, Serialize};
use socketioxide::SocketIo;
use socketioxide::extract::{SocketRef, TryData};

use super::session::{LIVE, Session};
use super::sockets_per_token::SocketPlace;
use super::{AUTH_DEADLINE, Hub, replay};
use crate::api::wire::User;

/// `authenticate` attempts one socket may make before it is let go.
const MAX_ATTEMPTS: u32 = 5;

#[derive(Debug, Default, Deserialize)]
struct AuthPayload {
    token: Option<String>,
    /// The last seq the client saw: it first receives every change after it.
    since: Option<serde_json::Value>,
}

impl AuthPayload {
    fn token(&self) -> Option<&str> {
        self.token.as_deref().filter(|t| !t.is_empty())
    }

    /// `since` as a seq (a whole number, or one in a string); `Err` with a message for
    /// anything else, so that a client that meant to resume is not silently served live only.
    fn since(&self) -> Result<Option<i64>, String> {
        let seq = match &self.since {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(serde_json::Value::Number(n)) => n.as_i64(),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            Some(_) => None,
        };
        match seq {
            Some(n) if n >= 0 => Ok(Some(n)),
            _ => Err("since must be a seq: a whole number, 0 or more".into()),
        }
    }
}

/// A token the handshake checked (and the socket's place under its cap), handed from the
/// middleware to the connect handler.
#[derive(Clone)]
struct Checked(Actor, SignedToken, Option<i64>, Arc<SocketPlace>);

#[derive(Clone, Copy, Default)]
struct Attempts(u32);

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

pub fn register(io: &SocketIo, hub: Arc<Hub>) {
    // The handlers are registered in the middleware, which socketioxide runs to completion
    // before it acknowledges the connect; the connect handler itself is spawned after the
    // acknowledgement, so an `authenticate` sent at once could otherwise beat its handler.
    let check_handshake = {
        let hub = hub.clone();
        async move |socket: SocketRef, TryData(auth): TryData<AuthPayload>| {
            listen(&hub, &socket);
            let auth = auth.unwrap_or_default();
            match auth.token() {
                // No token yet: the socket may still use the `authenticate` event.
                None => Ok::<(), Refused>(()),
                Some(token) => {
                    let since = auth.since().map_err(Refused)?;
                    let (actor, signed, _) = sign_in(&hub.mc, token).await.map_err(Refused)?;
                    let place = hub.sockets_per_token.take(signed.id()).map_err(Refused)?;
                    socket
                        .extensions
                        .insert(Checked(actor, signed, since, place));
                    Ok(())
                }
            }
        }
    };
    let on_connect = {
        let hub = hub.clone();
        async move |socket: SocketRef| match socket.extensions.remove::<Checked>() {
            Some(Checked(actor, token, since, place)) => {
                start(&hub, &socket, (actor, token, place), since);
            }
            None => disconnect_if_anonymous_later(hub.clone(), socket.clone()),
        }
    };
    use socketioxide::handler::ConnectHandler;
    io.ns("/", on_connect.with(check_handshake));
}

/// The socket's handlers: forgetting it when it goes, and `authenticate`.
fn listen(hub: &Arc<Hub>, socket: &SocketRef) {
    let gone = hub.clone();
    socket.on_disconnect(async move |socket: SocketRef| {
        gone.sessions.remove(socket.id);
    });
    let hub = hub.clone();
    socket.on(
        "authenticate",
        async move |socket: SocketRef, TryData(payload): TryData<AuthPayload>| {
            let attempts = socket.extensions.get::<Attempts>().unwrap_or_default().0 + 1;
            socket.extensions.insert(Attempts(attempts));
            if attempts > MAX_ATTEMPTS {
                hub.gate.kick(&socket);
                return;
            }
            let payload = payload.unwrap_or_default();
            let signed_in = match payload.since() {
                Ok(since) => sign_in(&hub.mc, payload.token().unwrap_or_default())
                    .await
                    .and_then(|(actor, token, user)| {
                        let place = hub.sockets_per_token.take(token.id())?;
                        Ok(((actor, token, place), user, since))
                    }),
                Err(message) => Err(message),
            };
            match signed_in {
                Ok((signed_in, user, since)) => {
                    let _ = socket.emit("authenticated", &Authenticated { user });
                    start(&hub, &socket, signed_in, since);
                }
                Err(message) => {
                    let _ = socket.emit("auth_error", &AuthError { message });
                }
            }
        },
    );
}

/// The socket is signed in: it follows the live stream, after catching up from `since`. A
/// socket signing in again (with a fresh token, say) keeps its place in the stream and is not
/// sent anything twice; `since` is then ignored, as it already has everything in order.
fn start(
    hub: &Arc<Hub>,
    socket: &SocketRef,
    (actor, token, place): (Actor, SignedToken, Arc<SocketPlace>),
    since: Option<i64>,
) {
    let live = hub.mc.live_connection(&actor);
    let signed_in = (token, live, place);
    let session = {
        let mut sessions = hub.sessions.write();
        if let Some(session) = sessions.get(&socket.id) {
            let (token, live, place) = signed_in;
            session.sign_in_again(token, live, place);
            return;
        }
        let meter = hub.gate.meter(socket);
        // Its own room: the relay leaves it out of a change it already has.
        socket.join(socket.id);
        let session = Arc::new(match since {
            Some(since) => Session::resuming(socket.clone(), signed_in, meter, since),
            None => {
                socket.join(LIVE);
                let position = hub.stream_feed.position();
                Session::live(socket.clone(), signed_in, meter, position)
            }
        });
        sessions.insert(socket.id, session.clone());
        session
    };
    if !socket.connected() {
        // It left while signing in: its disconnect handler may have run before the insert.
        hub.sessions.remove(socket.id);
        return;
    }
    if let Some(since) = since {
        tokio::spawn(replay::catch_up(hub.clone(), session, since));
    }
}

/// Verifies `token`; who it acts as, the checked token and the user, or a message.
async fn sign_in(mc: &MissionControl, token: &str) -> Result<(Actor, SignedToken, User), String> {
    if token.is_empty() {
        return Err("a token is required".into());
    }
    let refused = |e: CoreError| match e {
        CoreError::Unauthorized(why) => why.to_owned(),
        _ => "authentication is unavailable right now".to_owned(),
    };
    let signed = mc.check_signature(token).map_err(refused)?;
    let actor = mc.authorize(&signed).await.map_err(refused)?;
    match mc.get_agent(&actor.agent_id).await {
        Ok(agent) => Ok((actor, signed, User::from(agent))),
        Err(_) => Err("the token's agent is not registered".into()),
    }
}

fn disconnect_if_anonymous_later(hub: Arc<Hub>, socket: SocketRef) {
    tokio::spawn(async move {
        tokio::time::sleep(AUTH_DEADLINE).await;
        if socket.connected() && hub.sessions.get(socket.id).is_none() {
            hub.gate.kick(&socket);
        }
    });
}
