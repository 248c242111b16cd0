//! The stream feed: the relay's output for everything that is not a socket (the Server-Sent
//! Events streams): batches of changes in seq order, each encoded once, and the tokens revoked
//! meanwhile, in their place in the same order; between them they account for every seq.
//! Also where the relay stands (`position`), the caps on streams, the turns at reading the log
//! for clients that resume, and the signal that the server is shutting down.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::{broadcast, watch};

use super::change::EncodedChange;
use super::replay::LogTurns;
use super::sse::StreamCaps;

/// Batches buffered for the slowest stream before it is told it lagged (it then reads what it
/// missed from the change log).
const CAPACITY: usize = 1024;

/// What the stream feed carries.
#[derive(Clone, Debug)]
pub enum Notice {
    /// Changes, in seq order, continuing where the previous notice ended.
    Changes(Arc<[Arc<EncodedChange>]>),
    /// A token was revoked (its hex SHA-256): connections made with it end. `seq` is the
    /// revocation's place in the change log, which no client is sent.
    Revoked { token_hash: Arc<str>, seq: i64 },
}

pub struct StreamFeed {
    notices: broadcast::Sender<Notice>,
    /// The last seq relayed.
    position: AtomicI64,
    closing: watch::Sender<bool>,
    pub(crate) streams: StreamCaps,
    /// Turns at reading the log, for event streams and sockets that resume.
    pub(crate) log_turns: LogTurns,
}

impl StreamFeed {
    pub fn new(streams: StreamCaps) -> Arc<Self> {
        Arc::new(StreamFeed {
            notices: broadcast::channel(CAPACITY).0,
            position: AtomicI64::new(0),
            closing: watch::Sender::new(false),
            streams,
            log_turns: LogTurns::default(),
        })
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// The last seq relayed: a client starting now without `since` starts after it.
    pub fn position(&self) -> i64 {
        self.position.load(Ordering::SeqCst)
    }

    pub(crate) fn set_position(&self, seq: i64) {
        self.position.store(seq, Ordering::SeqCst);
    }

    /// Publishes relayed changes (the position moves first, so that a stream starting in
    /// between starts after them or receives them, and never misses them).
    pub(crate) fn publish(&self, batch: Arc<[Arc<EncodedChange>]>) {
        if let Some(last) = batch.last() {
            self.set_position(last.seq);
        }
        // An error only means no stream is open.
        let _ = self.notices.send(Notice::Changes(batch));
    }

    pub(crate) fn revoked(&self, token_hash: &str, seq: i64) {
        self.set_position(seq);
        let _ = self.notices.send(Notice::Revoked {
            token_hash: token_hash.into(),
            seq,
        });
    }

    /// Ends every stream (at shutdown, so that the drain does not wait for them).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}
