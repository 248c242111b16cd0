//! Serves the dashboard with the single-page fallback: any path that is not a file gets
//! `index.html`, so deep links and reloads work.
//!
//! The built dashboard (`frontend/dist`, with the `.gz` copies the build writes) is embedded in
//! the binary, so the server shows the board from any working directory, after
//! `cargo install`, or copied to another machine. `DASHBOARD_DIR` serves a folder instead (for
//! work on the frontend). A binary built before the dashboard was explains how to build it.

use std::convert::Infallible;
use std::path::Path;

use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use rust_embed::RustEmbed;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use super::body::{Body, full};

/// `frontend/dist` as it was when the server was built (read from disk in debug builds).
#[derive(RustEmbed)]
#[folder = "../frontend/dist"]
#[allow_missing = true]
struct Built;

#[derive(Clone)]
pub enum Dashboard {
    /// The dashboard built into the binary.
    Embedded,
    /// A folder given by `DASHBOARD_DIR`.
    Folder(ServeDir<ServeFile>),
    /// Nothing to serve: a page that says how to build it.
    NotBuilt,
}

impl Dashboard {
    /// The folder `dir` if given, else the embedded build.
    pub fn new(dir: Option<&Path>) -> Self {
        match dir {
            Some(dir) => {
                let index = dir.join("index.html");
                if !index.is_file() {
                    tracing::warn!(dir = %dir.display(), "DASHBOARD_DIR holds no built dashboard; `/` will explain how to build it");
                    return Dashboard::NotBuilt;
                }
                Dashboard::Folder(
                    ServeDir::new(dir)
                        .precompressed_gzip()
                        .fallback(ServeFile::new(index)),
                )
            }
            None if Built::get("index.html").is_some() => Dashboard::Embedded,
            None => {
                tracing::warn!(
                    "this server was built without the dashboard; `/` will explain how to build it"
                );
                Dashboard::NotBuilt
            }
        }
    }

    pub async fn serve<B>(&self, req: http::Request<B>) -> http::Response<Body>
    where
        B: http_body::Body + Send + 'static,
    {
        let hashed_asset = req.uri().path().starts_with("/assets/");
        let mut response = match self {
            Dashboard::NotBuilt => return not_built(),
            Dashboard::Embedded => embedded(&req),
            Dashboard::Folder(files) => {
                let result: Result<_, Infallible> = files.clone().oneshot(req).await;
                let Ok(response) = result;
                response.map(|b| b.boxed_unsync())
            }
        };
        // Vite puts a content hash in every asset name, so those can be cached for good; the
        // page itself must be revalidated so that a new build is picked up.
        let cache = if hashed_asset && response.status() == StatusCode::OK {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        response
    }
}

/// A file of the embedded build, gzipped when the client takes it and a `.gz` was built.
fn embedded<B>(req: &http::Request<B>) -> http::Response<Body> {
    let path = req.uri().path().trim_start_matches('/');
    let (name, file) = match Built::get(path).filter(|_| !path.is_empty()) {
        Some(file) => (path, file),
        // Hashed assets that do not exist are 404s; every other path is the page.
        None if path.starts_with("assets/") => return status(StatusCode::NOT_FOUND),
        None => match Built::get("index.html") {
            Some(file) => ("index.html", file),
            None => return not_built(),
        },
    };
    let etag = format!(
        "\"{}\"",
        file.metadata
            .sha256_hash()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return status(StatusCode::NOT_MODIFIED);
    }
    let gzip_ok = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let gzipped = gzip_ok.then(|| Built::get(&format!("{name}.gz"))).flatten();
    let mut response = match &gzipped {
        Some(gz) => http::Response::new(full(gz.data.clone().into_owned())),
        None => http::Response::new(full(file.data.into_owned())),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(name)),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzipped.is_some() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, tag);
    }
    response
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn status(code: StatusCode) -> http::Response<Body> {
    let mut response = http::Response::new(full(""));
    *response.status_mut() = code;
    response
}

fn not_built() -> http::Response<Body> {
    let page = "<!doctype html><meta charset=utf-8><title>Mission Control</title>\
        <h1>Mission Control</h1><p>The API is running, but this server was built without the dashboard.</p>\
        <p>Build it with <code>npm --prefix frontend ci &amp;&amp; npm --prefix frontend run build</code> \
        and rebuild the server (or start it with <code>scripts/run.sh</code>, which does both), or point \
        <code>DASHBOARD_DIR</code> at a build.</p>";
    let mut response = http::Response::new(full(page));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
