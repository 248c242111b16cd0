//! The gate in front of Socket.io: how a socket that must go (its welcome ran out, its token
//! was revoked or expired, it never signed in) loses its transport, not just its namespace.
//!
//! socketioxide ends a socket's namespace but keeps the Engine.IO session and its TCP
//! connection open, from which a client could simply join again. So a kicked socket's
//! session id is banned for a while (every later request naming it is refused), and the
//! connections that carry it, the one it was opened on and any WebSocket it upgraded to, are
//! closed through their [`ConnectionControl`].
//!
//! The gate also measures what each signed-in socket's transport has written ([`Gate::meter`]):
//! every byte its WebSocket writes, and the bodies of the long-polling answers that carry its
//! packets. A session compares that with what it was handed to know what it holds unsent.

use bytes::Bytes;
use hyper::body::Frame;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::Service;
use socketioxide::extract::SocketRef;

use crate::web::body::Body;
use crate::web::body::full;
use crate::web::connections::guarded::{ConnectionControl, WriteMeter};

/// How long a kicked session's id stays refused.
const BANNED_FOR: Duration = Duration::from_secs(10 * 60);
/// How long a kicked socket's connections stay open for the disconnect packet to reach it.
const KICK_GRACE: Duration = Duration::from_millis(500);
/// Kicked session ids remembered at most.
const MAX_BANNED: usize = 100_000;

#[derive(Default)]
pub struct Gate {
    banned: Mutex<HashMap<String, Instant>>,
    /// The connections carrying each session's WebSocket, by session id.
    carriers: Mutex<HashMap<String, Vec<Weak<ConnectionControl>>>>,
    /// What each signed-in socket's transport has written, by session id.
    meters: Mutex<HashMap<String, Weak<WriteMeter>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Gate {
    /// Ends `socket` for good: its namespace (the client is told, and does not reconnect)
    /// and, after `KICK_GRACE` for the word to reach the client (a long-polling one must
    /// still fetch it), its Engine.IO session and the connections under it.
    pub fn kick(self: &Arc<Self>, socket: &SocketRef) {
        let _ = socket.clone().disconnect();
        let gate = self.clone();
        let socket = socket.clone();
        tokio::spawn(async move {
            tokio::time::sleep(KICK_GRACE).await;
            gate.drop_transport(&socket);
        });
    }

    /// Closes the connections under `socket` without a word: the client sees its transport
    /// close, reconnects, and resumes from its last seq. For clients too slow to keep up.
    pub fn drop_transport(&self, socket: &SocketRef) {
        self.ban(socket);
        self.close_connections(socket);
    }

    /// Refuses every later request naming the socket's session.
    fn ban(&self, socket: &SocketRef) {
        let sid = socket.id.to_string();
        let mut banned = lock(&self.banned);
        if banned.len() >= MAX_BANNED {
            banned.retain(|_, at| at.elapsed() < BANNED_FOR);
            if banned.len() >= MAX_BANNED {
                banned.clear();
            }
        }
        banned.insert(sid, Instant::now());
    }

    fn close_connections(&self, socket: &SocketRef) {
        let sid = socket.id.to_string();
        if let Some(control) = socket
            .req_parts()
            .extensions
            .get::<Arc<ConnectionControl>>()
        {
            control.close();
        }
        for carrier in lock(&self.carriers).remove(&sid).unwrap_or_default() {
            if let Some(control) = carrier.upgrade() {
                control.close();
            }
        }
    }

    /// The meter of what `socket`'s transport writes: its WebSocket (the one it opened with, or
    /// upgraded to, now or later) and its long-polling answers.
    pub fn meter(&self, socket: &SocketRef) -> Arc<WriteMeter> {
        let sid = socket.id.to_string();
        let meter = Arc::new(WriteMeter::default());
        lock(&self.meters).insert(sid.clone(), Arc::downgrade(&meter));
        let upgraded: Vec<_> = lock(&self.carriers)
            .get(&sid)
            .into_iter()
            .flatten()
            .filter_map(Weak::upgrade)
            .collect();
        if !upgraded.is_empty() {
            for carrier in upgraded {
                carrier.meter_into(&meter);
            }
        } else if socket.transport_type() == socketioxide::TransportType::Websocket
            && let Some(control) = socket
                .req_parts()
                .extensions
                .get::<Arc<ConnectionControl>>()
        {
            // Opened as a WebSocket: the connection of its first request carries it.
            control.meter_into(&meter);
        }
        meter
    }

    fn meter_of(&self, sid: &str) -> Option<Arc<WriteMeter>> {
        lock(&self.meters).get(sid).and_then(Weak::upgrade)
    }

    fn is_banned(&self, sid: &str) -> bool {
        lock(&self.banned)
            .get(sid)
            .is_some_and(|at| at.elapsed() < BANNED_FOR)
    }

    fn note_carrier(&self, sid: &str, control: &Arc<ConnectionControl>) {
        let mut carriers = lock(&self.carriers);
        let list = carriers.entry(sid.to_owned()).or_default();
        list.retain(|c| c.strong_count() > 0);
        list.push(Arc::downgrade(control));
    }

    /// Forgets what has expired: old bans, closed connections, gone sockets.
    pub fn tidy(&self) {
        lock(&self.meters).retain(|_, meter| meter.strong_count() > 0);
        lock(&self.banned).retain(|_, at| at.elapsed() < BANNED_FOR);
        let mut carriers = lock(&self.carriers);
        carriers.retain(|_, list| {
            list.retain(|c| c.strong_count() > 0);
            !list.is_empty()
        });
        carriers.shrink_to_fit();
    }
}

/// The Engine.IO session id a Socket.io request names, and whether it is a WebSocket.
fn session_of(req: &http::Request<Incoming>) -> Option<(String, bool)> {
    if !req.uri().path().starts_with("/socket.io") {
        return None;
    }
    let query = req.uri().query()?;
    let mut sid = None;
    let mut websocket = false;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "sid" => sid = Some(v.into_owned()),
            "transport" => websocket = v == "websocket",
            _ => {}
        }
    }
    sid.map(|s| (s, websocket))
}

