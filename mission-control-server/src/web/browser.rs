//! What every answer tells a browser: CORS, which lets the pages of a `FRONTEND_URL` call the
//! server (same-origin pages need none), and the security headers (no content sniffing, no
//! framing, no referrer, and a content security policy for the dashboard's pages).

use std::convert::Infallible;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, header};
use hyper::body::Incoming;
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use super::body::Body;

/// `inner` with CORS for `frontend_origins` and the security headers on every answer (a header
/// `inner` sets itself is kept).
pub fn policy<S>(
    frontend_origins: &[String],
    inner: S,
) -> impl tower::Service<
    http::Request<Incoming>,
    Response = http::Response<Body>,
    Error = Infallible,
    Future: Send,
> + Clone
+ Send
+ use<S>
where
    S: tower::Service<http::Request<Incoming>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send,
    S::Future: Send,
{
    ServiceBuilder::new()
        .layer(cors(frontend_origins))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; \
             style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .service(inner)
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Cross-origin calls are allowed from `FRONTEND_URL` only; same-origin calls need no CORS.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(600))
}
