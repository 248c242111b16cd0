//! The event log: one row per change, shown in the dashboard's feed and replayed by clients
//! that reconnect.

use serde::{Deserialize, Serialize};

use super::string_enum;

string_enum! {
    EventType {
        TaskCreated => "task_created",
        TaskUpdated => "task_updated",
        TaskDeleted => "task_deleted",
        AgentStatusChanged => "agent_status_changed",
        AgentUpdated => "agent_updated",
        AgentRemoved => "agent_removed",
        CommentCreated => "comment_created",
    }
}

/// One entry of the event log as stored and as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// `evt-` followed by a time-ordered UUID (v7).
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// A sentence for people: "Patch moved Build rate limiter to done".
    pub message: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub agent_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub task_id: Option<String>,
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The event's place in the change log: `GET /api/events?after=<seq>` continues from it.
    /// `null` only for events imported from a file that gave them none.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub seq: Option<i64>,
}
