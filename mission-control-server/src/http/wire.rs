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
    pub task: Option<Task>,
}

/// What `complete` answers.
#[derive(Serialize, ToSchema)]
pub struct CompletedEnvelope {
    pub task: Task,
    /// The closing note, when one was given.
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
    /// Tasks the agent holds a claim on, with their (renewed) `leaseExpiresAt`.
    pub held: Vec<Task>,
    /// The task `claim-next` would give the agent now (not claimed).
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
    pub agent_id: String,
    /// Lifetime in days, 1 to 3650; defaults to 365.
    pub expires_in_days: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MintTokenResponse {
    pub token: String,
    /// Epoch milliseconds.
    pub expires_at: i64,
    pub agent: Agent,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when something below is wrong.
    pub status: &'static str,
    pub version: &'static str,
    /// `ok` or `degraded`.
    pub database: &'static str,
    /// What is wrong, one sentence each; empty when all is well.
    pub problems: Vec<String>,
}
