//! A signed-in socket's session: who it is, until when, where its stream of changes stands (so
//! that every change reaches it exactly once and in order across the seam between catching up
//! from the change log and following the live relay), and what it holds unsent.
//!
//! The seam: a resuming session starts *catching up*. While it does, the relay does not send
//! it anything; it keeps what it offers in a bounded `pending` queue. The catch-up task alone
//! sends: first the log after the session's watermark, then the pending changes, skipping
//! every seq at or below the watermark (the last seq the socket was sent). Only when nothing
//! is pending does the session go *live*, joining the room the relay broadcasts to, under the
//! same lock the relay delivers under, so no change can slip between. A pending queue that
//! overflows is dropped, not the socket: everything in it is in the log, which the catch-up
//! reads again.
//!
//! What a socket holds unsent is bounded in bytes, not packets ([`Outbox`]): every packet it is
//! handed is counted as its transport frames it, and what its transport has written is
//! measured (the gate's [`WriteMeter`]); the difference is what waits in its queue. A live
//! socket that has more than [`MAX_QUEUED_BYTES`] or [`MAX_QUEUED_PACKETS`] waiting when the
//! next batch comes is too slow and is dropped (it reconnects and resumes from its last seq);
//! one catching up waits for room before it is sent more.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use mission_control_core::{LiveConnection, SignedToken};
use serde::Serialize;
use socketioxide::extract::SocketRef;
use socketioxide::{SendError, SocketError, TransportType};

use super::change::EncodedChange;
use super::sockets_per_token::SocketPlace;
use crate::web::connections::guarded::WriteMeter;

/// Live changes held for a socket that is still catching up, at most; past that they are
/// dropped and read from the log again.
const MAX_PENDING: usize = 4096;
/// Bytes a socket may hold unsent before it counts as too slow.
pub const MAX_QUEUED_BYTES: u64 = 4 * 1024 * 1024;
/// Packets a socket may hold unsent before it counts as too slow (the queue's own cap is a
/// few times this, so it is never what refuses a packet).
pub const MAX_QUEUED_PACKETS: usize = 1024;
/// The room of the live sessions, which the relay broadcasts each change to.
pub const LIVE: &str = "live";

/// What became of a change sent during catch-up.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Sent, or skipped because the socket already had it.
    Sent,
    /// The socket holds as much unsent as it may: try again once it has written some.
    Full,
    /// The socket is gone.
    Closed,
}

/// What a session does with a batch the relay delivers.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Catching up: kept for after the catch-up (or to be read from the log again).
    Held,
    /// Live: takes every change of the batch.
    All,
    /// Live, and already has every change up to this seq: takes only those after it.
    After(i64),
    /// Live, and holds too much unsent: it must go.
    TooSlow,
}

/// What the catch-up finds when it looks at what arrived live meanwhile.
pub enum Pending {
    /// These arrived; send them, then look again.
    Changes(VecDeque<Arc<EncodedChange>>),
    /// Too many arrived and were dropped: read the log again.
    Overflowed,
    /// Nothing: the session now follows the live relay. `false` if the socket could not be
    /// told so.
    WentLive(bool),
}

pub struct Session {
    pub socket: SocketRef,
    signed_in: Mutex<SignedIn>,
    delivery: Mutex<Delivery>,
    /// What the socket's transport has written.
    meter: Arc<WriteMeter>,
}

struct SignedIn {
    token: SignedToken,
    _live: LiveConnection,
    _place: Arc<SocketPlace>,
}

struct Delivery {
    catching_up: Option<CatchingUp>,
    /// The last seq this socket was sent (or told to skip to).
    watermark: i64,
    outbox: Outbox,
}

#[derive(Default)]
struct CatchingUp {
    pending: VecDeque<Arc<EncodedChange>>,
    overflowed: bool,
}

/// What a socket has been handed, against what its transport wrote.
#[derive(Default)]
struct Outbox {
    /// Bytes handed to the socket in all, each packet as its transport frames it (at least).
    handed: u64,
    /// Where each packet not yet known to be written ends, in `handed`'s count.
    ends: VecDeque<u64>,
    /// Bytes the transport wrote that were not packets counted here (pings, its own framing):
    /// left out of what counts as written.
    surplus: u64,
}

impl Outbox {
    /// Brings the count of what was written up to the meter's `written`.
    fn settle(&mut self, written: u64) {
        let mut ours = written.saturating_sub(self.surplus);
        if ours > self.handed {
            self.surplus += ours - self.handed;
            ours = self.handed;
        }
        while self.ends.front().is_some_and(|end| *end <= ours) {
            self.ends.pop_front();
        }
    }

    fn queued_bytes(&self, written: u64) -> u64 {
        self.handed
            .saturating_sub(written.saturating_sub(self.surplus))
    }

    /// Whether `packets` more packets of `bytes` in all fit.
    fn has_room(&self, written: u64, packets: usize, bytes: u64) -> bool {
        self.ends.len() + packets <= MAX_QUEUED_PACKETS
            && self.queued_bytes(written) + bytes <= MAX_QUEUED_BYTES
    }

