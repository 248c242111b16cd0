//! `GET /api/stream`: the board's changes as Server-Sent Events, for curl, shells, agents that
//! do not speak Socket.io, and networks whose proxies break WebSockets.
//!
//! Each change is one event: `id:` its seq, `event:` its name (`task.created`, ...), `data:`
//! the specification's payload with `seq` beside it. A stream opened without a position starts
//! with `event: ready` (`{"seq": N}`, the position it starts after); one opened with
//! `Last-Event-ID` or `?since=` first replays every change after it from the change log, then
//! says `event: resumed` (`{since, seq, replayed}`), or, when the log no longer holds them
//! all, `event: resync_required` (`{since, oldest, latest}`, with `id:` the latest so that a
//! reconnect does not ask again): reload the snapshot and carry on. A comment every
//! [`HEARTBEAT`] keeps proxies from closing a quiet stream.
//!
//! Exactly once: the stream subscribes to the relay's [`StreamFeed`] before it reads anything,
//! skips every seq at or below the last it sent, and reads the log whenever the next change is
//! not the one after it (it lagged the feed, or resumed). Bounded: at most `MAX_EVENT_STREAMS`
//! streams at once and `MAX_EVENT_STREAMS_PER_TOKEN` per token ([`StreamCaps`]); a stream
//! holds one page of the log (bounded in bytes) or one batch at a time, and reads each page in
//! its turn with every other client resuming (`replay::LogTurns`), so streams replaying a long
//! log share the database fairly; a client that stops reading is closed by the connection's
//! write-stall deadline. A stream ends (with a comment saying why) when its
//! token expires or is revoked, and when the server shuts down. While open it counts as the
//! agent's live connection.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use mission_control_core::{
    Actor, Catchup, Error as CoreError, LiveConnection, MissionControl, SignedToken, now_millis,
};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio::time::{Instant, Interval};

use super::change::{EncodedChange, sse_event};
use super::replay::{Resumed, ResyncRequired};
use super::stream_feed::{Notice, StreamFeed};
use super::watch::RECHECK_EVERY;
use crate::web::body::Body;
use crate::web::error::ApiError;

/// How often a quiet stream sends a comment.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// How often a stream's token is checked against the database again: a backstop, since
/// revocations reach the stream through the relay within a second.
const RECHECK: Duration = Duration::from_secs(RECHECK_EVERY);
/// What a browser's `EventSource` waits before reconnecting, in milliseconds.
const RETRY_MS: u32 = 3000;

/// How many streams may be open, in all and per token id, and how many are.
pub struct StreamCaps {
    total: usize,
    per_token: usize,
    open: Mutex<OpenStreams>,
}

#[derive(Default)]
struct OpenStreams {
    total: usize,
    by_token: HashMap<String, usize>,
}

impl StreamCaps {
    /// At most `total` streams at once, and `per_token` for one token.
    pub fn new(total: usize, per_token: usize) -> Self {
        StreamCaps {
            total,
            per_token,
            open: Mutex::default(),
        }
    }

