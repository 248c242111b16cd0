//! The server's one error type and the one place where errors become HTTP responses.
//!
//! Every error leaves as `{"error": {"code", "message", "details": [{"field", "message"}]}}`,
//! so that a person, a dashboard or an agent can always tell which field was at fault. A
//! conflict over a claim also names the holder and when its lease ends; a failed `If-Match`
//! (412) carries the task as it is now, beside the error.

use std::time::Duration;

use http::{StatusCode, header};
use mission_control_core::{Conflict, Error as CoreError, FieldError, Task, now_millis};
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

    /// A request header that does not parse (`If-Match`, `Idempotency-Key`).
    #[error("invalid header {}", .0.field)]
    InvalidHeader(FieldError),

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

    /// Not a request hyper could parse (answered for hyper, see `web::connections::guarded`).
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

    /// An answer made inside the server for a caller (an MCP tool call's REST answer) is
    /// larger than can be carried back.
    #[error("answer larger than {limit} bytes")]
    AnswerTooLarge { limit: usize },
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    /// With `412 precondition_failed`: the task as it is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_failed`, `invalid_json`, `bad_request`,
    /// `unauthorized`, `forbidden`, `not_found`, `conflict` (an id or name taken, a field
    /// naming something that does not exist, or a bound of the board reached: too many tasks
    /// waiting for one, blockers too deep to check for a cycle, too many tasks held by one
    /// agent), `held` (another agent's
    /// claim), `blocked`, `assigned`, `done`, `not_held`, `precondition_failed`,
    /// `idempotency_key_reused`, `payload_too_large`, `header_too_large`, `request_timeout`,
    /// `rate_limited`, `busy`, `method_not_allowed`, `unavailable`, `internal`; and for an MCP
    /// tool call only, `answer_too_large`.
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldError>,
    /// With `held`: the agent holding the task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// With `held`: when its lease ends (epoch milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_expires_at: Option<i64>,
    /// With `blocked`: the unfinished tasks it waits for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blockers: Option<Vec<String>>,
}

impl ErrorDetail {
    fn new(code: &'static str, message: impl Into<String>, details: Vec<FieldError>) -> Self {
        ErrorDetail {
            code,
            message: message.into(),
            details,
            holder: None,
            lease_expires_at: None,
            blockers: None,
        }
    }
}

