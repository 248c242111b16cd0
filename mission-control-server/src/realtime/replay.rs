//! Catching up: a socket that signs in with `since` first receives every change after it,
//! read from the change log in order, then what arrived live meanwhile, then the live stream,
//! with no gap and no duplicate across the seam (see [`Session`]). It is then told `resumed`
//! (`{since, seq, replayed}`); when the log no longer holds everything after `since` it is
//! told `resync_required` (`{since, oldest, latest}`) instead, should reload the snapshot, and
//! follows the live stream from `latest`.
//!
//! Bounded, and fair: the log is read one page at a time (at most `PAGE` changes and
//! `CHANGES_PAGE_MAX_BYTES` of them), and every page is a turn ([`LogTurns`], shared with the
//! event streams): at most [`LOG_READERS`] pages are read at once, in the order they were asked
//! for, and the turn ends when the page is read, before it is sent. A resumer whose client is
//! slow therefore waits for its own client while holding no turn, and one resuming over a long
//! log of big changes takes turns with everyone else instead of keeping them waiting (a
//! restart brings every dashboard back together). A socket that takes no replayed change for
//! [`DRAIN_WAIT`], or is not caught up within [`MAX_CATCH_UP`], loses its transport and
//! resumes from where it got to when it reconnects.

use std::sync::Arc;
use std::time::Duration;

use mission_control_core::{Catchup, MissionControl};
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::Hub;
use super::change::EncodedChange;
use super::session::{Delivered, Pending, Session};

/// Changes read from the log per step (fewer when they are large).
pub const PAGE: usize = 500;
/// Pages of the log read at once for resuming clients; the others wait their turn.
pub const LOG_READERS: usize = 2;
/// How long a client may take to make room for the next replayed change.
const DRAIN_WAIT: Duration = Duration::from_secs(30);
/// The longest a resuming socket that holds too much unsent waits before looking again.
const MAX_PAUSE: Duration = Duration::from_millis(50);
/// The longest a catch-up may take before the socket is let go (it resumes on reconnecting).
const MAX_CATCH_UP: Duration = Duration::from_secs(600);

/// Turns at reading the log for resuming clients (sockets and event streams alike): fair, in
/// the order they were asked for.
pub struct LogTurns(Semaphore);

impl Default for LogTurns {
    fn default() -> Self {
        LogTurns(Semaphore::new(LOG_READERS))
    }
}

impl LogTurns {
    /// Reads one page of the log after `after`, in turn.
    pub async fn page(
        &self,
        mc: &MissionControl,
        after: i64,
    ) -> mission_control_core::Result<Catchup> {
        let _turn = self.0.acquire().await.map_err(|_| {
            mission_control_core::Error::Unavailable("the server is shutting down".into())
        })?;
        mc.changes_after(after, PAGE).await
    }
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
            let pending = {
                // No batch is delivered while the socket goes live.
                let _sessions = hub.sessions.write();
                session.take_pending(|seq| {
                    (!told_to_resync).then_some(Resumed {
                        since,
                        seq,
                        replayed,
                    })
                })
            };
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
        let page = match hub.stream_feed.log_turns.page(&hub.mc, after).await {
            Ok(Catchup::Changes(page)) => page,
            Ok(Catchup::ResyncRequired { oldest, latest }) => {
                session.restart_at(latest);
                let resync = ResyncRequired {
                    since: after.max(since),
                    oldest,
                    latest,
                };
                return match session.tell("resync_required", &resync) {
                    Delivered::Sent => Ok(FromLog::Resynced),
                    _ => Err("could not tell it to resync"),
                };
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the change log for a resuming socket");
                return Err("the change log cannot be read");
            }
        };
        let more = page.more();
        for entry in page.changes {
            match EncodedChange::new(entry.seq, &entry.name, &entry.payload) {
                Some(change) => *replayed += u64::from(send_patiently(session, &change).await?),
                None => session.skip_to(entry.seq),
            }
        }
        if !more {
            return Ok(FromLog::Done);
        }
        if started.elapsed() > MAX_CATCH_UP {
            return Err("catching up took too long");
        }
    }
}

/// Sends one change, waiting (a bounded time, looking again less and less often) while the
/// socket holds as much unsent as it may; whether it was sent (rather than already had).
async fn send_patiently(session: &Session, change: &EncodedChange) -> Result<bool, &'static str> {
    let waiting_since = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let before = session.watermark();
        match session.replay(change) {
            Delivered::Sent => return Ok(change.seq > before),
            Delivered::Closed => return Err("the socket closed"),
            Delivered::Full if waiting_since.elapsed() > DRAIN_WAIT => {
                return Err("it stopped taking changes");
            }
            Delivered::Full => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_PAUSE);
            }
        }
    }
}
