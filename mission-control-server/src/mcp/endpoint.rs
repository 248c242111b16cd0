//! `POST /mcp` on the server's port, and what the MCP authorization specification asks of a
//! protected server: a `401` that says where the protected-resource metadata is
//! (`WWW-Authenticate: Bearer resource_metadata="..."`), and that document (RFC 9728) at
//! `/.well-known/oauth-protected-resource`.
//!
//! The endpoint table authenticates the caller (bearer token, rate limits, body cap) before
//! [`post`] runs; the caller's [`Actor`](mission_control_core::Actor) travels to the tools in
//! the request's extensions.

use std::net::SocketAddr;

use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Full};
use serde::Serialize;

use crate::http::auth::Caller;
use crate::http::body::{Body, json_response};
use crate::http::error::ErrorBody;
use crate::http::router::Ctx;
use crate::http::routes::Result;

/// Where the MCP endpoint is.
pub const PATH: &str = "/mcp";
/// The protected-resource metadata document the `401` points to.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// MCP over Streamable HTTP, stateless: one JSON-RPC message per request, answered as JSON
/// (`initialize`, `tools/list`, `tools/call`, `resources/read`, ...). Tool results are
/// structured content plus a short text; a failed call is a tool error (`isError: true`) with
/// the REST API's error body.
#[utoipa::path(post, path = "/mcp", tag = "mcp",
    request_body(content = Object, description = "One JSON-RPC 2.0 message", content_type = "application/json"),
    params(("MCP-Protocol-Version" = Option<String>, Header, description = "The negotiated protocol revision, e.g. 2025-06-18")),
    responses(
        (status = 200, description = "The JSON-RPC answer", content_type = "application/json"),
        (status = 202, description = "A notification, accepted"),
        (status = 400, description = "Not a valid JSON-RPC message or protocol version"),
        (status = 401, body = ErrorBody, description = "No valid token; `WWW-Authenticate` names the resource metadata"),
        (status = 406, description = "The client does not accept application/json and text/event-stream"),
        (status = 413, body = ErrorBody), (status = 415, description = "Not application/json"),
        (status = 429, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn post(ctx: Ctx, caller: Caller) -> Result {
    if let Some(error) = not_a_message(ctx.req.body()) {
        return Ok(json_response(StatusCode::BAD_REQUEST, &error));
    }
    let (mut parts, body) = ctx.req.into_parts();
    parts.extensions.insert(caller.actor);
    let request = http::Request::from_parts(parts, Full::new(body));
    let response = ctx.state.mcp.handle(request).await;
    Ok(response.map(|b| b.map_err(|never| match never {}).boxed_unsync()))
}

/// The JSON-RPC error for a body that is not one JSON-RPC 2.0 message (the transport's `400`),
/// which the SDK would otherwise answer with a plain-text `415`.
fn not_a_message(body: &[u8]) -> Option<serde_json::Value> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        jsonrpc: Option<std::borrow::Cow<'a, str>>,
    }
    let (code, message) = match serde_json::from_slice::<serde_json::Value>(body) {
        Err(e) => (-32700, format!("parse error: the body is not JSON ({e})")),
        Ok(serde_json::Value::Object(_)) => match serde_json::from_slice::<Envelope>(body) {
            Ok(Envelope { jsonrpc: Some(v) }) if v == "2.0" => return None,
            _ => (
                -32600,
                "invalid request: \"jsonrpc\": \"2.0\" is required".to_owned(),
            ),
        },
        Ok(_) => (
            -32600,
            "invalid request: one JSON-RPC 2.0 message, a JSON object, is expected".to_owned(),
        ),
    };
    Some(serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    }))
}

/// OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ResourceMetadata {
    /// The MCP endpoint's URL.
    pub resource: String,
    pub resource_name: &'static str,
    /// Tokens go in the `Authorization: Bearer` header.
    pub bearer_methods_supported: [&'static str; 1],
    /// Where to read how to get a token: an operator mints one per agent
    /// (`mission-control-server token --agent <id>` or `POST /api/auth/tokens`).
    pub resource_documentation: String,
}

