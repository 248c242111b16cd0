//! What the server serves besides the API: `/health`, the OpenAPI document, CORS and the
//! security headers, the dashboard (from a folder, or built into the binary) with its
//! single-page fallback, and answers that are never cached.

use super::support::*;
use serde_json::json;

#[tokio::test]
async fn health_and_openapi() {
    let s = App::start().await;
    let r = s.health().await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["database"], "ok");
    assert!(r.body["version"].is_string());

    let doc = s.openapi().await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/tokens",
        "/api/tasks",
        "/api/tasks/{id}",
        "/api/agents",
        "/api/agents/{id}",
        "/api/events",
        "/health",
    ] {
        assert!(doc.body["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc.body["components"]["schemas"]["Task"]["properties"]["assignedAgent"].is_object());
}

#[tokio::test]
async fn cors_allows_the_frontend_origin_only() {
    let s = App::start_with(&[("FRONTEND_URL", "http://localhost:9000")]).await;
    let preflight = |origin: &'static str| {
        s.http
            .request(reqwest::Method::OPTIONS, format!("{}/api/tasks", s.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
    };
    let ok = preflight("http://localhost:9000").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://localhost:9000"
    );
    let other = preflight("http://evil.example").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));

    let r = s.health().await;
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(r.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn the_dashboard_is_served_with_a_single_page_fallback() {
    let store = fresh_store();
    let dist = store.dir().join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Board</title>",
    )
    .unwrap();
    std::fs::write(dist.join("assets/app-123.js"), "console.log(1)").unwrap();
    let s = App::start_on(&store, &[("DASHBOARD_DIR", dist.to_str().unwrap())]).await;
    let visitor = s.anonymous();
    for path in ["/", "/board/some/deep/link"] {
        let r = visitor.get(path).await;
        assert_eq!(r.status, 200);
        assert!(
            r.body.as_str().unwrap().contains("<title>Board</title>"),
            "{path}"
        );
        assert_eq!(r.headers["cache-control"], "no-cache");
    }
    let asset = visitor.get("/assets/app-123.js").await;
    assert!(asset.header("cache-control").contains("immutable"));
    let api_miss = visitor.get("/api/unknown").await;
    api_miss.error_fields(404, "not_found");
    s.kill().await;

    let bare = App::start().await;
    let r = bare.anonymous().get("/").await;
    assert!(
        r.body
            .as_str()
            .unwrap()
            .contains("built without the dashboard")
    );
}

/// Without `DASHBOARD_DIR`, the board comes from the binary itself, whatever the working
/// folder: gzipped when the client takes it, cached by its hash.
#[tokio::test]
async fn the_built_in_dashboard_is_served_from_any_folder() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist");
    if !dist.join("index.html").is_file() {
        // Built before the dashboard (`cargo test` alone): the test command builds it first.
        eprintln!("frontend/dist is not built; skipping");
        return;
    }
    let store = fresh_store();
    let env = App::env(&store, &[])
        .into_iter()
        .filter(|(k, _)| k != "DASHBOARD_DIR")
        .collect();
    let s = App::launch(&store, env, std::process::Stdio::inherit()).await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/tasks/deep/link", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<div id=\"root\">"), "{html}");
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads a script");
    let asset = http
        .get(format!("{}{script}", s.url))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(asset.headers()["content-encoding"], "gzip");
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = asset.headers()["etag"].clone();
    let again = http
        .get(format!("{}{script}", s.url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn api_answers_are_not_cached_and_data_files_are_private() {
    let s = App::start().await;
    let login = s.sign_in(ADMIN_USER, ADMIN_PASSWORD).await;
    assert_eq!(login.headers["cache-control"], "no-store");
    let admin = s.session(login.body["token"].as_str().unwrap());
    admin.create_task(json!({"title": "t"})).await;
    let r = admin.get_task("nope").await;
    assert_eq!(r.headers["cache-control"], "no-store");
    if s.store().is_postgres() {
        return skip("the database files are SQLite's");
    }
    use std::os::unix::fs::PermissionsExt;
    for name in ["mission-control.db", "mission-control.db-wal"] {
        let mode = std::fs::metadata(s.dir().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}
