//! The checks of an agent's and a task's row that need no database: the rules the API parses
//! a request with, and the row as the API would have stored it.

use super::{Problems, Row, agent_id, optional_agent_id, time};
use crate::domain::{
    Agent, AgentName, AvatarColor, Tags, Task, TaskDescription, TaskId, TaskRefs, TaskTitle,
};

pub(super) fn check_agent(p: &mut Problems, at: &Row, agent: Agent) -> Option<Agent> {
    let checked = (
        p.check(at, "id", agent_id(&agent.id)),
        p.check(at, "name", AgentName::parse(&agent.name)),
        p.check(at, "lastActive", time(agent.last_active)),
        p.check(
            at,
            "avatarColor",
            agent
                .avatar_color
                .as_deref()
                .map(|c| AvatarColor::parse(c).map(|c| c.as_str().to_owned()))
                .transpose(),
        ),
    );
    let (Some(id), Some(name), Some(last_active), Some(avatar_color)) = checked else {
        return None;
    };
    Some(Agent {
        id,
        name: name.as_str().to_owned(),
        role: agent.role,
        status: agent.status,
        last_active,
        avatar_color,
    })
}

pub(super) fn check_task(p: &mut Problems, at: &Row, task: Task) -> Option<Task> {
    let version = if (1..=Task::MAX_VERSION).contains(&task.version) {
        Ok(task.version)
    } else {
        Err(format!(
            "must be a whole number from 1 to {}",
            Task::MAX_VERSION
        ))
    };
    let checked = (
        p.check(at, "id", TaskId::parse(&task.id)),
        p.check(at, "title", TaskTitle::parse(&task.title)),
        p.check(
            at,
            "description",
            task.description
                .as_deref()
                .map(TaskDescription::parse)
                .transpose()
                .map(Option::flatten),
        ),
        p.check(
            at,
            "assignedAgent",
            optional_agent_id(task.assigned_agent.as_deref()),
        ),
        p.check(
            at,
            "createdBy",
            optional_agent_id(task.created_by.as_deref()),
        ),
        p.check(
            at,
            "updatedBy",
            optional_agent_id(task.updated_by.as_deref()),
        ),
        p.check(at, "tags", Tags::parse(task.tags)),
        p.check(at, "version", version),
        p.check(at, "blockedBy", TaskRefs::parse(task.blocked_by)),
    );
    let created_at = p.check(at, "createdAt", time(task.created_at));
    let updated_at = p.check(at, "updatedAt", time(task.updated_at));
    let (
        (
            Some(id),
            Some(title),
            Some(description),
            Some(assigned_agent),
            Some(created_by),
            Some(updated_by),
            Some(tags),
            Some(version),
            Some(blocked_by),
        ),
        Some(created_at),
        Some(updated_at),
    ) = (checked, created_at, updated_at)
    else {
        return None;
    };
    Some(Task {
        id: id.into_string(),
        title: title.as_str().to_owned(),
        description: description.map(|d| d.as_str().to_owned()),
        status: task.status,
        assigned_agent,
        priority: task.priority,
        created_at,
        updated_at,
        created_by,
        tags: tags.iter().map(str::to_owned).collect(),
        version,
        updated_by,
        // Claims do not survive an import.
        lease_expires_at: None,
        lease_seconds: None,
        blocked_by: blocked_by.as_slice().to_vec(),
        blocked: false,
    })
}
