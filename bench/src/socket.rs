//! Timing Socket.io events: the testkit's raw client, listening for the `task.created` events
//! of numbered writes.

use std::time::{Duration, Instant};

use mission_control_testkit::socketio::{Socket, is_event, next_packet};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use mission_control_testkit::socketio::connect;

/// Title prefix of the writes whose events are timed; followed by the write's number.
pub const MARKER: &str = "fanout-";

/// Reads the socket until it closes: answers pings, and for every `task.created` whose title
/// carries [`MARKER`] sends (write number, arrival time) to `seen`.
pub fn listen(mut ws: Socket, seen: mpsc::UnboundedSender<(u32, Instant)>) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(packet) = next_packet(&mut ws).await {
            let at = Instant::now();
            if is_event(&packet, "task.created") {
                if let Some(n) = marker_number(&packet) {
                    let _ = seen.send((n, at));
                }
            } else if packet.starts_with('1') {
                break;
            }
        }
    })
}

/// Creates the task of write `k` (titled [`MARKER`] and `k`) on the server at `base`; when the
/// request was sent and when its answer had been read.
pub async fn marked_write(
    writer: &reqwest::Client,
    base: &str,
    auth: &str,
    k: u32,
) -> crate::Res<(Instant, Instant)> {
    let sent = Instant::now();
    let response = writer
        .post(format!("{base}/api/tasks"))
        .header("authorization", auth)
        .json(&serde_json::json!({ "title": format!("{MARKER}{k}") }))
        .send()
        .await?;
    let status = response.status();
    response.bytes().await?;
    let answered = Instant::now();
    if status != reqwest::StatusCode::CREATED {
        return Err(format!("the timed write {k} failed: {status}").into());
    }
    Ok((sent, answered))
}

/// Waits (at most 10 s) for write `k`'s event on `n` sockets: how many heard it, and when the
/// last of them did.
pub async fn arrivals(
    seen: &mut mpsc::UnboundedReceiver<(u32, Instant)>,
    k: u32,
    n: usize,
) -> (usize, Option<Instant>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let (mut got, mut last) = (0usize, None::<Instant>);
    while got < n {
        match tokio::time::timeout_at(deadline, seen.recv()).await {
            Ok(Some((write, at))) if write == k => {
                got += 1;
                last = Some(last.map_or(at, |l: Instant| l.max(at)));
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    (got, last)
}

/// The write number in `"title":"fanout-<n>"`, found without parsing the whole payload.
fn marker_number(text: &str) -> Option<u32> {
    let key = format!("\"title\":\"{MARKER}");
    let start = text.find(&key)? + key.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_write_number() {
        let packet = r#"42["task.created",{"task":{"id":"task-1","title":"fanout-17","tags":[]}}]"#;
        assert_eq!(marker_number(packet), Some(17));
        assert_eq!(
            marker_number(r#"42["task.created",{"task":{"title":"x"}}]"#),
            None
        );
    }
}
