//! Commands run beside a running server, on the same database file (real processes both): a
//! command writes only what it is asked to and never runs the board's clock, so an agent whose
//! socket the server holds stays online however long a command runs.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::Server;
use common::live::{create_tasks, events_until, latest_seq};
use mission_control_testkit::socketio::{self, Socket};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

/// What the server under test is configured with beyond the defaults; its commands read the
/// same configuration, as they would from its `.env`.
const SETTINGS: &[(&str, &str)] = &[
    ("AGENT_OFFLINE_AFTER", "5s"),
    ("RATE_LIMIT_PER_MINUTE", "1000000"),
];

/// Runs a command in the server's folder, configured as the server is; its output, or a
/// panic with its error.
async fn run(dir: &Path, args: &[&str]) -> String {
    let out = tokio::process::Command::new(common::binary())
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(common::base_env(dir))
        .envs(SETTINGS.iter().copied())
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

/// Registers an agent over REST and mints its token.
async fn agent_token(s: &Server, admin: &str, id: &str, name: &str) -> String {
    let r = s
        .call(
            "POST",
            "/api/agents",
            Some(json!({"id": id, "name": name, "role": "Research"})),
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

/// Reads a socket until the server closes it; every event it got.
async fn read_to_the_end(ws: &mut Socket) -> Vec<(String, Value)> {
    events_until(ws, WAIT, |_| false).await
}

fn went_offline(events: &[(String, Value)], agent: &str) -> bool {
    events.iter().any(|(name, payload)| {
        name == "agent.status_changed"
            && payload["agent"]["id"] == agent
            && payload["agent"]["status"] == "offline"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_with_a_live_socket_stays_online_while_commands_run_beside_the_server() {
    let s = Arc::new(Server::start_with(SETTINGS).await);
    let admin = s.login().await;
    // A board of some 20 MB, so that a backup takes SQLite many steps.
    let long = "x".repeat(9_000);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (s, admin, long) = (s.clone(), admin.clone(), long.clone());
            tokio::spawn(async move {
                for n in 0..250 {
                    let task = json!({"title": format!("large {w}-{n}"), "description": long});
                    let r = s.call("POST", "/api/tasks", Some(task), Some(&admin)).await;
                    assert_eq!(r.status, 201, "{}", r.body);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let nova = agent_token(&s, &admin, "agent-nova", "Nova").await;
    let mut nova_socket = socketio::connect(s.process.addr, &nova).await.unwrap();
    // Nova says nothing from here on; its socket is read (as a client reads it) meanwhile.
    let nova_hears = tokio::spawn(async move {
        let heard = read_to_the_end(&mut nova_socket).await;
        (heard, nova_socket)
    });

    // The server keeps writing, and SQLite's online backup starts over whenever another
    // process writes between its steps: `backup` stays open, beside the server, until the
    // writes stop. Meanwhile the other reading commands run again and again.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (s, admin, writing) = (s.clone(), admin.clone(), writing.clone());
        tokio::spawn(async move {
            while writing.load(Ordering::Relaxed) {
                create_tasks(&s, &admin, 4, 1).await;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let backup = {
        let dir = s.dir.clone();
        tokio::spawn(async move { run(&dir, &["backup", "during-writes.db"]).await })
    };
    let others = {
        let (dir, writing) = (s.dir.clone(), writing.clone());
        tokio::spawn(async move {
            let mut rounds = 0;
            while writing.load(Ordering::Relaxed) {
                run(&dir, &["export", "-o", "board.json"]).await;
                run(&dir, &["tokens", "list", "--agent", "agent-nova"]).await;
                run(&dir, &["agents", "list"]).await;
                rounds += 1;
            }
            rounds
        })
    };
    // Longer than AGENT_OFFLINE_AFTER and a presence sweep: Nova's last request is older than
    // that in the database, and only the server knows its socket is open.
    tokio::time::sleep(Duration::from_secs(12)).await;
    writing.store(false, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(others.await.unwrap() > 0);
    assert!(backup.await.unwrap().contains("Backed up"));

    let r = s
        .call("GET", "/api/agents/agent-nova", None, Some(&admin))
        .await;
    assert_eq!(r.body["agent"]["status"], "online", "{}", r.body);
    let feed = s
        .call("GET", "/api/events?limit=500", None, Some(&admin))
        .await;
    let messages: Vec<&str> = feed.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        !messages.iter().any(|m| m.contains("went offline")),
        "{messages:?}"
    );

    // Reading commands write nothing at all: the change log stands still.
    let before = latest_seq(&s, &admin).await;
    run(&s.dir, &["export"]).await;
    run(&s.dir, &["backup", "quiet.db"]).await;
    run(&s.dir, &["tokens", "list", "--agent", "agent-nova"]).await;
    run(&s.dir, &["agents", "list"]).await;
    assert_eq!(latest_seq(&s, &admin).await, before);

    // And Nova's socket never heard that Nova went offline.
    let s = Arc::into_inner(s).expect("the only handle");
    assert!(s.terminate().await.success());
    let (heard, _) = nova_hears.await.unwrap();
    assert!(!heard.is_empty());
    assert!(!went_offline(&heard, "agent-nova"));
}
