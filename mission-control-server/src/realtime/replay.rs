//! Catching up: a socket that signs in with `since` first receives every change after it,
//! read from the change log in order, then what arrived live meanwhile, then the live stream,
//! with no gap and no duplicate across the seam (see [`Session`]). It is then told `resumed`
//! (`{since, seq, replayed}`); when the log no longer holds everything after `since` it is
//! told `resync_required` (`{since, oldest, latest}`) instead, should reload the snapshot, and
//! follows the live stream from `latest`.
//!
//! Bounded: at most [`CONCURRENT_CATCH_UPS`] sockets read the log at once (a restart brings
//! every dashboard back together), each holds one page of it, and a socket that takes no
//! replayed change for [`DRAIN_WAIT`], or is not caught up within [`MAX_CATCH_UP`], loses its
//! transport and resumes from where it got to when it reconnects.

use std::sync::Arc;
use std::time::Duration;

use mission_control_core::Catchup;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::Hub;
use super::change::EncodedChange;
use super::session::{Delivered, Pending, Session};

/// Changes read from the log per step.
pub const PAGE: usize = 500;
/// Sockets catching up from the log at once; the others wait their turn (holding nothing but
/// a bounded queue of live changes).
pub const CONCURRENT_CATCH_UPS: usize = 16;
/// How long a client may take to make room for the next replayed change.
const DRAIN_WAIT: Duration = Duration::from_secs(30);
/// The longest a catch-up may take before the socket is let go (it resumes on reconnecting).
const MAX_CATCH_UP: Duration = Duration::from_secs(600);

/// The permits for catching up.
pub fn limiter() -> Semaphore {
    Semaphore::new(CONCURRENT_CATCH_UPS)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResyncRequired {
    pub since: i64,
    /// The oldest seq the log still holds, if any.
    pub oldest: Option<i64>,
    /// The newest seq: the stream continues after it.
    pub latest: i64,
}

#[derive(Serialize)]
pub struct Resumed {
    pub since: i64,
    /// The last seq the client has now.
    pub seq: i64,
    /// How many changes it was sent to catch up.
    pub replayed: u64,
}

pub async fn catch_up(hub: Arc<Hub>, session: Arc<Session>, since: i64) {
    let Ok(_turn) = hub.catch_ups.acquire().await else {
        return;
    };
    if !session.socket.connected() {
        return;
    }
    let started = Instant::now();
    let mut replayed = 0u64;
    let mut told_to_resync = false;
    let outcome: Result<(), &'static str> = async {
        let mut read_log = true;
        loop {
            if read_log {
                let from = from_log(&hub, &session, since, started, &mut replayed).await?;
                told_to_resync |= matches!(from, FromLog::Resynced);
                read_log = false;
            }
            let pending = session.take_pending(|seq| {
                told_to_resync
                    || session
                        .socket
                        .emit(
                            "resumed",
                            &Resumed {
                                since,
                                seq,
                                replayed,
                            },
                        )
                        .is_ok()
            });
            match pending {
                Pending::WentLive(true) => return Ok(()),
                Pending::WentLive(false) => return Err("could not tell it it resumed"),
                Pending::Overflowed => read_log = true,
                Pending::Changes(changes) => {
                    // Only a queue that continues exactly where the socket is can be sent;
                    // otherwise the log has what lies between.
                    let continues = changes
                        .front()
                        .is_some_and(|c| c.seq <= session.watermark() + 1);
                    if continues {
                        for change in changes {
                            replayed += u64::from(send_patiently(&session, &change).await?);
                        }
                    } else {
                        read_log = true;
                    }
                }
            }
            if started.elapsed() > MAX_CATCH_UP {
                return Err("catching up took too long");
            }
        }
    }
    .await;
    if let Err(why) = outcome {
        tracing::debug!(socket = %session.socket.id, why, "a resuming socket is let go");
        hub.drop_socket(&session);
    }
}

enum FromLog {
    Done,
    Resynced,
}

/// Sends everything the log holds after the session's watermark.
async fn from_log(
    hub: &Hub,
    session: &Session,
    since: i64,
    started: Instant,
    replayed: &mut u64,
) -> Result<FromLog, &'static str> {
    loop {
        let after = session.watermark();
        let page = match hub.mc.changes_after(after, PAGE).await {
            Ok(Catchup::Changes(page)) => page,
            Ok(Catchup::ResyncRequired { oldest, latest }) => {
                session.restart_at(latest);
                let told = session.socket.emit(
                    "resync_required",
                    &ResyncRequired {
                        since: after.max(since),
                        oldest,
                        latest,
                    },
                );
                return match told {
                    Ok(()) => Ok(FromLog::Resynced),
                    Err(_) => Err("could not tell it to resync"),
                };
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the change log for a resuming socket");
                return Err("the change log cannot be read");
            }
        };
        let count = page.changes.len();
        for entry in page.changes {
            match EncodedChange::new(entry.seq, &entry.name, &entry.payload) {
                Some(change) => *replayed += u64::from(send_patiently(session, &change).await?),
                None => session.skip_to(entry.seq),
            }
        }
        if count < PAGE {
            return Ok(FromLog::Done);
        }
        if started.elapsed() > MAX_CATCH_UP {
            return Err("catching up took too long");
        }
    }
}

/// Sends one change, waiting (a bounded time) while the socket's buffer is full; whether it
/// was sent (rather than already had).
async fn send_patiently(session: &Session, change: &EncodedChange) -> Result<bool, &'static str> {
    let waiting_since = Instant::now();
    loop {
        let before = session.watermark();
        match session.replay(change) {
            Delivered::Sent => return Ok(change.seq > before),
            Delivered::Closed => return Err("the socket closed"),
            Delivered::Full if waiting_since.elapsed() > DRAIN_WAIT => {
                return Err("it stopped taking changes");
            }
            Delivered::Full => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
}
