//! A signed-in socket's session: who it is, until when, and where its stream of changes
//! stands, so that every change reaches it exactly once and in order across the seam between
//! catching up from the change log and following the live bus.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use mission_control_core::{LiveConnection, SignedToken};
use serde_json::value::RawValue;
use socketioxide::extract::SocketRef;

/// Live changes held for a socket that is still catching up, at most; past that it is
/// disconnected and resumes by reconnecting with `since`.
const MAX_PENDING: usize = 4096;

/// One change as sockets receive it: the specification's payload with its `seq` beside it,
/// serialised once for every socket.
#[derive(Debug)]
pub struct Outgoing {
    pub seq: i64,
    pub name: String,
    pub payload: Box<RawValue>,
}

impl Outgoing {
    /// `{"task": {...}}` and 12 make `{"task": {...}, "seq": 12}`.
    pub fn new(seq: i64, name: &str, payload: &str) -> Option<Self> {
        let body = payload.trim_end().strip_suffix('}')?;
        let separator = if body.trim_end().ends_with('{') {
            ""
        } else {
            ","
        };
        let text = format!("{body}{separator}\"seq\":{seq}}}");
        Some(Outgoing {
            seq,
            name: name.to_owned(),
            payload: RawValue::from_string(text).ok()?,
        })
    }
}

/// What happened to a change offered to a socket.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    /// Held until the socket's catch-up is done.
    Held,
    /// The socket's buffer is full: it is too slow and must go.
    Full,
    /// The socket is gone.
    Closed,
}

pub struct Session {
    pub token: SignedToken,
    delivery: Mutex<Delivery>,
    _live: LiveConnection,
}

struct Delivery {
    catching_up: bool,
    pending: VecDeque<Arc<Outgoing>>,
    overflowed: bool,
    /// The last seq this socket received.
    watermark: i64,
}

impl Session {
    pub fn new(token: SignedToken, live: LiveConnection, catching_up: bool) -> Self {
        Session {
            token,
            delivery: Mutex::new(Delivery {
                catching_up,
                pending: VecDeque::new(),
                overflowed: false,
                watermark: 0,
            }),
            _live: live,
        }
    }

    fn delivery(&self) -> std::sync::MutexGuard<'_, Delivery> {
        self.delivery.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Offers a live change: sent if the socket follows the live stream, held while it
    /// catches up, skipped if it already has it.
    pub fn offer(&self, socket: &SocketRef, change: &Arc<Outgoing>) -> Delivered {
        let mut d = self.delivery();
        if d.catching_up {
            if d.pending.len() >= MAX_PENDING {
                d.overflowed = true;
            } else {
                d.pending.push_back(change.clone());
            }
            return Delivered::Held;
        }
        send(socket, &mut d, change)
    }

    /// Sends a change read from the log during catch-up.
    pub fn replay(&self, socket: &SocketRef, change: &Outgoing) -> Delivered {
        let mut d = self.delivery();
        send(socket, &mut d, change)
    }

    /// Moves the socket's position past changes it will not be sent (after a resync).
    pub fn skip_to(&self, seq: i64) {
        let mut d = self.delivery();
        d.watermark = d.watermark.max(seq);
    }

    pub fn watermark(&self) -> i64 {
        self.delivery().watermark
    }

    /// Ends catch-up: sends what arrived live meanwhile (each once), then follows the live
    /// stream. `false` if too much arrived meanwhile, or the socket could not take it.
    pub fn go_live(&self, socket: &SocketRef) -> bool {
        let mut d = self.delivery();
        while let Some(change) = d.pending.pop_front() {
            if send(socket, &mut d, &change) != Delivered::Sent {
                return false;
            }
        }
        d.catching_up = false;
        !d.overflowed
    }
}

fn send(socket: &SocketRef, d: &mut Delivery, change: &Outgoing) -> Delivered {
    if change.seq <= d.watermark {
        return Delivered::Sent;
    }
    match socket.emit(change.name.as_str(), &*change.payload) {
        Ok(()) => {
            d.watermark = change.seq;
            Delivered::Sent
        }
        Err(socketioxide::SendError::Socket(socketioxide::SocketError::InternalChannelFull)) => {
            Delivered::Full
        }
        Err(_) => Delivered::Closed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_goes_beside_the_payload() {
        let out = Outgoing::new(12, "task.deleted", r#"{"taskId":"task-1"}"#).unwrap();
        assert_eq!(out.payload.get(), r#"{"taskId":"task-1","seq":12}"#);
        let empty = Outgoing::new(3, "x", "{}").unwrap();
        assert_eq!(empty.payload.get(), r#"{"seq":3}"#);
        assert!(Outgoing::new(1, "x", "[1]").is_none());
    }
}
