//! Timing Socket.io events: the testkit's raw client, listening for the `task.created` events
//! of numbered writes.

use std::time::Instant;

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
