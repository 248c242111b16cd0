//! Hostile clients cannot hurt the server: each attack that once worked, against the real
//! binary on a random port, and a property-based fuzzer throwing arbitrary JSON at every
//! endpoint. Memory is read from `/proc/<pid>/status` (bounds, not timings).

use std::time::Duration;

use super::support::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's resident memory, in bytes.
fn rss(s: &App) -> u64 {
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
async fn raw_exchange(s: &App, request: &[u8], wait: Duration) -> String {
    let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
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
    let s = App::start().await;
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
    let s = App::start().await;
    let r = s.session(&"a".repeat(60 * 1024)).list_tasks("").await;
    assert_eq!(r.status, 431);
    let body = r.body;
    assert_eq!(body["error"]["code"], "header_too_large");
    assert_eq!(body["error"]["details"][0]["field"], "Authorization");
}

#[tokio::test]
async fn hypers_own_error_answers_carry_the_json_error_body() {
    let s = App::start().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_in_is_cut_off_at_the_deadline() {
    let s = App::start().await;
    let tcp = TcpStream::connect(s.addr()).await.unwrap();
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
    let s = App::start_with(&[("MAX_CONNECTIONS_PER_ADDRESS", "4")]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(s.addr()).await.unwrap());
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
    let s = App::start_with(&[("RATE_LIMIT_PER_MINUTE", "100000")]).await;
    let admin = s.login().await;
    let token = admin.token().to_owned();
    let description = "d".repeat(2000);
    let mut writers = Vec::new();
    for w in 0..4 {
        let admin = admin.clone();
        let description = description.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..500 {
                let r = admin
                    .create_task(json!({"title": format!("w{w} t{i}"), "description": description}))
                    .await;
                assert_eq!(r.status, 201);
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
        let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
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
    assert_eq!(s.health().await.status, 200);
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
        let query = match &cursor {
            None => "limit=300".to_owned(),
            Some(c) => format!("limit=300&cursor={c}"),
        };
        let page = admin.list_tasks(&query).await;
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
    let whole = admin.list_tasks("").await;
    assert_eq!(whole.list("tasks").len(), 2000);
    assert!(whole.body["seq"].as_i64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_wrong_passwords_does_not_lock_the_operator_out() {
    let s = App::start().await;
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
        let r = s.sign_in(ADMIN_USER, ADMIN_PASSWORD).await;
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
async fn no_token_or_password_reaches_the_log_at_any_level() {
    let s = App::start_capturing(&fresh_store(), &[("RUST_LOG", "trace")]).await;
    let admin = s.login().await;
    let token = admin.token().to_owned();
    let mut socket = mission_control_testkit::socketio::connect(s.addr(), &token)
        .await
        .unwrap();
    admin.list_tasks("").await;
    admin.create_task(json!({"title": "logged?"})).await;
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
        !log.contains(ADMIN_PASSWORD),
        "the password reached the log"
    );
    assert!(
        !log.contains(&token[token.len() - 20..]),
        "part of a token reached the log"
    );
}

/// Arbitrary JSON: the fuzzer's raw material.
fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    const KNOWN: &[&str] = &[
        "title",
        "description",
        "status",
        "assignedAgent",
        "priority",
        "tags",
        "id",
        "name",
        "role",
        "avatarColor",
        "username",
        "password",
        "agentId",
        "expiresInDays",
    ];
    let fields = prop_oneof![
        3 => proptest::sample::select(KNOWN).prop_map(str::to_owned),
        1 => "[a-zA-Z]{1,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("todo"),
            Just("done"),
            Just("high"),
            Just("Dev"),
            Just("busy"),
            Just("agent-patch"),
            Just("#fff")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    let value = leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z]{1,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    });
    prop_oneof![
        1 => value.clone(),
        4 => proptest::collection::vec((fields, value), 0..6)
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
    ]
}

/// The fields of a person, as `/api/users` answers, sorted.
const PERSON_KEYS: &[&str] = &[
    "createdAt",
    "disabled",
    "id",
    "invited",
    "name",
    "role",
    "username",
];

/// A success answer holds exactly the envelope the OpenAPI document promises for its path.
fn assert_success_shape(path: &str, body: &Value) {
    let (envelope, inner, expected): (&[&str], &str, &[&str]) = if path.starts_with("/api/tasks") {
        (&["task"], "task", TASK_KEYS)
    } else if path.starts_with("/api/agents") {
        (&["agent"], "agent", AGENT_KEYS)
    } else if path == "/api/auth/login" || path == "/api/auth/invite" {
        (
            &["token", "user"],
            "user",
            &["access", "id", "name", "role"],
        )
    } else if path.starts_with("/api/users") {
        let envelope: &[&str] = if body.get("invite").is_some() {
            &["invite", "user"]
        } else {
            &["user"]
        };
        (envelope, "user", PERSON_KEYS)
    } else if path == "/api/auth/password" {
        (&["signedOut", "success"], "", &[])
    } else {
        (&["agent", "expiresAt", "token"], "agent", AGENT_KEYS)
    };
    assert_eq!(sorted_keys(body), envelope, "{path}: {body}");
    if !inner.is_empty() {
        assert_eq!(sorted_keys(&body[inner]), expected, "{path}: {body}");
    }
}

#[test]
fn fuzzing_every_endpoint_with_arbitrary_json_never_gets_a_5xx() {
    use proptest::test_runner::{Config, TestRunner};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (s, admin, task_path) = rt.block_on(async {
        let s = App::start_with(&[
            ("LOGIN_RATE_LIMIT_PER_MINUTE", "100000"),
            ("RATE_LIMIT_PER_MINUTE", "100000"),
        ])
        .await;
        let admin = s.login().await;
        let task = admin.create_task(json!({"title": "target"})).await;
        let path = format!("/api/tasks/{}", task.task_id());
        (s, admin, path)
    });
    let endpoints = [
        ("POST", "/api/tasks".to_owned()),
        ("PATCH", task_path),
        ("POST", "/api/agents".to_owned()),
        ("PATCH", "/api/agents/agent-patch".to_owned()),
        ("POST", "/api/auth/login".to_owned()),
        ("POST", "/api/auth/tokens".to_owned()),
        ("POST", "/api/users".to_owned()),
        ("PATCH", "/api/users/agent-patch".to_owned()),
        ("POST", "/api/auth/password".to_owned()),
        ("POST", "/api/auth/invite".to_owned()),
    ];
    // A fresh runner per endpoint: one runner counts its cases across runs.
    let runner = || {
        TestRunner::new(Config {
            cases: 150,
            failure_persistence: None,
            ..Config::default()
        })
    };
    for (method, path) in &endpoints {
        runner()
            .run(&arbitrary_json(), |body| {
                let r = rt.block_on(admin.request(method, path, Some(body.clone())));
                assert!(
                    r.status < 500,
                    "{method} {path} {body} -> {} {}",
                    r.status,
                    r.body
                );
                if r.status >= 400 {
                    r.error_fields(r.status, r.body["error"]["code"].as_str().unwrap_or("?"));
                } else {
                    assert_success_shape(path, &r.body);
                }
                Ok(())
            })
            .unwrap();
    }
    // Query strings too.
    runner()
        .run(
            &("\\PC{0,20}", "\\PC{0,20}", "\\PC{0,20}"),
            |(status, since, limit)| {
                let enc = |v: &str| v.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
                for path in [
                    format!("/api/tasks?status={}&agent={}", enc(&status), enc(&since)),
                    format!("/api/events?since={}&limit={}", enc(&since), enc(&limit)),
                ] {
                    let r = rt.block_on(admin.get(&path));
                    assert!(
                        r.status == 200 || r.status == 400,
                        "{path} -> {} {}",
                        r.status,
                        r.body
                    );
                }
                Ok(())
            },
        )
        .unwrap();
    rt.block_on(s.kill());
}
