//! Black-box tests of the REST API: the real binary, a random port, a temporary database.

mod common;

use common::{Server, error_fields};
use serde_json::{Value, json};

#[tokio::test]
async fn health_and_openapi() {
    let s = Server::start().await;
    let r = s.call("GET", "/health", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ok");
    assert_eq!(r.body["database"], "ok");
    assert!(r.body["version"].is_string());

    let doc = s.call("GET", "/api/openapi.json", None, None).await;
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
async fn login_returns_the_spec_shape_and_refuses_bad_credentials() {
    let s = Server::start().await;
    let r = s
        .call(
            "POST",
            "/api/auth/login",
            Some(json!({"username": "patch", "password": common::ADMIN_PASSWORD})),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["token"].as_str().unwrap().starts_with("eyJ"));
    assert_eq!(
        r.body["user"],
        json!({"id": "agent-patch", "name": "Patch", "role": "Dev"})
    );

    for body in [
        json!({"username": "patch", "password": "wrong"}),
        json!({"username": "nova", "password": common::ADMIN_PASSWORD}),
    ] {
        let r = s.call("POST", "/api/auth/login", Some(body), None).await;
        error_fields(&r, 401, "unauthorized");
    }
    let r = s
        .call(
            "POST",
            "/api/auth/login",
            Some(json!({"username": "patch"})),
            None,
        )
        .await;
    assert_eq!(r.status, 400);

    // The operator shows up as an agent.
    let token = s.login().await;
    let agents = s.call("GET", "/api/agents", None, Some(&token)).await;
    assert_eq!(agents.body["agents"][0]["id"], "agent-patch");
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address() {
    let s = Server::start_with(&[("LOGIN_RATE_LIMIT_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        let r = s
            .call(
                "POST",
                "/api/auth/login",
                Some(json!({"username": "x", "password": "y"})),
                None,
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = s
        .call(
            "POST",
            "/api/auth/login",
            Some(json!({"username": "x", "password": "y"})),
            None,
        )
        .await;
    error_fields(&r, 429, "rate_limited");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
}

#[tokio::test]
async fn api_requests_are_rate_limited_per_token() {
    let s = Server::start_with(&[("RATE_LIMIT_PER_MINUTE", "5")]).await;
    let token = s.login().await;
    for _ in 0..5 {
        assert_eq!(
            s.call("GET", "/api/tasks", None, Some(&token)).await.status,
            200
        );
    }
    let r = s.call("GET", "/api/tasks", None, Some(&token)).await;
    error_fields(&r, 429, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    // Another token has its own budget.
    let other = s.login().await;
    assert_eq!(
        s.call("GET", "/api/tasks", None, Some(&other)).await.status,
        200
    );
}

#[tokio::test]
async fn every_api_endpoint_requires_a_valid_token() {
    let s = Server::start().await;
    let forged_none = format!(
        "{}.{}.",
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0",
        "eyJzdWIiOiJhZ2VudC1wYXRjaCIsImp0aSI6IngiLCJpYXQiOjAsImV4cCI6OTk5OTk5OTk5OTl9"
    );
    for (method, path) in [
        ("GET", "/api/tasks"),
        ("POST", "/api/tasks"),
        ("GET", "/api/tasks/x"),
        ("PATCH", "/api/tasks/x"),
        ("DELETE", "/api/tasks/x"),
        ("GET", "/api/agents"),
        ("POST", "/api/agents"),
        ("PATCH", "/api/agents/x"),
        ("GET", "/api/events"),
        ("POST", "/api/auth/logout"),
        ("POST", "/api/auth/tokens"),
    ] {
        for token in [None, Some("garbage"), Some(forged_none.as_str())] {
            let r = s.call(method, path, Some(json!({})), token).await;
            error_fields(&r, 401, "unauthorized");
        }
    }
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let s = Server::start().await;
    let token = s.login().await;
    let r = s.call("POST", "/api/auth/logout", None, Some(&token)).await;
    assert_eq!(r.body, json!({"success": true}));
    let r = s.call("GET", "/api/tasks", None, Some(&token)).await;
    error_fields(&r, 401, "unauthorized");
}

#[tokio::test]
async fn task_lifecycle_over_http() {
    let s = Server::start().await;
    let t = s.login().await;
    let token = Some(t.as_str());

    let created = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "Build rate limiter", "description": "Implement Redis-based rate limiting",
                "status": "in-progress", "assignedAgent": "agent-patch", "priority": "high", "tags": ["backend", "security"]})),
            token,
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let task = created.body["task"].clone();
    let id = task["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("task-"));
    assert_eq!(common::sorted_keys(&task), common::TASK_KEYS);
    assert_eq!(task["createdBy"], "agent-patch");

    // Defaults.
    let minimal = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "Fix auth bug"})),
            token,
        )
        .await;
    assert_eq!(minimal.body["task"]["status"], "backlog");
    assert_eq!(minimal.body["task"]["priority"], "medium");
    assert_eq!(minimal.body["task"]["tags"], json!([]));

    let got = s
        .call("GET", &format!("/api/tasks/{id}"), None, token)
        .await;
    assert_eq!(got.body["task"], task);

    let list = s.call("GET", "/api/tasks", None, token).await;
    assert_eq!(list.body["tasks"].as_array().unwrap().len(), 2);
    let filtered = s
        .call(
            "GET",
            "/api/tasks?status=in-progress&agent=agent-patch",
            None,
            token,
        )
        .await;
    assert_eq!(filtered.body["tasks"], json!([task]));
    let none = s
        .call("GET", "/api/tasks?agent=agent-nobody", None, token)
        .await;
    assert_eq!(none.body["tasks"], json!([]));

    let patched = s
        .call(
            "PATCH",
            &format!("/api/tasks/{id}"),
            Some(json!({"status": "done", "assignedAgent": null})),
            token,
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["task"]["status"], "done");
    assert_eq!(patched.body["task"]["assignedAgent"], Value::Null);
    assert_eq!(patched.body["task"]["title"], "Build rate limiter");

    let deleted = s
        .call("DELETE", &format!("/api/tasks/{id}"), None, token)
        .await;
    assert_eq!(deleted.body, json!({"success": true}));
    for method in ["GET", "PATCH", "DELETE"] {
        let r = s
            .call(
                method,
                &format!("/api/tasks/{id}"),
                Some(json!({"title": "x"})),
                token,
            )
            .await;
        error_fields(&r, 404, "not_found");
    }

    let events = s.call("GET", "/api/events", None, token).await;
    let messages: Vec<&str> = events.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        &messages[..4],
        [
            "Patch deleted task “Build rate limiter”",
            "Patch moved “Build rate limiter” to Done",
            "Patch created task “Fix auth bug”",
            "Patch created task “Build rate limiter”",
        ]
    );
}

#[tokio::test]
async fn invalid_input_names_the_field_and_changes_nothing() {
    let s = Server::start().await;
    let t = s.login().await;
    let token = Some(t.as_str());
    let cases = [
        (json!({"title": ""}), vec!["title"]),
        (json!({"title": "   "}), vec!["title"]),
        (json!({"title": "x".repeat(201)}), vec!["title"]),
        (json!({}), vec!["title"]),
        (json!({"title": "ok", "status": "doing"}), vec!["status"]),
        (
            json!({"title": "ok", "priority": "urgent"}),
            vec!["priority"],
        ),
        (
            json!({"title": "ok", "description": "d".repeat(10_001)}),
            vec!["description"],
        ),
        (
            json!({"title": "ok", "tags": (0..21).map(|i| i.to_string()).collect::<Vec<_>>()}),
            vec!["tags"],
        ),
        (
            json!({"title": "ok", "tags": ["t".repeat(51)]}),
            vec!["tags"],
        ),
        (
            json!({"title": "ok", "assignedAgent": "Agent Ghost"}),
            vec!["assignedAgent"],
        ),
        (json!({"title": 42}), vec!["title"]),
        (json!({"title": "ok", "tags": ["a", 1]}), vec!["tags[1]"]),
        (
            json!({"title": "ok", "newStatus": "done"}),
            vec!["newStatus"],
        ),
        (
            json!({"title": "", "status": "doing", "priority": "x"}),
            vec!["title", "status", "priority"],
        ),
    ];
    for (body, fields) in cases {
        let r = s
            .call("POST", "/api/tasks", Some(body.clone()), token)
            .await;
        assert_eq!(
            error_fields(&r, 400, "validation_failed"),
            fields,
            "body {body}"
        );
    }
    for raw in [&b"{"[..], b"not json", b"", b"[1,2]"] {
        let r = s.raw("POST", "/api/tasks", raw.to_vec(), token).await;
        assert_eq!(r.status, 400, "{:?}", String::from_utf8_lossy(raw));
    }
    let big = format!(
        r#"{{"title":"big","description":"{}"}}"#,
        "x".repeat(1024 * 1024 + 10)
    );
    let r = s.raw("POST", "/api/tasks", big.into_bytes(), token).await;
    error_fields(&r, 413, "payload_too_large");
    assert_eq!(
        r.headers["connection"], "close",
        "the unread rest makes the connection unusable"
    );

    let r = s.call("GET", "/api/tasks?status=doing", None, token).await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["status"]);

    let task = s
        .call("POST", "/api/tasks", Some(json!({"title": "keep"})), token)
        .await
        .body["task"]
        .clone();
    let path = format!("/api/tasks/{}", task["id"].as_str().unwrap());
    for (body, field) in [
        (json!({"status": "doing"}), "status"),
        (json!({"title": null}), "title"),
        (json!({"title": "new", "priority": "urgent"}), "priority"),
    ] {
        let r = s.call("PATCH", &path, Some(body), token).await;
        assert_eq!(error_fields(&r, 400, "validation_failed"), [field]);
    }
    assert_eq!(
        s.call("GET", &path, None, token).await.body["task"],
        task,
        "unchanged"
    );
    let tasks = s.call("GET", "/api/tasks", None, token).await;
    assert_eq!(tasks.body["tasks"].as_array().unwrap().len(), 1);
    let events = s.call("GET", "/api/events", None, token).await;
    assert_eq!(
        events.body["events"].as_array().unwrap().len(),
        2,
        "admin joined + one create"
    );

    let r = s.call("PUT", "/api/tasks", None, token).await;
    error_fields(&r, 405, "method_not_allowed");
    assert_eq!(r.headers["allow"], "GET, POST");
    let r = s.call("GET", "/api/nothing", None, token).await;
    error_fields(&r, 404, "not_found");
}

