//! Real-time updates over Socket.io (socketioxide), on the same port as the REST API.
//!
//! A socket proves who it is either in the handshake (`auth: { token, since }`, what the
//! dashboard sends) or afterwards with the `authenticate` event (`{ token, since }`), answered
//! by `authenticated` or `auth_error`. Only then does it join the [`SIGNED_IN`] room, and only
//! that room receives data; a socket still anonymous after [`AUTH_DEADLINE`] loses its
//! connection, as does one whose token expires or is revoked.
//!
//! Changes come from the core's bus, never from the HTTP handlers, so a change made over REST,
//! MCP, by the agent tool, or by a program embedding the core is broadcast the same way, once,
//! after it committed, with its `seq` beside the specification's payload. A socket that signs
//! in with `since` first receives every change after it from the durable change log
//! ([`replay`]), then the live stream, exactly once each. A socket whose send buffer is full is
//! dropped (it reconnects and resumes) rather than allowed to hold anything up. Packets are
//! capped at [`MAX_PACKET_BYTES`] on both transports, before parsing.

mod auth;
mod fanout;
mod gate;
mod replay;
mod session;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use mission_control_core::MissionControl;
use socketioxide::SocketIo;

pub use gate::{Gate, Gated};
pub use session::Outgoing;

/// The room of sockets that have authenticated.
pub const SIGNED_IN: &str = "signed-in";
/// How long a socket may stay connected without authenticating.
pub const AUTH_DEADLINE: Duration = Duration::from_secs(10);
/// Packets buffered per socket before it counts as too slow and is dropped.
pub const SOCKET_BUFFER: usize = 1024;
/// The largest packet a client may send, on either transport (the `authenticate` payload is
/// a few hundred bytes).
pub const MAX_PACKET_BYTES: usize = 100 * 1024;

/// What the socket handlers share.
pub struct Hub {
    pub mc: MissionControl,
    pub io: SocketIo,
    pub gate: Arc<Gate>,
}

/// Builds the Socket.io service around `inner` (which answers every other request), behind
/// the gate; registers the namespace handlers; starts relaying the core's changes and watching
/// sessions. Call inside a tokio runtime.
pub fn attach<S: Clone>(
    mc: MissionControl,
    inner: S,
) -> (Gated<socketioxide::service::SocketIoService<S>>, SocketIo) {
    let (service, io) = SocketIo::builder()
        .max_buffer_size(SOCKET_BUFFER)
        .max_payload(MAX_PACKET_BYTES as u64)
        .ws_max_message_size(MAX_PACKET_BYTES)
        .ws_max_frame_size(MAX_PACKET_BYTES)
        .ping_interval(Duration::from_secs(20))
        .ping_timeout(Duration::from_secs(20))
        .build_with_inner_svc(inner);
    let gate = Arc::new(Gate::default());
    let hub = Arc::new(Hub {
        mc: mc.clone(),
        io: io.clone(),
        gate: gate.clone(),
    });
    auth::register(&io, hub.clone());
    tokio::spawn(fanout::relay(hub.clone(), mc.subscribe()));
    tokio::spawn(watch::watch(hub));
    (Gated::new(gate, service), io)
}