/// `inner` (Socket.io around the API) behind the gate.
#[derive(Clone)]
pub struct Gated<S> {
    gate: Arc<Gate>,
    inner: S,
}

impl<S> Gated<S> {
    pub fn new(gate: Arc<Gate>, inner: S) -> Self {
        Gated { gate, inner }
    }
}

type Reply<E> = Pin<Box<dyn Future<Output = Result<http::Response<Body>, E>> + Send>>;

impl<S, B> Service<http::Request<Incoming>> for Gated<S>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Reply<S::Error>;

    fn call(&self, req: http::Request<Incoming>) -> Self::Future {
        let mut polled_by = None;
        if let Some((sid, websocket)) = session_of(&req) {
            if self.gate.is_banned(&sid) {
                return Box::pin(async { Ok(session_refused()) });
            }
            let meter = self.gate.meter_of(&sid);
            if websocket && let Some(control) = req.extensions().get::<Arc<ConnectionControl>>() {
                self.gate.note_carrier(&sid, control);
                if let Some(meter) = &meter {
                    control.meter_into(meter);
                }
            } else if req.method() == http::Method::GET {
                polled_by = meter;
            }
        }
        let response = self.inner.call(detach_head(req));
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|b| {
                let b = b.map_err(|e| std::io::Error::other(e.into()));
                match polled_by {
                    // A long-polling answer: what it carries counts as written once hyper
                    // takes it to write.
                    Some(meter) => b
                        .map_frame(move |frame: Frame<Bytes>| {
                            if let Some(data) = frame.data_ref() {
                                meter.add(data.len());
                            }
                            frame
                        })
                        .boxed_unsync(),
                    None => b.boxed_unsync(),
                }
            }))
        })
    }
}

/// The request with a head that owns its bytes, for Socket.io. hyper parses the URI and the
/// header values as slices of the connection's 8 KiB read buffer, and socketioxide keeps the
/// head of a socket's first request for the socket's whole life: without the copy, every open
/// socket would hold that buffer (80 MB at 10,000 sockets).
fn detach_head(req: http::Request<Incoming>) -> http::Request<Incoming> {
    if !req.uri().path().starts_with("/socket.io") {
        return req;
    }
    let (mut parts, body) = req.into_parts();
    if let Ok(uri) = http::Uri::try_from(parts.uri.to_string()) {
        parts.uri = uri;
    }
    let mut headers = http::HeaderMap::with_capacity(parts.headers.len());
    for (name, value) in &parts.headers {
        let name = http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap_or(name.clone());
        let value = HeaderValue::from_bytes(value.as_bytes()).unwrap_or(value.clone());
        headers.append(name, value);
    }
    parts.headers = headers;
    http::Request::from_parts(parts, body)
}

/// What Engine.IO answers for a session it does not know, and the connection closes.
fn session_refused() -> http::Response<Body> {
    let mut response = http::Response::new(full(r#"{"code":1,"message":"Session ID unknown"}"#));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
