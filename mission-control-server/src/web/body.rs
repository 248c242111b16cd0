//! Request and response bodies: reading a bounded body, parsing JSON with the failing field
//! named, and building JSON responses.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited, combinators::UnsyncBoxBody};
use hyper::body::Incoming;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How long a client may take to send a request body, from the end of its head.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

/// The body type of every response (JSON, static files, Socket.io all fit).
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> http::Response<Body> {
    // Serialising our own types cannot fail (no maps with non-string keys, no custom Serialize
    // that errors); fall back to a bare 500 rather than panic if that ever changes.
    let (status, bytes) = match serde_json::to_vec(value) {
        Ok(bytes) => (status, bytes),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            br#"{"error":{"code":"internal","message":"serialisation failed","details":[]}}"#
                .to_vec(),
        ),
    };
    let mut response = http::Response::new(full(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Reads the whole body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(headers: &http::HeaderMap, body: Incoming) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let collected =
        tokio::time::timeout(BODY_DEADLINE, Limited::new(body, MAX_BODY_BYTES).collect())
            .await
            .map_err(|_| ApiError::RequestTimeout)?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        }),
        Err(e) => Err(ApiError::InvalidJson {
            field: None,
            message: format!("the body could not be read: {e}"),
        }),
    }
}

/// Parses a JSON body into `T`, naming the field at fault when the shape is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Every body is an object. serde would also read a struct from an array of its fields in
    // order (`[null, null]`), which no client means.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(ApiError::InvalidJson {
            field: None,
            message: "a JSON object is required".into(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = match inner.classify() {
            // A path like "[0]" means the body was an array, not an object: no field to name.
            serde_json::error::Category::Data if path != "." && !path.starts_with('[') => {
                Some(path)
            }
            serde_json::error::Category::Data => unknown_field(&inner.to_string()),
            _ => None,
        };
        ApiError::InvalidJson {
            field,
            message: strip_position(&inner.to_string()),
        }
    })?;
    de.end().map_err(|e| ApiError::InvalidJson {
        field: None,
        message: strip_position(&e.to_string()),
    })?;
    Ok(value)
}

/// Parses an optional JSON body: an empty one (or `null`) is `T::default()`.
pub fn parse_optional_json<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null" {
        Ok(T::default())
    } else {
        parse_json(bytes)
    }
}

/// serde names an unknown field only in its message: "unknown field `newStatus`, expected ...".
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_owned())
}

/// "expected a string at line 1 column 12" reads better without the position for one-line bodies.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mission_control_core::{CreateTaskRequest, UpdateTaskRequest};

    fn field_of(err: ApiError) -> Option<String> {
        match err {
            ApiError::InvalidJson { field, .. } => field,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_named() {
        let err = parse_json::<CreateTaskRequest>(br#"{"title": 5}"#).unwrap_err();
        assert_eq!(field_of(err).as_deref(), Some("title"));
        let err = parse_json::<CreateTaskRequest>(br#"{"tags": ["a", 1]}"#).unwrap_err();
        assert_eq!(field_of(err).as_deref(), Some("tags[1]"));
        let err = parse_json::<UpdateTaskRequest>(br#"{"newStatus": "done"}"#).unwrap_err();
        assert_eq!(field_of(err).as_deref(), Some("newStatus"));
    }

    #[test]
    fn malformed_json_names_no_field() {
        for body in [&b"{"[..], b"", b"[1,2", b"{} trailing"] {
            assert_eq!(
                field_of(parse_json::<CreateTaskRequest>(body).unwrap_err()),
                None
            );
        }
        assert!(parse_json::<CreateTaskRequest>(b"[]").is_err());
    }
}
