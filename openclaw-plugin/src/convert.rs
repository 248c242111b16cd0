//! Wire names of the enums, and the server's JSON objects as WIT records.

use serde_json::Value;

use crate::bindings::mission_control::tool::types::{
    Agent, AgentRole, AgentStatus, Comment, CommentPage, Completed, Event, EventKind, Priority,
    ServerFailure, Task, TaskStatus, ToolError, Work,
};

pub fn task_status_name(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Backlog => "backlog",
        TaskStatus::Todo => "todo",
        TaskStatus::InProgress => "in-progress",
        TaskStatus::Done => "done",
    }
}

pub fn parse_task_status(s: &str) -> Option<TaskStatus> {
    Some(match s {
        "backlog" => TaskStatus::Backlog,
        "todo" => TaskStatus::Todo,
        "in-progress" => TaskStatus::InProgress,
        "done" => TaskStatus::Done,
        _ => return None,
    })
}

pub fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Low => "low",
        Priority::Medium => "medium",
        Priority::High => "high",
        Priority::Critical => "critical",
    }
}

pub fn parse_priority(s: &str) -> Option<Priority> {
    Some(match s {
        "low" => Priority::Low,
        "medium" => Priority::Medium,
        "high" => Priority::High,
        "critical" => Priority::Critical,
        _ => return None,
    })
}

pub fn agent_status_name(s: AgentStatus) -> &'static str {
    match s {
        AgentStatus::Online => "online",
        AgentStatus::Offline => "offline",
        AgentStatus::Busy => "busy",
    }
}

pub fn parse_agent_status(s: &str) -> Option<AgentStatus> {
    Some(match s {
        "online" => AgentStatus::Online,
        "offline" => AgentStatus::Offline,
        "busy" => AgentStatus::Busy,
        _ => return None,
    })
}

fn parse_role(s: &str) -> Option<AgentRole> {
    Some(match s {
        "Main" => AgentRole::Main,
        "Dev" => AgentRole::Dev,
        "Research" => AgentRole::Research,
        "Ops" => AgentRole::Ops,
        _ => return None,
    })
}

fn bad(what: &str) -> ToolError {
    ToolError::ServerError(ServerFailure {
        status: 200,
        code: "bad_response".into(),
        message: format!("unexpected answer from the server: {what}"),
    })
}

fn string(v: &Value, key: &str) -> Result<String, ToolError> {
    v[key]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| bad(&format!("`{key}` is not a string")))
}

fn opt_string(v: &Value, key: &str) -> Option<String> {
    v[key].as_str().map(str::to_string)
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn opt_millis(v: &Value, key: &str) -> Option<u64> {
    if v[key].is_null() {
        None
    } else {
        millis(v, key).ok()
    }
}

fn millis(v: &Value, key: &str) -> Result<u64, ToolError> {
    v[key]
        .as_u64()
        .or_else(|| v[key].as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        .ok_or_else(|| bad(&format!("`{key}` is not a timestamp")))
}

pub fn list<T>(v: &Value, item: fn(&Value) -> Result<T, ToolError>) -> Result<Vec<T>, ToolError> {
    v.as_array()
        .ok_or_else(|| bad("expected a list"))?
        .iter()
        .map(item)
        .collect()
}

pub fn task_from(v: &Value) -> Result<Task, ToolError> {
    if !v.is_object() {
        return Err(bad("expected a task"));
    }
    let status = string(v, "status")?;
    Ok(Task {
        id: string(v, "id")?,
        title: string(v, "title")?,
        description: opt_string(v, "description"),
        status: parse_task_status(&status).ok_or_else(|| bad(&format!("status {status:?}")))?,
        assigned_agent: opt_string(v, "assignedAgent"),
        priority: v["priority"].as_str().and_then(parse_priority),
        created_at: millis(v, "createdAt")?,
        updated_at: millis(v, "updatedAt")?,
        created_by: opt_string(v, "createdBy"),
        tags: strings(v, "tags"),
        version: millis(v, "version")?,
        updated_by: opt_string(v, "updatedBy"),
        lease_expires_at: opt_millis(v, "leaseExpiresAt"),
        blocked_by: strings(v, "blockedBy"),
        blocked: v["blocked"].as_bool().unwrap_or(false),
    })
}

/// A task or `null`.
pub fn maybe_task_from(v: &Value) -> Result<Option<Task>, ToolError> {
    if v.is_null() {
        Ok(None)
    } else {
        task_from(v).map(Some)
    }
}

pub fn comment_from(v: &Value) -> Result<Comment, ToolError> {
    if !v.is_object() {
        return Err(bad("expected a comment"));
    }
    Ok(Comment {
        id: string(v, "id")?,
        task_id: string(v, "taskId")?,
        author: string(v, "author")?,
        text: string(v, "text")?,
        created_at: millis(v, "createdAt")?,
    })
}

pub fn comment_page_from(v: &Value) -> Result<CommentPage, ToolError> {
    Ok(CommentPage {
        comments: list(&v["comments"], comment_from)?,
        has_more: v["hasMore"].as_bool().unwrap_or(false),
    })
}

pub fn completed_from(v: &Value) -> Result<Completed, ToolError> {
    Ok(Completed {
        task: task_from(&v["task"])?,
        comment: if v["comment"].is_null() {
            None
        } else {
            Some(comment_from(&v["comment"])?)
        },
    })
}

pub fn work_from(v: &Value) -> Result<Work, ToolError> {
    Ok(Work {
        agent: agent_from(&v["agent"])?,
        held: list(&v["held"], task_from)?,
        next: maybe_task_from(&v["next"])?,
    })
}

pub fn agent_from(v: &Value) -> Result<Agent, ToolError> {
    if !v.is_object() {
        return Err(bad("expected an agent"));
    }
    let role = string(v, "role")?;
    let status = string(v, "status")?;
    Ok(Agent {
        id: string(v, "id")?,
        name: string(v, "name")?,
        role: parse_role(&role).ok_or_else(|| bad(&format!("role {role:?}")))?,
        status: parse_agent_status(&status).ok_or_else(|| bad(&format!("status {status:?}")))?,
        last_active: millis(v, "lastActive")?,
        avatar_color: opt_string(v, "avatarColor"),
    })
}

pub fn event_from(v: &Value) -> Result<Event, ToolError> {
    if !v.is_object() {
        return Err(bad("expected an event"));
    }
    let kind_name = string(v, "type")?;
    Ok(Event {
        id: string(v, "id")?,
        kind: match kind_name.as_str() {
            "task_created" => EventKind::TaskCreated,
            "task_updated" => EventKind::TaskUpdated,
            "task_deleted" => EventKind::TaskDeleted,
            "agent_status_changed" => EventKind::AgentStatusChanged,
            "agent_updated" => EventKind::AgentUpdated,
            "agent_removed" => EventKind::AgentRemoved,
            "comment_created" => EventKind::CommentCreated,
            _ => EventKind::Other,
        },
        kind_name,
        message: string(v, "message")?,
        agent_id: opt_string(v, "agentId"),
        task_id: opt_string(v, "taskId"),
        timestamp: millis(v, "timestamp")?,
        seq: v["seq"].as_u64(),
    })
}
