//! MCP tool calls and resource reads as the REST requests they are. A tool call is the request
//! its catalogue [`Call`] describes (method, path and query, JSON body, `If-Match`,
//! `Idempotency-Key`), served in process by the endpoint table (`api::router::serve`): the same
//! handlers, limits, idempotency fingerprint and error mapping as over the network, as the
//! caller the `POST /mcp` that carried it authenticated (checked once, counted once). There is
//! no per-action code here: an action the catalogue adds on an existing endpoint needs nothing.
//!
//! The answer's body is read up to [`MAX_ANSWER_BYTES`]; the whole exchange runs under the
//! deadline of the `POST /mcp` that carries it.

use std::net::IpAddr;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use mission_control_actions::Call;
use mission_control_core::FieldError;
use serde_json::Value;

use crate::api::caller::Caller;
use crate::api::router::{self, Credentials};
use crate::api::state::AppState;
use crate::web::body::MAX_BODY_BYTES;
use crate::web::error::ApiError;

/// Largest REST answer carried into an MCP result: more than any page the catalogue can ask
/// for in practice, and half of what the stdio bridge reads, since a result carries the
/// answer twice (structured, and as text).
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// The REST API as one authenticated caller reaches it from inside the server. The MCP
/// endpoint puts one in each request's extensions for the tools and resources to use.
#[derive(Clone)]
pub struct Rest {
    state: AppState,
    caller: Caller,
    client: IpAddr,
}

/// A REST error answer: its status and its JSON body (`{"error": {...}}`).
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub body: Value,
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        let (status, body) = error.body();
        if status.is_server_error() {
            tracing::error!(%error, "an MCP request failed");
        }
        Refusal {
            status,
            body: serde_json::to_value(&body).unwrap_or_default(),
        }
    }
}

impl Rest {
    pub fn new(state: AppState, caller: Caller, client: IpAddr) -> Self {
        Rest {
            state,
            caller,
            client,
        }
    }

    /// Carries out `call`: the action's answer ([`Call::answer`]), or the REST refusal.
    pub async fn call(&self, call: &Call) -> Result<Value, Refusal> {
        let method = Method::from_bytes(call.action.method.as_bytes()).map_err(|_| {
            ApiError::Core(mission_control_core::Error::Internal(format!(
                "the catalogue gives {} the method {:?}",
                call.action.name, call.action.method
            )))
        })?;
        let answer = self
            .request(method, &call.path_and_query(), call.body(), &call.headers())
            .await?;
        Ok(call.answer(answer))
    }

    /// `GET path_and_query`: the JSON answer, or the REST refusal.
    pub async fn get(&self, path_and_query: &str) -> Result<Value, Refusal> {
        self.request(Method::GET, path_and_query, None, &[]).await
    }

    async fn request(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Value>,
        headers: &[(&'static str, String)],
    ) -> Result<Value, Refusal> {
        let request = build(method, path_and_query, body, headers)?;
        let credentials = Credentials::Authenticated(self.caller.clone());
        let response = router::serve(&self.state, request, self.client, credentials)
            .await
            .unwrap_or_else(ApiError::into_response);
        let status = response.status();
        let bytes = match Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(ApiError::AnswerTooLarge {
                    limit: MAX_ANSWER_BYTES,
                }
                .into());
            }
            Err(e) => return Err(internal(format!("reading the answer failed: {e}")).into()),
        };
        let answer: Value = serde_json::from_slice(&bytes).map_err(|_| {
            internal(format!(
                "the answer to {path_and_query} ({status}) is not JSON"
            ))
        })?;
        if status.is_success() {
            Ok(answer)
        } else {
            Err(Refusal {
                status,
                body: answer,
            })
        }
    }
}

/// The request: the body as JSON (within REST's body cap), the headers as REST names them.
fn build(
    method: Method,
    path_and_query: &str,
    body: Option<Value>,
    headers: &[(&'static str, String)],
) -> Result<http::Request<Bytes>, ApiError> {
    let mut request = http::Request::builder().method(method).uri(path_and_query);
    for (name, value) in headers {
        let value = HeaderValue::from_str(value).map_err(|_| {
            ApiError::InvalidHeader(FieldError::new(*name, "must be visible ASCII"))
        })?;
        request = request.header(*name, value);
    }
    let body = match body {
        Some(body) => {
            request = request.header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            let bytes = serde_json::to_vec(&body).unwrap_or_default();
            // The body cap REST reads under holds here too.
            if bytes.len() > MAX_BODY_BYTES {
                return Err(ApiError::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                });
            }
            Bytes::from(bytes)
        }
        None => Bytes::new(),
    };
    request
        .body(body)
        .map_err(|e| internal(format!("cannot build the request {path_and_query}: {e}")))
}

fn internal(message: String) -> ApiError {
    ApiError::Core(mission_control_core::Error::Internal(message))
}
