//! Who may do what, and how long access lasts: agents change only their own card, the operator
//! manages agents and tokens (API and command line), revoking or expiring a token ends its live
//! sockets, an anonymous socket loses its connection, and a first run that cannot listen
//! generates nothing.

mod common;

use std::time::Duration;

use common::{Server, error_fields};
use mission_control_testkit::socketio;
use serde_json::{Value, json};

async fn agent_token(s: &Server, admin: &str, id: &str, name: &str) -> String {
    let r = s
        .call(
            "POST",
            "/api/agents",
            Some(json!({"id": id, "name": name, "role": "Dev"})),
            Some(admin),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({ "agentId": id })),
            Some(admin),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["token"].as_str().unwrap().to_owned()
}

/// Waits for the socket to be closed by the server; whether it was, within `wait`.
async fn closed_within(ws: &mut socketio::Socket, wait: Duration) -> bool {
    tokio::time::timeout(wait, async {
        while socketio::next_packet(ws).await.is_some() {}
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn agents_change_only_their_own_card_and_only_the_operator_manages_agents() {
    let s = Server::start().await;
    let admin = s.login().await;
    let rex = agent_token(&s, &admin, "agent-rex", "Rex").await;
    agent_token(&s, &admin, "agent-nova", "Nova").await;
    let cases = [
        ("PATCH", "/api/agents/agent-patch", json!({"name": "Admin"})),
        (
            "PATCH",
            "/api/agents/agent-nova",
            json!({"status": "offline"}),
        ),
        ("PATCH", "/api/agents/agent-rex", json!({"name": "Admin"})),
        ("PATCH", "/api/agents/agent-rex", json!({"role": "Main"})),
        (
            "POST",
            "/api/agents",
            json!({"id": "agent-admin2", "name": "Admin", "role": "Main"}),
        ),
        ("DELETE", "/api/agents/agent-nova", json!({})),
        ("POST", "/api/auth/tokens", json!({"agentId": "agent-rex"})),
        ("GET", "/api/agents/agent-nova/tokens", json!({})),
    ];
    for (method, path, body) in cases {
        let r = s.call(method, path, Some(body), Some(&rex)).await;
        error_fields(&r, 403, "forbidden");
    }
    let own = s
        .call(
            "PATCH",
            "/api/agents/agent-rex",
            Some(json!({"status": "busy", "avatarColor": "#ff0000"})),
            Some(&rex),
        )
        .await;
    assert_eq!(own.status, 200, "{}", own.body);
    // Names are unique; renames are logged, credited to whoever made them.
    let r = s
        .call(
            "PATCH",
            "/api/agents/agent-rex",
            Some(json!({"name": "nova"})),
            Some(&admin),
        )
        .await;
    assert_eq!(error_fields(&r, 409, "conflict"), ["name"]);
    s.call(
        "PATCH",
        "/api/agents/agent-rex",
        Some(json!({"name": "Rexford"})),
        Some(&admin),
    )
    .await;
    let feed = s
        .call("GET", "/api/events?limit=1", None, Some(&admin))
        .await;
    assert_eq!(
        feed.body["events"][0]["message"],
        "Patch renamed Rex to Rexford"
    );
    assert_eq!(feed.body["events"][0]["agentId"], "agent-patch");
    assert_eq!(feed.body["events"][0]["type"], "agent_updated");
}

#[tokio::test]
async fn the_operator_lists_and_revokes_tokens_and_their_sockets_end_at_once() {
    let s = Server::start().await;
    let admin = s.login().await;
    let nova = agent_token(&s, &admin, "agent-nova", "Nova").await;
    let second = s
        .call(
            "POST",
            "/api/auth/tokens",
            Some(json!({"agentId": "agent-nova"})),
            Some(&admin),
        )
        .await;
    let second = second.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        s.call("GET", "/api/tasks", None, Some(&nova)).await.status,
        200
    );

    let listed = s
        .call("GET", "/api/agents/agent-nova/tokens", None, Some(&admin))
        .await;
    let tokens = listed.body["tokens"].as_array().unwrap().clone();
    assert_eq!(tokens.len(), 2);
    for t in &tokens {
        let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["createdAt", "expiresAt", "id", "lastUsedAt"]);
        let text = t.to_string();
        assert!(
            !text.contains(&nova) && !text.contains(&second),
            "never the token"
        );
    }
    // An agent sees its own.
    let mine = s
        .call("GET", "/api/agents/me/tokens", None, Some(&nova))
        .await;
    assert_eq!(mine.body["tokens"].as_array().unwrap().len(), 2);

    let mut ws = socketio::connect(s.process.addr, &nova).await.unwrap();
    // The newest first: the second minted token; revoke the other (Nova's first) by id.
    let first_id = tokens[1]["id"].as_str().unwrap();
    let r = s
        .call(
            "DELETE",
            &format!("/api/agents/agent-nova/tokens/{first_id}"),
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.body, json!({"success": true}));
    assert!(
        closed_within(&mut ws, Duration::from_secs(3)).await,
        "its socket ended"
    );
    error_fields(
        &s.call("GET", "/api/tasks", None, Some(&nova)).await,
        401,
        "unauthorized",
    );
    assert_eq!(
        s.call("GET", "/api/tasks", None, Some(&second))
            .await
            .status,
        200
    );
    let r = s
        .call(
            "DELETE",
            "/api/agents/agent-nova/tokens",
            None,
            Some(&admin),
        )
        .await;
    assert_eq!(r.body, json!({"revoked": 1}));
    error_fields(
        &s.call("GET", "/api/tasks", None, Some(&second)).await,
        401,
        "unauthorized",
    );
}

#[tokio::test]
async fn removing_an_agent_ends_its_access_and_frees_its_tasks() {
    let s = Server::start().await;
    let admin = s.login().await;
    let nova = agent_token(&s, &admin, "agent-nova", "Nova").await;
    let task = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "N", "status": "todo"})),
            Some(&admin),
        )
        .await;
    let id = task.body["task"]["id"].as_str().unwrap().to_owned();
    let claimed = s
        .call("POST", &format!("/api/tasks/{id}/claim"), None, Some(&nova))
        .await;
    assert_eq!(claimed.status, 200, "{}", claimed.body);
    let mut ws = socketio::connect(s.process.addr, &nova).await.unwrap();
    let r = s
        .call("DELETE", "/api/agents/agent-patch", None, Some(&admin))
        .await;
    error_fields(&r, 403, "forbidden");
    let r = s
        .call("DELETE", "/api/agents/agent-nova", None, Some(&admin))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(closed_within(&mut ws, Duration::from_secs(3)).await);
    error_fields(
        &s.call("GET", "/api/tasks", None, Some(&nova)).await,
        401,
        "unauthorized",
    );
    let freed = s
        .call("GET", &format!("/api/tasks/{id}"), None, Some(&admin))
        .await;
    assert_eq!(freed.body["task"]["status"], "todo");
    assert_eq!(freed.body["task"]["assignedAgent"], Value::Null);
    error_fields(
        &s.call("GET", "/api/agents/agent-nova", None, Some(&admin))
            .await,
        404,
        "not_found",
    );
}