#[tokio::test]
async fn agents_register_list_and_change_status() {
    let s = Server::start().await;
    let t = s.login().await;
    let token = Some(t.as_str());
    let r = s
        .call("POST", "/api/agents", Some(json!({"id": "agent-nova", "name": "Nova", "role": "Research", "avatarColor": "#3b82f6"})), token)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["agent"]["status"], "online");
    let dup = s
        .call(
            "POST",
            "/api/agents",
            Some(json!({"id": "agent-nova", "name": "N", "role": "Dev"})),
            token,
        )
        .await;
    assert_eq!(error_fields(&dup, 409, "conflict"), ["id"]);
    let bad = s
        .call(
            "POST",
            "/api/agents",
            Some(json!({"id": "Nova!", "name": "", "role": "Boss", "avatarColor": "blue"})),
            token,
        )
        .await;
    assert_eq!(
        error_fields(&bad, 400, "validation_failed"),
        ["id", "name", "role", "avatarColor"]
    );

    let busy = s
        .call(
            "PATCH",
            "/api/agents/agent-nova",
            Some(json!({"status": "busy"})),
            token,
        )
        .await;
    assert_eq!(busy.status, 200);
    let agent = &busy.body["agent"];
    assert_eq!(common::sorted_keys(agent), common::AGENT_KEYS);
    assert_eq!(agent["status"], "busy");
    let r = s
        .call(
            "PATCH",
            "/api/agents/agent-nova",
            Some(json!({"status": "away"})),
            token,
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["status"]);
    let r = s
        .call(
            "PATCH",
            "/api/agents/agent-ghost",
            Some(json!({"status": "busy"})),
            token,
        )
        .await;
    error_fields(&r, 404, "not_found");

    let list = s.call("GET", "/api/agents", None, token).await;
    let ids: Vec<&str> = list.body["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["agent-nova", "agent-patch"]);
    let events = s.call("GET", "/api/events?limit=1", None, token).await;
    assert_eq!(
        events.body["events"][0]["message"],
        "Patch set Nova to busy"
    );
    assert_eq!(events.body["events"][0]["type"], "agent_status_changed");
}