    fn open(&self) -> std::sync::MutexGuard<'_, OpenStreams> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A stream's place under the caps, given back when the stream ends.
struct Place {
    feed: Arc<StreamFeed>,
    token_id: String,
}

impl Place {
    fn take(feed: &Arc<StreamFeed>, token_id: &str) -> Result<Place, ApiError> {
        let caps = &feed.streams;
        let mut open = caps.open();
        if open.total >= caps.total {
            return Err(ApiError::Busy {
                reason: "the server has as many event streams open as it allows",
                retry_after: Duration::from_secs(5),
            });
        }
        let mine = open.by_token.entry(token_id.to_owned()).or_default();
        if *mine >= caps.per_token {
            return Err(ApiError::Busy {
                reason: "this token has as many event streams open as it may; close one first",
                retry_after: Duration::from_secs(5),
            });
        }
        *mine += 1;
        open.total += 1;
        Ok(Place {
            feed: feed.clone(),
            token_id: token_id.to_owned(),
        })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.feed.streams.open();
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_token.get_mut(&self.token_id) {
            *n -= 1;
            if *n == 0 {
                open.by_token.remove(&self.token_id);
            }
        }
    }
}

/// Opens a stream for `actor`, signed in with `token`, from `since` (the last seq the client
/// has) or from now.
pub async fn open(
    feed: &Arc<StreamFeed>,
    mc: &MissionControl,
    actor: &Actor,
    token: SignedToken,
    since: Option<i64>,
) -> Result<http::Response<Body>, ApiError> {
    let place = Place::take(feed, token.id())?;
    // Subscribe before reading the position: whatever commits after the read is received.
    let notices = feed.subscribe();
    let mut out = VecDeque::new();
    let watermark = match since {
        Some(since) => {
            out.push_back(Bytes::from(format!("retry: {RETRY_MS}\n\n")));
            since
        }
        None => {
            let seq = mc.latest_seq().await?;
            let data = format!("{{\"seq\":{seq}}}");
            let ready = sse_event(Some(seq), "ready", data.as_bytes());
            out.push_back(Bytes::from(format!("retry: {RETRY_MS}\n")));
            out.push_back(ready);
            seq
        }
    };
    let stream = Stream {
        mc: mc.clone(),
        feed: feed.clone(),
        notices,
        closing: feed.closing(),
        heartbeat: tokio::time::interval_at(Instant::now() + HEARTBEAT, HEARTBEAT),
        recheck: tokio::time::interval_at(Instant::now() + RECHECK, RECHECK),
        expires: expiry_check(&token),
        _live: mc.live_connection(actor),
        _place: place,
        token,
        out,
        watermark,
        resuming: since,
        read_log: since.is_some(),
        replayed: 0,
        ended: false,
    };
    let body = futures_util::stream::unfold(stream, Stream::next);
    let mut response = http::Response::new(StreamBody::new(body).boxed_unsync());
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // nginx and its kin buffer responses unless told not to.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

struct Stream {
    mc: MissionControl,
    feed: Arc<StreamFeed>,
    notices: broadcast::Receiver<Notice>,
    closing: watch::Receiver<bool>,
    heartbeat: Interval,
    recheck: Interval,
    expires: Instant,
    token: SignedToken,
    _live: LiveConnection,
    _place: Place,
    /// Frames ready to write: at most a page of the log or a batch.
    out: VecDeque<Bytes>,
    /// The last seq this stream sent (or was told to skip to).
    watermark: i64,
    /// `since`, until the stream has caught up.
    resuming: Option<i64>,
    /// Whether the next step reads the log (resuming, lagged, or a gap seen).
    read_log: bool,
    replayed: u64,
    ended: bool,
}

enum Step {
    Notice(Result<Notice, RecvError>),
    Heartbeat,
    Recheck,
    ExpiryDue,
    End(&'static str),
}

impl Stream {
    async fn next(mut self) -> Option<(Result<Frame<Bytes>, std::io::Error>, Self)> {
        loop {
            if let Some(frame) = self.out.pop_front() {
                return Some((Ok(Frame::data(frame)), self));
            }
            if self.ended {
                return None;
            }
            if self.read_log {
                self.read_log_page().await;
                continue;
            }
            let step = tokio::select! {
                biased;
                _ = self.closing.wait_for(|closing| *closing) => Step::End("the server is shutting down"),
                () = tokio::time::sleep_until(self.expires) => Step::ExpiryDue,
                notice = self.notices.recv() => Step::Notice(notice),
                _ = self.heartbeat.tick() => Step::Heartbeat,
                _ = self.recheck.tick() => Step::Recheck,
            };
            match step {
                Step::Notice(Ok(Notice::Changes(batch))) => self.take(&batch),
                Step::Notice(Ok(Notice::Revoked { token_hash, seq })) => {
                    if *token_hash == *self.token.token_hash() {
                        self.end("the token was revoked");
                    } else if seq == self.watermark + 1 {
                        // Not for clients: the stream moves past it without a word.
                        self.watermark = seq;
                    }
                }
                Step::Notice(Err(RecvError::Lagged(_))) => self.read_log = true,
                Step::Notice(Err(RecvError::Closed)) => self.end("the server is shutting down"),
                Step::Heartbeat => self.out.push_back(Bytes::from_static(b": keep-alive\n\n")),
                Step::Recheck => {
                    if let Err(CoreError::Unauthorized(why)) = self.mc.authorize(&self.token).await
                    {
                        self.end(why);
                    }
                }
                Step::ExpiryDue if self.token.expires_at() <= now_millis() => {
                    self.end("the token expired");
                }
                Step::ExpiryDue => self.expires = expiry_check(&self.token),
                Step::End(why) => self.end(why),
            }
        }
    }

    /// Takes the live changes after the watermark; on a gap, reads the log instead.
    fn take(&mut self, batch: &[Arc<EncodedChange>]) {
        for change in batch {
            if change.seq <= self.watermark {
                continue;
            }
            if change.seq > self.watermark + 1 {
                self.read_log = true;
                return;
            }
            self.out.push_back(change.sse_frame());
            self.watermark = change.seq;
        }
    }

    async fn read_log_page(&mut self) {
        match self.feed.log_turns.page(&self.mc, self.watermark).await {
            Ok(Catchup::Changes(page)) => {
                let more = page.more();
                let mut frames = Vec::new();
                for entry in page.changes {
                    if let Some(change) = EncodedChange::new(entry.seq, &entry.name, &entry.payload)
                    {
                        frames.extend_from_slice(&change.sse_frame());
                        self.replayed += 1;
                    }
                    self.watermark = entry.seq;
                }
                if !frames.is_empty() {
                    self.out.push_back(Bytes::from(frames));
                }
                if !more {
                    self.read_log = false;
                    if let Some(since) = self.resuming.take() {
                        let resumed = Resumed {
                            since,
                            seq: self.watermark,
                            replayed: self.replayed,
                        };
                        self.push_event("resumed", &resumed);
                    }
                }
            }
            Ok(Catchup::ResyncRequired { oldest, latest }) => {
                let since = self.resuming.take().unwrap_or(self.watermark);
                self.watermark = latest;
                self.read_log = false;
                let resync = ResyncRequired {
                    since,
                    oldest,
                    latest,
                };
                self.push_event("resync_required", &resync);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the change log for an event stream");
                self.end("the change log cannot be read right now; reconnect to resume");
            }
        }
    }

    /// An event of the stream itself, with `id:` the watermark so that a reconnect resumes
    /// from there.
    fn push_event<T: Serialize>(&mut self, name: &str, data: &T) {
        let data = serde_json::to_vec(data).unwrap_or_else(|_| b"{}".to_vec());
        self.out
            .push_back(sse_event(Some(self.watermark), name, &data));
    }

    fn end(&mut self, why: &str) {
        self.out
            .push_back(Bytes::from(format!(": closed: {why}\n\n")));
        self.ended = true;
    }
}

/// When to look at the token's expiry next: at expiry, or in a day if that is further off
/// (an `Instant` that far ahead could overflow).
fn expiry_check(token: &SignedToken) -> Instant {
    let remaining = u64::try_from(token.expires_at() - now_millis()).unwrap_or(0);
    Instant::now() + Duration::from_millis(remaining).min(Duration::from_secs(24 * 3600))
}

/// The seq a client resumes from: `Last-Event-ID` (what a browser's `EventSource` sends on
/// reconnecting) wins over `?since=` (which stays in the URL).
pub fn resume_point(
    last_event_id: Option<&str>,
    since: Option<i64>,
) -> Result<Option<i64>, String> {
    match last_event_id.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(since),
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Some(n)),
            _ => Err("must be a seq: a whole number, 0 or more".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use mission_control_core::{AgentStatus, NewAgent, NewAgentRequest};

    use super::*;

    async fn board() -> (MissionControl, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mc = MissionControl::open(dir.path().join("board.db")).unwrap();
        let agent = NewAgent::parse(NewAgentRequest {
            id: Some("agent-nova".into()),
            name: Some("Nova".into()),
            role: Some("Research".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            mc.register_agent(None, agent).await.unwrap().status,
            AgentStatus::Online
        );
        (mc, dir)
    }

    /// The body's text frames, `count` of them.
    async fn frames(body: &mut Body, count: usize) -> Vec<String> {
        let mut got = Vec::new();
        while got.len() < count {
            let frame = body.frame().await.expect("a frame").unwrap();
            got.push(String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap());
        }
        got
    }

    async fn open_for(mc: &MissionControl, ttl_ms: i64) -> Body {
        let feed = StreamFeed::new(StreamCaps::new(1024, 8));
        let token = mc.issue_token("agent-nova", ttl_ms).await.unwrap().token;
        let signed = mc.check_signature(&token).unwrap();
        let actor = Actor::new("agent-nova");
        open(&feed, mc, &actor, signed, None)
            .await
            .unwrap()
            .into_body()
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_stream_says_something_every_heartbeat() {
        let (mc, _dir) = board().await;
        let mut body = open_for(&mc, 3_600_000).await;
        let started = Instant::now();
        let opening = frames(&mut body, 2).await;
        assert_eq!(opening[0], "retry: 3000\n");
        assert!(opening[1].contains("event: ready\n"), "{opening:?}");
        assert_eq!(frames(&mut body, 1).await, [": keep-alive\n\n"]);
        assert_eq!(started.elapsed(), HEARTBEAT);
        assert_eq!(frames(&mut body, 1).await, [": keep-alive\n\n"]);
        assert_eq!(started.elapsed(), 2 * HEARTBEAT);
        mc.shutdown().await;
    }

    #[tokio::test]
    async fn a_stream_ends_when_its_token_expires() {
        let (mc, _dir) = board().await;
        let mut body = open_for(&mc, 1_500).await;
        frames(&mut body, 2).await;
        assert_eq!(
            frames(&mut body, 1).await,
            [": closed: the token expired\n\n"]
        );
        assert!(body.frame().await.is_none(), "and then ends");
        mc.shutdown().await;
    }
}
