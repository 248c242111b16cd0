//! For the live-update tests: the change log as the database file holds it, writes in bulk,
//! and reading a socket's events.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mission_control_testkit::socketio::{Socket, next_packet, parse_event};
use serde_json::{Value, json};

use super::Server;

/// One entry of the change log, its payload as a client receives it (with `seq`).
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub seq: i64,
    pub name: String,
    pub payload: Value,
}

/// The changes clients receive after `after`, read from the server's database file (the log
/// also holds revocations, which no client is sent).
pub fn change_log(dir: &Path, after: i64) -> Vec<Logged> {
    let conn = rusqlite::Connection::open(dir.join("mission-control.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut stmt = conn
        .prepare("SELECT seq, name, payload FROM changes WHERE seq > ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([after], |r| {
        let seq: i64 = r.get(0)?;
        let payload: String = r.get(2)?;
        let mut payload: Value = serde_json::from_str(&payload).unwrap();
        payload["seq"] = json!(seq);
        Ok(Logged {
            seq,
            name: r.get(1)?,
            payload,
        })
    })
    .unwrap()
    .collect::<Result<Vec<Logged>, _>>()
    .unwrap()
    .into_iter()
    .filter(|change| mission_control_core::bus::is_wire_name(&change.name))
    .collect()
}

/// The newest seq: where `GET /api/tasks` says the board stands.
pub async fn latest_seq(s: &Server, token: &str) -> i64 {
    let r = s.call("GET", "/api/tasks?limit=1", None, Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["seq"].as_i64().unwrap()
}

/// Creates `count` tasks from `concurrency` writers; each makes two changes (the task and its
/// event-log line).
pub async fn create_tasks(s: &Arc<Server>, token: &str, count: usize, concurrency: usize) {
    let writers: Vec<_> = (0..concurrency)
        .map(|w| {
            let s = s.clone();
            let token = token.to_owned();
            tokio::spawn(async move {
                let mut n = w;
                while n < count {
                    let r = s
                        .call(
                            "POST",
                            "/api/tasks",
                            Some(json!({"title": format!("bulk {n}")})),
                            Some(&token),
                        )
                        .await;
                    assert_eq!(r.status, 201, "{}", r.body);
                    n += concurrency;
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
}

/// The events a socket receives, as (name, payload), until `done` says so (given everything
/// so far) or `wait` passes without a packet.
pub async fn events_until(
    ws: &mut Socket,
    wait: Duration,
    mut done: impl FnMut(&[(String, Value)]) -> bool,
) -> Vec<(String, Value)> {
    let mut got = Vec::new();
    while !done(&got) {
        match tokio::time::timeout(wait, next_packet(ws)).await {
            Ok(Some(packet)) => {
                if let Some(event) = parse_event(&packet) {
                    got.push(event);
                }
            }
            _ => break,
        }
    }
    got
}

/// The changes among `events` (everything but the stream's own words).
pub fn changes_only(events: &[(String, Value)]) -> Vec<Logged> {
    events
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "resumed" | "resync_required"))
        .map(|(name, payload)| Logged {
            seq: payload["seq"].as_i64().unwrap_or(-1),
            name: name.clone(),
            payload: payload.clone(),
        })
        .collect()
}