/// A token for `agent` that expires in `seconds`, signed with the test secret and recorded
/// in the database as the server records its own (so only its expiry is unusual).
fn short_lived_token(s: &Server, agent: &str, seconds: i64) -> String {
    use sha2::{Digest, Sha256};
    let hex = |data: &str| -> String {
        Sha256::digest(data.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let now = mission_control_core::now_millis();
    let jti = format!("short-{now}");
    let claims = json!({"sub": agent, "jti": jti, "iat": now / 1000, "exp": now / 1000 + seconds});
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(common::SECRET.as_bytes()),
    )
    .unwrap();
    let db = rusqlite::Connection::open(s.dir.join("mission-control.db")).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db.execute(
        "INSERT INTO auth_tokens (id, user_id, token_hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        rusqlite::params![hex(&jti), agent, hex(&token), now, (now / 1000 + seconds) * 1000],
    )
    .unwrap();
    token
}

#[tokio::test]
async fn a_socket_is_disconnected_when_its_token_expires() {
    let s = Server::start().await;
    let token = short_lived_token(&s, "agent-patch", 3);
    let mut ws = socketio::connect(s.process.addr, &token).await.unwrap();
    assert!(
        closed_within(&mut ws, Duration::from_secs(8)).await,
        "disconnected at expiry"
    );
}

#[tokio::test]
async fn an_anonymous_socket_loses_its_connection_at_the_deadline_and_cannot_rejoin() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let s = Server::start().await;
    let tcp = tokio::net::TcpStream::connect(s.process.addr)
        .await
        .unwrap();
    let url = format!(
        "ws://{}/socket.io/?EIO=4&transport=websocket",
        s.process.addr
    );
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
    let open = socketio::next_packet(&mut ws).await.unwrap();
    let sid: Value = serde_json::from_str(&open[1..]).unwrap();
    ws.send(Message::text("40")).await.unwrap();
    let started = std::time::Instant::now();
    // The transport itself closes, not only the namespace.
    assert!(closed_within(&mut ws, Duration::from_secs(20)).await);
    assert!(started.elapsed() >= Duration::from_secs(9));
    // Its session id is refused from now on.
    let r = s
        .http
        .get(format!(
            "{}/socket.io/?EIO=4&transport=polling&sid={}",
            s.url,
            sid["sid"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_first_run_that_cannot_listen_generates_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(common::binary())
        .current_dir(dir.path())
        .env_clear()
        .env("PORT", &port)
        .env("DATABASE_PATH", dir.path().join("data/mission-control.db"))
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
    assert!(!dir.path().join("data/admin-password.argon2").exists());
    assert!(!dir.path().join("data/jwt-secret").exists());
    assert!(!dir.path().join("data/mission-control.db").exists());
}

#[tokio::test]
async fn a_first_run_prints_the_password_and_a_reset_gives_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(common::binary());
    cmd.current_dir(dir.path())
        .env_clear()
        .env("PORT", "0")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut password) = (None, None);
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(u) = line.strip_prefix("Mission Control listening on ") {
            url = Some(u.to_owned());
        }
        if let Some(rest) = line.strip_prefix("First run: sign in as 'admin' with password ") {
            password = Some(rest.trim().to_owned());
            break;
        }
    }
    let (url, password) = (url.unwrap(), password.unwrap());
    let login = |pw: String| {
        let url = url.clone();
        async move {
            reqwest::Client::new()
                .post(format!("{url}/api/auth/login"))
                .json(&json!({"username": "admin", "password": pw}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(login(password.clone()).await, 200);

    let out = tokio::process::Command::new(common::binary())
        .arg("reset-admin-password")
        .current_dir(dir.path())
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let fresh = stdout
        .lines()
        .find_map(|l| l.strip_prefix("New password for 'admin': "))
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(
        login(fresh).await,
        200,
        "the running server takes the new password"
    );
    assert_eq!(login(password).await, 401);
    child.kill().await.unwrap();
}

#[tokio::test]
async fn commands_refuse_a_folder_where_no_server_has_run() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["token", "--agent", "agent-nova"],
        vec!["reset-admin-password"],
        vec!["tokens", "list", "--agent", "agent-admin"],
        vec!["export"],
        vec!["backup", "copy.db"],
    ] {
        let out = tokio::process::Command::new(common::binary())
            .args(&args)
            .current_dir(dir.path())
            .env_clear()
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no database at ./data/mission-control.db; start the server once"),
            "{args:?}: {stderr}"
        );
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "{args:?} created nothing"
        );
    }
}

