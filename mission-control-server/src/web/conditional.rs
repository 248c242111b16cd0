//! Conditional and retry-safe requests: `ETag` and `If-Match` on tasks (no lost updates), and
//! `Idempotency-Key` on the writes an agent may need to retry (no double work).

use bytes::Bytes;
use http::{HeaderValue, header};
use mission_control_core::{FieldError, IdempotencyKey, Task};

use super::body::Body;
use super::error::ApiError;

/// A request whose body has been read.
type Request = http::Request<Bytes>;

/// A task's entity tag: its version, quoted.
pub fn etag(task: &Task) -> String {
    format!("\"{}\"", task.version)
}

/// Adds the task's `ETag` to a response.
pub fn with_etag(mut response: http::Response<Body>, task: &Task) -> http::Response<Body> {
    if let Ok(value) = HeaderValue::from_str(&etag(task)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// The version `If-Match` names: `None` without the header or with `*`. A tag that is not one
/// of ours matches no version, so the write is refused with 412 as HTTP says.
pub fn if_match(headers: &http::HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| invalid("If-Match", "must be an entity tag such as \"3\""))?;
    let first = text.split(',').map(str::trim).find(|t| !t.is_empty());
    Ok(match first {
        None => return Err(invalid("If-Match", "must be an entity tag such as \"3\"")),
        Some("*") => None,
        Some(tag) => Some(
            tag.trim_start_matches("W/")
                .trim_matches('"')
                .parse::<i64>()
                .unwrap_or(-1),
        ),
    })
}

/// The request's `Idempotency-Key`, bound to the request's [`fingerprint`].
pub fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| invalid("Idempotency-Key", "must be visible ASCII"))?;
    IdempotencyKey::new(key.trim(), &fingerprint(req))
        .map(Some)
        .map_err(|e| invalid("Idempotency-Key", &e))
}

/// What a request asks for, written one way whichever door it came through (curl, the
/// WebAssembly tool, an MCP tool call): the method, the path, and the body as JSON with its
/// keys sorted and no spacing. An empty body and `null` count as `{}`, as every handler with
/// an optional body reads them. A retry with the same key must ask for the same thing.
///
/// The query is left out: no write that takes a key reads one. A body that is not JSON is
/// taken as it is; the handler refuses it before anything is done or remembered.
pub fn fingerprint(req: &Request) -> Vec<u8> {
    let body = req.body();
    let canonical = if body.trim_ascii().is_empty() {
        Some(b"{}".to_vec())
    } else {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .map(|mut value| {
                if value.is_null() {
                    value = serde_json::Value::Object(Default::default());
                }
                value.sort_all_objects();
                // Writing a `Value` cannot fail.
                serde_json::to_vec(&value).unwrap_or_default()
            })
    };
    let mut request = Vec::with_capacity(body.len() + 64);
    request.extend_from_slice(req.method().as_str().as_bytes());
    request.push(b' ');
    request.extend_from_slice(req.uri().path().as_bytes());
    request.push(b'\n');
    request.extend_from_slice(canonical.as_deref().unwrap_or(body));
    request
}

fn invalid(header: &str, message: &str) -> ApiError {
    ApiError::InvalidHeader(FieldError::new(header, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(header::IF_MATCH, value.parse().unwrap());
        h
    }

    fn request(method: &str, uri: &str, body: &str) -> Request {
        http::Request::builder()
            .method(method)
            .uri(uri)
            .body(bytes::Bytes::copy_from_slice(body.as_bytes()))
            .unwrap()
    }

    #[test]
    fn the_fingerprint_is_what_the_request_asks_for_not_how_it_is_written() {
        let print = |method, uri, body| fingerprint(&request(method, uri, body));
        let create = print("POST", "/api/tasks", r#"{"title":"A","tags":["x"]}"#);
        for same in [
            r#"{ "tags" : [ "x" ], "title" : "A" }"#,
            "{\n  \"title\": \"\\u0041\",\n  \"tags\": [\"x\"]\n}",
        ] {
            assert_eq!(print("POST", "/api/tasks", same), create, "{same}");
        }
        assert_eq!(
            print("POST", "/api/tasks?x=1", r#"{"title":"A","tags":["x"]}"#),
            create
        );
        for other in [
            print("POST", "/api/tasks", r#"{"title":"B","tags":["x"]}"#),
            print(
                "POST",
                "/api/tasks",
                r#"{"title":"A","tags":["x"],"priority":"low"}"#,
            ),
            print("POST", "/api/tasks", r#"{"title":"A","tags":["x", "y"]}"#),
            print("PATCH", "/api/tasks", r#"{"title":"A","tags":["x"]}"#),
            print(
                "POST",
                "/api/tasks/t/comments",
                r#"{"title":"A","tags":["x"]}"#,
            ),
        ] {
            assert_ne!(other, create);
        }
        let claim = print("POST", "/api/tasks/t/claim", "");
        assert_eq!(print("POST", "/api/tasks/t/claim", "null"), claim);
        assert_eq!(print("POST", "/api/tasks/t/claim", " {} "), claim);
        assert_ne!(
            print("POST", "/api/tasks/t/claim", r#"{"leaseSeconds":60}"#),
            claim
        );
        assert_ne!(print("POST", "/api/tasks/t/claim", "{"), claim);
    }

    #[test]
    fn if_match_reads_our_tags() {
        assert_eq!(if_match(&http::HeaderMap::new()).unwrap(), None);
        assert_eq!(if_match(&headers("\"3\"")).unwrap(), Some(3));
        assert_eq!(if_match(&headers("W/\"7\"")).unwrap(), Some(7));
        assert_eq!(if_match(&headers("*")).unwrap(), None);
        assert_eq!(if_match(&headers("\"abc\"")).unwrap(), Some(-1));
    }
}
