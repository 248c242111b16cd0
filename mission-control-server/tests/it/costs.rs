//! No single client costs the server more than its share: big answers are bounded in bytes and
//! share a few slots per address and per token, a download that stalls holds neither the others'
//! slots nor the database, and memory goes back after a burst (live clients: `live_costs`). Each attack once worked; each is made here with one
//! token from the loopback, the way a stuck agent or a stolen token would. Memory is read from
//! `/proc/<pid>/status` of the real server with generous margins (bounds, not timings).

use std::net::IpAddr;
use std::time::Duration;

use futures_util::future::join_all;
use mission_control_testkit::mcp::McpClient;
use mission_control_testkit::stall;
use serde_json::{Value, json};
use tokio::net::TcpStream;

use super::support::*;

pub const MB: u64 = 1024 * 1024;

/// 10,000 four-byte characters: a description or a comment of 40 kB, the largest allowed.
pub fn large_text() -> String {
    "𝄞".repeat(10_000)
}

/// A server whose rate limit lets a test write quickly.
pub async fn server(settings: &[(&str, &str)]) -> App {
    let mut all = vec![("RATE_LIMIT_PER_MINUTE", "1000000")];
    all.extend_from_slice(settings);
    App::start_with(&all).await
}

/// Creates `count` `todo` tasks of 40 kB from four writers; their ids.
pub async fn large_tasks(admin: &Session, count: usize) -> Vec<String> {
    let text = large_text();
    let writers = (0..4).map(|w| {
        let admin = admin.clone();
        let text = text.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in (w..count).step_by(4) {
                let r = admin
                    .create_task(json!({"title": format!("large {n}"), "status": "todo", "description": text}))
                    .await;
                ids.push(r.task_id());
            }
            ids
        })
    });
    join_all(writers)
        .await
        .into_iter()
        .flat_map(Result::unwrap)
        .collect()
}

pub fn loopback(n: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, n])
}

