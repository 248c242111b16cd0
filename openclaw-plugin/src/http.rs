//! Calls to the Mission Control REST API over `wasi:http`, and the mapping of its answers and
//! failures onto `tool-error`: each status the model or its operator can act on has its own
//! case (a bad argument, a refused token, a forbidden action, an unknown id, a stale version).
//!
//! Every request has a deadline. The host's `request-timeouts` (by default 10 s to connect,
//! 30 s to the first byte, 30 s between two chunks of the body) go to the host as `wasi:http`
//! request options, and the component enforces them again with its own timers, so a host whose
//! `wasi:http` ignores the options cannot leave a call hanging. An answer larger than
//! [`MAX_RESPONSE_BYTES`] is refused. A deadline that passes is reported as `server-unreachable`
//! with a message that starts with [`TIMED_OUT`].

use std::time::Duration;

use serde_json::Value;
use wstd::future::FutureExt as _;
use wstd::http::body::util::{BodyExt as _, Empty};
use wstd::http::{Body, Client, ErrorCode, Request};

use crate::bindings::mission_control::tool::config;
use crate::bindings::mission_control::tool::types::{
    FieldError, ServerFailure, TaskChanged, ToolError,
};

/// The largest answer the component reads (the whole board as JSON fits many times over).
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// How every timeout message begins, so a host can tell a deadline from a refused connection.
pub const TIMED_OUT: &str = "timed out";

/// The limits on one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub between_bytes: Duration,
}

impl Timeouts {
    pub const DEFAULT: Timeouts = Timeouts {
        connect: Duration::from_secs(10),
        first_byte: Duration::from_secs(30),
        between_bytes: Duration::from_secs(30),
    };
    const MIN: Duration = Duration::from_millis(1);
    const MAX: Duration = Duration::from_secs(600);

    /// The host's values in milliseconds, each clamped to 1 ms ..= 10 min; defaults for `none`.
    pub fn from_millis(
        connect: Option<u32>,
        first_byte: Option<u32>,
        between: Option<u32>,
    ) -> Self {
        let pick = |ms: Option<u32>, default: Duration| {
            ms.map_or(default, |ms| {
                Duration::from_millis(ms.into()).clamp(Self::MIN, Self::MAX)
            })
        };
        Timeouts {
            connect: pick(connect, Self::DEFAULT.connect),
            first_byte: pick(first_byte, Self::DEFAULT.first_byte),
            between_bytes: pick(between, Self::DEFAULT.between_bytes),
        }
    }

    fn from_host() -> Self {
        let t = config::request_timeouts();
        Self::from_millis(t.connect_ms, t.first_byte_ms, t.between_bytes_ms)
    }

    /// The longest wait for the head of the answer: connecting, then the first byte.
    fn head(&self) -> Duration {
        self.connect + self.first_byte
    }
}

