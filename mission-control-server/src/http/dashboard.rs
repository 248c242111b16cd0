//! Serves the built dashboard (`frontend/dist`) with the single-page fallback: any path that is
//! not a file gets `index.html`, so deep links and reloads work.

use std::convert::Infallible;
use std::path::Path;

use http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use super::body::{Body, full};

#[derive(Clone)]
pub struct Dashboard {
    files: Option<ServeDir<ServeFile>>,
}

impl Dashboard {
    pub fn new(dir: &Path) -> Self {
        let index = dir.join("index.html");
        if !index.is_file() {
            tracing::warn!(dir = %dir.display(), "no built dashboard found; `/` will explain how to build it");
            return Dashboard { files: None };
        }
        Dashboard {
            files: Some(
                ServeDir::new(dir)
                    .precompressed_gzip()
                    .fallback(ServeFile::new(index)),
            ),
        }
    }

    pub async fn serve<B>(&self, req: http::Request<B>) -> http::Response<Body>
    where
        B: http_body::Body + Send + 'static,
    {
        let Some(files) = self.files.clone() else {
            return not_built();
        };
        let hashed_asset = req.uri().path().starts_with("/assets/");
        let result: Result<_, Infallible> = files.oneshot(req).await;
        let Ok(response) = result;
        let mut response = response.map(|b| b.boxed_unsync());
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

fn not_built() -> http::Response<Body> {
    let page = "<!doctype html><meta charset=utf-8><title>Mission Control</title>\
        <h1>Mission Control</h1><p>The API is running, but the dashboard has not been built.</p>\
        <p>Build it with <code>npm --prefix frontend ci &amp;&amp; npm --prefix frontend run build</code> \
        (or start the server with <code>scripts/run.sh</code>), or point <code>DASHBOARD_DIR</code> at a build.</p>";
    let mut response = http::Response::new(full(page));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
