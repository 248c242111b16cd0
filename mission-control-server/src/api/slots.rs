//! Places for big answers: what a client that stops reading can make the server hold.
//!
//! A large answer (a page of tasks, comments or a heartbeat past [`BIG_ANSWER_BYTES`], an MCP
//! result as large, and every full-board download or export) is held in memory, or spilled to
//! disk, until the client has read it. Each takes a slot while it is being written: at most
//! [`MAX_SLOTS`] at once, [`MAX_SLOTS_PER_ADDRESS`] for one client address (an IPv6 client per
//! /64) and [`MAX_SLOTS_PER_TOKEN`] for one token, so neither one address nor one token, from
//! however many addresses, can take them all and keep the dashboard from loading its board.
//! Past that the answer is `503` with `Retry-After`. Small answers take no slot: what a stalled
//! client holds of them is bounded by the connection caps.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt;

use crate::web::body::Body;
use crate::web::client::client_key;
use crate::web::error::ApiError;

/// Big answers written at once.
pub const MAX_SLOTS: usize = 32;
/// Big answers written at once to one client address.
pub const MAX_SLOTS_PER_ADDRESS: usize = 4;
/// Big answers written at once for one token, from any address.
pub const MAX_SLOTS_PER_TOKEN: usize = 8;
/// An answer at least this large takes a slot.
pub const BIG_ANSWER_BYTES: u64 = 64 * 1024;

#[derive(Default)]
struct Taken {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
    by_token: HashMap<String, usize>,
}

/// The slots, overall, per address and per token.
#[derive(Default)]
pub struct AnswerSlots {
    taken: Arc<Mutex<Taken>>,
}

/// A big answer's place, given back when its body has been written or dropped.
pub struct Slot {
    taken: Arc<Mutex<Taken>>,
    address: IpAddr,
    token: String,
}

fn lock(taken: &Mutex<Taken>) -> MutexGuard<'_, Taken> {
    taken.lock().unwrap_or_else(|e| e.into_inner())
}

fn release<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = lock(&self.taken);
        taken.total = taken.total.saturating_sub(1);
        release(&mut taken.by_address, &self.address);
        release(&mut taken.by_token, &self.token);
    }
}

impl AnswerSlots {
    /// A slot for an answer to `client` with the token `token_id`, or 503 when its address, its
    /// token or the server has as many as it may.
    pub fn take(&self, client: IpAddr, token_id: &str) -> Result<Slot, ApiError> {
        let address = client_key(client);
        let mut taken = lock(&self.taken);
        let busy = taken.total >= MAX_SLOTS
            || taken.by_address.get(&address).copied().unwrap_or(0) >= MAX_SLOTS_PER_ADDRESS
            || taken.by_token.get(token_id).copied().unwrap_or(0) >= MAX_SLOTS_PER_TOKEN;
        if busy {
            return Err(ApiError::Busy {
                reason: "too many large answers (board downloads, exports, long pages) are \
                         being written at once for this client",
                retry_after: Duration::from_secs(1),
            });
        }
        taken.total += 1;
        *taken.by_address.entry(address).or_default() += 1;
        *taken.by_token.entry(token_id.to_owned()).or_default() += 1;
        Ok(Slot {
            taken: self.taken.clone(),
            address,
            token: token_id.to_owned(),
        })
    }

    /// `response` as it is when small or streamed (streams take their own places); when built
    /// whole and big, holding a slot until its body is written (503 when there is none).
    pub fn hold_if_big(
        &self,
        client: IpAddr,
        token_id: &str,
        response: http::Response<Body>,
    ) -> Result<http::Response<Body>, ApiError> {
        let size = response.body().size_hint();
        if size.upper().is_none_or(|n| n < BIG_ANSWER_BYTES) {
            return Ok(response);
        }
        let slot = self.take(client, token_id)?;
        Ok(response.map(|body| hold(body, slot)))
    }
}

/// `body`, holding `slot` until it is dropped, and handing its data over in pieces of at most
/// [`PIECE_BYTES`]: the connection takes a piece only when it has room for it, so the body
/// (and the slot) lasts until the answer is all but written, rather than until the connection
/// has taken it whole into its own buffer.
pub fn hold(body: Body, slot: Slot) -> Body {
    Holding {
        body,
        rest: Bytes::new(),
        _slot: slot,
    }
    .boxed_unsync()
}

/// The most data a held body hands over at once.
pub const PIECE_BYTES: usize = 64 * 1024;

struct Holding {
    body: Body,
    /// What is left of the last frame, handed over piece by piece.
    rest: Bytes,
    _slot: Slot,
}

impl http_body::Body for Holding {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.rest.is_empty() {
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => self.rest = data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                other => return other,
            }
        }
        let n = self.rest.len().min(PIECE_BYTES);
        let piece = self.rest.split_to(n);
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty() && self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = self.body.size_hint();
        let rest = self.rest.len() as u64;
        hint.set_lower(hint.lower() + rest);
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper + rest);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_held_body_is_handed_over_in_pieces_and_keeps_its_slot_to_the_end() {
        let slots = AnswerSlots::default();
        let client: IpAddr = "10.0.0.1".parse().unwrap();
        let data = Bytes::from(vec![7u8; 3 * PIECE_BYTES + 5]);
        let mut body = hold(
            crate::web::body::full(data.clone()),
            slots.take(client, "t").unwrap(),
        );
        let mut pieces = Vec::new();
        while let Some(frame) = body.frame().await {
            assert_eq!(lock(&slots.taken).total, 1, "held while pieces remain");
            pieces.push(frame.unwrap().into_data().unwrap());
        }
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces.concat(), data.to_vec());
        drop(body);
        assert_eq!(lock(&slots.taken).total, 0);
    }

    #[test]
    fn slots_are_capped_per_address_per_token_and_in_all() {
        let slots = AnswerSlots::default();
        let one: IpAddr = "10.0.0.1".parse().unwrap();
        let mine: Vec<_> = (0..MAX_SLOTS_PER_ADDRESS)
            .map(|_| slots.take(one, "t1").unwrap())
            .collect();
        assert!(slots.take(one, "t2").is_err(), "the address is full");
        // The same token from other addresses, up to its own cap.
        let others: Vec<_> = (0..MAX_SLOTS_PER_TOKEN - MAX_SLOTS_PER_ADDRESS)
            .map(|i| slots.take(IpAddr::from([10, 0, 1, i as u8]), "t1").unwrap())
            .collect();
        assert!(
            slots.take("10.0.2.1".parse().unwrap(), "t1").is_err(),
            "the token is full"
        );
        assert!(
            slots.take("10.0.2.1".parse().unwrap(), "t2").is_ok(),
            "another token is not"
        );
        drop(mine);
        assert!(slots.take(one, "t1").is_ok(), "given back when dropped");
        drop(others);
        let many: Vec<_> = (0..MAX_SLOTS)
            .map(|i| slots.take(IpAddr::from([10, 1, 0, i as u8]), &format!("t{i}")))
            .filter_map(Result::ok)
            .collect();
        assert_eq!(many.len(), MAX_SLOTS);
        assert!(
            slots.take("10.9.9.9".parse().unwrap(), "fresh").is_err(),
            "all are taken"
        );
    }
}