/// `1.5 s`, `30 s`, `250 ms`.
fn describe(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Where the server is, how to authenticate and how long to wait, as the host gives them.
pub struct Connection {
    base_url: String,
    token: Option<String>,
    timeouts: Timeouts,
}

impl Connection {
    pub fn from_host() -> Self {
        Connection {
            base_url: config::server_url()
                .trim()
                .trim_end_matches('/')
                .to_string(),
            token: config::auth_token().filter(|t| !t.trim().is_empty()),
            timeouts: Timeouts::from_host(),
        }
    }

    fn timed_out(&self, what: String) -> ToolError {
        ToolError::ServerUnreachable(format!(
            "{TIMED_OUT}: Mission Control at {} {what}",
            self.base_url
        ))
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, String)],
    ) -> Result<Value, ToolError> {
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(ToolError::ServerUnreachable(format!(
                "the Mission Control server URL {:?} is not an http(s) URL",
                self.base_url
            )));
        }
        let url = format!("{}{}", self.base_url, path);
        let mut builder = Request::builder()
            .method(method.as_str())
            .uri(&url)
            .header("accept", "application/json");
        if let Some(token) = &self.token {
            builder = builder.header("authorization", format!("Bearer {}", token.trim()));
        }
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let request = match body {
            Some(json) => builder
                .header("content-type", "application/json")
                .body(Body::from(json.to_string())),
            // A body built from an empty http-body: `Body::empty()` races with the host
            // dropping the stream (a zero-length write to a closed body).
            None => builder.body(Body::from_http_body(Empty::<wstd::http::body::Bytes>::new())),
        }
        .map_err(|e| {
            ToolError::ServerUnreachable(format!("cannot build a request to {url}: {e}"))
        })?;

        let limits = self.timeouts;
        let mut client = Client::new();
        client.set_connect_timeout(limits.connect);
        client.set_first_byte_timeout(limits.first_byte);
        client.set_between_bytes_timeout(limits.between_bytes);
        let response = client
            .send(request)
            .timeout(wstd::time::Duration::from(limits.head()))
            .await
            .map_err(|_| {
                self.timed_out(format!(
                    "did not answer within {} (connect {}, first byte {})",
                    describe(limits.head()),
                    describe(limits.connect),
                    describe(limits.first_byte)
                ))
            })?
            .map_err(|e| self.unreachable(&e))?;
        let status = response.status().as_u16();

        let mut body = response.into_body().into_boxed_body();
        let mut bytes = Vec::new();
        loop {
            let frame = body
                .frame()
                .timeout(wstd::time::Duration::from(limits.between_bytes))
                .await
                .map_err(|_| {
                    self.timed_out(format!(
                        "stopped sending its answer for more than {}",
                        describe(limits.between_bytes)
                    ))
                })?;
            let Some(frame) = frame else { break };
            let Ok(data) = frame.map_err(|e| self.unreachable(&e))?.into_data() else {
                continue; // trailers
            };
            if bytes.len() + data.len() > MAX_RESPONSE_BYTES {
                return Err(ToolError::ServerError(ServerFailure {
                    status,
                    code: "response_too_large".into(),
                    message: format!(
                        "the answer is larger than {} MiB",
                        MAX_RESPONSE_BYTES / (1024 * 1024)
                    ),
                }));
            }
            bytes.extend_from_slice(&data);
        }
        let text = String::from_utf8_lossy(&bytes);
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if (200..300).contains(&status) {
            return json.ok_or_else(|| {
                ToolError::ServerError(ServerFailure {
                    status,
                    code: "bad_response".into(),
                    message: format!("the server answered {status} with a body that is not JSON"),
                })
            });
        }
        Err(error_from(status, json.as_ref(), &text))
    }

    fn unreachable(&self, err: &wstd::http::Error) -> ToolError {
        let code = err
            .chain()
            .find_map(|cause| cause.downcast_ref::<ErrorCode>());
        match code {
            Some(ErrorCode::HttpRequestDenied) => ToolError::ServerUnreachable(format!(
                "the host denied the request to {}: only the configured Mission Control \
                 server may be reached",
                self.base_url
            )),
            Some(
                ErrorCode::DnsTimeout
                | ErrorCode::ConnectionTimeout
                | ErrorCode::ConnectionReadTimeout
                | ErrorCode::ConnectionWriteTimeout
                | ErrorCode::HttpResponseTimeout,
            ) => {
                let t = self.timeouts;
                self.timed_out(format!(
                    "did not answer in time (connect {}, first byte {}, between bytes {})",
                    describe(t.connect),
                    describe(t.first_byte),
                    describe(t.between_bytes)
                ))
            }
            // A failed body read carries only the host's text, e.g. "connection read timeout".
            _ if format!("{err:#}").to_ascii_lowercase().contains("timeout") => {
                let t = self.timeouts;
                self.timed_out(format!(
                    "stopped sending its answer ({err:#}; between bytes {})",
                    describe(t.between_bytes)
                ))
            }
            Some(code) => ToolError::ServerUnreachable(format!(
                "cannot reach Mission Control at {}: {}",
                self.base_url,
                describe_code(code)
            )),
            None => ToolError::ServerUnreachable(format!(
                "cannot reach Mission Control at {}: {err:#}",
                self.base_url
            )),
        }
    }
}

/// A `wasi:http` error code in words.
fn describe_code(code: &ErrorCode) -> String {
    match code {
        ErrorCode::ConnectionRefused => "connection refused".into(),
        ErrorCode::ConnectionTerminated => "the connection was closed".into(),
        ErrorCode::DnsError(_) => "the host name does not resolve".into(),
        ErrorCode::DestinationUnavailable | ErrorCode::DestinationIpUnroutable => {
            "the host cannot be reached".into()
        }
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => "the TLS handshake failed".into(),
        // jco's Fetch-based WASI reports every network failure as `fetch failed`.
        ErrorCode::InternalError(Some(message)) => message.clone(),
        other => format!("{other:?}"),
    }
}

/// Maps an error answer (`{"error":{"code","message","details":[{"field","message"}]}}`; a
/// 412 adds `"task"`, the task as it is now).
fn error_from(status: u16, json: Option<&Value>, text: &str) -> ToolError {
    let error = json.map(|j| &j["error"]).unwrap_or(&Value::Null);
    let code = error["code"].as_str().unwrap_or("").to_string();
    let mut message = error["message"].as_str().unwrap_or("").to_string();
    if message.is_empty() {
        message = if text.trim().is_empty() {
            format!("HTTP {status}")
        } else {
            text.chars().take(500).collect()
        };
    }
    let names_a_field = error["details"]
        .as_array()
        .and_then(|d| d.first())
        .and_then(|d| d["field"].as_str())
        .is_some_and(|f| !f.is_empty());
    match status {
        400 | 422 => invalid_arguments(error, message),
        // A conflict that names a field (an assignee nobody registered, an id that is taken)
        // is an argument the model can correct.
        409 if names_a_field => invalid_arguments(error, message),
        401 => ToolError::Unauthorized(message),
        403 => ToolError::Forbidden(message),
        404 => ToolError::NotFound(message),
        412 => ToolError::TaskChanged(TaskChanged {
            message,
            current_version: json.and_then(|j| j["task"]["version"].as_u64()),
        }),
        _ => ToolError::ServerError(ServerFailure {
            status,
            code: if code.is_empty() {
                "http_error".into()
            } else {
                code
            },
            message,
        }),
    }
}

/// An error answer's first field detail as invalid-arguments, the server's message with it.
fn invalid_arguments(error: &Value, message: String) -> ToolError {
    let first = error["details"].as_array().and_then(|d| d.first());
    let field = first
        .and_then(|d| d["field"].as_str())
        .unwrap_or("")
        .to_string();
    let detail = first.and_then(|d| d["message"].as_str());
    ToolError::InvalidArguments(FieldError {
        field,
        message: match detail {
            Some(d) if !message.contains(d) => format!("{message}: {d}"),
            _ => message,
        },
    })
}