impl ApiError {
    fn status_and_detail(&self) -> (StatusCode, ErrorDetail) {
        use StatusCode as S;
        let plain =
            |status, code, message: String| (status, ErrorDetail::new(code, message, vec![]));
        match self {
            ApiError::Core(CoreError::Validation(fields)) => (
                S::BAD_REQUEST,
                ErrorDetail::new(
                    "validation_failed",
                    "some fields are invalid",
                    fields.clone(),
                ),
            ),
            ApiError::Core(CoreError::NotFound { kind, id }) => {
                plain(S::NOT_FOUND, "not_found", format!("no {kind} with id {id}"))
            }
            ApiError::Core(CoreError::Conflict(conflict)) => {
                (S::CONFLICT, conflict_detail(conflict))
            }
            ApiError::Core(CoreError::Stale { expected, current }) => plain(
                S::PRECONDITION_FAILED,
                "precondition_failed",
                format!(
                    "{}: it is at version {}{}",
                    match expected.versions() {
                        [one] => format!("the task changed since version {one}"),
                        [] => "If-Match names no version of this task (a weak tag never matches)"
                            .to_owned(),
                        _ => format!("the task is at none of {expected} (If-Match)"),
                    },
                    current.version,
                    current
                        .updated_by
                        .as_deref()
                        .map(|who| format!(", last changed by {who}"))
                        .unwrap_or_default()
                ),
            ),
            ApiError::Core(CoreError::KeyReused) => (
                S::UNPROCESSABLE_ENTITY,
                ErrorDetail::new(
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used for a different request",
                    vec![FieldError::new(
                        "Idempotency-Key",
                        "use a new key for a new request",
                    )],
                ),
            ),
            ApiError::Core(CoreError::UnknownReference { field, kind, id }) => {
                let message = format!("no {kind} is registered with the id {id}");
                (
                    S::CONFLICT,
                    ErrorDetail::new(
                        "conflict",
                        message.clone(),
                        vec![FieldError::new(*field, message)],
                    ),
                )
            }
            ApiError::Core(CoreError::Unauthorized(why)) | ApiError::Unauthorized(why) => {
                plain(S::UNAUTHORIZED, "unauthorized", (*why).into())
            }
            ApiError::Core(CoreError::Forbidden(why)) | ApiError::Forbidden(why) => {
                plain(S::FORBIDDEN, "forbidden", (*why).into())
            }
            ApiError::Core(CoreError::Unavailable(_)) => plain(
                S::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database cannot take this request right now; try again later".into(),
            ),
            // Internal details go to the log, not to the client.
            ApiError::Core(CoreError::Storage(_) | CoreError::Internal(_)) => plain(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "something went wrong on the server; it has been logged".into(),
            ),
            ApiError::InvalidJson { field, message } => (
                S::BAD_REQUEST,
                ErrorDetail::new(
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
            ),
            ApiError::InvalidQuery(field) => (
                S::BAD_REQUEST,
                ErrorDetail::new(
                    "validation_failed",
                    format!("query parameter {} is invalid", field.field),
                    vec![field.clone()],
                ),
            ),
            ApiError::InvalidHeader(field) => (
                S::BAD_REQUEST,
                ErrorDetail::new(
                    "validation_failed",
                    format!("header {} is invalid", field.field),
                    vec![field.clone()],
                ),
            ),
            ApiError::PayloadTooLarge { limit } => plain(
                S::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body must be at most {limit} bytes"),
            ),
            ApiError::HeaderTooLarge { header, limit } => (
                S::REQUEST_HEADER_FIELDS_TOO_LARGE,
                ErrorDetail::new(
                    "header_too_large",
                    format!("{header} must be at most {limit} bytes"),
                    vec![FieldError::new(*header, format!("at most {limit} bytes"))],
                ),
            ),
            ApiError::RateLimited { retry_after } => plain(
                S::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests; retry in {} s",
                    retry_seconds(*retry_after)
                ),
            ),
            ApiError::NoRoute => plain(S::NOT_FOUND, "not_found", "no such endpoint".into()),
            ApiError::MalformedRequest => plain(
                S::BAD_REQUEST,
                "bad_request",
                "the request is not valid HTTP/1.1".into(),
            ),
            ApiError::RequestTimeout => plain(
                S::REQUEST_TIMEOUT,
                "request_timeout",
                "the request did not arrive in time".into(),
            ),
            ApiError::Busy {
                reason,
                retry_after,
            } => plain(
                S::SERVICE_UNAVAILABLE,
                "busy",
                format!("{reason}; retry in {} s", retry_seconds(*retry_after)),
            ),
            ApiError::MethodNotAllowed { allow } => plain(
                S::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("this endpoint accepts {allow}"),
            ),
            ApiError::AnswerTooLarge { limit } => plain(
                S::BAD_REQUEST,
                "answer_too_large",
                format!(
                    "the answer is larger than {} MiB, more than one call carries: ask for \
                     less (a smaller limit)",
                    limit / (1024 * 1024)
                ),
            ),
        }
    }

    /// The status and the JSON body of this error: what REST answers, and what an MCP tool
    /// error carries.
    pub fn body(&self) -> (StatusCode, ErrorBody) {
        let (status, error) = self.status_and_detail();
        let task = match self {
            ApiError::Core(CoreError::Stale { current, .. }) => Some((**current).clone()),
            _ => None,
        };
        (status, ErrorBody { error, task })
    }

