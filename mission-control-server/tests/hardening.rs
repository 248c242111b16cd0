//! Hostile clients cannot hurt the server: each attack that once worked, against the real
//! binary on a random port. Memory is read from `/proc/<pid>/status` (bounds, not timings).

mod common;

use std::time::Duration;

use common::{Server, error_fields};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's resident memory, in bytes.
fn rss(s: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.process.pid)).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 1024
}

/// Sends raw bytes on a new connection and reads until the server closes it (or `wait`).
async fn raw_exchange(s: &Server, request: &[u8], wait: Duration) -> String {
    let mut tcp = TcpStream::connect(s.process.addr).await.unwrap();
    let _ = tcp.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(wait, tcp.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn body_of(answer: &str) -> Value {
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn junk_bearer_tokens_cost_nothing_that_lasts() {
    let s = Server::start().await;
    let before = rss(&s);
    let mut clients = Vec::new();
    for c in 0..8 {
        let http = s.http.clone();
        let url = format!("{}/api/tasks", s.url);
        clients.push(tokio::spawn(async move {
            let mut statuses = std::collections::BTreeSet::new();
            for i in 0..300 {
                // A new 3,000-character junk token each time.
                let junk = format!("{c}-{i}-{}", "x".repeat(3000));
                let r = http.get(&url).bearer_auth(junk).send().await.unwrap();
                statuses.insert(r.status().as_u16());
            }
            statuses
        }));
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in clients {
        seen.extend(c.await.unwrap());
    }
    assert!(seen.iter().all(|s| *s == 401 || *s == 429), "{seen:?}");
    assert!(
        seen.contains(&429),
        "failed authentications are limited per address"
    );
    let grown = rss(&s).saturating_sub(before);
    assert!(
        grown < 16 * 1024 * 1024,
        "2,400 junk tokens grew RSS by {grown} bytes"
    );
}

#[tokio::test]
async fn an_oversized_authorization_header_is_refused_with_json() {
    let s = Server::start().await;
    let r = s
        .http
        .get(format!("{}/api/tasks", s.url))
        .bearer_auth("a".repeat(60 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "header_too_large");
    assert_eq!(body["error"]["details"][0]["field"], "Authorization");
}

#[tokio::test]
async fn hypers_own_error_answers_carry_the_json_error_body() {
    let s = Server::start().await;
    // A head larger than the server reads: hyper answers 431 itself.
    let huge = format!(
        "GET /api/tasks HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
        "y".repeat(100 * 1024)
    );
    let answer = raw_exchange(&s, huge.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    assert_eq!(body_of(&answer)["error"]["code"], "header_too_large");
    // Not HTTP at all: 400 with a body.
    let answer = raw_exchange(&s, b"HELLO\r\n\r\n", Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:.200}");
    assert_eq!(body_of(&answer)["error"]["code"], "bad_request");
}

#[tokio::test]
async fn a_huge_tag_list_is_refused_at_once_naming_the_field() {
    let s = Server::start().await;
    let token = s.login().await;
    // 80,000 distinct tags: about 700 KB, within the body limit.
    let tags: Vec<String> = (0..80_000).map(|i| format!("t{i}")).collect();
    let r = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "x", "tags": tags})),
            Some(&token),
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["tags"]);
    let same = vec!["a"; 150_000];
    let r = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "x", "tags": same})),
            Some(&token),
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["tags"]);
    assert_eq!(s.call("GET", "/health", None, None).await.status, 200);
}

