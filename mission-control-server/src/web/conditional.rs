//! Conditional and retry-safe requests: `ETag` and `If-Match` on tasks (no lost updates), and
//! `Idempotency-Key` on the writes an agent may need to retry (no double work).

use bytes::Bytes;
use http::{HeaderValue, header};
use mission_control_core::{ExpectedVersions, FieldError, IdempotencyKey, Task};

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

/// Most entity tags an `If-Match` list may hold.
pub const MAX_IF_MATCH_TAGS: usize = 64;

/// What `If-Match` asks, as RFC 9110 (section 13.1.1) defines it: `None` without the header or
/// with `*` (the task need only exist); otherwise that the task be at one of the versions the
/// list's entity tags name. `If-Match` compares strongly, so a weak tag (`W/"3"`) never matches,
/// nor does a tag that is not one of ours (`"abc"`, `"03"`): a list of only those is refused
/// with 412 whatever the task's version. Several header lines make one list. A header that is
/// neither `*` nor a list of entity tags is refused with 400 naming `If-Match`.
pub fn if_match(headers: &http::HeaderMap) -> Result<Option<ExpectedVersions>, ApiError> {
    let lines: Vec<&[u8]> = headers
        .get_all(header::IF_MATCH)
        .iter()
        .map(|v| v.as_bytes().trim_ascii())
        .collect();
    if lines.is_empty() || lines.as_slice() == [b"*".as_slice()] {
        return Ok(None);
    }
    let (mut versions, mut tags) = (Vec::new(), 0usize);
    for line in lines {
        entity_tags(line, |tag| {
            tags += 1;
            if tags > MAX_IF_MATCH_TAGS {
                return Err(invalid(
                    "If-Match",
                    &format!("must list at most {MAX_IF_MATCH_TAGS} entity tags"),
                ));
            }
            versions.extend(tag.strong_version());
            Ok(())
        })?;
    }
    if tags == 0 {
        return Err(malformed_if_match());
    }
    Ok(Some(ExpectedVersions::any_of(versions)))
}

/// One entity tag of a list: weak or strong, and its opaque part (between the quotes).
struct EntityTag<'a> {
    weak: bool,
    opaque: &'a [u8],
}

impl EntityTag<'_> {
    /// The task version this tag names, for a strong tag written as our `ETag`s are (the
    /// version in decimal, nothing else): strong comparison is byte for byte.
    fn strong_version(&self) -> Option<i64> {
        if self.weak {
            return None;
        }
        let text = std::str::from_utf8(self.opaque).ok()?;
        let version = text.parse::<i64>().ok()?;
        (version.to_string() == text).then_some(version)
    }
}

/// Hands each entity tag of `line` (`#entity-tag`: tags separated by commas and optional
/// whitespace, empty elements allowed) to `each`; 400 when it is not such a list.
fn entity_tags<'a>(
    line: &'a [u8],
    mut each: impl FnMut(EntityTag<'a>) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let is_ows = |b: u8| b == b' ' || b == b'\t';
    // etagc: any visible character but the double quote, and obs-text.
    let is_etagc = |b: u8| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80;
    let mut i = 0;
    loop {
        while i < line.len() && (is_ows(line[i]) || line[i] == b',') {
            i += 1;
        }
        if i == line.len() {
            return Ok(());
        }
        let weak = line[i..].starts_with(b"W/");
        if weak {
            i += 2;
        }
        if line.get(i) != Some(&b'"') {
            return Err(malformed_if_match());
        }
        let start = i + 1;
        let end = start + line[start..].iter().take_while(|&&b| is_etagc(b)).count();
        if line.get(end) != Some(&b'"') {
            return Err(malformed_if_match());
        }
        each(EntityTag {
            weak,
            opaque: &line[start..end],
        })?;
        i = end + 1;
        while i < line.len() && is_ows(line[i]) {
            i += 1;
        }
        if i < line.len() && line[i] != b',' {
            return Err(malformed_if_match());
        }
    }
}

fn malformed_if_match() -> ApiError {
    invalid(
        "If-Match",
        "must be * or a list of entity tags such as \"3\" or \"3\", \"4\"",
    )
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
    fn if_match_reads_a_list_of_tags_as_http_says() {
        let versions = |value: &str| {
            if_match(&headers(value))
                .unwrap()
                .map(|v| v.versions().to_vec())
        };
        assert_eq!(if_match(&http::HeaderMap::new()).unwrap(), None);
        assert_eq!(versions("*"), None);
        assert_eq!(versions(" * "), None);
        assert_eq!(versions("\"3\""), Some(vec![3]));
        assert_eq!(versions("\"3\", \"5\""), Some(vec![3, 5]));
        assert_eq!(versions("\"x\",\"5\""), Some(vec![5]));
        assert_eq!(versions("\"1\" ,, \t\"2\","), Some(vec![1, 2]));
        assert_eq!(versions("\"a,b\", \"4\""), Some(vec![4]));
        // Strong comparison: a weak tag, or one written otherwise than ours, never matches.
        assert_eq!(versions("W/\"7\""), Some(vec![]));
        assert_eq!(versions("W/\"7\", \"8\""), Some(vec![8]));
        for other in ["\"abc\"", "\"03\"", "\"+3\"", "\"\"", "\"3.0\""] {
            assert_eq!(versions(other), Some(vec![]), "{other}");
        }
    }

    #[test]
    fn several_if_match_lines_make_one_list() {
        let mut h = headers("\"1\"");
        h.append(header::IF_MATCH, "\"2\", W/\"3\"".parse().unwrap());
        let versions = if_match(&h).unwrap().unwrap();
        assert_eq!(versions.versions(), [1, 2]);
        let mut h = headers("*");
        h.append(header::IF_MATCH, "\"2\"".parse().unwrap());
        assert!(if_match(&h).is_err());
    }

    #[test]
    fn an_if_match_that_is_not_a_list_of_tags_is_refused_naming_it() {
        for bad in [
            "",
            ",",
            "3",
            "\"3",
            "\"3\" \"4\"",
            "*, \"3\"",
            "\"3\", *",
            "w/\"3\"",
            "W/3",
            "\"3\"x",
            "\" 3\"",
        ] {
            match if_match(&headers(bad)) {
                Err(ApiError::InvalidHeader(field)) => assert_eq!(field.field, "If-Match"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        let many = vec!["\"1\""; MAX_IF_MATCH_TAGS + 1].join(",");
        assert!(if_match(&headers(&many)).is_err());
        let enough = vec!["\"1\""; MAX_IF_MATCH_TAGS].join(",");
        assert!(if_match(&headers(&enough)).is_ok());
    }
}
