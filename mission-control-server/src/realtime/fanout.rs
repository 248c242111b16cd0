//! The relay: the core's committed changes, in seq order and without gaps, to every signed-in
//! socket and to the feed the event streams follow.
//!
//! Each change is encoded once ([`EncodedChange`]), and once more as a Socket.io packet, which
//! one broadcast to the live room queues for every live socket: the same bytes, shared, not a
//! copy per socket. The relay takes every change waiting on the bus at once, so a socket gets a
//! burst (a task and its event-log line) in one wake-up and one write. Before a batch goes out
//! each session counts what it is handed against what its transport has written (see
//! `session`): one that holds too much unsent leaves the room and is dropped first, and one that
//! has just caught up past some of the batch is left out of those changes.
//!
//! The relay never skips a seq. When the next change on the bus is not the one after the last
//! relayed (the relay lagged the bus, or another process wrote to the same database), it reads
//! what lies between from the change log first. Changes committed by other processes reach this
//! one's clients through the core's doorbell (`MissionControl::watch_log`: on PostgreSQL every
//! commit notifies, and the relay then reads the log at once), and, in case a ring is missed,
//! through a look at the log's newest seq every [`TAIL_EVERY`]: that is how several server
//! processes share one board.
//!
//! Revocations are entries of the same log, in their place among the changes, and never sent
//! to a client. The relay acts on each one instead: the core's token checks forget the token
//! (the entries it reads from the log are handed to `MissionControl::learn`, which also keeps
//! presence up to date with agents changed elsewhere), and the sockets and event streams
//! signed in with it end. So a token revoked by any process (the command line, another
//! server) is refused, and its live connections closed, as soon as a change made there would
//! reach this server's clients: within [`TAIL_EVERY`].

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use mission_control_core::{Catchup, Committed, DomainEvent};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use futures_util::FutureExt;

use super::Hub;
use super::change::EncodedChange;
use super::replay::PAGE;
use super::session::{Accepted, LIVE, Session};

/// A room's name, as socketioxide takes it.
type Room = Cow<'static, str>;

/// Changes taken from the bus per round.
const BATCH: usize = 256;
/// How often the relay looks for changes committed by another process.
pub const TAIL_EVERY: Duration = Duration::from_secs(1);

pub async fn relay(hub: Arc<Hub>, mut bus: Receiver<Arc<Committed>>) {
    // Only changes committed from now on are live; earlier ones are what `since` is for.
    let mut relayed = start_position(&hub).await;
    if let Some(seq) = relayed {
        hub.stream_feed.set_position(seq);
    }
    let mut tail = tokio::time::interval(TAIL_EVERY);
    tail.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut doorbell = match hub.mc.watch_log() {
        Ok(doorbell) => Some(doorbell),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for other processes' changes; polling");
            None
        }
    };
    loop {
        tokio::select! {
            biased;
            received = bus.recv() => match received {
                Ok(first) => {
                    let (batch, lagged) = take_waiting(first, &mut bus);
                    relay_batch(&hub, &mut relayed, &batch).await;
                    if lagged {
                        lagged_behind(&hub, &mut relayed).await;
                    }
                }
                Err(RecvError::Lagged(_)) => lagged_behind(&hub, &mut relayed).await,
                Err(RecvError::Closed) => break,
            },
            rung = async {
                match doorbell.as_mut() {
                    Some(d) => d.changed().await.map(|()| *d.borrow_and_update()),
                    None => std::future::pending().await,
                }
            } => match rung {
                Ok(announced) => {
                    if let Some(last) = relayed
                        && announced > last
                    {
                        fill_from_log(&hub, &mut relayed, announced).await;
                    }
                }
                Err(_) => doorbell = None,
            },
            _ = tail.tick() => {
                if let Some(last) = relayed
                    && let Ok(latest) = hub.mc.latest_seq().await
                    && latest > last
                {
                    fill_from_log(&hub, &mut relayed, latest).await;
                }
            }
        }
    }
}