#[tokio::test]
async fn titles_must_show_something_and_hold_no_control_characters() {
    let s = Server::start().await;
    let token = s.login().await;
    for title in [
        "\u{200B}\u{200D}\u{FEFF}",
        "\u{1b}[31mred",
        "tab\tbed",
        "\u{202E}drow",
    ] {
        let r = s
            .call(
                "POST",
                "/api/tasks",
                Some(json!({ "title": title })),
                Some(&token),
            )
            .await;
        assert_eq!(
            error_fields(&r, 400, "validation_failed"),
            ["title"],
            "{title:?}"
        );
    }
    let r = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "ok", "description": "clear\u{1b}[2J"})),
            Some(&token),
        )
        .await;
    assert_eq!(error_fields(&r, 400, "validation_failed"), ["description"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_in_is_cut_off_at_the_deadline() {
    let s = Server::start().await;
    let tcp = TcpStream::connect(s.process.addr).await.unwrap();
    let (mut read, mut write) = tcp.into_split();
    write
        .write_all(
            b"POST /api/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        )
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        // One byte every two seconds: the head arrived in time, the body never will.
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if write.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let read_all =
        tokio::time::timeout(Duration::from_secs(45), read.read_to_end(&mut answer)).await;
    trickle.abort();
    assert!(read_all.is_ok(), "the server never gave up on the body");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(body_of(&answer)["error"]["code"], "request_timeout");
}

#[tokio::test]
async fn connections_are_capped_per_address_and_the_descriptor_limit_is_raised() {
    let s = Server::start_with(&[("MAX_CONNECTIONS_PER_ADDRESS", "4")]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(s.process.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = raw_exchange(
        &s,
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert_eq!(body_of(&answer)["error"]["code"], "busy");
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = raw_exchange(
        &s,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let limits = std::fs::read_to_string(format!("/proc/{}/limits", s.process.pid)).unwrap();
    let files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<&str> = files.split_whitespace().skip(3).take(2).collect();
    assert_eq!(
        numbers[0], numbers[1],
        "soft limit raised to the hard limit: {files}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_that_never_read_do_not_pin_the_board_in_memory() {
    let s = Server::start_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await;
    let token = s.login().await;
    let description = "d".repeat(2000);
    let mut writers = Vec::new();
    for w in 0..4 {
        let http = s.http.clone();
        let url = format!("{}/api/tasks", s.url);
        let token = token.clone();
        let description = description.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..500 {
                let r = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("w{w} t{i}"), "description": description}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 201);
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    // About 4.5 MB of JSON; 30 clients that ask for it and never read.
    let before = rss(&s);
    let mut stalled = Vec::new();
    for _ in 0..30 {
        let mut tcp = TcpStream::connect(s.process.addr).await.unwrap();
        tcp.write_all(
            format!("GET /api/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        stalled.push(tcp);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let grown = rss(&s).saturating_sub(before);
    assert!(
        grown < 24 * 1024 * 1024,
        "30 stalled readers of a 4.5 MB board grew RSS by {grown} bytes"
    );
    assert_eq!(s.call("GET", "/health", None, None).await.status, 200);
    // They hold only their own address's few places: another client still gets the board.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let board = other
        .get(format!("{}/api/tasks", s.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(board.status(), 200);
    let board: Value = board.json().await.unwrap();
    assert_eq!(board["tasks"].as_array().unwrap().len(), 2000);
    drop(stalled);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Pages: `limit` and `nextCursor` walk the whole board exactly once.
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            None => "/api/tasks?limit=300".to_owned(),
            Some(c) => format!("/api/tasks?limit=300&cursor={c}"),
        };
        let page = s.call("GET", &path, None, Some(&token)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for t in page.body["tasks"].as_array().unwrap() {
            assert!(seen.insert(t["id"].as_str().unwrap().to_owned()));
        }
        match page.body["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2000);
    let whole = s.call("GET", "/api/tasks", None, Some(&token)).await;
    assert_eq!(whole.body["tasks"].as_array().unwrap().len(), 2000);
    assert!(whole.body["seq"].as_i64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_wrong_passwords_does_not_lock_the_operator_out() {
    let s = Server::start().await;
    let mut attackers = Vec::new();
    for a in 2..22u8 {
        let url = format!("{}/api/auth/login", s.url);
        attackers.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .local_address(std::net::IpAddr::from([127, 0, 0, a]))
                .build()
                .unwrap();
            for _ in 0..10 {
                let _ = client
                    .post(&url)
                    .json(&json!({"username": "patch", "password": "wrong"}))
                    .send()
                    .await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut signed_in = false;
    for _ in 0..3 {
        let r = s
            .call(
                "POST",
                "/api/auth/login",
                Some(json!({"username": common::ADMIN_USER, "password": common::ADMIN_PASSWORD})),
                None,
            )
            .await;
        if r.status == 200 {
            signed_in = true;
            break;
        }
        assert_eq!(r.status, 429, "{}", r.body);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(signed_in, "the operator got in during the flood");
    for a in attackers {
        a.await.unwrap();
    }
}

#[tokio::test]
async fn socket_packets_are_capped_on_both_transports() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let s = Server::start().await;
    // WebSocket: an anonymous socket sends a 1 MB authenticate packet and is dropped.
    let tcp = TcpStream::connect(s.process.addr).await.unwrap();
    let url = format!(
        "ws://{}/socket.io/?EIO=4&transport=websocket",
        s.process.addr
    );
    let (mut ws, _) = tokio_tungstenite::client_async(url, tcp).await.unwrap();
    let _open = mission_control_testkit::socketio::next_packet(&mut ws).await;
    let big = format!(
        "42[\"authenticate\",{{\"token\":\"{}\"}}]",
        "x".repeat(1024 * 1024)
    );
    let _ = ws.send(Message::text(big)).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while mission_control_testkit::socketio::next_packet(&mut ws)
            .await
            .is_some()
        {}
    })
    .await;
    assert!(closed.is_ok(), "the connection was closed");
    // Polling: a body over the cap is refused.
    let open = s
        .http
        .get(format!("{}/socket.io/?EIO=4&transport=polling", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sid: Value = serde_json::from_str(&open[1..]).unwrap();
    let r = s
        .http
        .post(format!(
            "{}/socket.io/?EIO=4&transport=polling&sid={}",
            s.url,
            sid["sid"].as_str().unwrap()
        ))
        .body("x".repeat(1024 * 1024))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let fresh = reqwest::Client::new();
    let health = fresh.get(format!("{}/health", s.url)).send().await.unwrap();
    assert_eq!(health.status(), 200, "still serving");
}

#[tokio::test]
async fn a_deleted_database_file_is_noticed_and_nothing_is_written_into_it() {
    let s = Server::start().await;
    let token = s.login().await;
    assert_eq!(
        s.call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "before"})),
            Some(&token)
        )
        .await
        .status,
        201
    );
    let db = s.dir.join("mission-control.db");
    std::fs::remove_file(&db).unwrap();
    let r = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "after"})),
            Some(&token),
        )
        .await;
    error_fields(&r, 503, "unavailable");
    let health = s.call("GET", "/health", None, None).await;
    assert_eq!(health.status, 503);
    assert!(
        health.body["problems"][0]
            .as_str()
            .unwrap()
            .contains("deleted or replaced"),
        "{}",
        health.body
    );
    for _ in 0..20 {
        let _ = s.call("GET", "/api/events", None, Some(&token)).await;
    }
    assert!(!db.exists(), "no reader created a new, empty database");
}

#[tokio::test]
async fn a_damaged_database_is_refused_at_start_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Server::start_in(tmp.path(), &[]).await;
    let token = s.login().await;
    for i in 0..200 {
        s.call(
            "POST",
            "/api/tasks",
            Some(json!({"title": format!("t{i}"), "description": "x".repeat(500)})),
            Some(&token),
        )
        .await;
    }
    let dir = s.dir.clone();
    assert!(s.terminate().await.success());
    let db = dir.join("mission-control.db");
    let mut bytes = std::fs::read(&db).unwrap();
    // Keep the header page, scramble the pages after it.
    for b in bytes.iter_mut().skip(4096 * 2).step_by(7) {
        *b = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();
    let out = tokio::process::Command::new(common::binary())
        .current_dir(&dir)
        .env_clear()
        .envs(common::base_env(&dir))
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("damaged") && stderr.contains("mission-control.db"),
        "{stderr}"
    );
}

#[tokio::test]
async fn api_answers_are_not_cached_and_data_files_are_private() {
    let s = Server::start().await;
    let login = s
        .call(
            "POST",
            "/api/auth/login",
            Some(json!({"username": common::ADMIN_USER, "password": common::ADMIN_PASSWORD})),
            None,
        )
        .await;
    assert_eq!(login.headers["cache-control"], "no-store");
    let token = login.body["token"].as_str().unwrap();
    s.call(
        "POST",
        "/api/tasks",
        Some(json!({"title": "t"})),
        Some(token),
    )
    .await;
    let r = s.call("GET", "/api/tasks/nope", None, Some(token)).await;
    assert_eq!(r.headers["cache-control"], "no-store");
    use std::os::unix::fs::PermissionsExt;
    for name in ["mission-control.db", "mission-control.db-wal"] {
        let mode = std::fs::metadata(s.dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{name}");
    }
}

#[tokio::test]
async fn no_token_or_password_reaches_the_log_at_any_level() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in_capturing(dir.path(), &[("RUST_LOG", "trace")]).await;
    let token = s.login().await;
    let mut socket = mission_control_testkit::socketio::connect(s.process.addr, &token)
        .await
        .unwrap();
    s.call("GET", "/api/tasks", None, Some(&token)).await;
    s.call(
        "POST",
        "/api/tasks",
        Some(json!({"title": "logged?"})),
        Some(&token),
    )
    .await;
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        mission_control_testkit::socketio::next_packet(&mut socket),
    )
    .await;
    drop(socket);
    let log = s.stop_and_read_stderr().await;
    assert!(log.len() > 1000, "trace logging was on");
    assert!(!log.contains(&token), "a token reached the log");
    assert!(
        !log.contains(common::ADMIN_PASSWORD),
        "the password reached the log"
    );
    assert!(
        !log.contains(&token[token.len() - 20..]),
        "part of a token reached the log"
    );
}

#[tokio::test]
async fn a_second_server_on_the_same_database_refuses_to_start() {
    let s = Server::start().await;
    let out = tokio::process::Command::new(common::binary())
        .current_dir(&s.dir)
        .env_clear()
        .envs(common::base_env(&s.dir))
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already serving"), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", s.process.pid)),
        "{stderr}"
    );
}
