//! Claims: an agent takes a task for a while (a lease), renews it by heartbeat or by working
//! on the task, and gives it back or finishes it.

use mission_control_actions::limits;
use serde::{Deserialize, Serialize};

use super::fields::Problems;
use super::{AgentStatus, CommentText, Priority, Tag, Task, text};
use crate::error::Result;

/// How long a claim lasts without renewal: 5 seconds to 24 hours, 15 minutes by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseDuration(i64);

impl LeaseDuration {
    pub const MIN_SECONDS: i64 = limits::LEASE_MIN_SECONDS;
    pub const MAX_SECONDS: i64 = limits::LEASE_MAX_SECONDS;
    pub const DEFAULT: LeaseDuration = LeaseDuration(limits::LEASE_DEFAULT_SECONDS);

    pub fn seconds(n: i64) -> Result<Self, String> {
        if (Self::MIN_SECONDS..=Self::MAX_SECONDS).contains(&n) {
            Ok(LeaseDuration(n))
        } else {
            Err(format!(
                "must be a whole number of seconds from {} to {}",
                Self::MIN_SECONDS,
                Self::MAX_SECONDS
            ))
        }
    }

    pub fn as_seconds(self) -> i64 {
        self.0
    }

    pub fn as_millis(self) -> i64 {
        self.0 * 1000
    }
}

/// The body of `POST /api/tasks/{id}/claim` (optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimRequest {
    /// Length of the lease in seconds (5 to 86400); 900 by default.
    #[serde(default, deserialize_with = "super::whole_number")]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::openapi::lease_seconds))]
    pub lease_seconds: Option<i64>,
}

impl ClaimRequest {
    pub fn lease(&self) -> Result<LeaseDuration> {
        lease(self.lease_seconds)
    }
}

fn lease(seconds: Option<i64>) -> Result<LeaseDuration> {
    match seconds {
        None => Ok(LeaseDuration::DEFAULT),
        Some(n) => LeaseDuration::seconds(n).map_err(|e| crate::Error::field("leaseSeconds", e)),
    }
}

/// The body of `POST /api/tasks/claim-next` (optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimNextRequest {
    /// Only tasks carrying this tag.
    #[cfg_attr(feature = "openapi", schema(schema_with = super::openapi::claim_tag))]
    pub tag: Option<String>,
    /// Only tasks of this priority.
    #[cfg_attr(feature = "openapi", schema(schema_with = super::openapi::claim_priority))]
    pub priority: Option<String>,
    /// Length of the lease in seconds (5 to 86400); 900 by default.
    #[serde(default, deserialize_with = "super::whole_number")]
    #[cfg_attr(feature = "openapi", schema(schema_with = super::openapi::lease_seconds))]
    pub lease_seconds: Option<i64>,
}

/// Which task `claim-next` may pick.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClaimFilter {
    pub tag: Option<Tag>,
    pub priority: Option<Priority>,
}

impl ClaimNextRequest {
    pub fn parse(self) -> Result<(ClaimFilter, LeaseDuration)> {
        let mut p = Problems::default();
        let tag = self
            .tag
            .and_then(|t| p.check("tag", text::line(&t, Tag::MAX_CHARS).map(Tag::new)));
        let priority = self.priority.and_then(|s| p.check("priority", s.parse()));
        let lease = match lease(self.lease_seconds) {
            Ok(l) => Some(l),
            Err(crate::Error::Validation(fields)) => {
                for f in fields {
                    p.push(&f.field, f.message);
                }
                None
            }
            Err(_) => None,
        };
        p.finish()?;
        Ok((
            ClaimFilter { tag, priority },
            lease.unwrap_or(LeaseDuration::DEFAULT),
        ))
    }
}

/// The body of `POST /api/agents/{id}/heartbeat` (optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeartbeatRequest {
    /// `online` or `busy`; the agent's status stays as it is when absent.
    #[cfg_attr(feature = "openapi", schema(schema_with = super::openapi::heartbeat_status))]
    pub status: Option<String>,
}

impl HeartbeatRequest {
    pub fn parse(self) -> Result<Option<AgentStatus>> {
        match self.status {
            None => Ok(None),
            Some(s) => match s.parse::<AgentStatus>() {
                Ok(AgentStatus::Offline) | Err(_) => Err(crate::Error::field(
                    "status",
                    "must be online or busy (an agent that stops sending heartbeats goes offline by itself)",
                )),
                Ok(status) => Ok(Some(status)),
            },
        }
    }
}

/// What a heartbeat answers: the agent's work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Work {
    /// The tasks the agent holds, with their (renewed) `leaseExpiresAt`: those whose leases run
    /// out first, at most [`Work::MAX_HELD`] and about a megabyte of them, oldest first.
    pub held: Vec<Task>,
    /// Whether the agent holds more than `held` lists (list them all with `GET
    /// /api/tasks?status=in-progress&agent=<id>`).
    #[serde(default)]
    pub held_more: bool,
    /// The task `claim-next` would give the agent now; not claimed.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next: Option<Task>,
}

impl Work {
    /// Most tasks one agent may hold (claimed, its lease live) at once: a claim past it is
    /// refused, so `held` never lists more.
    pub const MAX_HELD: usize = 100;
}

/// The body of `POST /api/tasks/{id}/complete` (optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompleteRequest {
    /// A closing note, added as a comment in the same transaction (up to 10,000 characters).
    #[cfg_attr(feature = "openapi", schema(schema_with = super::openapi::closing_note))]
    pub note: Option<String>,
}

impl CompleteRequest {
    /// The closing note, checked as a comment's text.
    pub fn parse(self) -> Result<Option<CommentText>> {
        self.note
            .map(|n| CommentText::parse(&n).map_err(|e| crate::Error::field("note", e)))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_bounded() {
        assert_eq!(LeaseDuration::DEFAULT.as_seconds(), 900);
        assert!(LeaseDuration::seconds(4).is_err());
        assert!(LeaseDuration::seconds(86_401).is_err());
        assert_eq!(LeaseDuration::seconds(60).unwrap().as_millis(), 60_000);
        let err = ClaimRequest {
            lease_seconds: Some(0),
        }
        .lease()
        .unwrap_err();
        assert!(matches!(err, crate::Error::Validation(f) if f[0].field == "leaseSeconds"));
    }

    #[test]
    fn claim_next_filters_parse_and_name_bad_fields() {
        let (filter, lease) = ClaimNextRequest {
            tag: Some(" backend ".into()),
            priority: Some("high".into()),
            lease_seconds: None,
        }
        .parse()
        .unwrap();
        assert_eq!(filter.tag.unwrap().as_str(), "backend");
        assert_eq!(filter.priority, Some(Priority::High));
        assert_eq!(lease, LeaseDuration::DEFAULT);
        let err = ClaimNextRequest {
            tag: Some("".into()),
            priority: Some("urgent".into()),
            lease_seconds: Some(1),
        }
        .parse()
        .unwrap_err();
        let crate::Error::Validation(fields) = err else {
            panic!()
        };
        let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["tag", "priority", "leaseSeconds"]);
    }

    #[test]
    fn a_heartbeat_cannot_say_offline() {
        assert!(HeartbeatRequest::default().parse().unwrap().is_none());
        let busy = HeartbeatRequest {
            status: Some("busy".into()),
        };
        assert_eq!(busy.parse().unwrap(), Some(AgentStatus::Busy));
        let offline = HeartbeatRequest {
            status: Some("offline".into()),
        };
        assert!(offline.parse().is_err());
    }
}
