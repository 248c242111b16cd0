//! Response envelopes and small request bodies of the REST API, exactly as the specification
//! writes them. The handlers build these and the OpenAPI document describes these, so the two
//! cannot drift apart.

use mission_control_core::{Agent, Event, Task};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct TaskEnvelope {
    pub task: Task,
}

#[derive(Serialize, ToSchema)]
pub struct TaskList {
    pub tasks: Vec<Task>,
}

#[derive(Serialize, ToSchema)]
pub struct AgentEnvelope {
    pub agent: Agent,
}

#[derive(Serialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<Agent>,
}

#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<Event>,
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
