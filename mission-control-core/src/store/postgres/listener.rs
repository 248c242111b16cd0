//! The doorbell: every group commit on PostgreSQL notifies a channel with its last seq, and each
//! process that serves clients listens on it, so a change made by any process reaches the
//! others' clients at once instead of at their next poll of the change log.
//!
//! The change log stays the truth; a notification only says "read it now". The listener says
//! what it learns through a `watch` of the newest seq known to be committed. On every
//! (re)connection it first `LISTEN`s, then reads the log's last seq and announces that, so a
//! notification lost while it was away costs a read, never a change. It runs on a thread of its
//! own with a small runtime (one asynchronous connection: `LISTEN` needs one that stays open),
//! reconnects by itself after any failure, and checks its connection every few seconds, so a
//! connection killed from the database side (`pg_terminate_backend`) or lost on the network is
//! noticed and made again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{AsyncMessage, Socket};

use super::CHANGES_CHANNEL;
use super::target::{PgTarget, Tls};
use crate::error::{Error, Result};

/// How often a quiet connection is checked.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// How long a check may take before the connection counts as lost.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);
/// Waits between reconnection attempts, doubling up to the longest.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_LONGEST: Duration = Duration::from_secs(5);

/// The listening thread; stops when dropped (not when nobody is subscribed to the doorbell
/// for a moment: the first subscriber may come just after the thread starts).
pub(crate) struct Listener {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    /// Starts listening for other processes' commits; each announced seq goes to `announce`
    /// (which only ever moves forward).
    pub fn start(target: PgTarget, announce: watch::Sender<i64>) -> Result<Listener> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the change listener: {e}")))?;
        let thread = std::thread::Builder::new()
            .name("mission-control-listener".into())
            .spawn(move || runtime.block_on(run(target, announce, flag)))
            .map_err(|e| Error::Internal(format!("cannot start the change listener: {e}")))?;
        Ok(Listener {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Not joined: the thread notices within one check and ends by itself.
        self.thread.take();
    }
}

async fn run(target: PgTarget, announce: watch::Sender<i64>, stop: Arc<AtomicBool>) {
    let mut wait = RETRY_FIRST;
    let mut failures: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        let outcome = match target.tls() {
            Tls::Off => session(&target, tokio_postgres::NoTls, &announce, &stop).await,
            Tls::On(config) => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new((**config).clone());
                session(&target, tls, &announce, &stop).await
            }
        };
        match outcome {
            Ok(()) => return,
            Err(e) => {
                // Said once when it starts failing, then every twentieth attempt.
                if failures.is_multiple_of(20) {
                    tracing::warn!(error = %e, "listening for other processes' changes failed; \
                        reconnecting (their changes still arrive by polling the change log)");
                }
                failures += 1;
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RETRY_LONGEST);
            }
        }
    }
}

/// One connection's life: `LISTEN`, announce the log's position, then every notification,
/// until the connection fails (an error) or the board goes away (`Ok`).
async fn session<T>(
    target: &PgTarget,
    tls: T,
    announce: &watch::Sender<i64>,
    stop: &AtomicBool,
) -> Result<()>
where
    T: MakeTlsConnect<Socket> + 'static,
    T::Stream: Send + 'static,
{
    let unavailable = |e: tokio_postgres::Error| Error::Unavailable(e.to_string());
    let mut config = target.async_config().clone();
    // Named, so that an operator (or a test) can tell it from the pools' connections.
    config.application_name("mission-control-listener");
    let (client, mut connection) = config.connect(tls).await.map_err(unavailable)?;
    let (notes, mut notified) = mpsc::unbounded_channel::<String>();
    // The connection delivers notifications only while it is polled: a task of its own does.
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(|cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if notes.send(n.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let result = async {
        let schema: String = client
            .query_one("SELECT current_schema()", &[])
            .await
            .map_err(unavailable)?
            .try_get(0)
            .map_err(unavailable)?;
        let channel = format!("{CHANGES_CHANNEL}{schema}").replace('"', "\"\"");
        client
            .batch_execute(&format!("LISTEN \"{channel}\""))
            .await
            .map_err(unavailable)?;
        // Listening now: whatever committed before is in the log, which this makes readers read.
        let latest: i64 = client
            .query_one("SELECT last_seq FROM log_position WHERE id = 1", &[])
            .await
            .map_err(unavailable)?
            .try_get(0)
            .map_err(unavailable)?;
        tell(announce, latest);
        tracing::debug!(channel, "listening for other processes' changes");
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            match tokio::time::timeout(CHECK_EVERY, notified.recv()).await {
                Ok(Some(payload)) => {
                    if let Ok(seq) = payload.parse() {
                        tell(announce, seq);
                    }
                }
                Ok(None) => return Err(Error::Unavailable("the connection closed".into())),
                Err(_) => {
                    tokio::time::timeout(CHECK_TIMEOUT, client.simple_query(""))
                        .await
                        .map_err(|_| Error::Unavailable("the connection stopped answering".into()))?
                        .map_err(unavailable)?;
                }
            }
        }
    }
    .await;
    driver.abort();
    result
}

/// Moves the announced seq forward (never back).
fn tell(announce: &watch::Sender<i64>, seq: i64) {
    announce.send_if_modified(|known| {
        if seq > *known {
            *known = seq;
            true
        } else {
            false
        }
    });
}