#[tokio::test]
async fn the_command_line_manages_tokens_agents_backups_and_exports() {
    let s = Server::start().await;
    let admin = s.login().await;
    agent_token(&s, &admin, "agent-nova", "Nova").await;
    s.call(
        "POST",
        "/api/tasks",
        Some(json!({"title": "Exported", "tags": ["a"]})),
        Some(&admin),
    )
    .await;
    let run = |args: Vec<&str>| {
        let dir = s.dir.clone();
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        async move {
            let out = tokio::process::Command::new(common::binary())
                .args(&args)
                .current_dir(&dir)
                .env_clear()
                .envs(common::base_env(&dir))
                .output()
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    let listed = run(vec!["tokens", "list", "--agent", "agent-nova"]).await;
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let minted = run(vec!["token", "--agent", "agent-nova"]).await;
    let minted = minted.trim();
    assert_eq!(
        s.call("GET", "/api/tasks", None, Some(minted)).await.status,
        200
    );
    let out = run(vec!["tokens", "revoke", "--agent", "agent-nova", "--all"]).await;
    assert!(out.contains("Revoked 2 tokens"), "{out}");
    // The server hears of a revocation by another process through the change log, as of any
    // change (tests/beside_the_server.rs).
    let backup = s.dir.join("copy.db");
    run(vec!["backup", backup.to_str().unwrap()]).await;
    let copy = rusqlite::Connection::open(&backup).unwrap();
    let count: i64 = copy
        .query_row("SELECT COUNT(*) FROM tasks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
    let exported: Value = serde_json::from_str(&run(vec!["export"]).await).unwrap();
    assert_eq!(exported["format"], "mission-control-export");
    assert_eq!(exported["tasks"][0]["title"], "Exported");
    assert!(exported["events"].as_array().unwrap().len() >= 3);
    let over_http = s
        .call("GET", "/api/export?format=json", None, Some(&admin))
        .await;
    assert_eq!(over_http.body["tasks"], exported["tasks"]);
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&over_http.body["agents"]), ids(&exported["agents"]));
    let csv = s
        .call("GET", "/api/export?format=csv", None, Some(&admin))
        .await;
    let text = csv.body.as_str().unwrap();
    assert!(text.starts_with("id,title,status,priority"), "{text}");
    assert!(text.contains("Exported"));
    error_fields(
        &s.call("GET", "/api/export?format=xml", None, Some(&admin))
            .await,
        400,
        "validation_failed",
    );
    let out = run(vec!["agents", "remove", "agent-nova"]).await;
    assert!(out.contains("Removed agent-nova"));
}

#[tokio::test]
async fn an_export_imports_into_a_new_board() {
    let s = Server::start().await;
    let admin = s.login().await;
    let a = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "A"})),
            Some(&admin),
        )
        .await;
    let a_id = a.body["task"]["id"].as_str().unwrap().to_owned();
    let b = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "B", "blockedBy": [a_id]})),
            Some(&admin),
        )
        .await;
    let b_id = b.body["task"]["id"].as_str().unwrap().to_owned();
    s.call(
        "POST",
        &format!("/api/tasks/{b_id}/comments"),
        Some(json!({"text": "note"})),
        Some(&admin),
    )
    .await;
    let export = s.call("GET", "/api/export", None, Some(&admin)).await;
    let file = s.dir.join("board.json");
    std::fs::write(&file, export.body.to_string()).unwrap();

    // A fresh board, started once and stopped, takes the import.
    let target = tempfile::tempdir().unwrap();
    let fresh = Server::start_in(target.path(), &[]).await;
    assert!(fresh.terminate().await.success());
    let out = tokio::process::Command::new(common::binary())
        .args(["import", file.to_str().unwrap()])
        .current_dir(target.path())
        .env_clear()
        .envs(common::base_env(target.path()))
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 tasks, 1 comments"));
    let again = Server::start_in(target.path(), &[]).await;
    let token = again.login().await;
    let b2 = again
        .call("GET", &format!("/api/tasks/{b_id}"), None, Some(&token))
        .await;
    assert_eq!(b2.body["task"]["blockedBy"], json!([a.body["task"]["id"]]));
    let notes = again
        .call(
            "GET",
            &format!("/api/tasks/{b_id}/comments"),
            None,
            Some(&token),
        )
        .await;
    assert_eq!(notes.body["comments"][0]["text"], "note");
    // Import refuses to run beside a server.
    let out = tokio::process::Command::new(common::binary())
        .args(["import", file.to_str().unwrap()])
        .current_dir(target.path())
        .env_clear()
        .envs(common::base_env(target.path()))
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already serving"));
}
