//! `POST /mcp` on the server's port, and what the MCP authorization specification asks of a
//! protected server: a `401` that says where the protected-resource metadata is
//! (`WWW-Authenticate: Bearer resource_metadata="..."`), and that document (RFC 9728) at
//! `/.well-known/oauth-protected-resource`.
//!
//! The endpoint table checks the `Origin` and authenticates the caller (bearer token, rate
//! limits, body cap) before [`post`] runs; the REST API as that caller reaches it
//! ([`Rest`]) travels to the tools in the request's extensions.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Full};
use serde::Serialize;

use crate::api::caller::Caller;
use crate::api::router::Ctx;
use crate::api::routes::Result;
use crate::mcp::rest::Rest;
use crate::web::body::{Body, json_response};
use crate::web::error::ErrorBody;

/// Where the MCP endpoint is.
pub const PATH: &str = "/mcp";
/// The protected-resource metadata document the `401` points to.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

/// MCP over Streamable HTTP, stateless: one JSON-RPC message per request, answered as JSON
/// (`initialize`, `tools/list`, `tools/call`, `resources/read`, ...). Tool results are
/// structured content plus a short text; a failed call is a tool error (`isError: true`) with
/// the REST API's error body.
#[utoipa::path(post, path = "/mcp", tag = "mcp",
    request_body(content = JsonRpcMessage, description = "One JSON-RPC 2.0 request or notification", content_type = "application/json"),
    params(("MCP-Protocol-Version" = Option<McpProtocolVersion>, Header, description = "The negotiated protocol revision, e.g. 2025-06-18")),
    responses(
        (status = 200, description = "The JSON-RPC answer", content_type = "application/json"),
        (status = 202, description = "A notification, accepted"),
        (status = 400, description = "Not a valid JSON-RPC message or protocol version"),
        (status = 401, body = ErrorBody, description = "No valid token; `WWW-Authenticate` names the resource metadata"),
        (status = 406, description = "The client's `Accept` admits no `application/json`"),
        (status = 413, body = ErrorBody), (status = 415, description = "Not application/json"),
        (status = 429, body = ErrorBody)))]
pub async fn post(ctx: Ctx, caller: Caller) -> Result {
    let (mut parts, body) = ctx.req.into_parts();
    let body = match read_message(body) {
        Ok(body) => body,
        Err(error) => return Ok(json_response(StatusCode::BAD_REQUEST, &error)),
    };
    if !admits_json(&parts.headers) {
        return Ok(json_response(
            StatusCode::NOT_ACCEPTABLE,
            &rpc_error(
                -32600,
                "not acceptable: answers are application/json".into(),
            ),
        ));
    }
    // Every answer is JSON (the service never streams), so a client that accepts JSON is
    // served whether or not it also named text/event-stream, as the SDK insists.
    parts.headers.insert(
        header::ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    parts
        .extensions
        .insert(Rest::new(ctx.state.clone(), caller, ctx.client));
    let request = http::Request::from_parts(parts, Full::new(body));
    let response = ctx.state.mcp.handle(request).await;
    Ok(response.map(|b| b.map_err(|never| match never {}).boxed_unsync()))
}

/// The body for the SDK to read: as it came, or with a whole-number id written with a
/// fraction or an exponent (`7.0`, `1e3`: integers, as JSON Schema and the document count
/// them) rewritten as the integer the SDK reads. The JSON-RPC error (the transport's `400`)
/// for a body that is not one JSON-RPC 2.0 request or notification, which the SDK would
/// otherwise answer with a plain-text `415`.
fn read_message(body: Bytes) -> std::result::Result<Bytes, serde_json::Value> {
    let (code, message) = match serde_json::from_slice::<serde_json::Value>(&body) {
        Err(e) => (-32700, format!("parse error: the body is not JSON ({e})")),
        Ok(serde_json::Value::Object(mut message)) => match envelope_problem(&message) {
            None => return Ok(body),
            Some(Problem::IdWrittenAsFraction(id)) => {
                message.insert("id".into(), id.into());
                // Writing a `Value` cannot fail.
                return Ok(serde_json::to_vec(&message).unwrap_or_default().into());
            }
            Some(Problem::Invalid(problem)) => (-32600, format!("invalid request: {problem}")),
        },
        Ok(_) => (
            -32600,
            "invalid request: one JSON-RPC 2.0 message, a JSON object, is expected".to_owned(),
        ),
    };
    Err(rpc_error(code, message))
}

/// What keeps a JSON object from being a message the SDK reads as it is.
enum Problem {
    /// Not a request or notification: what is wrong, naming the member.
    Invalid(&'static str),
    /// A whole-number id within the bounds, written as `7.0` or `1e3`: this integer.
    IdWrittenAsFraction(i64),
}

/// A JSON-RPC error answer to a message whose id could not be read.
fn rpc_error(code: i32, message: String) -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    })
}

