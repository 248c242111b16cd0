//! Real-time updates over Socket.io (socketioxide), on the same port as the REST API.
//!
//! A socket proves who it is either in the handshake (`auth: { token }`, what the dashboard
//! sends) or afterwards with the `authenticate` event, answered by `authenticated` or
//! `auth_error`. Only then does it join the [`SIGNED_IN`] room, and only that room receives
//! data; a socket still anonymous after [`AUTH_DEADLINE`] is disconnected.
//!
//! Events come from the core's bus, never from the HTTP handlers, so a change made over REST,
//! by the agent tool, or by a program embedding the core is broadcast the same way, once, after
//! it committed. Each payload is serialised once and the same bytes go to every socket. A
//! socket whose send buffer is full (a dead or very slow client) is disconnected rather than
//! allowed to hold anything up; on reconnect it resynchronises over REST (see the README).

mod auth;
mod fanout;

use std::time::Duration;

use mission_control_core::MissionControl;
use socketioxide::SocketIo;

/// The room of sockets that have authenticated.
pub const SIGNED_IN: &str = "signed-in";
/// How long a socket may stay connected without authenticating.
pub const AUTH_DEADLINE: Duration = Duration::from_secs(10);
/// Packets buffered per socket before it counts as too slow and is dropped.
pub const SOCKET_BUFFER: usize = 1024;

/// Builds the Socket.io service around `inner` (which answers every other request), registers
/// the namespace handlers, and starts relaying the core's events. Call inside a tokio runtime.
pub fn attach<S: Clone>(
    mc: MissionControl,
    inner: S,
) -> (socketioxide::service::SocketIoService<S>, SocketIo) {
    let (service, io) = SocketIo::builder()
        .max_buffer_size(SOCKET_BUFFER)
        .ping_interval(Duration::from_secs(20))
        .ping_timeout(Duration::from_secs(20))
        .build_with_inner_svc(inner);
    auth::register(&io, mc.clone());
    tokio::spawn(fanout::relay(io.clone(), mc.subscribe()));
    (service, io)
}
