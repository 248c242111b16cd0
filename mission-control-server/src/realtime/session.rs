//! A signed-in socket's session: who it is, until when, and where its stream of changes
//! stands, so that every change reaches it exactly once and in order across the seam between
//! catching up from the change log and following the live relay.
//!
//! The seam: a resuming session starts *catching up*. While it does, the relay does not send
//! it anything; it keeps what it offers in a bounded `pending` queue. The catch-up task alone
//! sends: first the log after the session's watermark, then the pending changes, skipping
//! every seq at or below the watermark (the last seq the socket was sent). Only when nothing
//! is pending does the session switch to *live*, under the same lock the relay offers under,
//! so no change can slip between. A pending queue that overflows is dropped, not the socket:
//! everything in it is in the log, which the catch-up reads again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use mission_control_core::{LiveConnection, SignedToken};
use socketioxide::extract::SocketRef;
use socketioxide::{SendError, SocketError};

use super::change::EncodedChange;

/// Live changes held for a socket that is still catching up, at most; past that they are
/// dropped and read from the log again.
const MAX_PENDING: usize = 4096;

/// What became of a change offered to a socket.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// Sent, held for after the catch-up, or skipped because the socket already had it.
    Sent,
    /// The socket's buffer is full: it is too slow and must go.
    Full,
    /// The socket is gone.
    Closed,
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
}

struct SignedIn {
    token: SignedToken,
    _live: LiveConnection,
}

struct Delivery {
    catching_up: Option<CatchingUp>,
    /// The last seq this socket was sent (or told to skip to).
    watermark: i64,
}

#[derive(Default)]
struct CatchingUp {
    pending: VecDeque<Arc<EncodedChange>>,
    overflowed: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// A session that follows the live relay from `position` on.
    pub fn live(
        socket: SocketRef,
        token: SignedToken,
        live: LiveConnection,
        position: i64,
    ) -> Self {
        Self::new(socket, token, live, position, None)
    }

    /// A session that first catches up on everything after `since`.
    pub fn resuming(
        socket: SocketRef,
        token: SignedToken,
        live: LiveConnection,
        since: i64,
    ) -> Self {
        Self::new(socket, token, live, since, Some(CatchingUp::default()))
    }

    fn new(
        socket: SocketRef,
        token: SignedToken,
        live: LiveConnection,
        watermark: i64,
        catching_up: Option<CatchingUp>,
    ) -> Self {
        Session {
            socket,
            signed_in: Mutex::new(SignedIn { token, _live: live }),
            delivery: Mutex::new(Delivery {
                catching_up,
                watermark,
            }),
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
    pub fn sign_in_again(&self, token: SignedToken, live: LiveConnection) {
        *lock(&self.signed_in) = SignedIn { token, _live: live };
    }

    pub fn watermark(&self) -> i64 {
        lock(&self.delivery).watermark
    }

    /// Offers a batch of live changes, in seq order: sent while the session is live, held
    /// while it catches up.
    pub fn offer(&self, batch: &[Arc<EncodedChange>]) -> Delivered {
        let mut d = lock(&self.delivery);
        let Delivery {
            catching_up,
            watermark,
        } = &mut *d;
        if let Some(c) = catching_up {
            if c.overflowed {
                return Delivered::Sent;
            }
            if c.pending.len() + batch.len() > MAX_PENDING {
                c.pending = VecDeque::new();
                c.overflowed = true;
            } else {
                c.pending.extend(batch.iter().cloned());
            }
            return Delivered::Sent;
        }
        for change in batch {
            match send(&self.socket, watermark, change) {
                Delivered::Sent => {}
                other => return other,
            }
        }
        Delivered::Sent
    }

    /// Sends a change during catch-up (only the catch-up task sends then); `Sent` also when
    /// the socket already had it.
    pub fn replay(&self, change: &EncodedChange) -> Delivered {
        let mut d = lock(&self.delivery);
        send(&self.socket, &mut d.watermark, change)
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

    /// What arrived live while catching up; when nothing did, switches to live and calls
    /// `announce` with the watermark, under the lock, so that what it emits comes before any
    /// live change.
    pub fn take_pending(&self, announce: impl FnOnce(i64) -> bool) -> Pending {
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
        Pending::WentLive(announce(d.watermark))
    }
}

/// Sends `change` unless the socket already has it; moves the watermark.
fn send(socket: &SocketRef, watermark: &mut i64, change: &EncodedChange) -> Delivered {
    if change.seq <= *watermark {
        return Delivered::Sent;
    }
    match socket.emit(&*change.name, &*change.payload) {
        Ok(()) => {
            *watermark = change.seq;
            Delivered::Sent
        }
        Err(e) => delivery_error(&e),
    }
}

/// How an emit failed.
fn delivery_error(e: &SendError) -> Delivered {
    match e {
        SendError::Socket(SocketError::InternalChannelFull) => Delivered::Full,
        _ => Delivered::Closed,
    }
}