/// The newest seq, read with a few retries; `None` if the log cannot be read now (the first
/// change on the bus then sets the position).
async fn start_position(hub: &Hub) -> Option<i64> {
    for _ in 0..20 {
        match hub.mc.latest_seq().await {
            Ok(seq) => return Some(seq),
            Err(e) => tracing::warn!(error = %e, "cannot read the change log's position yet"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

/// `first` and every change waiting behind it (at most [`BATCH`]); whether the bus dropped
/// some meanwhile.
fn take_waiting(
    first: Arc<Committed>,
    bus: &mut Receiver<Arc<Committed>>,
) -> (Vec<Arc<Committed>>, bool) {
    let mut batch = vec![first];
    while batch.len() < BATCH {
        match bus.try_recv() {
            Ok(change) => batch.push(change),
            Err(TryRecvError::Lagged(_)) => return (batch, true),
            Err(_) => break,
        }
    }
    (batch, false)
}

async fn relay_batch(hub: &Hub, relayed: &mut Option<i64>, batch: &[Arc<Committed>]) {
    let mut out: Vec<Arc<EncodedChange>> = Vec::with_capacity(batch.len());
    for committed in batch {
        let logged = &committed.logged;
        let last = *relayed.get_or_insert(logged.seq - 1);
        if logged.seq <= last {
            continue;
        }
        if logged.seq > last + 1 {
            deliver(hub, std::mem::take(&mut out));
            fill_from_log(hub, relayed, logged.seq - 1).await;
            if relayed.is_some_and(|r| logged.seq <= r) {
                continue;
            }
        }
        match &committed.event {
            // Made in this process: the core has forgotten the token already.
            DomainEvent::TokenRevoked { token_hash } => {
                deliver(hub, std::mem::take(&mut out));
                sign_out(hub, token_hash, logged.seq);
            }
            _ => {
                if let Some(change) = EncodedChange::new(logged.seq, &logged.name, &logged.payload)
                {
                    out.push(Arc::new(change));
                }
            }
        }
        *relayed = Some(logged.seq);
    }
    deliver(hub, out);
}

async fn lagged_behind(hub: &Hub, relayed: &mut Option<i64>) {
    tracing::warn!("the real-time relay fell behind the bus; reading the change log");
    match hub.mc.latest_seq().await {
        Ok(latest) => fill_from_log(hub, relayed, latest).await,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the change log; live sockets will resume");
            lost_place(hub);
        }
    }
}

/// Reads and relays the changes after the last relayed, through `until` at least.
async fn fill_from_log(hub: &Hub, relayed: &mut Option<i64>, until: i64) {
    let Some(mut last) = *relayed else {
        *relayed = Some(until);
        return;
    };
    while last < until {
        match hub.mc.changes_after(last, PAGE).await {
            Ok(Catchup::Changes(page)) => {
                let Some(end) = page.changes.last().map(|c| c.seq) else {
                    break;
                };
                let mut batch = Vec::with_capacity(page.changes.len());
                for entry in &page.changes {
                    hub.mc.learn(entry);
                    if let Some(token_hash) = entry.revoked_token() {
                        deliver(hub, std::mem::take(&mut batch));
                        sign_out(hub, &token_hash, entry.seq);
                    } else if let Some(change) =
                        EncodedChange::new(entry.seq, &entry.name, &entry.payload)
                    {
                        batch.push(Arc::new(change));
                    }
                }
                last = end;
                *relayed = Some(last);
                deliver(hub, batch);
            }
            Ok(Catchup::ResyncRequired { .. }) => {
                // What the relay missed is gone from the log: every socket must resume (and
                // will be told to resync); event streams notice the jump themselves.
                tracing::warn!("the change log no longer holds what the relay missed");
                lost_place(hub);
                break;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the change log; live sockets will resume");
                lost_place(hub);
                break;
            }
        }
    }
    if last < until {
        *relayed = Some(until);
        hub.stream_feed.set_position(until);
    }
}

/// Delivers a batch to every signed-in socket and to the feed. (Offering it in chunks, yielding
/// to the sockets' writers in between, was measured: it cost a fifth more CPU per write and
/// saved no memory.)
fn deliver(hub: &Hub, batch: Vec<Arc<EncodedChange>>) {
    if batch.is_empty() {
        return;
    }
    let batch: Arc<[Arc<EncodedChange>]> = batch.into();
    let too_slow: Vec<Arc<Session>> = {
        // Held throughout, so that no socket goes live between what it accepts and the
        // broadcast (going live takes the write lock).
        let sessions = hub.sessions.read();
        hub.stream_feed.publish(batch.clone());
        let mut too_slow = Vec::new();
        // Live sockets that already have the changes up to a seq, and their rooms.
        let mut ahead: Vec<(i64, Room)> = Vec::new();
        for session in sessions.values() {
            match session.accept(&batch) {
                Accepted::Held | Accepted::All => {}
                Accepted::After(seq) => {
                    ahead.push((seq, Room::Owned(session.socket.id.to_string())));
                }
                Accepted::TooSlow => {
                    session.socket.leave(LIVE);
                    too_slow.push(session.clone());
                }
            }
        }
        for change in batch.iter() {
            // Gone only while the server shuts down.
            let Some(namespace) = hub.io.of("/") else {
                break;
            };
            let has_it: Vec<Room> = ahead
                .iter()
                .filter(|(seq, _)| change.seq <= *seq)
                .map(|(_, room)| room.clone())
                .collect();
            let mut to = namespace.to(LIVE);
            if !has_it.is_empty() {
                to = to.except(has_it);
            }
            // The local adapter broadcasts at once; an error names sockets that have closed.
            if let Some(Err(e)) = to.emit(&*change.name, &*change.payload).now_or_never() {
                tracing::debug!(error = %e, seq = change.seq, "a broadcast missed closed sockets");
            }
        }
        too_slow
    };
    for session in too_slow {
        tracing::warn!(socket = %session.socket.id, "client too slow for real-time updates; dropping its connection");
        hub.drop_socket(&session);
    }
}

/// The relay skips what it could not read: every socket resumes (from the log, or told to
/// resync), and since a revocation may be among what was skipped, every token is checked
/// against the database again at its next use.
fn lost_place(hub: &Hub) {
    hub.mc.forget_verified_tokens();
    for session in hub.sessions.all() {
        hub.drop_socket(&session);
    }
}

/// Ends the connections signed in with a token that has just been revoked (the revocation's
/// seq is `seq`).
fn sign_out(hub: &Hub, token_hash: &str, seq: i64) {
    hub.stream_feed.revoked(token_hash, seq);
    for session in hub.sessions.all() {
        if session.signed_in_with(token_hash) {
            hub.kick(&session);
        }
    }
}
