//! Commands run beside a running server, on the same database file (real processes both): a
//! command writes only what it is asked to and never runs the board's clock, so an agent whose
//! socket the server holds stays online however long a command runs; and a token revoked from
//! the command line reaches the server's token checks, and ends the connections made with it,
//! as fast as any change made there reaches the server's clients.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::live::{create_tasks, events_until, latest_seq};
use common::{Server, error_fields};
use mission_control_testkit::socketio::{self, Socket};
use mission_control_testkit::sse::{EventStream, Item};
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

async fn open_stream(s: &Server, token: &str) -> EventStream {
    let url = format!("{}/api/stream", s.url);
    match EventStream::open(&s.http, &url, token, None).await.unwrap() {
        Ok(stream) => stream,
        Err((status, body)) => panic!("{status}: {body}"),
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_revoked_from_the_command_line_is_refused_and_its_connections_end_at_once() {
    let s = Server::start_with(SETTINGS).await;
    let admin = s.login().await;
    let nova = agent_token(&s, &admin, "agent-nova", "Nova").await;
    let mut watcher = socketio::connect(s.process.addr, &admin).await.unwrap();
    let mut watcher_stream = open_stream(&s, &admin).await;
    let ready = watcher_stream.next_event(WAIT).await.unwrap();
    assert_eq!(ready.event, "ready");
    let mut nova_socket = socketio::connect(s.process.addr, &nova).await.unwrap();
    let mut nova_stream = open_stream(&s, &nova).await;
    assert_eq!(nova_stream.next_event(WAIT).await.unwrap().event, "ready");
    // Nova is at work: its token has been checked, and the server remembers it as good.
    assert_eq!(
        s.call("GET", "/api/tasks", None, Some(&nova)).await.status,
        200
    );
    let at = latest_seq(&s, &admin).await;

    // Another process revokes Nova's token, then makes a change.
    let out = run(
        &s.dir,
        &["tokens", "revoke", "--agent", "agent-nova", "--all"],
    )
    .await;
    assert!(out.contains("Revoked 1 tokens"), "{out}");
    run(
        &s.dir,
        &[
            "token",
            "--agent",
            "agent-rex",
            "--name",
            "Rex",
            "--role",
            "Dev",
        ],
    )
    .await;

    // Once the server's clients have that change, the revocation, made before it, has reached
    // the token checks and the connections: Nova's next request is refused, its socket and
    // its stream are over.
    let heard = events_until(&mut watcher, WAIT, |got| {
        got.iter()
            .any(|(name, p)| name == "agent.status_changed" && p["agent"]["id"] == "agent-rex")
    })
    .await;
    error_fields(
        &s.call("GET", "/api/tasks", None, Some(&nova)).await,
        401,
        "unauthorized",
    );
    let closed = tokio::time::timeout(WAIT, async {
        while socketio::next_packet(&mut nova_socket).await.is_some() {}
    })
    .await;
    assert!(closed.is_ok(), "Nova's socket is closed");
    let mut said = Vec::new();
    while let Some(item) = nova_stream.next_within(WAIT).await {
        if let Item::Comment(comment) = item {
            said.push(comment);
        }
    }
    assert_eq!(said, ["closed: the token was revoked"]);

    // No client is sent the revocation: its seq is simply skipped, on both transports.
    let seqs: Vec<i64> = heard
        .iter()
        .filter_map(|(_, p)| p["seq"].as_i64())
        .collect();
    assert_eq!(seqs.first(), Some(&(at + 2)), "{heard:?}");
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let first = watcher_stream.next_event(WAIT).await.unwrap();
    assert_eq!(
        (first.event.as_str(), first.seq()),
        ("agent.status_changed", Some(at + 2))
    );
    assert!(
        heard
            .iter()
            .all(|(name, _)| name != mission_control_core::bus::REVOKED_TOKEN)
    );

    // Resuming from before the revocation skips it the same way.
    let latest = latest_seq(&s, &admin).await;
    let mut resumed = socketio::connect_with(s.process.addr, &json!({"token": admin, "since": at}))
        .await
        .unwrap();
    let replay = events_until(&mut resumed, WAIT, |got| {
        got.last().is_some_and(|(name, _)| name == "resumed")
    })
    .await;
    let (_, said) = replay.last().unwrap();
    assert_eq!(
        said,
        &json!({"since": at, "seq": latest, "replayed": latest - at - 1})
    );
    let replayed: Vec<i64> = replay[..replay.len() - 1]
        .iter()
        .filter_map(|(_, p)| p["seq"].as_i64())
        .collect();
    assert_eq!(replayed, (at + 2..=latest).collect::<Vec<_>>());
    let url = format!("{}/api/stream", s.url);
    let mut stream = EventStream::open(&s.http, &url, &admin, Some(&at.to_string()))
        .await
        .unwrap()
        .unwrap();
    let mut ids = Vec::new();
    loop {
        let event = stream.next_event(WAIT).await.unwrap();
        if event.event == "resumed" {
            assert_eq!(event.json()["seq"], latest);
            break;
        }
        ids.push(event.seq().unwrap());
    }
    assert_eq!(ids, replayed);
}
