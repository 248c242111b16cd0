//! For the live-update tests: the change log as the store holds it, writes in bulk, and
//! reading a socket's events.

use std::time::Duration;

use mission_control_testkit::TestStore;
use mission_control_testkit::socketio::{Socket, next_packet, parse_event};
use mission_control_testkit::store::Cell;
use serde_json::{Value, json};

use super::Session;

/// One entry of the change log, its payload as a client receives it (with `seq`).
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub seq: i64,
    pub name: String,
    pub payload: Value,
}

/// The changes clients receive after `after`, read from the store (the log also holds
/// revocations, which no client is sent).
pub fn change_log(store: &TestStore, after: i64) -> Vec<Logged> {
    store
        .raw()
        .query(
            "SELECT seq, name, payload FROM changes WHERE seq > $1 ORDER BY seq",
            &[Cell::Int(after)],
        )
        .into_iter()
        .map(|row| {
            let seq = row[0].int().expect("a seq");
            let mut payload: Value =
                serde_json::from_str(row[2].text().expect("a payload")).expect("a JSON payload");
            payload["seq"] = json!(seq);
            Logged {
                seq,
                name: row[1].text().expect("a name").to_owned(),
                payload,
            }
        })
        .filter(|change| mission_control_core::bus::is_wire_name(&change.name))
        .collect()
}

/// Creates `count` tasks from `concurrency` writers; each makes two changes (the task and its
/// event-log line).
pub async fn create_tasks(session: &Session, count: usize, concurrency: usize) {
    let writers: Vec<_> = (0..concurrency)
        .map(|w| {
            let session = session.clone();
            tokio::spawn(async move {
                let mut n = w;
                while n < count {
                    let r = session
                        .create_task(json!({"title": format!("bulk {n}")}))
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

/// Waits for the server to close the socket; whether it did, within `wait`.
pub async fn closed_within(ws: &mut Socket, wait: Duration) -> bool {
    tokio::time::timeout(wait, async { while next_packet(ws).await.is_some() {} })
        .await
        .is_ok()
}