/// How much the server's memory grew since `before` and stays grown: the least it uses over
/// eight seconds (what requests still being answered take for a moment is not held).
pub async fn grown(s: &App, before: u64) -> u64 {
    let mut least = s.rss();
    for _ in 0..16 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        least = least.min(s.rss());
    }
    least.saturating_sub(before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_of_large_items_stop_at_about_a_megabyte_and_say_where_the_next_starts() {
    let s = server(&[]).await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let ids = large_tasks(&admin, 60).await;

    // Tasks: 500 asked for, 2.4 MB match: a page of about a megabyte, then the rest.
    let mut seen = std::collections::HashSet::new();
    let mut query = "limit=500".to_owned();
    loop {
        let page = admin.list_tasks(&query).await;
        let tasks = page.list("tasks");
        let bytes = page.body.to_string().len() as u64;
        assert!(bytes < 1_200_000, "a page of {bytes} bytes");
        assert!(
            !tasks.is_empty() && tasks.len() < 60,
            "{} tasks",
            tasks.len()
        );
        seen.extend(tasks.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        match page.body["nextCursor"].as_str() {
            Some(cursor) => query = format!("limit=500&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 60, "every task once");

    // Comments: 40 of 40 kB on one task.
    let text = large_text();
    for _ in 0..40 {
        assert_eq!(admin.comment(&ids[0], &text).await.status, 201);
    }
    let mut read = 0;
    let mut query = "limit=500".to_owned();
    loop {
        let page = admin.comments(&ids[0], &query).await;
        let comments = page.list("comments");
        assert!(page.body.to_string().len() < 1_200_000);
        assert!(!comments.is_empty() && comments.len() < 40);
        read += comments.len();
        if page.body["hasMore"] != true {
            break;
        }
        let last = comments.last().unwrap()["id"].as_str().unwrap();
        query = format!("limit=500&after={last}");
    }
    assert_eq!(read, 40);

    // A heartbeat of an agent holding 30 such tasks (1.2 MB): the first, and `heldMore`.
    for id in &ids[..30] {
        assert_eq!(nova.claim(id).await.status, 200);
    }
    let beat = nova.heartbeat("me", None).await;
    let held = beat.list("held");
    assert!(!held.is_empty() && held.len() < 30, "{} held", held.len());
    assert_eq!(beat.body["heldMore"], true);
    assert!(beat.body.to_string().len() < 1_200_000);
    let few = admin
        .register_agent_with_token("agent-kit", "Kit", "Dev")
        .await;
    assert_eq!(few.claim(&ids[40]).await.status, 200);
    let beat = few.heartbeat("me", None).await;
    assert_eq!(beat.list("held").len(), 1);
    assert_eq!(beat.body["heldMore"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clients_that_never_read_big_answers_hold_little_memory() {
    let s = server(&[]).await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    let ids = large_tasks(&admin, 150).await; // 6 MB of tasks
    for id in &ids[..30] {
        assert_eq!(nova.claim(id).await.status, 200);
    }
    // Warm up what the server keeps anyway (every read connection's page cache).
    let warm = (0..8).map(|_| admin.list_tasks("limit=500"));
    join_all(warm).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = s.rss();
    // One token, one address, asking for a page of 500, the same as an MCP tool call, and a
    // heartbeat (1.2 MB of held tasks), 20 times each, and never reading the answers.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "list_tasks", "arguments": {"limit": 500}}})
    .to_string();
    let mut stalled: Vec<TcpStream> = Vec::new();
    for _ in 0..20 {
        let (a, t, n) = (s.addr(), admin.token(), nova.token());
        stalled.push(
            stall::request(a, None, "GET", "/api/tasks?limit=500", t, None)
                .await
                .unwrap(),
        );
        stalled.push(
            stall::request(a, None, "POST", "/mcp", t, Some(&list))
                .await
                .unwrap(),
        );
        let beat = "/api/agents/me/heartbeat";
        stalled.push(
            stall::request(a, None, "POST", beat, n, None)
                .await
                .unwrap(),
        );
    }
    let grown = grown(&s, before).await;
    eprintln!(
        "60 stalled big answers: RSS {} MB + {} MB",
        before / MB,
        grown / MB
    );
    assert!(
        grown < 48 * MB,
        "60 stalled answers grew the server by {} MB",
        grown / MB
    );
    // The server still answers, and other clients get their pages.
    assert_eq!(s.health().await.status, 200);
    let kit = admin
        .register_agent_with_token("agent-kit", "Kit", "Dev")
        .await;
    assert_eq!(kit.list_tasks("limit=500").await.status, 200);
    let mcp = McpClient::new(&s.url, kit.token());
    let page = mcp
        .call_tool("list_tasks", json!({"limit": 500}))
        .await
        .unwrap();
    assert!(!page.is_error, "{:?}", page.text);
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stalled_downloads_leave_room_for_others_and_pin_nothing() {
    // A write-ahead log bound of 16 MB, which stalled readers once let grow without end.
    let wal_bound = [("WAL_MAX_MB", "16")];
    let s = server(if on_postgres() { &[] } else { &wal_bound }).await;
    let admin = s.login().await;
    let nova = admin
        .register_agent_with_token("agent-nova", "Nova", "Dev")
        .await;
    large_tasks(&admin, 120).await; // 4.8 MB of board

    // One token, from eight addresses, four downloads each (the board and the export), none
    // of them read.
    let mut stalled = Vec::new();
    for a in 1..=8 {
        for k in 0..4 {
            let path = if k % 2 == 0 {
                "/api/tasks"
            } else {
                "/api/export"
            };
            let from = Some(loopback(a));
            let tcp = stall::request(s.addr(), from, "GET", path, admin.token(), None).await;
            stalled.push(tcp.unwrap());
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Another client (another token, another address) still loads the board and exports it.
    let other = reqwest::Client::builder()
        .local_address(loopback(9))
        .build()
        .unwrap();
    for path in ["/api/tasks", "/api/export"] {
        let r = other
            .get(format!("{}{path}", s.url))
            .bearer_auth(nova.token())
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            200,
            "{path} while one token stalls 32 downloads"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["tasks"].as_array().unwrap().len(), 120, "{path}");
    }

    // Writes go on meanwhile, and the write-ahead log keeps to its bound: no download holds a
    // read transaction open while its client does not read.
    if on_postgres() {
        return skip("the write-ahead log bound is SQLite's");
    }
    let wal = std::path::PathBuf::from(format!("{}-wal", s.store().sqlite_file().display()));
    let mut largest = 0;
    let text = "w".repeat(10_000);
    for round in 0..30 {
        let writes = (0..20).map(|n| {
            let admin = admin.clone();
            let text = text.clone();
            async move {
                let body = json!({"title": format!("write {round}-{n}"), "description": text});
                admin.create_task(body).await.status
            }
        });
        assert!(join_all(writes).await.iter().all(|s| *s == 201));
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    eprintln!("32 stalled downloads: the largest WAL {} MB", largest / MB);
    assert!(
        largest < 40 * MB,
        "the write-ahead log reached {} MB against a bound of 16 MB",
        largest / MB
    );
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_goes_back_to_the_system_after_a_burst() {
    let s = server(&[]).await;
    let admin = s.login().await;
    large_tasks(&admin, 100).await; // 4 MB of board
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = s.rss();
    // A burst: 32 clients at once (one token each, the per-token slots are not what is
    // tested), each reading pages of the board through MCP and REST and the board whole.
    let mut clients = Vec::new();
    for c in 0..32 {
        let id = format!("agent-burst-{c}");
        clients.push(
            admin
                .register_agent_with_token(&id, &format!("Burst {c}"), "Dev")
                .await,
        );
    }
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let watching = {
        let peak = peak.clone();
        let pid = s.process.pid;
        tokio::spawn(async move {
            loop {
                if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    && let Some(kb) = status
                        .lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                {
                    peak.fetch_max(kb * 1024, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    // Each from an address of its own, as 32 agents on as many machines.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "list_tasks", "arguments": {"limit": 500}}});
    let burst = clients.iter().enumerate().map(|(c, client)| {
        let http = reqwest::Client::builder()
            .local_address(loopback(10 + c as u8))
            .build()
            .unwrap();
        let (url, token, list) = (s.url.clone(), client.token().to_owned(), list.clone());
        async move {
            for _ in 0..4 {
                let request = if c % 2 == 0 {
                    http.post(format!("{url}/mcp"))
                        .header("accept", "application/json, text/event-stream")
                        .header(
                            "mcp-protocol-version",
                            mission_control_testkit::mcp::PROTOCOL,
                        )
                        .json(&list)
                } else {
                    http.get(format!("{url}/api/tasks"))
                };
                let r = request.bearer_auth(&token).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
            }
        }
    });
    join_all(burst).await;
    watching.abort();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        peak > before + 24 * MB,
        "the burst took {} MB (from {} MB)",
        (peak - before) / MB,
        before / MB
    );
    // Within a minute, idle, the server is back near where it was.
    let back = before + (peak - before) / 4;
    let mut now = s.rss();
    for _ in 0..60 {
        if now <= back {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        now = s.rss();
    }
    eprintln!(
        "a burst: RSS before {} MB, peak {} MB, after {} MB",
        before / MB,
        peak / MB,
        now / MB
    );
    assert!(
        now <= back,
        "before {} MB, peak {} MB, a minute after {} MB",
        before / MB,
        peak / MB,
        now / MB
    );
}
