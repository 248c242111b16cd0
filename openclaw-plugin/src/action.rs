//! One action of the tool and the REST call that carries it out.

use serde_json::{Map, Value, json};

use crate::bindings::mission_control::tool::types::{
    AgentStatus, EventQuery, FieldError, NewTask, PriorityChange, TaskChanges, TaskFilter,
    TaskStatus, TextChange, ToolError,
};
use crate::convert::{agent_status_name, priority_name, task_status_name};
use crate::http::{Connection, Method, encode_component};

#[derive(Clone, Debug)]
pub enum Action {
    CreateTask(NewTask),
    UpdateTask {
        task_id: String,
        changes: TaskChanges,
    },
    MoveTask {
        task_id: String,
        new_status: TaskStatus,
    },
    ListTasks(TaskFilter),
    GetTask {
        task_id: String,
    },
    DeleteTask {
        task_id: String,
    },
    ListAgents,
    SetAgentStatus {
        agent_id: String,
        status: AgentStatus,
    },
    ListEvents(EventQuery),
}

pub fn invalid(field: &str, message: impl Into<String>) -> ToolError {
    ToolError::InvalidArguments(FieldError {
        field: field.to_string(),
        message: message.into(),
    })
}

/// An id that goes into a URL path: non-empty, no surrounding blanks.
fn check_id(field: &str, id: &str) -> Result<String, ToolError> {
    let trimmed = id.trim();
    if trimmed.is_empty() {
        return Err(invalid(field, "must be a non-empty id"));
    }
    Ok(encode_component(trimmed))
}

impl Action {
    /// The argument name the model uses for a server-side field name, per action.
    fn field_name(&self, server_field: &str) -> String {
        match (self, server_field) {
            (Action::MoveTask { .. }, "status") => "newStatus".to_string(),
            (Action::SetAgentStatus { .. }, "status") => "agentStatus".to_string(),
            (Action::SetAgentStatus { .. }, "id") => "agentId".to_string(),
            (_, "id") => "taskId".to_string(),
            _ => server_field.to_string(),
        }
    }

    fn request(&self) -> Result<(Method, String, Option<Value>), ToolError> {
        Ok(match self {
            Action::CreateTask(task) => {
                let mut body = Map::new();
                body.insert("title".into(), json!(task.title));
                if let Some(d) = &task.description {
                    body.insert("description".into(), json!(d));
                }
                if let Some(s) = task.status {
                    body.insert("status".into(), json!(task_status_name(s)));
                }
                if let Some(a) = &task.assigned_agent {
                    body.insert("assignedAgent".into(), json!(a));
                }
                if let Some(p) = task.priority {
                    body.insert("priority".into(), json!(priority_name(p)));
                }
                if let Some(t) = &task.tags {
                    body.insert("tags".into(), json!(t));
                }
                (Method::Post, "/api/tasks".into(), Some(Value::Object(body)))
            }
            Action::UpdateTask { task_id, changes } => {
                let id = check_id("taskId", task_id)?;
                let mut body = Map::new();
                if let Some(t) = &changes.title {
                    body.insert("title".into(), json!(t));
                }
                if let Some(d) = &changes.description {
                    body.insert("description".into(), text_change(d));
                }
                if let Some(s) = changes.status {
                    body.insert("status".into(), json!(task_status_name(s)));
                }
                if let Some(a) = &changes.assigned_agent {
                    body.insert("assignedAgent".into(), text_change(a));
                }
                if let Some(p) = &changes.priority {
                    let value = match p {
                        PriorityChange::Set(p) => json!(priority_name(*p)),
                        PriorityChange::Clear => Value::Null,
                    };
                    body.insert("priority".into(), value);
                }
                if let Some(t) = &changes.tags {
                    body.insert("tags".into(), json!(t));
                }
                if body.is_empty() {
                    return Err(invalid(
                        "title",
                        "update_task needs at least one field to change: title, description, \
                         status, assignedAgent, priority or tags",
                    ));
                }
                (
                    Method::Patch,
                    format!("/api/tasks/{id}"),
                    Some(Value::Object(body)),
                )
            }
            Action::MoveTask {
                task_id,
                new_status,
            } => (
                Method::Patch,
                format!("/api/tasks/{}", check_id("taskId", task_id)?),
                Some(json!({ "status": task_status_name(*new_status) })),
            ),
            Action::ListTasks(filter) => {
                let mut query = Vec::new();
                if let Some(s) = filter.status {
                    query.push(format!("status={}", task_status_name(s)));
                }
                if let Some(a) = &filter.agent {
                    query.push(format!("agent={}", check_id("agent", a)?));
                }
                (Method::Get, with_query("/api/tasks", &query), None)
            }
            Action::GetTask { task_id } => (
                Method::Get,
                format!("/api/tasks/{}", check_id("taskId", task_id)?),
                None,
            ),
            Action::DeleteTask { task_id } => (
                Method::Delete,
                format!("/api/tasks/{}", check_id("taskId", task_id)?),
                None,
            ),
            Action::ListAgents => (Method::Get, "/api/agents".into(), None),
            Action::SetAgentStatus { agent_id, status } => (
                Method::Patch,
                format!("/api/agents/{}", check_id("agentId", agent_id)?),
                Some(json!({ "status": agent_status_name(*status) })),
            ),
            Action::ListEvents(q) => {
                let mut query = Vec::new();
                if let Some(limit) = q.limit {
                    if !(1..=500).contains(&limit) {
                        return Err(invalid("limit", "must be between 1 and 500"));
                    }
                    query.push(format!("limit={limit}"));
                }
                if let Some(since) = q.since {
                    query.push(format!("since={since}"));
                }
                (Method::Get, with_query("/api/events", &query), None)
            }
        })
    }

    /// Carries out the action; returns the server's JSON answer.
    pub async fn run(&self, conn: &Connection) -> Result<Value, ToolError> {
        let (method, path, body) = self.request()?;
        conn.call(method, &path, body).await.map_err(|e| match e {
            ToolError::InvalidArguments(FieldError { field, message }) => {
                ToolError::InvalidArguments(FieldError {
                    field: self.field_name(&field),
                    message,
                })
            }
            other => other,
        })
    }

    /// What `execute` hands back to the model for this action's server answer.
    pub fn output(&self, answer: Value) -> Value {
        match self {
            Action::DeleteTask { task_id } => json!({ "deleted": task_id.trim() }),
            _ => answer,
        }
    }
}

fn text_change(change: &TextChange) -> Value {
    match change {
        TextChange::Set(s) => json!(s),
        TextChange::Clear => Value::Null,
    }
}

fn with_query(path: &str, query: &[String]) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}
