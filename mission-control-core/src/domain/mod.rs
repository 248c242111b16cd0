//! Domain types that can only hold valid values.
//!
//! Requests arrive as loose `*Request` structs (every field optional, so that a missing field is
//! reported by name rather than by serde); `parse` turns one into a checked value such as
//! [`NewTask`] or reports every invalid field at once. Past that point the store never
//! re-validates: a [`TaskTitle`] is never empty, a [`TaskStatus`] is one of four columns.

mod agent;
mod claim;
mod comment;
mod event;
mod fields;
mod idempotency;
#[cfg(feature = "openapi")]
pub mod openapi;
mod person;
mod precondition;
mod task;
mod task_changes;
mod text;
mod token;

pub use agent::{
    Agent, AgentChanges, AgentId, AgentName, AgentRole, AgentStatus, AvatarColor, NewAgent,
    NewAgentRequest, UpdateAgentRequest,
};
pub use claim::{
    ClaimFilter, ClaimNextRequest, ClaimRequest, CompleteRequest, HeartbeatRequest, LeaseDuration,
    Work,
};
pub use comment::{Comment, CommentText, NewCommentRequest};
pub use event::{Event, EventType};
pub use idempotency::IdempotencyKey;
pub use person::{
    Access, NewPerson, NewPersonRequest, Password, Person, PersonChanges, UpdatePersonRequest,
    Username,
};
pub use precondition::ExpectedVersions;
pub(crate) use task::is_record_id;
pub use task::{
    Priority, Tag, Tags, Task, TaskDescription, TaskId, TaskRefs, TaskStatus, TaskTitle,
};
pub use task_changes::{CreateTaskRequest, NewTask, TaskChanges, UpdateTaskRequest};
pub(crate) use text::line as text_line;

pub use fields::{Patch, whole_number};
pub use token::{RevokedToken, TokenInfo, TokenLifetime, TokenRecord};

/// The last instant a timestamp on the wire may name: the latest a JavaScript `Date` holds
/// (epoch milliseconds). Every time the board keeps lies between 0 and it.
pub const LATEST_TIME_MS: i64 = 8_640_000_000_000_000;

/// Milliseconds since the Unix epoch, the unit of every timestamp on the wire.
pub fn now_millis() -> i64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Declares a closed set of wire strings as an enum with parsing, display, serde and (with the
/// `openapi` feature) an OpenAPI schema that all agree, so the list of allowed values is
/// written once.
macro_rules! string_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as it is written on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// "must be one of a, b, c": the message for a value outside the set.
            pub fn expected() -> String {
                let all: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                format!("must be one of {}", all.join(", "))
            }
        }

        /// A string schema whose `enum` is [`Self::ALL`] as written on the wire.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let values: Vec<&'static str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                $crate::domain::openapi::string_enum(&values, &[$($doc),*])
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(Self::expected()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::store::Param for $name {
            fn value(&self) -> $crate::store::Value<'_> {
                $crate::store::Value::Text(self.as_str())
            }
        }

        impl $crate::store::Column for $name {
            fn from_cell(cell: $crate::store::Cell<'_>) -> $crate::Result<Self> {
                $crate::store::parsed(cell)
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use mission_control_actions::catalogue;

    fn wire<T: Copy>(all: &[T], name: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| name(*v)).collect()
    }

    /// The agent-facing catalogue lists exactly the values the core accepts.
    #[test]
    fn the_action_catalogue_names_the_same_values() {
        assert_eq!(
            wire(TaskStatus::ALL, TaskStatus::as_str),
            catalogue::TASK_STATUSES
        );
        assert_eq!(wire(Priority::ALL, Priority::as_str), catalogue::PRIORITIES);
        assert_eq!(
            wire(AgentStatus::ALL, AgentStatus::as_str),
            catalogue::AGENT_STATUSES
        );
        assert_eq!(
            wire(AgentRole::ALL, AgentRole::as_str),
            catalogue::AGENT_ROLES
        );
        let beat: Vec<_> = AgentStatus::ALL
            .iter()
            .filter(|s| {
                HeartbeatRequest {
                    status: Some(s.as_str().into()),
                }
                .parse()
                .is_ok()
            })
            .map(|s| s.as_str())
            .collect();
        assert_eq!(beat, catalogue::HEARTBEAT_STATUSES);
    }
}
