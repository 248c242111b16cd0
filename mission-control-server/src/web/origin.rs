//! Which web pages may call an endpoint the table marks `own_origins_only` (`POST /mcp`): a
//! request without `Origin` (any program that is not a browser), one from the server's own
//! origin (the host and port its `Host` header names), or one from a `FRONTEND_URL`. A page
//! that points a name of its own at this server's address (DNS rebinding) sends its own origin
//! and is refused with 403, as MCP's transport requires.

use http::{HeaderMap, Uri, header};

use super::error::ApiError;

/// Refuses the request unless every `Origin` it carries is allowed.
pub fn check_origin(headers: &HeaderMap, frontend_origins: &[String]) -> Result<(), ApiError> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let allowed = |origin: &str| {
        frontend_origins
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
            || host.is_some_and(|host| same_host(origin, host))
    };
    let refused = headers
        .get_all(header::ORIGIN)
        .iter()
        .any(|origin| !origin.to_str().is_ok_and(allowed));
    if refused {
        return Err(ApiError::Forbidden(
            "a page of another site may not call this endpoint: its Origin is neither this \
             server nor one of its FRONTEND_URL origins",
        ));
    }
    Ok(())
}

/// Whether `origin` (`scheme://host[:port]`) names the host and port of `host` (a `Host`
/// header, whose port is left out when it is the scheme's default).
fn same_host(origin: &str, host: &str) -> bool {
    let Ok(origin) = origin.parse::<Uri>() else {
        return false;
    };
    let default_port = match origin.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return false,
    };
    let (Some(from), Ok(to)) = (origin.authority(), host.parse::<http::uri::Authority>()) else {
        return false;
    };
    // An origin is a scheme, a host and a port: nothing else.
    if from.as_str().contains('@') || origin.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return false;
    }
    from.host().eq_ignore_ascii_case(to.host())
        && from.port_u16().unwrap_or(default_port) == to.port_u16().unwrap_or(default_port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(origin: Option<&str>, host: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, origin.parse().unwrap());
        }
        check_origin(&headers, &["http://localhost:5173".to_owned()]).is_ok()
    }

    #[test]
    fn no_origin_the_own_origin_and_the_frontend_are_allowed() {
        assert!(check(None, "127.0.0.1:3002"));
        assert!(check(Some("http://127.0.0.1:3002"), "127.0.0.1:3002"));
        assert!(check(
            Some("https://Board.example.com"),
            "board.example.com"
        ));
        assert!(check(
            Some("https://board.example.com:443"),
            "board.example.com"
        ));
        assert!(check(Some("http://localhost:5173"), "127.0.0.1:3002"));
        assert!(check(Some("HTTP://LOCALHOST:5173"), "127.0.0.1:3002"));
    }

    #[test]
    fn other_origins_are_refused() {
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:3003",
            "https://127.0.0.1",
            "null",
            "file://",
            "ftp://127.0.0.1:3002",
            "http://127.0.0.1:3002/path",
            "http://user@127.0.0.1:3002",
        ] {
            assert!(!check(Some(origin), "127.0.0.1:3002"), "{origin}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(header::ORIGIN, "http://127.0.0.1:3002".parse().unwrap());
        assert!(
            check_origin(&headers, &[]).is_err(),
            "no Host, no own origin"
        );
        headers.insert(header::HOST, "127.0.0.1:3002".parse().unwrap());
        headers.append(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(check_origin(&headers, &[]).is_err(), "every Origin counts");
    }
}
