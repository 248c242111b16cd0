//! Real-time updates: Socket.io (socketioxide) and Server-Sent Events, on the same port as the
//! REST API, both fed by one relay of the durable change log.
//!
//! A socket proves who it is either in the handshake (`auth: { token, since }`, what the
//! dashboard sends) or afterwards with the `authenticate` event (`{ token, since }`), answered
//! by `authenticated` or `auth_error`. Only then does it receive data; a socket still anonymous
//! after [`AUTH_DEADLINE`] loses its connection, as does one whose token expires or is revoked.
//! `GET /api/stream` ([`sse`]) serves the same changes to anyone with a bearer token.
//!
//! Changes come from the core's bus, never from the HTTP handlers, so a change made over REST,
//! MCP, by the agent tool, or by a program embedding the core is broadcast the same way, once,
//! after it committed, with its `seq` beside the specification's payload. The relay
//! (`fanout`) encodes each change once, never skips a seq (what the bus did not bring, it
//! reads from the log) and hands each batch to every socket's `session` and to the
//! `stream_feed` the event streams follow. A client that signs in with `since` (a socket) or
//! `Last-Event-ID` (a stream) first receives every change after it from the log (`replay`),
//! then the live stream, exactly once each; when the log no longer holds them all it is told
//! `resync_required` and reloads the snapshot (`GET /api/tasks` and `GET /api/agents` say
//! which seq they stand at). The log is durable, so this holds across restarts.
//!
//! Bounded in bytes: each change is encoded once and the same bytes are queued for every live
//! socket (a broadcast to the live room), not a copy per socket; a socket holding more than a
//! few megabytes unsent (`session::MAX_QUEUED_BYTES`, measured against what its transport
//! wrote) is dropped (it reconnects and resumes) rather than allowed to hold anything up; a
//! socket catching up holds at most one page of the log (bounded in bytes, read in turns) and
//! a bounded queue of live changes; packets from clients are capped at [`MAX_PACKET_BYTES`] on
//! both transports, before parsing; sockets are capped per token (`MAX_SOCKETS_PER_TOKEN`),
//! streams in all and per token.
//!
//! Several processes, one board: seqs are handed out by whichever process writes, inside its
//! write transaction (`BEGIN IMMEDIATE`), so they are unique and in commit order across every
//! process on the database file. Another process follows the board by reading
//! `MissionControl::changes_after(seq)` from where it stands, exactly as a resuming client
//! does; this server's relay does so itself whenever its bus skips a seq and every
//! `fanout::TAIL_EVERY`, so a second server on the same file serves every change, whoever
//! made it, to its own clients. Revocations are in the same log, never sent to a client: the
//! relay applies them to the core's token checks and ends the connections made with the token,
//! whichever process revoked it.

mod change;
mod fanout;
mod gate;
mod handshake;
mod replay;
mod session;
mod sessions;
mod sockets_per_token;
pub mod sse;
mod stream_feed;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use mission_control_core::MissionControl;
use socketioxide::SocketIo;

pub use change::EncodedChange;
pub use gate::{Gate, Gated};
pub use sse::StreamCaps;
pub use stream_feed::{Notice, StreamFeed};

use session::Session;
use sessions::Sessions;

/// How long a socket may stay connected without authenticating.
pub const AUTH_DEADLINE: Duration = Duration::from_secs(10);
/// Packets socketioxide may queue per socket: a few times what a session lets a socket hold
/// unsent (`session::MAX_QUEUED_PACKETS`), so that the session's own bounds (in bytes and
/// packets) always refuse first and a broadcast never finds a queue full.
pub const SOCKET_BUFFER: usize = 4 * session::MAX_QUEUED_PACKETS;
/// Bytes each WebSocket's read buffer starts with.
const WS_READ_BUFFER: usize = 1024;
/// The largest packet a client may send, on either transport (the `authenticate` payload is
/// a few hundred bytes).
pub const MAX_PACKET_BYTES: usize = 100 * 1024;

/// What the socket handlers share.
pub struct Hub {
    pub mc: MissionControl,
    pub io: SocketIo,
    pub gate: Arc<Gate>,
    pub stream_feed: Arc<StreamFeed>,
    sessions: Sessions,
    sockets_per_token: sockets_per_token::SocketsPerToken,
}

impl Hub {
    /// Closes a socket's transport without a word (too slow, or the log failed it): the
    /// client reconnects and resumes from its last seq.
    fn drop_socket(&self, session: &Session) {
        self.sessions.remove(session.socket.id);
        self.gate.drop_transport(&session.socket);
    }

    /// Ends a socket for good (its token expired or was revoked).
    fn kick(&self, session: &Session) {
        self.sessions.remove(session.socket.id);
        self.gate.kick(&session.socket);
    }
}

/// Builds the Socket.io service around `inner` (which answers every other request), behind
/// the gate; registers the namespace handlers; starts relaying the core's changes to sockets
/// and to `stream_feed`, and watching sessions. Call inside a tokio runtime.
pub fn attach<S: Clone>(
    mc: MissionControl,
    stream_feed: Arc<StreamFeed>,
    sockets_per_token: usize,
    inner: S,
) -> (Gated<socketioxide::service::SocketIoService<S>>, SocketIo) {
    // Subscribed before anything can sign in, so that nothing committed from here on is missed.
    let bus = mc.subscribe();
    let (service, io) = SocketIo::builder()
        .max_buffer_size(SOCKET_BUFFER)
        .max_payload(MAX_PACKET_BYTES as u64)
        .ws_max_message_size(MAX_PACKET_BYTES)
        .ws_max_frame_size(MAX_PACKET_BYTES)
        // Eagerly allocated per socket; what clients send (pongs, `authenticate`) is tiny, and a
        // larger packet grows the buffer as needed (4 KiB by default: 40 MB at 10,000 sockets).
        .ws_read_buffer_size(WS_READ_BUFFER)
        .ping_interval(Duration::from_secs(20))
        .ping_timeout(Duration::from_secs(20))
        .build_with_inner_svc(inner);
    let gate = Arc::new(Gate::default());
    let hub = Arc::new(Hub {
        mc,
        io: io.clone(),
        gate: gate.clone(),
        stream_feed,
        sessions: Sessions::default(),
        sockets_per_token: sockets_per_token::SocketsPerToken::new(sockets_per_token),
    });
    handshake::register(&io, hub.clone());
    tokio::spawn(fanout::relay(hub.clone(), bus));
    tokio::spawn(watch::watch(hub));
    (Gated::new(gate, service), io)
}