/// The protected-resource metadata of the MCP endpoint. There is no OAuth authorization
/// server: the board's operator gives each agent its token.
#[utoipa::path(get, path = "/.well-known/oauth-protected-resource", tag = "mcp",
    responses((status = 200, body = ResourceMetadata)))]
pub async fn resource_metadata(ctx: Ctx) -> Result {
    let origin = origin(ctx.req.headers(), ctx.state.config.listen);
    Ok(json_response(
        StatusCode::OK,
        &ResourceMetadata {
            resource: format!("{origin}{PATH}"),
            resource_name: "Mission Control",
            bearer_methods_supported: ["header"],
            resource_documentation: format!("{origin}/api/openapi.json"),
        },
    ))
}

/// The same document at the path RFC 9728 derives from the endpoint's URL.
#[utoipa::path(get, path = "/.well-known/oauth-protected-resource/mcp", tag = "mcp",
    responses((status = 200, body = ResourceMetadata)))]
pub async fn resource_metadata_for_mcp(ctx: Ctx) -> Result {
    resource_metadata(ctx).await
}

/// The `WWW-Authenticate` challenge a refused MCP request gets.
pub struct Challenge {
    metadata_url: String,
    had_token: bool,
}

/// The challenge to send if this request ends in a `401`: for the MCP endpoint only.
pub fn challenge_for<B>(req: &http::Request<B>, listen: SocketAddr) -> Option<Challenge> {
    (req.uri().path() == PATH).then(|| Challenge {
        metadata_url: format!("{}{METADATA_PATH}", origin(req.headers(), listen)),
        had_token: req.headers().contains_key(header::AUTHORIZATION),
    })
}

impl Challenge {
    pub fn apply(&self, response: &mut http::Response<Body>) {
        if response.status() != StatusCode::UNAUTHORIZED {
            return;
        }
        // RFC 6750: a request that sent a token that failed says `invalid_token`.
        let error = if self.had_token {
            ", error=\"invalid_token\""
        } else {
            ""
        };
        let value = format!("Bearer resource_metadata=\"{}\"{error}", self.metadata_url);
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
}

/// `scheme://host[:port]` as the client reached the server: the `Host` header when it is a
/// well-formed authority (else the listening address), `https` behind a proxy that says so.
fn origin(headers: &HeaderMap, listen: SocketAddr) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.len() <= 255)
        .and_then(|h| h.parse::<http::uri::Authority>().ok())
        .filter(|a| !a.as_str().contains('@'))
        .map_or_else(|| listen.to_string(), |a| a.to_string());
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_is_not_one_message_is_a_json_rpc_error() {
        let code = |body: &str| not_a_message(body.as_bytes()).map(|e| e["error"]["code"].clone());
        assert_eq!(code("not json"), Some((-32700).into()));
        assert_eq!(code("[]"), Some((-32600).into()));
        assert_eq!(code(r#"{"id":1,"method":"ping"}"#), Some((-32600).into()));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#), None);
    }

    #[test]
    fn the_origin_comes_from_a_well_formed_host_only() {
        let listen: SocketAddr = "127.0.0.1:3002".parse().unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(origin(&h, listen), "http://127.0.0.1:3002");
        h.insert(header::HOST, "board.example.com:8443".parse().unwrap());
        assert_eq!(origin(&h, listen), "http://board.example.com:8443");
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(origin(&h, listen), "https://board.example.com:8443");
        h.insert(header::HOST, "evil\" , x=\"1".parse().unwrap());
        assert_eq!(origin(&h, listen), "https://127.0.0.1:3002");
        h.insert(header::HOST, "user@host".parse().unwrap());
        assert_eq!(origin(&h, listen), "https://127.0.0.1:3002");
    }
}
