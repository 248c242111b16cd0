//! Conditional and retry-safe requests: `ETag` and `If-Match` on tasks (no lost updates), and
//! `Idempotency-Key` on the writes an agent may need to retry (no double work).

use http::{HeaderValue, header};
use mission_control_core::{FieldError, IdempotencyKey, Task};

use super::body::Body;
use super::error::ApiError;
use super::routes::Request;

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

/// The request's `Idempotency-Key`, bound to what the request asks for (method, path, body).
pub fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| invalid("Idempotency-Key", "must be visible ASCII"))?;
    let mut request = Vec::with_capacity(req.body().len() + 64);
    request.extend_from_slice(req.method().as_str().as_bytes());
    request.push(b' ');
    request.extend_from_slice(req.uri().path().as_bytes());
    request.push(b'\n');
    request.extend_from_slice(req.body());
    IdempotencyKey::new(key.trim(), &request)
        .map(Some)
        .map_err(|e| invalid("Idempotency-Key", &e))
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

    #[test]
    fn if_match_reads_our_tags() {
        assert_eq!(if_match(&http::HeaderMap::new()).unwrap(), None);
        assert_eq!(if_match(&headers("\"3\"")).unwrap(), Some(3));
        assert_eq!(if_match(&headers("W/\"7\"")).unwrap(), Some(7));
        assert_eq!(if_match(&headers("*")).unwrap(), None);
        assert_eq!(if_match(&headers("\"abc\"")).unwrap(), Some(-1));
    }
}
