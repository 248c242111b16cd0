//! Catching up: a socket that signs in with `since` first receives every change after it,
//! read from the change log in order, then the live stream, with no gap and no duplicate
//! across the seam (see [`Session`]). When the log no longer holds everything after `since`,
//! the socket is told `resync_required` and should reload the snapshot.

use std::sync::Arc;
use std::time::Duration;

use mission_control_core::Catchup;
use serde::Serialize;
use socketioxide::extract::SocketRef;

use super::Hub;
use super::session::{Delivered, Outgoing, Session};

/// Changes read from the log per step.
const PAGE: usize = 500;
/// How long a client may take to make room for the next replayed change.
const DRAIN_WAIT: Duration = Duration::from_secs(30);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResyncRequired {
    since: i64,
    /// The oldest seq the log still holds, if any.
    oldest: Option<i64>,
    latest: i64,
}

#[derive(Serialize)]
struct Resumed {
    since: i64,
    /// The last seq the socket has now.
    seq: i64,
    /// How many changes it was sent to catch up.
    replayed: u64,
}

pub async fn catch_up(hub: Arc<Hub>, socket: SocketRef, session: Arc<Session>, since: i64) {
    session.skip_to(since);
    let mut after = since;
    let mut replayed = 0u64;
    loop {
        let page = match hub.mc.changes_after(after, PAGE).await {
            Ok(Catchup::Changes(page)) => page,
            Ok(Catchup::ResyncRequired { oldest, latest }) => {
                session.skip_to(latest);
                let _ = socket.emit(
                    "resync_required",
                    &ResyncRequired {
                        since,
                        oldest,
                        latest,
                    },
                );
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the change log for a resuming socket");
                hub.gate.drop_transport(&socket);
                return;
            }
        };
        let count = page.changes.len();
        for change in page.changes {
            after = change.seq;
            let Some(out) = Outgoing::new(change.seq, &change.name, &change.payload) else {
                continue;
            };
            if !send_patiently(&socket, &session, &out).await {
                hub.gate.drop_transport(&socket);
                return;
            }
            replayed += 1;
        }
        if count < PAGE {
            break;
        }
    }
    if !session.go_live(&socket) {
        // Too much arrived while it caught up, or it cannot take it: it reconnects and
        // resumes from where it got to.
        hub.gate.drop_transport(&socket);
        return;
    }
    let _ = socket.emit(
        "resumed",
        &Resumed {
            since,
            seq: session.watermark(),
            replayed,
        },
    );
}

/// Sends one replayed change, waiting (a bounded time) while the socket's buffer is full.
async fn send_patiently(socket: &SocketRef, session: &Session, change: &Outgoing) -> bool {
    let started = tokio::time::Instant::now();
    loop {
        match session.replay(socket, change) {
            Delivered::Sent | Delivered::Held => return true,
            Delivered::Closed => return false,
            Delivered::Full if started.elapsed() > DRAIN_WAIT => return false,
            Delivered::Full => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}