#[tokio::test]
async fn agent_tokens_carry_the_agent_identity() {
    let s = Server::start().await;
    let t = s.login().await;
    s.call(
        "POST",
        "/api/agents",
        Some(json!({"id": "agent-nova", "name": "Nova", "role": "Research"})),
        Some(&t),
    )
    .await;
    let minted = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({"agentId": "agent-nova", "expiresInDays": 30})),
            Some(&t),
        )
        .await;
    assert_eq!(minted.status, 201, "{}", minted.body);
    let nova = minted.body["token"].as_str().unwrap().to_owned();
    assert_eq!(minted.body["agent"]["id"], "agent-nova");

    let task = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "From Nova"})),
            Some(&nova),
        )
        .await;
    assert_eq!(task.body["task"]["createdBy"], "agent-nova");
    let events = s
        .call("GET", "/api/events?limit=1", None, Some(&nova))
        .await;
    assert_eq!(
        events.body["events"][0]["message"],
        "Nova created task “From Nova”"
    );

    let r = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({"agentId": "agent-patch"})),
            Some(&nova),
        )
        .await;
    error_fields(&r, 403, "forbidden");
    let r = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({"agentId": "agent-ghost"})),
            Some(&t),
        )
        .await;
    assert_eq!(error_fields(&r, 409, "conflict"), ["agentId"]);
    let r = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({"agentId": "agent-nova", "expiresInDays": 0})),
            Some(&t),
        )
        .await;
    assert_eq!(
        error_fields(&r, 400, "validation_failed"),
        ["expiresInDays"]
    );
}

