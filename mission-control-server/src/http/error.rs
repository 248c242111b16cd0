//! The server's one error type and the one place where errors become HTTP responses.
//!
//! Every error leaves as `{"error": {"code", "message", "details": [{"field", "message"}]}}`,
//! so that a person, a dashboard or an agent can always tell which field was at fault.

use std::time::Duration;

use http::{StatusCode, header};
use mission_control_core::{Error as CoreError, FieldError};
use serde::Serialize;

use super::body::{Body, json_response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Core(#[from] CoreError),

    /// The body is not JSON, or JSON of the wrong shape (`field` says where, when known).
    #[error("invalid JSON: {message}")]
    InvalidJson {
        field: Option<String>,
        message: String,
    },

    /// A query parameter that does not parse.
    #[error("invalid query parameter {}", .0.field)]
    InvalidQuery(FieldError),

    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },

    /// A header (or the header section, or the URI) larger than the server reads.
    #[error("{header} larger than {limit} bytes")]
    HeaderTooLarge { header: &'static str, limit: usize },

    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),

    /// Signed in, but not allowed to do this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),

    #[error("too many requests")]
    RateLimited { retry_after: Duration },

    #[error("no such endpoint")]
    NoRoute,

    /// Not a request hyper could parse (answered for hyper, see `net::guarded`).
    #[error("malformed request")]
    MalformedRequest,

    /// The request (its body) did not arrive within the deadline.
    #[error("request timed out")]
    RequestTimeout,

    /// The server is at a capacity limit (connections, password checks); try again shortly.
    #[error("server busy: {reason}")]
    Busy {
        reason: &'static str,
        retry_after: Duration,
    },

    #[error("method not allowed")]
    MethodNotAllowed { allow: &'static str },
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_failed`, `invalid_json`, `bad_request`,
    /// `unauthorized`, `forbidden`, `not_found`, `conflict` (an id that is taken, or a field
    /// naming an agent nobody registered), `request_timeout`, `payload_too_large`,
    /// `header_too_large`, `rate_limited`, `method_not_allowed`, `busy`, `unavailable`,
    /// `internal`.
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldError>,
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String, Vec<FieldError>) {
        use StatusCode as S;
        match self {
            ApiError::Core(CoreError::Validation(fields)) => (
                S::BAD_REQUEST,
                "validation_failed",
                "some fields are invalid".into(),
                fields.clone(),
            ),
            ApiError::Core(CoreError::NotFound { kind, id }) => (
                S::NOT_FOUND,
                "not_found",
                format!("no {kind} with id {id}"),
                vec![],
            ),
            ApiError::Core(CoreError::Conflict { kind, id }) => (
                S::CONFLICT,
                "conflict",
                format!("an {kind} with id {id} already exists"),
                vec![FieldError::new("id", "is already taken")],
            ),
            ApiError::Core(CoreError::UnknownReference { field, kind, id }) => {
                let message = format!("no {kind} is registered with the id {id}");
                (
                    S::CONFLICT,
                    "conflict",
                    message.clone(),
                    vec![FieldError::new(*field, message)],
                )
            }
            ApiError::Core(CoreError::Unauthorized(why)) | ApiError::Unauthorized(why) => {
                (S::UNAUTHORIZED, "unauthorized", (*why).into(), vec![])
            }
            ApiError::Core(CoreError::Forbidden(why)) => {
                (S::FORBIDDEN, "forbidden", (*why).into(), vec![])
            }
            ApiError::Core(CoreError::Unavailable(_)) => (
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database cannot take this request right now; try again later".into(),
                vec![],
            ),
            // Internal details go to the log, not to the client.
            ApiError::Core(CoreError::Storage(_) | CoreError::Internal(_)) => (
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "something went wrong on the server; it has been logged".into(),
                vec![],
            ),
            ApiError::Forbidden(why) => (S::FORBIDDEN, "forbidden", (*why).into(), vec![]),
            ApiError::InvalidJson { field, message } => (
                S::BAD_REQUEST,
                if field.is_some() {
                    "validation_failed"
                } else {
                    "invalid_json"
                },
                format!("the body is not valid: {message}"),
                field
                    .iter()
                    .map(|f| FieldError::new(f.clone(), message.clone()))
                    .collect(),
            ),
            ApiError::InvalidQuery(field) => (
                S::BAD_REQUEST,
                "validation_failed",
                format!("query parameter {} is invalid", field.field),
                vec![field.clone()],
            ),
            ApiError::PayloadTooLarge { limit } => (
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body must be at most {limit} bytes"),
                vec![],
            ),
            ApiError::HeaderTooLarge { header, limit } => (
                S::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "header_too_large",
                format!("{header} must be at most {limit} bytes"),
                vec![FieldError::new(*header, format!("at most {limit} bytes"))],
            ),
            ApiError::RateLimited { retry_after } => (
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests; retry in {} s",
                    retry_seconds(*retry_after)
                ),
                vec![],
            ),
            ApiError::NoRoute => (S::NOT_FOUND, "not_found", "no such endpoint".into(), vec![]),
            ApiError::MalformedRequest => (
                S::BAD_REQUEST,
                "bad_request",
                "the request is not valid HTTP/1.1".into(),
                vec![],
            ),
            ApiError::RequestTimeout => (
                S::REQUEST_TIMEOUT,
                "request_timeout",
                "the request did not arrive in time".into(),
                vec![],
            ),
            ApiError::Busy {
                reason,
                retry_after,
            } => (
                S::SERVICE_UNAVAILABLE,
                "busy",
                format!("{reason}; retry in {} s", retry_seconds(*retry_after)),
                vec![],
            ),
            ApiError::MethodNotAllowed { allow } => (
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("this endpoint accepts {allow}"),
                vec![],
            ),
        }
    }

    fn body(&self) -> (StatusCode, ErrorBody) {
        let (status, code, message, details) = self.parts();
        (
            status,
            ErrorBody {
                error: ErrorDetail {
                    code,
                    message,
                    details,
                },
            },
        )
    }

    /// The status and JSON bytes of this error, for the rare answers written outside hyper's
    /// response path (see `net::guarded`).
    pub fn json_bytes(&self) -> (StatusCode, Vec<u8>) {
        let (status, body) = self.body();
        (status, serde_json::to_vec(&body).unwrap_or_default())
    }

    pub fn into_response(self) -> http::Response<Body> {
        let (status, body) = self.body();
        if status.is_server_error() && !matches!(self, ApiError::Busy { .. }) {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = json_response(status, &body);
        let headers = response.headers_mut();
        match &self {
            ApiError::RateLimited { retry_after } | ApiError::Busy { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, retry_seconds(*retry_after).into());
            }
            ApiError::MethodNotAllowed { allow } => {
                headers.insert(header::ALLOW, header::HeaderValue::from_static(allow));
            }
            // The rest of the oversized body is never read, so the connection cannot be
            // reused; saying so keeps clients from sending their next request into it.
            ApiError::PayloadTooLarge { .. }
            | ApiError::RequestTimeout
            | ApiError::HeaderTooLarge { .. }
            | ApiError::MalformedRequest => {
                headers.insert(
                    header::CONNECTION,
                    header::HeaderValue::from_static("close"),
                );
            }
            ApiError::Core(CoreError::Unavailable(_)) => {
                headers.insert(header::RETRY_AFTER, 5.into());
            }
            ApiError::Unauthorized(_) | ApiError::Core(CoreError::Unauthorized(_)) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            _ => {}
        }
        response
    }
}

/// Whole seconds to wait, rounded up so a client that waits that long gets through.
fn retry_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}
