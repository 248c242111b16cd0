//! Nothing acknowledged is lost, and trouble with the database is said, not hidden: `kill -9`
//! mid-write and SIGTERM under load, data and tokens surviving a restart, a full disk or a
//! read-only, deleted or damaged database file (answered 503 with reads still working, or
//! refused at start naming the file), and a second server on one SQLite file refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use super::support::*;
use mission_control_testkit::app::run_binary;
use serde_json::{Value, json};

/// Writers that create tasks until told to stop or the server goes away; returns the ids of
/// every task the server acknowledged with a 2xx, and every status seen. `acks` counts the
/// acknowledged writes as they come.
fn spawn_writers(
    s: &App,
    session: &Session,
    writers: usize,
    stop: Arc<AtomicBool>,
    acks: Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<(Vec<String>, Vec<u16>)>> {
    (0..writers)
        .map(|w| {
            let url = s.url.clone();
            let token = session.token().to_owned();
            let (stop, acks) = (stop.clone(), acks.clone());
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
                            Ok(body) => {
                                acked.push(body["task"]["id"].as_str().unwrap().to_owned());
                                acks.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(_) => break,
                        }
                    }
                }
                (acked, statuses)
            })
        })
        .collect()
}

/// Waits until the writers have had `n` writes acknowledged: under way, however busy the
/// machine is.
async fn under_way(acks: &AtomicUsize, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acks.load(Ordering::Relaxed) < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the writers got going ({} acknowledged)",
            acks.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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

async fn stored_ids(session: &Session) -> std::collections::HashSet<String> {
    let list = session.list_tasks("").await;
    list.list("tasks")
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// SQLite's own check of the file (PostgreSQL keeps its own house: nothing to check).
fn assert_intact(store: &TestStore) {
    if store.is_postgres() {
        return;
    }
    let check = store.raw().query("PRAGMA integrity_check", &[]);
    assert_eq!(check[0][0].text(), Some("ok"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_write_loses_no_acknowledged_write() {
    let s = App::start().await;
    let store = s.store().clone();
    let admin = s.login().await;
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let writers = spawn_writers(&s, &admin, 8, stop.clone(), acks.clone());
    under_way(&acks, 64).await;
    s.kill().await; // SIGKILL: no chance to flush anything
    let (acked, _) = collect(writers).await;

    let s = App::start_on(&store, &[]).await;
    let stored = stored_ids(&s.session(admin.token())).await;
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
    s.kill().await;
    assert_intact(&store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_in_flight_requests_and_exits_0() {
    let s = App::start().await;
    let store = s.store().clone();
    let admin = s.login().await;
    let url = s.url.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let writers = spawn_writers(&s, &admin, 8, stop.clone(), acks.clone());
    under_way(&acks, 64).await;
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

    let s = App::start_on(&store, &[]).await;
    let stored = stored_ids(&s.session(admin.token())).await;
    assert!(acked.iter().all(|id| stored.contains(id)));
    s.kill().await;
    assert_intact(&store);
}

#[tokio::test]
async fn data_and_tokens_survive_a_restart_and_sigterm_exits_cleanly() {
    let s = App::start().await;
    let store = s.store().clone();
    let admin = s.login().await;
    let task = admin.create_task(json!({"title": "Survive"})).await.task();
    let status = s.terminate().await;
    assert!(status.success(), "exit status {status:?}");

    let s = App::start_on(&store, &[]).await;
    let r = s
        .session(admin.token())
        .get_task(task["id"].as_str().unwrap())
        .await;
    assert_eq!(r.body["task"], task);
    s.kill().await;
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
    if on_postgres() {
        return skip("a full disk under an SQLite file");
    }
    let Some(disk) = SmallDisk::mount("1m") else {
        return;
    };
    let db = disk.path.join("mission-control.db");
    let s = App::start_with(&[("DATABASE_PATH", db.to_str().unwrap())]).await;
    let admin = s.login().await;
    let filler = "x".repeat(9_000);
    let mut full = None;
    for i in 0..400 {
        let r = admin
            .create_task(json!({"title": format!("fill {i}"), "description": filler}))
            .await;
        if r.status != 201 {
            full = Some(r);
            break;
        }
    }
    let full = full.expect("the 1 MiB disk filled up");
    full.error_fields(503, "unavailable");
    assert!(full.headers.contains_key("retry-after"));

    let list = admin.list_tasks("").await;
    assert_eq!(list.status, 200, "reads keep working");
    assert!(!list.list("tasks").is_empty());
    // The server is up, and says what is wrong.
    let health = s.health().await;
    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(health.body["status"], "degraded");
    let problem = health.body["problems"][0].as_str().unwrap();
    assert!(problem.contains("last write failed"), "{problem}");
}

#[tokio::test]
async fn a_read_only_database_file_answers_503_and_reads_keep_working() {
    if on_postgres() {
        return skip("a read-only SQLite file");
    }
    let s = App::start().await;
    let admin = s.login().await;
    let created = admin.create_task(json!({"title": "before"})).await;
    assert_eq!(created.status, 201);
    // Warm a read connection, as a running server has.
    assert_eq!(admin.list_tasks("").await.status, 200);
    let db = s.store().sqlite_file();
    let files = ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| std::path::PathBuf::from(format!("{}{suffix}", db.display())))
        .collect();
    let Some(_frozen) = Frozen::freeze(files) else {
        return;
    };

    let r = admin.create_task(json!({"title": "after"})).await;
    r.error_fields(503, "unavailable");
    let list = admin.list_tasks("").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["tasks"][0]["title"], "before");
    assert_eq!(list.list("tasks").len(), 1);
    let health = s.health().await;
    assert_eq!(health.status, 503, "{}", health.body);
    assert!(
        health.body["problems"][0]
            .as_str()
            .unwrap()
            .contains("last write failed")
    );
}

#[tokio::test]
async fn a_deleted_database_file_is_noticed_and_nothing_is_written_into_it() {
    if on_postgres() {
        return skip("a deleted SQLite file");
    }
    let s = App::start().await;
    let admin = s.login().await;
    assert_eq!(
        admin.create_task(json!({"title": "before"})).await.status,
        201
    );
    let db = s.store().sqlite_file();
    std::fs::remove_file(db).unwrap();
    let r = admin.create_task(json!({"title": "after"})).await;
    r.error_fields(503, "unavailable");
    let health = s.health().await;
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
        let _ = admin.events("").await;
    }
    assert!(!db.exists(), "no reader created a new, empty database");
}

#[tokio::test]
async fn a_damaged_database_is_refused_at_start_naming_the_file() {
    if on_postgres() {
        return skip("a damaged SQLite file");
    }
    let s = App::start().await;
    let store = s.store().clone();
    let admin = s.login().await;
    for i in 0..200 {
        admin
            .create_task(json!({"title": format!("t{i}"), "description": "x".repeat(500)}))
            .await;
    }
    assert!(s.terminate().await.success());
    let db = store.sqlite_file();
    let mut bytes = std::fs::read(db).unwrap();
    // Keep the header page, scramble the pages after it.
    for b in bytes.iter_mut().skip(4096 * 2).step_by(7) {
        *b = 0xA5;
    }
    std::fs::write(db, bytes).unwrap();
    let out = run_binary(store.dir(), &[], App::env(&store, &[])).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("damaged") && stderr.contains("mission-control.db"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_second_server_on_the_same_database_refuses_to_start() {
    if on_postgres() {
        return skip("the lock file beside an SQLite file (on PostgreSQL servers share a board)");
    }
    let s = App::start().await;
    let out = s.command(&[]).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already serving"), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", s.process.pid)),
        "{stderr}"
    );
}