#[tokio::test]
async fn the_token_command_mints_a_working_agent_token() {
    let s = Server::start().await;
    let out = std::process::Command::new(common::binary())
        .args([
            "token",
            "--agent",
            "agent-ops",
            "--name",
            "Ops Bot",
            "--role",
            "Ops",
            "--days",
            "2",
        ])
        .env_clear()
        .envs(common::base_env(&s.dir))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let r = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "Rotate keys"})),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["task"]["createdBy"], "agent-ops");

    let bad = std::process::Command::new(common::binary())
        .args(["token", "--agent", "agent-unknown"])
        .env_clear()
        .envs(common::base_env(&s.dir))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--name and --role"));
}

#[tokio::test]
async fn events_feed_limits_and_since() {
    let s = Server::start().await;
    let t = s.login().await;
    let token = Some(t.as_str());
    for i in 0..60 {
        s.call(
            "POST",
            "/api/tasks",
            Some(json!({"title": format!("t{i}")})),
            token,
        )
        .await;
    }
    let default = s.call("GET", "/api/events", None, token).await;
    let events = default.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 50);
    assert_eq!(events[0]["message"], "Patch created task “t59”");
    let all = s.call("GET", "/api/events?limit=500", None, token).await;
    assert_eq!(
        all.body["events"].as_array().unwrap().len(),
        61,
        "at most 500, 61 exist"
    );
    let cut = events[10]["timestamp"].as_i64().unwrap();
    let since = s
        .call(
            "GET",
            &format!("/api/events?since={cut}&limit=500"),
            None,
            token,
        )
        .await;
    assert!(
        since.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["timestamp"].as_i64().unwrap() > cut)
    );
    for bad in [
        "limit=abc",
        "limit=0",
        "limit=-1",
        "limit=501",
        "since=yesterday",
    ] {
        let r = s
            .call("GET", &format!("/api/events?{bad}"), None, token)
            .await;
        assert_eq!(r.status, 400, "{bad}");
        let field = bad.split('=').next().unwrap();
        assert_eq!(error_fields(&r, 400, "validation_failed"), [field]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_writers_lose_nothing() {
    let s = std::sync::Arc::new(Server::start().await);
    let token = std::sync::Arc::new(s.login().await);
    let mut handles = vec![];
    for i in 0..200 {
        let s = s.clone();
        let token = token.clone();
        handles.push(tokio::spawn(async move {
            s.call(
                "POST",
                "/api/tasks",
                Some(json!({"title": format!("parallel {i}")})),
                Some(&token),
            )
            .await
            .status
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), 201);
    }
    let list = s.call("GET", "/api/tasks", None, Some(&token)).await;
    assert_eq!(list.body["tasks"].as_array().unwrap().len(), 200);
}

#[tokio::test]
async fn data_and_tokens_survive_a_restart_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), &[]).await;
    let token = s.login().await;
    let task = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "Survive"})),
            Some(&token),
        )
        .await
        .body["task"]
        .clone();
    let status = s.terminate().await;
    assert!(status.success(), "exit status {status:?}");

    let s = Server::start_in(dir.path(), &[]).await;
    let r = s
        .call(
            "GET",
            &format!("/api/tasks/{}", task["id"].as_str().unwrap()),
            None,
            Some(&token),
        )
        .await;
    assert_eq!(r.body["task"], task);
    s.kill().await;
}

