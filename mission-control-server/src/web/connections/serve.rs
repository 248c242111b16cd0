//! Accepting and serving connections: admission, deadlines, request logs, and the graceful
//! drain at shutdown.
//!
//! Deadlines, from the outside in: a connection is admitted or answered 503 at once; the
//! request head must arrive within [`HEADER_READ_TIMEOUT`] (which also closes idle keep-alive
//! connections); the response head must be ready within [`REQUEST_DEADLINE`] of the head's
//! arrival (bodies included: the API reads its body under its own, shorter deadline); and the
//! response is written with the write-stall guard of [`super::guarded`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use super::admission::{Admission, Refused};
use super::guarded::{ConnectionControl, GuardedStream};
use crate::web::body::Body;
use crate::web::client::ClientAddr;
use crate::web::error::ApiError;

/// The largest request head (request line and headers) hyper reads; beyond it hyper answers
/// 431 (or 414 for the URI), with the API's JSON body.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// What hyper buffers per connection at most, reading or writing.
const MAX_BUFFER_BYTES: usize = 128 * 1024;
/// Most header fields in one request.
const MAX_HEADERS: usize = 100;
/// How long a client may take to send a request head, and how long an idle keep-alive
/// connection stays open.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to start answering a request it has read the head of.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(60);
/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `service` on `listener` until `shutdown` resolves, then stops accepting, asks every
/// connection to finish its current request, and waits (a bounded time) for them.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    admission: Arc<Admission>,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<http::Request<Incoming>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connections = Connections::new();
    let mut refusals = OccasionalWarning::new("connection refused");
    let mut accept_failures = OccasionalWarning::new("accept failed");
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match admission.admit(peer.ip()) {
                    Ok(admitted) => {
                        connections.serve(service.clone(), stream, peer, admitted);
                    }
                    Err(why) => {
                        refusals.note(|| tracing::warn!(%peer, reason = ?why, "connection refused: at capacity"));
                        turn_away(stream, why);
                    }
                },
                // Out of descriptors and the like: back off rather than spin, and say so at most
                // once a second.
                Err(e) => {
                    accept_failures.note(|| tracing::warn!(error = %e, "accept failed"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: draining in-flight requests");
    if tokio::time::timeout(DRAIN_TIMEOUT, connections.drain())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish in time");
    }
}

/// Answers a connection there is no room for with a short 503, best effort, and closes it.
fn turn_away(stream: TcpStream, why: Refused) {
    let reason = match why {
        Refused::Full => "the server has as many connections open as it allows",
        Refused::AddressFull => "your address has as many connections open as it may",
    };
    let (_, body) = ApiError::Busy {
        reason,
        retry_after: Duration::from_secs(1),
    }
    .json_bytes();
    let mut answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    let _ = stream.try_write(&answer);
}

/// A warning logged at most once a second, with the count of those it held back.
struct OccasionalWarning {
    what: &'static str,
    last: Option<Instant>,
    held_back: u64,
}

impl OccasionalWarning {
    fn new(what: &'static str) -> Self {
        OccasionalWarning {
            what,
            last: None,
            held_back: 0,
        }
    }

    fn note(&mut self, log: impl FnOnce()) {
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            self.held_back += 1;
            return;
        }
        if self.held_back > 0 {
            tracing::warn!(
                held_back = self.held_back,
                "{}: more of the same in the last second",
                self.what
            );
        }
        self.held_back = 0;
        self.last = Some(Instant::now());
        log();
    }
}

/// Tracks open connections so that shutdown can ask each to finish and wait until all have.
struct Connections {
    stop: watch::Sender<bool>,
    open: mpsc::Sender<()>,
    all_closed: mpsc::Receiver<()>,
}

impl Connections {
    fn new() -> Self {
        let (open, all_closed) = mpsc::channel(1);
        Connections {
            stop: watch::Sender::new(false),
            open,
            all_closed,
        }
    }

    /// Asks every connection to close after its current request; resolves once all have.
    async fn drain(self) {
        let Connections {
            stop,
            open,
            mut all_closed,
        } = self;
        let _ = stop.send(true);
        // Each connection task holds a clone of `open`; recv returns None once all are dropped.
        drop(open);
        let _ = all_closed.recv().await;
    }

    fn serve<S, B>(
        &self,
        service: S,
        stream: TcpStream,
        peer: SocketAddr,
        admitted: super::admission::Admitted,
    ) where
        S: Service<http::Request<Incoming>, Response = http::Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let _ = stream.set_nodelay(true);
        let control = Arc::new(ConnectionControl::default());
        let admitted = Arc::new(admitted);
        let per_request = {
            let control = control.clone();
            let admitted = admitted.clone();
            hyper::service::service_fn(move |req: http::Request<Incoming>| {
                let client = admitted.client(peer.ip(), req.headers());
                answer(service.clone(), req, client, control.clone())
            })
        };
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .max_header_size(MAX_HEAD_BYTES)
            .max_buf_size(MAX_BUFFER_BYTES)
            .max_headers(MAX_HEADERS)
            .serve_connection(
                TokioIo::new(GuardedStream::new(stream, control).holding(admitted)),
                per_request,
            )
            .with_upgrades();
        let mut stop = self.stop.subscribe();
        let open = self.open.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = async { let _ = stop.wait_for(|stopping| *stopping).await; } => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(open);
        });
    }
}

/// Serves one request: the client's address and connection in its extensions, the deadline,
/// the request id, and the log line.
async fn answer<S, B>(
    service: S,
    mut req: http::Request<Incoming>,
    client: std::net::IpAddr,
    control: Arc<ConnectionControl>,
) -> Result<http::Response<Body>, S::Error>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>>,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    req.extensions_mut().insert(ClientAddr(client));
    req.extensions_mut().insert(control);
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let request_id = next_request_id();
    let mut response = match tokio::time::timeout(REQUEST_DEADLINE, service.call(req)).await {
        Ok(response) => response?.map(|body| {
            body.map_err(|e| std::io::Error::other(e.into()))
                .boxed_unsync()
        }),
        Err(_) => ApiError::RequestTimeout.into_response(),
    };
    if let Ok(value) = http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    log_request(&method, &path, response.status(), started, &request_id);
    Ok(response)
}

/// A process-unique request id: the start time and a counter (cheaper than a random id, and
/// sortable).
fn next_request_id() -> String {
    use std::sync::LazyLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static STARTED: LazyLock<u64> = LazyLock::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:x}-{}", *STARTED, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// One line per request. Paths only: query strings may carry things that do not belong in logs.
fn log_request(
    method: &http::Method,
    path: &str,
    status: http::StatusCode,
    started: Instant,
    id: &str,
) {
    // Rounded to microseconds: more digits say nothing.
    let latency_ms = (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0;
    let status = status.as_u16();
    if path.starts_with("/socket.io") {
        tracing::debug!(target: "http", %method, path, status, latency_ms, request_id = id, "request");
    } else {
        tracing::info!(target: "http", %method, path, status, latency_ms, request_id = id, "request");
    }
}