/// Whether the request's `Accept` (absent means anything, RFC 9110) admits JSON.
fn admits_json(headers: &HeaderMap) -> bool {
    let mut ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|range| {
            range
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .peekable();
    ranges.peek().is_none()
        || ranges.any(|r| matches!(r.as_str(), "application/json" | "application/*" | "*/*"))
}

/// What makes `message` something other than a request or notification [`JsonRpcMessage`]
/// describes as the SDK reads it.
fn envelope_problem(message: &serde_json::Map<String, serde_json::Value>) -> Option<Problem> {
    use serde_json::Value;
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Some(Problem::Invalid("\"jsonrpc\": \"2.0\" is required"));
    }
    if !message.get("method").is_some_and(Value::is_string) {
        return Some(Problem::Invalid("\"method\" must be a string"));
    }
    if !matches!(message.get("params"), None | Some(Value::Object(_))) {
        return Some(Problem::Invalid("\"params\" must be an object"));
    }
    match message.get("id") {
        None | Some(Value::String(_)) => None,
        Some(Value::Number(n)) if n.is_i64() => None,
        Some(Value::Number(n)) if n.as_f64().and_then(whole_i64).is_some() => n
            .as_f64()
            .and_then(whole_i64)
            .map(Problem::IdWrittenAsFraction),
        Some(_) => Some(Problem::Invalid(
            "\"id\" must be a string or an integer of 64 bits (the document's bounds)",
        )),
    }
}

/// `x` as a signed 64-bit integer, when it is a whole number within the bounds.
fn whole_i64(x: f64) -> Option<i64> {
    // -2^63 and 2^63: every whole f64 strictly between converts exactly. -2^63 itself is left
    // out, since an integer beyond the bounds (-9223372036854775809) is read as it too.
    const LOW: f64 = -9_223_372_036_854_775_808.0;
    const HIGH: f64 = 9_223_372_036_854_775_808.0;
    (x.fract() == 0.0 && x > LOW && x < HIGH).then_some(x as i64)
}

/// The one JSON-RPC 2.0 message a `POST /mcp` carries: a request (with `id`, answered) or a
/// notification (without, accepted with `202`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Documentation only: the SDK parses the message.
pub struct JsonRpcMessage {
    /// Always `2.0`.
    #[schema(schema_with = jsonrpc_version_schema)]
    jsonrpc: String,
    /// `initialize`, `tools/list`, `tools/call`, `resources/read`, ...
    #[schema(example = "tools/list")]
    method: String,
    /// The request's id, echoed in the answer; absent in a notification.
    #[schema(schema_with = request_id_schema)]
    id: Option<String>,
    /// The method's arguments, an object.
    #[schema(schema_with = params_schema)]
    params: Option<serde_json::Value>,
}

/// A protocol revision the server speaks, as the `MCP-Protocol-Version` header names it.
pub struct McpProtocolVersion;

impl utoipa::PartialSchema for McpProtocolVersion {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use rmcp::model::ProtocolVersion;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        // Revisions from `STANDARD_HEADERS` on also need headers this document cannot tie to
        // the version (`Mcp-Method`, ...); clients of those revisions send them anyway.
        let plain = ProtocolVersion::KNOWN_VERSIONS
            .iter()
            .map(ProtocolVersion::as_str)
            .filter(|v| *v < ProtocolVersion::STANDARD_HEADERS.as_str());
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(plain.map(str::to_owned)))
            .into()
    }
}

impl utoipa::ToSchema for McpProtocolVersion {}

fn jsonrpc_version_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["2.0"]))
        .into()
}

fn params_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new().schema_type(Type::Object).into()
}

/// A string or a signed 64-bit integer: the ids the SDK reads (the bounds constrain integers
/// only).
fn request_id_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Integer]))
        .minimum(Some(i64::MIN))
        .maximum(Some(i64::MAX))
        .description(Some(
            "The request's id, echoed in the answer; absent in a notification",
        ))
        .into()
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
        let code = |body: &str| {
            read_message(Bytes::copy_from_slice(body.as_bytes()))
                .err()
                .map(|e| e["error"]["code"].clone())
        };
        assert_eq!(code("not json"), Some((-32700).into()));
        assert_eq!(code("[]"), Some((-32600).into()));
        assert_eq!(code(r#"{"id":1,"method":"ping"}"#), Some((-32600).into()));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#), None);
        let id = |id: &str| code(&format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#));
        assert_eq!(id("-9223372036854775808"), None);
        assert_eq!(id("9223372036854775807"), None);
        assert_eq!(id("\"x\""), None);
        for beyond in [
            "9223372036854775808",
            "-9223372036854775809",
            "1e30",
            "1.5",
            "null",
        ] {
            assert_eq!(id(beyond), Some((-32600).into()), "{beyond}");
        }
    }

    #[test]
    fn a_whole_number_id_written_as_a_fraction_is_read_as_the_integer() {
        let read = |id: &str| {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping","params":{{}}}}"#);
            let read = read_message(Bytes::from(body)).unwrap();
            serde_json::from_slice::<serde_json::Value>(&read).unwrap()["id"].clone()
        };
        assert_eq!(read("-81083517.0"), serde_json::json!(-81083517));
        assert_eq!(read("1e3"), serde_json::json!(1000));
        assert_eq!(read("-0.0"), serde_json::json!(0));
        assert_eq!(
            read("-9007199254740992.0"),
            serde_json::json!(-9_007_199_254_740_992_i64)
        );
        let body = r#"{"jsonrpc":"2.0", "id": 7, "method":"ping"}"#;
        assert_eq!(read_message(Bytes::from(body)).unwrap(), body.as_bytes());
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