#[tokio::test]
async fn cors_allows_the_frontend_origin_only() {
    let s = Server::start_with(&[("FRONTEND_URL", "http://localhost:9000")]).await;
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

    let r = s.call("GET", "/health", None, None).await;
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(r.headers.contains_key("x-request-id"));
}

#[tokio::test]
async fn the_dashboard_is_served_with_a_single_page_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Board</title>",
    )
    .unwrap();
    std::fs::write(dist.join("assets/app-123.js"), "console.log(1)").unwrap();
    let s = Server::start_in(dir.path(), &[("DASHBOARD_DIR", dist.to_str().unwrap())]).await;
    for path in ["/", "/board/some/deep/link"] {
        let r = s.call("GET", path, None, None).await;
        assert_eq!(r.status, 200);
        assert!(
            r.body.as_str().unwrap().contains("<title>Board</title>"),
            "{path}"
        );
        assert_eq!(r.headers["cache-control"], "no-cache");
    }
    let asset = s.call("GET", "/assets/app-123.js", None, None).await;
    assert!(
        asset.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let api_miss = s.call("GET", "/api/unknown", None, None).await;
    error_fields(&api_miss, 404, "not_found");
    s.kill().await;

    let bare = Server::start().await;
    let r = bare.call("GET", "/", None, None).await;
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
    let dir = tempfile::tempdir().unwrap();
    let env: Vec<(String, String)> = common::base_env(dir.path())
        .into_iter()
        .filter(|(k, _)| k != "DASHBOARD_DIR")
        .collect();
    let mut cmd = tokio::process::Command::new(common::binary());
    cmd.current_dir(dir.path()).env_clear().envs(env);
    let process = mission_control_testkit::ServerProcess::spawn(cmd)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/tasks/deep/link", process.url))
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
        .get(format!("{}{script}", process.url))
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
        .get(format!("{}{script}", process.url))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}
