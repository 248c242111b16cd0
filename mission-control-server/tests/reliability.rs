//! Reliability of the real server: crashes, shutdown under load, hostile tokens, a full or
//! read-only disk, and a property-based fuzzer throwing arbitrary JSON at every endpoint.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Server, error_fields};
use serde_json::{Value, json};

/// Writers that create tasks until told to stop or the server goes away; returns the ids of
/// every task the server acknowledged with a 2xx, and every status seen.
fn spawn_writers(
    s: &Server,
    token: &str,
    writers: usize,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<(Vec<String>, Vec<u16>)>> {
    (0..writers)
        .map(|w| {
            let url = s.url.clone();
            let token = token.to_owned();
            let stop = stop.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let (mut acked, mut statuses) = (vec![], vec![]);
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let sent = http
                        .post(format!("{url}/api/tasks"))
                        .bearer_auth(&token)
                        .json(&json!({"title": format!("writer {w} #{n}")}))
                        .send()
                        .await;
                    let Ok(res) = sent else { break };
                    statuses.push(res.status().as_u16());
                    if res.status().is_success() {
                        match res.json::<Value>().await {
                            Ok(body) => acked.push(body["task"]["id"].as_str().unwrap().to_owned()),
                            Err(_) => break,
                        }
                    }
                }
                (acked, statuses)
            })
        })
        .collect()
}

async fn collect(
    handles: Vec<tokio::task::JoinHandle<(Vec<String>, Vec<u16>)>>,
) -> (Vec<String>, Vec<u16>) {
    let (mut acked, mut statuses) = (vec![], vec![]);
    for h in handles {
        let (a, s) = h.await.unwrap();
        acked.extend(a);
        statuses.extend(s);
    }
    (acked, statuses)
}

async fn stored_ids(s: &Server, token: &str) -> std::collections::HashSet<String> {
    let list = s.call("GET", "/api/tasks", None, Some(token)).await;
    list.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

fn integrity_check(dir: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(dir.join("mission-control.db")).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_write_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), &[]).await;
    let token = s.login().await;
    let stop = Arc::new(AtomicBool::new(false));
    let writers = spawn_writers(&s, &token, 8, stop.clone());
    tokio::time::sleep(Duration::from_millis(400)).await;
    s.kill().await; // SIGKILL: no chance to flush anything
    let (acked, _) = collect(writers).await;
    assert!(
        acked.len() > 8,
        "the writers got going ({} acknowledged)",
        acked.len()
    );

    let s = Server::start_in(dir.path(), &[]).await;
    let stored = stored_ids(&s, &token).await;
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
    s.kill().await;
    assert_eq!(integrity_check(dir.path()), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_in_flight_requests_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_in(dir.path(), &[]).await;
    let token = s.login().await;
    let url = s.url.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let writers = spawn_writers(&s, &token, 8, stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = s.terminate().await;
    assert!(status.success(), "exit status {status:?}");
    stop.store(true, Ordering::Relaxed);
    let (acked, statuses) = collect(writers).await;
    assert!(
        statuses.iter().all(|s| *s == 201),
        "only clean answers: {statuses:?}"
    );

    // New connections are refused once it has stopped.
    assert!(reqwest::get(format!("{url}/health")).await.is_err());

    let s = Server::start_in(dir.path(), &[]).await;
    let stored = stored_ids(&s, &token).await;
    assert!(acked.iter().all(|id| stored.contains(id)));
    s.kill().await;
    assert_eq!(integrity_check(dir.path()), "ok");
}

#[tokio::test]
async fn hostile_tokens_are_refused() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let s = Server::start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims =
        |exp: i64| json!({"sub": "agent-patch", "jti": "forged", "iat": now - 10, "exp": exp});
    let sign = |claims: Value, key: &str, alg: Algorithm| {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    };
    let tokens = [
        // Right key, but never issued by the server (no revocation row).
        sign(claims(now + 3600), common::SECRET, Algorithm::HS256),
        // Right key and a past expiry.
        sign(claims(now - 3600), common::SECRET, Algorithm::HS256),
        // Another key.
        sign(
            claims(now + 3600),
            "some-other-secret-of-enough-length-00",
            Algorithm::HS256,
        ),
        // Another algorithm with the right key.
        sign(claims(now + 3600), common::SECRET, Algorithm::HS512),
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudC1wYXRjaCJ9.".to_owned(),
        "garbage".to_owned(),
    ];
    for token in &tokens {
        let r = s.call("GET", "/api/tasks", None, Some(token)).await;
        error_fields(&r, 401, "unauthorized");
    }
    // A real token works, then is refused once revoked.
    let real = s.login().await;
    assert_eq!(
        s.call("GET", "/api/tasks", None, Some(&real)).await.status,
        200
    );
    s.call("POST", "/api/auth/logout", None, Some(&real)).await;
    error_fields(
        &s.call("GET", "/api/tasks", None, Some(&real)).await,
        401,
        "unauthorized",
    );
}