    fn hand(&mut self, bytes: u64) {
        self.handed += bytes;
        self.ends.push_back(self.handed);
    }
}

/// The bytes `name` with `payload` takes on `transport` at least: the Engine.IO message
/// (`4`, then Socket.io's `2["name",payload]`), and on a WebSocket the frame's header.
fn wire_bytes(transport: TransportType, name: &str, payload: usize) -> u64 {
    let message = payload + name.len() + 7;
    let header = match transport {
        TransportType::Websocket if message <= 125 => 2,
        TransportType::Websocket if message <= 65_535 => 4,
        TransportType::Websocket => 10,
        TransportType::Polling => 0,
    };
    (message + header) as u64
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// A session that follows the live relay from `position` on (the caller puts it in the
    /// live room).
    pub fn live(
        socket: SocketRef,
        signed_in: (SignedToken, LiveConnection, Arc<SocketPlace>),
        meter: Arc<WriteMeter>,
        position: i64,
    ) -> Self {
        Self::new(socket, signed_in, meter, position, None)
    }

    /// A session that first catches up on everything after `since`.
    pub fn resuming(
        socket: SocketRef,
        signed_in: (SignedToken, LiveConnection, Arc<SocketPlace>),
        meter: Arc<WriteMeter>,
        since: i64,
    ) -> Self {
        Self::new(socket, signed_in, meter, since, Some(CatchingUp::default()))
    }

    fn new(
        socket: SocketRef,
        (token, live, place): (SignedToken, LiveConnection, Arc<SocketPlace>),
        meter: Arc<WriteMeter>,
        watermark: i64,
        catching_up: Option<CatchingUp>,
    ) -> Self {
        Session {
            socket,
            signed_in: Mutex::new(SignedIn {
                token,
                _live: live,
                _place: place,
            }),
            delivery: Mutex::new(Delivery {
                catching_up,
                watermark,
                outbox: Outbox::default(),
            }),
            meter,
        }
    }

    /// The token the socket signed in with (the latest, if it signed in again).
    pub fn token(&self) -> SignedToken {
        lock(&self.signed_in).token.clone()
    }

    /// When the token expires (epoch ms).
    pub fn expires_at(&self) -> i64 {
        lock(&self.signed_in).token.expires_at()
    }

    pub fn signed_in_with(&self, token_hash: &str) -> bool {
        lock(&self.signed_in).token.token_hash() == token_hash
    }

    /// The socket signed in again (a fresh token before the old one expires, say): it keeps
    /// its place in the stream.
    pub fn sign_in_again(&self, token: SignedToken, live: LiveConnection, place: Arc<SocketPlace>) {
        *lock(&self.signed_in) = SignedIn {
            token,
            _live: live,
            _place: place,
        };
    }

    pub fn watermark(&self) -> i64 {
        lock(&self.delivery).watermark
    }

    /// What the socket does with a batch of live changes, in seq order: held while it catches
    /// up; while live, counted as handed (the relay then broadcasts each change once to every
    /// live socket), unless it holds too much unsent already.
    pub fn accept(&self, batch: &[Arc<EncodedChange>]) -> Accepted {
        let mut d = lock(&self.delivery);
        let Delivery {
            catching_up,
            watermark,
            outbox,
        } = &mut *d;
        if let Some(c) = catching_up {
            if !c.overflowed {
                if c.pending.len() + batch.len() > MAX_PENDING {
                    c.pending = VecDeque::new();
                    c.overflowed = true;
                } else {
                    c.pending.extend(batch.iter().cloned());
                }
            }
            return Accepted::Held;
        }
        let had = *watermark;
        let transport = self.socket.transport_type();
        let wanted = batch.iter().filter(|c| c.seq > had);
        let (packets, bytes) = wanted.clone().fold((0, 0), |(n, b), c| {
            (
                n + 1,
                b + wire_bytes(transport, &c.name, c.payload.get().len()),
            )
        });
        let written = self.meter.written();
        outbox.settle(written);
        if !outbox.has_room(written, packets, bytes) {
            return Accepted::TooSlow;
        }
        for change in wanted {
            outbox.hand(wire_bytes(
                transport,
                &change.name,
                change.payload.get().len(),
            ));
            *watermark = change.seq;
        }
        match batch.first() {
            Some(first) if first.seq <= had => Accepted::After(had),
            _ => Accepted::All,
        }
    }

    /// Sends a change during catch-up (only the catch-up task sends then); `Sent` also when
    /// the socket already had it, `Full` while it holds as much unsent as it may.
    pub fn replay(&self, change: &EncodedChange) -> Delivered {
        let mut d = lock(&self.delivery);
        if change.seq <= d.watermark {
            return Delivered::Sent;
        }
        let len = change.payload.get().len();
        match self.send_locked(&mut d, &change.name, &*change.payload, len) {
            Delivered::Sent => {
                d.watermark = change.seq;
                Delivered::Sent
            }
            other => other,
        }
    }

    /// Sends an event of the stream itself (`resync_required`), counted like a change.
    pub fn tell<T: Serialize + ?Sized>(&self, name: &str, data: &T) -> Delivered {
        let mut d = lock(&self.delivery);
        let len = serde_json::to_vec(data).map_or(0, |v| v.len());
        self.send_locked(&mut d, name, data, len)
    }

    /// Sends `data` (`len` bytes of JSON) if the socket has room for it.
    fn send_locked<T: Serialize + ?Sized>(
        &self,
        d: &mut Delivery,
        name: &str,
        data: &T,
        len: usize,
    ) -> Delivered {
        let bytes = wire_bytes(self.socket.transport_type(), name, len);
        let written = self.meter.written();
        d.outbox.settle(written);
        if !d.outbox.has_room(written, 1, bytes) {
            return Delivered::Full;
        }
        match self.socket.emit(name, data) {
            Ok(()) => {
                d.outbox.hand(bytes);
                Delivered::Sent
            }
            Err(SendError::Socket(SocketError::InternalChannelFull)) => Delivered::Full,
            Err(_) => Delivered::Closed,
        }
    }

    /// Moves the socket's position past an entry that cannot be sent.
    pub fn skip_to(&self, seq: i64) {
        let mut d = lock(&self.delivery);
        d.watermark = d.watermark.max(seq);
    }

    /// Puts the socket's position at `seq`, back or forth: after a resync it follows the
    /// stream from the log's newest seq, whatever position it came with.
    pub fn restart_at(&self, seq: i64) {
        lock(&self.delivery).watermark = seq;
    }

    /// What arrived live while catching up. When nothing did, the session goes live: it is
    /// told so (`resumed`, what `resumed(watermark)` gives, unless `None`) and joins the live
    /// room, under the lock, so that what it is told comes before any live change. Call it
    /// holding the sessions' write lock, so that no batch is being delivered meanwhile.
    pub fn take_pending<T: Serialize>(&self, resumed: impl FnOnce(i64) -> Option<T>) -> Pending {
        let mut d = lock(&self.delivery);
        let Some(c) = d.catching_up.as_mut() else {
            return Pending::WentLive(true);
        };
        if c.overflowed {
            c.overflowed = false;
            return Pending::Overflowed;
        }
        if !c.pending.is_empty() {
            return Pending::Changes(std::mem::take(&mut c.pending));
        }
        d.catching_up = None;
        let told = match resumed(d.watermark) {
            Some(payload) => {
                let len = serde_json::to_vec(&payload).map_or(0, |v| v.len());
                self.send_locked(&mut d, "resumed", &payload, len) == Delivered::Sent
            }
            None => true,
        };
        self.socket.join(LIVE);
        Pending::WentLive(told)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_queued_is_what_was_handed_and_not_yet_written() {
        let mut outbox = Outbox::default();
        outbox.hand(100);
        outbox.hand(200);
        outbox.settle(0);
        assert_eq!((outbox.ends.len(), outbox.queued_bytes(0)), (2, 300));
        outbox.settle(150);
        assert_eq!((outbox.ends.len(), outbox.queued_bytes(150)), (1, 150));
        // A ping written besides: more written than handed is surplus, not credit.
        outbox.settle(310);
        assert_eq!((outbox.ends.len(), outbox.queued_bytes(310)), (0, 0));
        outbox.hand(50);
        outbox.settle(310);
        assert_eq!(
            outbox.queued_bytes(310),
            50,
            "the surplus gives no credit later"
        );
    }

    #[test]
    fn a_socket_has_room_for_so_many_bytes_and_packets() {
        let mut outbox = Outbox::default();
        assert!(outbox.has_room(0, 1, MAX_QUEUED_BYTES));
        assert!(!outbox.has_room(0, 1, MAX_QUEUED_BYTES + 1));
        for _ in 0..MAX_QUEUED_PACKETS {
            outbox.hand(1);
        }
        assert!(!outbox.has_room(0, 1, 1));
        outbox.settle(1);
        assert!(outbox.has_room(1, 1, 1));
    }

    #[test]
    fn packets_are_counted_as_their_transport_frames_them() {
        let payload = r#"{"taskId":"t","seq":1}"#.len();
        // `4` + `2["task.deleted",` + payload + `]`, and a 2-byte WebSocket header.
        let message = 1 + 1 + "[\"task.deleted\",".len() + payload + 1;
        assert_eq!(
            wire_bytes(TransportType::Polling, "task.deleted", payload),
            message as u64
        );
        assert_eq!(
            wire_bytes(TransportType::Websocket, "task.deleted", payload),
            message as u64 + 2
        );
        assert_eq!(
            wire_bytes(TransportType::Websocket, "x", 70_000),
            70_008 + 10
        );
    }
}
