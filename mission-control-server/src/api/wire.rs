//! Response envelopes and small request bodies of the REST API, exactly as the specification
//! writes them. The handlers build these and the OpenAPI document describes these, so the two
//! cannot drift apart.

use mission_control_core::{Agent, Comment, Event, Task, TokenInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct TaskEnvelope {
    pub task: Task,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskList {
    pub tasks: Vec<Task>,
    /// The change log's position when the list was read: resume live updates after it.
    pub seq: i64,
    /// With `limit`: where the next page starts (pass it as `cursor`); absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// What `claim-next` answers: the task claimed, or `null` when there was none to take.
#[derive(Serialize, ToSchema)]
pub struct MaybeTask {
    #[schema(required = true)]
    pub task: Option<Task>,
}

/// What `complete` answers.
#[derive(Serialize, ToSchema)]
pub struct CompletedEnvelope {
    pub task: Task,
    /// The closing note, when one was given.
    #[schema(required = true)]
    pub comment: Option<Comment>,
}

#[derive(Serialize, ToSchema)]
pub struct CommentEnvelope {
    pub comment: Comment,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentList {
    /// Oldest first.
    pub comments: Vec<Comment>,
    /// Whether more follow (continue with `after=<last id>`).
    pub has_more: bool,
}

/// What a heartbeat answers: the agent, the tasks it holds and what it could take next.
#[derive(Serialize, ToSchema)]
pub struct HeartbeatAnswer {
    pub agent: Agent,
    /// Tasks the agent holds a claim on, with their (renewed) `leaseExpiresAt`: those whose
    /// leases run out first, at most 100 and about 1 MiB of them, oldest first.
    pub held: Vec<Task>,
    /// Whether the agent holds more than `held` lists (all of them:
    /// `GET /api/tasks?status=in-progress&agent=<id>`).
    #[serde(rename = "heldMore")]
    pub held_more: bool,
    /// The task `claim-next` would give the agent now (not claimed).
    #[schema(required = true)]
    pub next: Option<Task>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    /// Newest first; never the tokens themselves.
    pub tokens: Vec<TokenInfo>,
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    /// How many tokens were revoked.
    pub revoked: usize,
}

#[derive(Serialize, ToSchema)]
pub struct AgentEnvelope {
    pub agent: Agent,
}

#[derive(Serialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<Agent>,
    /// The change log's position when the list was read.
    pub seq: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventList {
    pub events: Vec<Event>,
    /// Whether more events matched than `limit` allowed: page on with `after=<last seq>`.
    pub has_more: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Success {
    pub success: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in identity, as the specification's login returns it.
#[derive(Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: mission_control_core::AgentRole,
}

impl From<Agent> for User {
    fn from(agent: Agent) -> Self {
        User {
            id: agent.id,
            name: agent.name,
            role: agent.role,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub user: User,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MintTokenRequest {
    /// The registered agent the token acts as.
    #[schema(schema_with = mint_agent_id_schema)]
    pub agent_id: String,
    #[serde(default, deserialize_with = "whole_days")]
    #[schema(schema_with = expires_in_days_schema)]
    pub expires_in_days: Option<u32>,
}

/// A whole number of days, written `30` or `30.0`: JSON does not tell the two apart, and
/// neither does the `integer` the document publishes.
fn whole_days<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    mission_control_core::whole_number(d)?
        .map(|n| {
            u32::try_from(n).map_err(|_| {
                serde::de::Error::custom(format!(
                    "must be a whole number from 1 to {}",
                    MintTokenRequest::MAX_DAYS
                ))
            })
        })
        .transpose()
}

impl MintTokenRequest {
    /// The longest lifetime a minted token may have, in days (the core's rule).
    pub const MAX_DAYS: u32 = mission_control_core::TokenLifetime::MAX_DAYS;
    /// The lifetime of a minted token when none is asked for, in days.
    pub const DEFAULT_DAYS: u32 = mission_control_core::TokenLifetime::DEFAULT_DAYS;
}

fn mint_agent_id_schema() -> utoipa::openapi::schema::Schema {
    mission_control_core::domain::openapi::registered_agent_id("agentId")
}

fn expires_in_days_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
        .minimum(Some(1))
        .maximum(Some(MintTokenRequest::MAX_DAYS))
        .description(Some(format!(
            "Lifetime in days, 1 to {}; absent or `null` means {}.",
            MintTokenRequest::MAX_DAYS,
            MintTokenRequest::DEFAULT_DAYS
        )))
        .into()
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MintTokenResponse {
    pub token: String,
    /// Epoch milliseconds.
    pub expires_at: i64,
    pub agent: Agent,
}

/// `ok`, or `degraded` when something is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    Ok,
    Degraded,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `degraded` when anything below is wrong.
    pub status: HealthState,
    pub version: &'static str,
    pub database: HealthState,
    /// Which database the board lives in: `sqlite` or `postgres`.
    pub store: StoreKind,
    /// PostgreSQL only (`null` on SQLite): how full its notification queue is, from 0 to 1
    /// (it fills when a process listening for changes stops reading).
    #[schema(required = true)]
    pub notification_queue_usage: Option<f64>,
    /// What is wrong, one sentence each; empty when all is well.
    pub problems: Vec<String>,
}

/// Which database a board lives in.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(body: &str) -> Result<Option<u32>, String> {
        serde_json::from_str::<MintTokenRequest>(body)
            .map(|r| r.expires_in_days)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn days_are_whole_numbers_however_written() {
        assert_eq!(days(r#"{"agentId":"a","expiresInDays":30}"#), Ok(Some(30)));
        assert_eq!(
            days(r#"{"agentId":"a","expiresInDays":30.0}"#),
            Ok(Some(30))
        );
        assert_eq!(days(r#"{"agentId":"a","expiresInDays":null}"#), Ok(None));
        assert_eq!(days(r#"{"agentId":"a"}"#), Ok(None));
        for bad in ["1.5", "-1", "1e300", "4294967296", "\"30\""] {
            let body = format!(r#"{{"agentId":"a","expiresInDays":{bad}}}"#);
            assert!(days(&body).is_err(), "{bad}");
        }
    }
}

/// What `GET /api/export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The whole board, as `mission-control-server export` writes it.
    Json,
    /// The tasks, one row each.
    Csv,
}

impl std::str::FromStr for ExportFormat {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            _ => Err("must be json or csv"),
        }
    }
}
