//! Calls to the Mission Control REST API over `wasi:http`, and the mapping of its answers and
//! failures onto `tool-error`.

use serde_json::Value;
use wstd::http::body::util::Empty;
use wstd::http::{Body, Client, ErrorCode, Request};

use crate::bindings::mission_control::tool::config;
use crate::bindings::mission_control::tool::types::{FieldError, ServerFailure, ToolError};

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

/// Where the server is and how to authenticate, as the host gives them.
pub struct Connection {
    base_url: String,
    token: Option<String>,
}

impl Connection {
    pub fn from_host() -> Self {
        Connection {
            base_url: config::server_url()
                .trim()
                .trim_end_matches('/')
                .to_string(),
            token: config::auth_token().filter(|t| !t.trim().is_empty()),
        }
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

        let mut response = Client::new()
            .send(request)
            .await
            .map_err(|e| unreachable_error(&self.base_url, &e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .str_contents()
            .await
            .map_err(|e| unreachable_error(&self.base_url, &e))?
            .to_string();
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
}

fn unreachable_error(base_url: &str, err: &wstd::http::Error) -> ToolError {
    let denied = err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<ErrorCode>(),
            Some(ErrorCode::HttpRequestDenied)
        )
    });
    if denied {
        ToolError::ServerUnreachable(format!(
            "the host denied the request to {base_url}: only the configured Mission Control \
             server may be reached"
        ))
    } else {
        ToolError::ServerUnreachable(format!(
            "cannot reach Mission Control at {base_url}: {err:#}"
        ))
    }
}

/// Maps an error answer (`{"error":{"code","message","details":[{"field","message"}]}}`).
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
    match status {
        400 | 422 => {
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
        401 | 403 => ToolError::Unauthorized(message),
        404 => ToolError::NotFound(message),
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