/// Mounts a small tmpfs for the database, or says why not (the test then skips).
struct SmallDisk {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: this user cannot mount a tmpfs to fill up");
            return None;
        }
        Some(SmallDisk { path, _dir: dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// Makes files immutable (`chattr +i`): even root's writes to open descriptors then fail,
/// which is what a file turned read-only under a running server looks like.
struct Frozen(Vec<std::path::PathBuf>);

impl Frozen {
    fn freeze(files: Vec<std::path::PathBuf>) -> Option<Frozen> {
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .args(&files)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: chattr +i is not available here");
            return None;
        }
        Some(Frozen(files))
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .args(&self.0)
            .status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_503_and_reads_keep_working() {
    let Some(disk) = SmallDisk::mount("1m") else {
        return;
    };
    let db = disk.path.join("mission-control.db");
    let s = Server::start_with(&[("DATABASE_PATH", db.to_str().unwrap())]).await;
    let token = s.login().await;
    let filler = "x".repeat(9_000);
    let mut full = None;
    for i in 0..400 {
        let r = s
            .call(
                "POST",
                "/api/tasks",
                Some(json!({"title": format!("fill {i}"), "description": filler})),
                Some(&token),
            )
            .await;
        if r.status != 201 {
            full = Some(r);
            break;
        }
    }
    let full = full.expect("the 1 MiB disk filled up");
    error_fields(&full, 503, "unavailable");
    assert!(full.headers.contains_key("retry-after"));

    let list = s.call("GET", "/api/tasks", None, Some(&token)).await;
    assert_eq!(list.status, 200, "reads keep working");
    assert!(!list.body["tasks"].as_array().unwrap().is_empty());
    // The server is up, and says what is wrong.
    let health = s.call("GET", "/health", None, None).await;
    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(health.body["status"], "degraded");
    let problem = health.body["problems"][0].as_str().unwrap();
    assert!(problem.contains("last write failed"), "{problem}");
}

#[tokio::test]
async fn a_read_only_database_file_answers_503_and_reads_keep_working() {
    let s = Server::start().await;
    let token = s.login().await;
    let created = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "before"})),
            Some(&token),
        )
        .await;
    assert_eq!(created.status, 201);
    // Warm a read connection, as a running server has.
    assert_eq!(
        s.call("GET", "/api/tasks", None, Some(&token)).await.status,
        200
    );
    let db = s.dir.join("mission-control.db");
    let files = ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| std::path::PathBuf::from(format!("{}{suffix}", db.display())))
        .collect();
    let Some(_frozen) = Frozen::freeze(files) else {
        return;
    };

    let r = s
        .call(
            "POST",
            "/api/tasks",
            Some(json!({"title": "after"})),
            Some(&token),
        )
        .await;
    error_fields(&r, 503, "unavailable");
    let list = s.call("GET", "/api/tasks", None, Some(&token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["tasks"][0]["title"], "before");
    assert_eq!(list.body["tasks"].as_array().unwrap().len(), 1);
    let health = s.call("GET", "/health", None, None).await;
    assert_eq!(health.status, 503, "{}", health.body);
    assert!(
        health.body["problems"][0]
            .as_str()
            .unwrap()
            .contains("last write failed")
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

/// A success answer holds exactly the envelope the OpenAPI document promises for its path.
fn assert_success_shape(path: &str, body: &Value) {
    let (envelope, inner, expected): (&[&str], &str, &[&str]) = if path.starts_with("/api/tasks") {
        (&["task"], "task", common::TASK_KEYS)
    } else if path.starts_with("/api/agents") {
        (&["agent"], "agent", common::AGENT_KEYS)
    } else if path == "/api/auth/login" {
        (&["token", "user"], "user", &["id", "name", "role"])
    } else {
        (
            &["agent", "expiresAt", "token"],
            "agent",
            common::AGENT_KEYS,
        )
    };
    assert_eq!(common::sorted_keys(body), envelope, "{path}: {body}");
    assert_eq!(
        common::sorted_keys(&body[inner]),
        expected,
        "{path}: {body}"
    );
}

#[test]
fn fuzzing_every_endpoint_with_arbitrary_json_never_gets_a_5xx() {
    use proptest::test_runner::{Config, TestRunner};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (s, token, task_path) = rt.block_on(async {
        let s = Server::start_with(&[
            ("LOGIN_RATE_LIMIT_PER_MINUTE", "100000"),
            ("RATE_LIMIT_PER_MINUTE", "100000"),
        ])
        .await;
        let token = s.login().await;
        let task = s
            .call(
                "POST",
                "/api/tasks",
                Some(json!({"title": "target"})),
                Some(&token),
            )
            .await;
        let path = format!("/api/tasks/{}", task.body["task"]["id"].as_str().unwrap());
        (s, token, path)
    });
    let endpoints = [
        ("POST", "/api/tasks".to_owned()),
        ("PATCH", task_path),
        ("POST", "/api/agents".to_owned()),
        ("PATCH", "/api/agents/agent-patch".to_owned()),
        ("POST", "/api/auth/login".to_owned()),
        ("POST", "/api/auth/tokens".to_owned()),
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
                let r = rt.block_on(s.call(method, path, Some(body.clone()), Some(&token)));
                assert!(
                    r.status < 500,
                    "{method} {path} {body} -> {} {}",
                    r.status,
                    r.body
                );
                if r.status >= 400 {
                    error_fields(
                        &r,
                        r.status,
                        r.body["error"]["code"].as_str().unwrap_or("?"),
                    );
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
                    let r = rt.block_on(s.call("GET", &path, None, Some(&token)));
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
