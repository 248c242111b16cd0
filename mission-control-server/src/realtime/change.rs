//! One change as live clients receive it ([`EncodedChange`]): a change-log entry
//! (`mission_control_core::ChangeEntry`) made ready to send, the specification's payload with
//! its `seq` beside it, encoded once for every socket and every event stream. Only changes to
//! the board become one: the change log's other entries (a revoked token) never reach a
//! client.

use std::sync::OnceLock;

use bytes::Bytes;
use serde_json::value::RawValue;

/// A change of the board, encoded and ready to send.
#[derive(Debug)]
pub struct EncodedChange {
    pub seq: i64,
    /// The wire name: the Socket.io event, the SSE `event:`.
    pub name: Box<str>,
    /// `{"task": {...}, "seq": 12}`: what a socket receives.
    pub payload: Box<RawValue>,
    /// The SSE frame, made on first use (most boards have no event stream open).
    frame: OnceLock<Bytes>,
}

impl EncodedChange {
    /// `{"task": {...}}` and 12 make `{"task": {...}, "seq": 12}`; `None` unless `name` is
    /// a change clients receive and `payload` a JSON object.
    pub fn new(seq: i64, name: &str, payload: &str) -> Option<Self> {
        if !mission_control_core::bus::is_wire_name(name) {
            return None;
        }
        let body = payload.trim_end().strip_suffix('}')?;
        if !body.trim_start().starts_with('{') {
            return None;
        }
        let separator = if body.trim_end().ends_with('{') {
            ""
        } else {
            ","
        };
        let text = format!("{body}{separator}\"seq\":{seq}}}");
        Some(EncodedChange {
            seq,
            name: name.into(),
            payload: RawValue::from_string(text).ok()?,
            frame: OnceLock::new(),
        })
    }

    /// The change as one Server-Sent Events frame: `id:` the seq, `event:` the name, `data:`
    /// the payload (one line: JSON as serialised here holds no raw line breaks).
    pub fn sse_frame(&self) -> Bytes {
        self.frame
            .get_or_init(|| sse_event(Some(self.seq), &self.name, self.payload.get().as_bytes()))
            .clone()
    }
}

/// An SSE event frame; `id` moves the client's Last-Event-ID.
pub fn sse_event(id: Option<i64>, name: &str, data: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(data.len() + name.len() + 40);
    if let Some(id) = id {
        frame.extend_from_slice(b"id: ");
        frame.extend_from_slice(id.to_string().as_bytes());
        frame.push(b'\n');
    }
    frame.extend_from_slice(b"event: ");
    frame.extend_from_slice(name.as_bytes());
    frame.extend_from_slice(b"\ndata: ");
    frame.extend_from_slice(data);
    frame.extend_from_slice(b"\n\n");
    Bytes::from(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_goes_beside_the_payload() {
        let change = EncodedChange::new(12, "task.deleted", r#"{"taskId":"task-1"}"#).unwrap();
        assert_eq!(change.payload.get(), r#"{"taskId":"task-1","seq":12}"#);
        let empty = EncodedChange::new(3, "task.updated", "{}").unwrap();
        assert_eq!(empty.payload.get(), r#"{"seq":3}"#);
        assert!(EncodedChange::new(1, "task.updated", "[1]").is_none());
        assert!(EncodedChange::new(1, "task.updated", "1}").is_none());
    }

    #[test]
    fn entries_that_are_not_changes_to_the_board_never_become_one() {
        let revoked = r#"{"tokenHash":"ab12"}"#;
        assert!(EncodedChange::new(4, mission_control_core::bus::REVOKED_TOKEN, revoked).is_none());
        assert!(EncodedChange::new(5, "something.newer", "{}").is_none());
    }

    #[test]
    fn the_sse_frame_carries_id_event_and_data() {
        let change = EncodedChange::new(7, "task.deleted", r#"{"taskId":"task-1"}"#).unwrap();
        assert_eq!(
            &change.sse_frame()[..],
            b"id: 7\nevent: task.deleted\ndata: {\"taskId\":\"task-1\",\"seq\":7}\n\n"
        );
        // Made once, then shared.
        assert_eq!(change.sse_frame().as_ptr(), change.sse_frame().as_ptr());
    }
}
