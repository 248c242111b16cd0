//! The command line, real processes beside the real server: `token`, `tokens`, `agents`,
//! `backup`, `export` and `import`, `reset-admin-password`, a first run that prints the
//! password or cannot listen, and commands refusing a folder where no server has run. A command
//! writes only what it is asked to and never runs the board's clock, so an agent whose socket
//! the server holds stays online however long a command runs; and a token revoked from the
//! command line reaches the server's token checks, and ends the connections made with it, as
//! fast as any change made there reaches the server's clients.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::support::live::{create_tasks, events_until};
use super::support::*;
use mission_control_testkit::app::run_binary;
use mission_control_testkit::socketio::{self, Socket};
use mission_control_testkit::sse::{EventStream, Item};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

/// What the server beside which commands run is configured with beyond the defaults; its
/// commands read the same configuration, as they would from its `.env`.
const SETTINGS: &[(&str, &str)] = &[
    ("AGENT_OFFLINE_AFTER", "5s"),
    ("RATE_LIMIT_PER_MINUTE", "1000000"),
];

#[tokio::test]
async fn the_token_command_mints_a_working_agent_token() {
    let s = App::start().await;
    let token = s
        .run(&[
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
        .await;
    let ops = s.session(token.trim());
    let r = ops.create_task(json!({"title": "Rotate keys"})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["task"]["createdBy"], "agent-ops");

    let bad = s.command(&["token", "--agent", "agent-unknown"]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--name and --role"));
}

#[tokio::test]
async fn a_first_run_that_cannot_listen_generates_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/mission-control.db");
    let out = run_binary(
        dir.path(),
        &[],
        [
            ("PORT", port.as_str()),
            ("DATABASE_PATH", db.to_str().unwrap()),
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
    assert!(!dir.path().join("data/admin-password.argon2").exists());
    assert!(!dir.path().join("data/jwt-secret").exists());
    assert!(!db.exists());
}

#[tokio::test]
async fn a_first_run_prints_the_password_and_a_reset_gives_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tokio::process::Command::new(mission_control_testkit::server_binary());
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

    let no_settings: [(&str, &str); 0] = [];
    let out = run_binary(dir.path(), &["reset-admin-password"], no_settings).await;
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
        let no_settings: [(&str, &str); 0] = [];
        let out = run_binary(dir.path(), &args, no_settings).await;
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
    let s = App::start().await;
    let admin = s.login().await;
    admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    admin
        .create_task(json!({"title": "Exported", "tags": ["a"]}))
        .await;
    let listed = s.run(&["tokens", "list", "--agent", "agent-nova"]).await;
    assert_eq!(listed.lines().count(), 1, "{listed}");
    let minted = s.run(&["token", "--agent", "agent-nova"]).await;
    assert_eq!(s.session(minted.trim()).list_tasks("").await.status, 200);
    let out = s
        .run(&["tokens", "revoke", "--agent", "agent-nova", "--all"])
        .await;
    assert!(out.contains("Revoked 2 tokens"), "{out}");
    // The server hears of a revocation by another process through the change log, as of any
    // change (a_token_revoked_from_the_command_line_... below).
    if s.store().is_postgres() {
        skip("`backup` is SQLite's online backup");
    } else {
        let backup = s.dir().join("copy.db");
        s.run(&["backup", backup.to_str().unwrap()]).await;
        let copy = rusqlite::Connection::open(&backup).unwrap();
        let count: i64 = copy
            .query_row("SELECT COUNT(*) FROM tasks", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
    }
    let exported: Value = serde_json::from_str(&s.run(&["export"]).await).unwrap();
    assert_eq!(exported["format"], "mission-control-export");
    assert_eq!(exported["tasks"][0]["title"], "Exported");
    assert!(exported["events"].as_array().unwrap().len() >= 3);
    let over_http = admin.export("format=json").await;
    assert_eq!(over_http.body["tasks"], exported["tasks"]);
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&over_http.body["agents"]), ids(&exported["agents"]));
    let csv = admin.export("format=csv").await;
    let text = csv.body.as_str().unwrap();
    assert!(text.starts_with("id,title,status,priority"), "{text}");
    assert!(text.contains("Exported"));
    admin
        .export("format=xml")
        .await
        .error_fields(400, "validation_failed");
    let out = s.run(&["agents", "remove", "agent-nova"]).await;
    assert!(out.contains("Removed agent-nova"));
}

#[tokio::test]
async fn an_export_imports_into_a_new_board() {
    let s = App::start().await;
    let admin = s.login().await;
    let a = admin.create_task(json!({"title": "A"})).await.task();
    let b_id = admin
        .create_task(json!({"title": "B", "blockedBy": [a["id"]]}))
        .await
        .task_id();
    admin.comment(&b_id, "note").await;
    let export = admin.export("").await;
    let file = s.dir().join("board.json");
    std::fs::write(&file, export.body.to_string()).unwrap();

    // A fresh board, started once and stopped, takes the import.
    let target = fresh_store();
    let fresh = App::start_on(&target, &[]).await;
    assert!(fresh.terminate().await.success());
    let import = |target: &Arc<TestStore>| {
        let env = App::env(target, &[]);
        let (dir, file) = (target.dir().to_owned(), file.clone());
        async move { run_binary(&dir, &["import", file.to_str().unwrap()], env).await }
    };
    let out = import(&target).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 tasks, 1 comments"));
    let again = App::start_on(&target, &[]).await;
    let admin = again.login().await;
    let b2 = admin.get_task(&b_id).await;
    assert_eq!(b2.body["task"]["blockedBy"], json!([a["id"]]));
    let notes = admin.comments(&b_id, "").await;
    assert_eq!(notes.body["comments"][0]["text"], "note");
    // Import refuses to run beside a server.
    let out = import(&target).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already serving"));
}

async fn open_stream(s: &App, session: &Session) -> EventStream {
    let url = format!("{}/api/stream", s.url);
    match EventStream::open(&s.http, &url, session.token(), None)
        .await
        .unwrap()
    {
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
    let s = Arc::new(App::start_with(SETTINGS).await);
    let admin = s.login().await;
    // A board of some 20 MB, so that a backup takes SQLite many steps.
    let long = "x".repeat(9_000);
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let (admin, long) = (admin.clone(), long.clone());
            tokio::spawn(async move {
                for n in 0..250 {
                    let task = json!({"title": format!("large {w}-{n}"), "description": long});
                    let r = admin.create_task(task).await;
                    assert_eq!(r.status, 201, "{}", r.body);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Research")
        .await;
    let mut nova_socket = socketio::connect(s.addr(), nova.token()).await.unwrap();
    // Nova says nothing from here on; its socket is read (as a client reads it) meanwhile.
    let nova_hears = tokio::spawn(async move {
        let heard = read_to_the_end(&mut nova_socket).await;
        (heard, nova_socket)
    });
    // The operator keeps a dashboard open, so that however long the commands take on a busy
    // machine, the operator stays online too and the log stands still for the right reason.
    let mut dashboard = socketio::connect(s.addr(), admin.token()).await.unwrap();
    let dashboard_reads = tokio::spawn(async move {
        read_to_the_end(&mut dashboard).await;
        dashboard
    });

    // The server keeps writing, and SQLite's online backup starts over whenever another
    // process writes between its steps: `backup` stays open, beside the server, until the
    // writes stop. Meanwhile the other reading commands run again and again. (PostgreSQL has
    // no `backup` command: `pg_dump` does that.)
    let sqlite = !s.store().is_postgres();
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (admin, writing) = (admin.clone(), writing.clone());
        tokio::spawn(async move {
            while writing.load(Ordering::Relaxed) {
                create_tasks(&admin, 4, 1).await;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let backup = sqlite.then(|| {
        let s = s.clone();
        tokio::spawn(async move { s.run(&["backup", "during-writes.db"]).await })
    });
    let others = {
        let (s, writing) = (s.clone(), writing.clone());
        tokio::spawn(async move {
            let mut rounds = 0;
            while writing.load(Ordering::Relaxed) {
                s.run(&["export", "-o", "board.json"]).await;
                s.run(&["tokens", "list", "--agent", "agent-nova"]).await;
                s.run(&["agents", "list"]).await;
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
    if let Some(backup) = backup {
        assert!(backup.await.unwrap().contains("Backed up"));
    }

    let r = admin.get_agent("agent-nova").await;
    assert_eq!(r.body["agent"]["status"], "online", "{}", r.body);
    let feed = admin.events("limit=500").await;
    let messages: Vec<&str> = feed
        .list("events")
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        !messages.iter().any(|m| m.contains("went offline")),
        "{messages:?}"
    );

    // Reading commands write nothing at all: the change log stands still.
    let before = admin.latest_seq().await;
    s.run(&["export"]).await;
    if sqlite {
        s.run(&["backup", "quiet.db"]).await;
    }
    s.run(&["tokens", "list", "--agent", "agent-nova"]).await;
    s.run(&["agents", "list"]).await;
    assert_eq!(admin.latest_seq().await, before);

    // And Nova's socket never heard that Nova went offline.
    let s = Arc::into_inner(s).expect("the only handle");
    assert!(s.terminate().await.success());
    drop(dashboard_reads.await.unwrap());
    let (heard, _) = nova_hears.await.unwrap();
    assert!(!heard.is_empty());
    assert!(!went_offline(&heard, "agent-nova"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_revoked_from_the_command_line_is_refused_and_its_connections_end_at_once() {
    let s = App::start_with(SETTINGS).await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Research")
        .await;
    let mut watcher = socketio::connect(s.addr(), admin.token()).await.unwrap();
    let mut watcher_stream = open_stream(&s, &admin).await;
    let ready = watcher_stream.next_event(WAIT).await.unwrap();
    assert_eq!(ready.event, "ready");
    let mut nova_socket = socketio::connect(s.addr(), nova.token()).await.unwrap();
    let mut nova_stream = open_stream(&s, &nova).await;
    assert_eq!(nova_stream.next_event(WAIT).await.unwrap().event, "ready");
    // Nova is at work: its token has been checked, and the server remembers it as good.
    assert_eq!(nova.list_tasks("").await.status, 200);
    let at = admin.latest_seq().await;

    // Another process revokes Nova's token, then makes a change.
    let out = s
        .run(&["tokens", "revoke", "--agent", "agent-nova", "--all"])
        .await;
    assert!(out.contains("Revoked 1 tokens"), "{out}");
    s.run(&[
        "token",
        "--agent",
        "agent-rex",
        "--name",
        "Rex",
        "--role",
        "Dev",
    ])
    .await;

    // Once the server's clients have that change, the revocation, made before it, has reached
    // the token checks and the connections: Nova's next request is refused, its socket and
    // its stream are over.
    let heard = events_until(&mut watcher, WAIT, |got| {
        got.iter()
            .any(|(name, p)| name == "agent.status_changed" && p["agent"]["id"] == "agent-rex")
    })
    .await;
    nova.list_tasks("").await.error_fields(401, "unauthorized");
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
    let latest = admin.latest_seq().await;
    let mut resumed =
        socketio::connect_with(s.addr(), &json!({"token": admin.token(), "since": at}))
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
    let mut stream = EventStream::open(&s.http, &url, admin.token(), Some(&at.to_string()))
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