    /// The status and JSON bytes of this error, for the rare answers written outside hyper's
    /// response path (see `web::connections::guarded`).
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
            ApiError::Core(CoreError::Stale { current, .. }) => {
                if let Ok(tag) = header::HeaderValue::from_str(&super::conditional::etag(current)) {
                    headers.insert(header::ETAG, tag);
                }
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

/// The code, message and extras of a conflict.
fn conflict_detail(conflict: &Conflict) -> ErrorDetail {
    match conflict {
        Conflict::Exists { kind, id } => ErrorDetail::new(
            "conflict",
            format!("an {kind} with id {id} already exists"),
            vec![FieldError::new("id", "is already taken")],
        ),
        Conflict::NameTaken { name } => ErrorDetail::new(
            "conflict",
            format!("another agent is already called {name}"),
            vec![FieldError::new("name", "is already taken")],
        ),
        Conflict::Held {
            task_id,
            holder,
            expires_at,
        } => ErrorDetail {
            holder: Some(holder.clone()),
            lease_expires_at: Some(*expires_at),
            ..ErrorDetail::new(
                "held",
                format!(
                    "{task_id} is claimed by {holder} for another {}",
                    remaining(*expires_at)
                ),
                vec![],
            )
        },
        Conflict::Blocked { task_id, blockers } => ErrorDetail {
            blockers: Some(blockers.clone()),
            ..ErrorDetail::new(
                "blocked",
                format!(
                    "{task_id} waits for {} to be done first",
                    blockers.join(", ")
                ),
                vec![],
            )
        },
        Conflict::AssignedToOther { task_id, agent } => ErrorDetail::new(
            "assigned",
            format!("{task_id} is assigned to {agent}; ask the operator to reassign it"),
            vec![],
        ),
        Conflict::Cycle { task_id, via } => ErrorDetail::new(
            "conflict",
            format!("{task_id} cannot wait for {via}: that task already waits for it"),
            vec![FieldError::new(
                "blockedBy",
                format!("{via} already waits for this task; a task cannot wait for itself"),
            )],
        ),
        Conflict::Done { task_id } => {
            ErrorDetail::new("done", format!("{task_id} is already done"), vec![])
        }
        Conflict::NotHeld { task_id, agent } => ErrorDetail::new(
            "not_held",
            format!("{task_id} is not claimed by {agent}"),
            vec![],
        ),
        Conflict::TooManyWaiting { blocker, limit } => ErrorDetail::new(
            "conflict",
            format!(
                "{blocker} already has {limit} tasks waiting for it, the most one task may have"
            ),
            vec![FieldError::new(
                "blockedBy",
                format!("{blocker} already has {limit} tasks waiting for it (the most allowed)"),
            )],
        ),
        Conflict::TooDeepToCheck { task_id, limit } => ErrorDetail::new(
            "conflict",
            format!(
                "the tasks the new blockers of {task_id} wait for, directly or through others, \
                 are more than {limit}: too many to check that they make no cycle"
            ),
            vec![FieldError::new(
                "blockedBy",
                format!(
                    "these tasks wait, directly or through others, for more than {limit} tasks: \
                     too many to check for a cycle"
                ),
            )],
        ),
        Conflict::TooManyHeld { agent, limit } => ErrorDetail::new(
            "conflict",
            format!(
                "{agent} already holds {limit} tasks, the most one agent may hold at once: \
                 complete or release one first"
            ),
            vec![],
        ),
    }
}

/// "14 min", "40 s": how long until `at`.
fn remaining(at: i64) -> String {
    let seconds = (at - now_millis()).max(0) / 1000;
    if seconds >= 120 {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

/// Whole seconds to wait, rounded up so a client that waits that long gets through.
fn retry_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_of_the_board_answer_409_naming_the_field_and_the_limit() {
        let cases = [
            (
                Conflict::TooManyWaiting {
                    blocker: "task-a".into(),
                    limit: 2_000,
                },
                Some("blockedBy"),
                "2000",
            ),
            (
                Conflict::TooDeepToCheck {
                    task_id: "task-b".into(),
                    limit: 500,
                },
                Some("blockedBy"),
                "500",
            ),
            (
                Conflict::TooManyHeld {
                    agent: "agent-nova".into(),
                    limit: 100,
                },
                None,
                "100",
            ),
        ];
        for (conflict, field, limit) in cases {
            let (status, body) = ApiError::Core(CoreError::Conflict(conflict)).body();
            assert_eq!(status, StatusCode::CONFLICT);
            assert_eq!(body.error.code, "conflict");
            assert!(body.error.message.contains(limit), "{}", body.error.message);
            let fields: Vec<&str> = body
                .error
                .details
                .iter()
                .map(|d| d.field.as_str())
                .collect();
            assert_eq!(fields, field.into_iter().collect::<Vec<_>>());
        }
    }
}
