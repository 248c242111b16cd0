//! Tasks: creating, changing, moving and deleting the board's cards, and reading them.

use rusqlite::Connection;

use super::{Actor, MissionControl, log, not_found};
use crate::bus::DomainEvent;
use crate::domain::{AgentId, EventType, NewTask, Task, TaskChanges, TaskStatus, now_millis};
use crate::error::{Error, Result};
use crate::store::{TaskFilter, agents, tasks};

impl MissionControl {
    pub async fn create_task(&self, actor: &Actor, new: NewTask) -> Result<Task> {
        let actor = actor.clone();
        self.write(move |conn| {
            let now = now_millis();
            if let Some(agent) = &new.assigned_agent {
                ensure_agent_exists(conn, agent)?;
            }
            let task = Task {
                id: format!("task-{}", uuid::Uuid::now_v7()),
                title: new.title.as_str().to_owned(),
                description: new.description.map(|d| d.as_str().to_owned()),
                status: new.status,
                assigned_agent: new.assigned_agent.map(|a| a.as_str().to_owned()),
                priority: Some(new.priority),
                created_at: now,
                updated_at: now,
                created_by: Some(actor.agent_id.clone()),
                tags: new.tags.iter().map(str::to_owned).collect(),
            };
            tasks::insert(conn, &task)?;
            let who = agents::display_name(conn, &actor.agent_id)?;
            let message = format!("{who} created task: {}", task.title);
            let event = log(
                conn,
                &actor,
                EventType::TaskCreated,
                message,
                Some(&task.id),
                now,
            )?;
            Ok((
                task.clone(),
                vec![
                    DomainEvent::TaskCreated(task),
                    DomainEvent::EventLogged(event),
                ],
            ))
        })
        .await
    }

    /// Applies `changes`; a change that alters nothing writes nothing and announces nothing.
    pub async fn update_task(&self, actor: &Actor, id: &str, changes: TaskChanges) -> Result<Task> {
        let actor = actor.clone();
        let id = id.to_owned();
        self.write(move |conn| {
            let before = tasks::get(conn, &id)?.ok_or_else(|| not_found("task", &id))?;
            if let Some(Some(agent)) = &changes.assigned_agent {
                ensure_agent_exists(conn, agent)?;
            }
            let mut task = before.clone();
            apply_changes(&mut task, changes);
            if task == before {
                return Ok((task, vec![]));
            }
            let now = now_millis();
            task.updated_at = now.max(before.updated_at);
            tasks::update(conn, &task)?;
            let message = describe_update(conn, &actor, &before, &task)?;
            let event = log(
                conn,
                &actor,
                EventType::TaskUpdated,
                message,
                Some(&task.id),
                now,
            )?;
            Ok((
                task.clone(),
                vec![
                    DomainEvent::TaskUpdated(task),
                    DomainEvent::EventLogged(event),
                ],
            ))
        })
        .await
    }

    /// Moves a task to another column.
    pub async fn move_task(&self, actor: &Actor, id: &str, status: TaskStatus) -> Result<Task> {
        self.update_task(actor, id, TaskChanges::move_to(status))
            .await
    }

    pub async fn delete_task(&self, actor: &Actor, id: &str) -> Result<()> {
        let actor = actor.clone();
        let id = id.to_owned();
        self.write(move |conn| {
            let task = tasks::get(conn, &id)?.ok_or_else(|| not_found("task", &id))?;
            tasks::delete(conn, &id)?;
            let now = now_millis();
            let who = agents::display_name(conn, &actor.agent_id)?;
            let message = format!("{who} deleted task: {}", task.title);
            let event = log(
                conn,
                &actor,
                EventType::TaskDeleted,
                message,
                Some(&id),
                now,
            )?;
            Ok((
                (),
                vec![
                    DomainEvent::TaskDeleted { task_id: id },
                    DomainEvent::EventLogged(event),
                ],
            ))
        })
        .await
    }

    pub async fn get_task(&self, id: &str) -> Result<Task> {
        let id = id.to_owned();
        self.read(move |conn| tasks::get(conn, &id)?.ok_or_else(|| not_found("task", &id)))
            .await
    }

    /// Matching tasks, oldest first; every match, however many.
    pub async fn list_tasks(&self, filter: TaskFilter) -> Result<Vec<Task>> {
        self.read(move |conn| tasks::list(conn, &filter)).await
    }

    pub async fn count_tasks(&self) -> Result<i64> {
        self.read(tasks::count).await
    }
}

fn ensure_agent_exists(conn: &Connection, agent: &AgentId) -> Result<()> {
    if agents::exists(conn, agent.as_str())? {
        Ok(())
    } else {
        Err(Error::UnknownReference {
            field: "assignedAgent",
            kind: "agent",
            id: agent.as_str().to_owned(),
        })
    }
}

fn apply_changes(task: &mut Task, changes: TaskChanges) {
    if let Some(title) = changes.title {
        task.title = title.as_str().to_owned();
    }
    if let Some(description) = changes.description {
        task.description = description.map(|d| d.as_str().to_owned());
    }
    if let Some(status) = changes.status {
        task.status = status;
    }
    if let Some(agent) = changes.assigned_agent {
        task.assigned_agent = agent.map(|a| a.as_str().to_owned());
    }
    if let Some(priority) = changes.priority {
        task.priority = priority;
    }
    if let Some(tags) = changes.tags {
        task.tags = tags.iter().map(str::to_owned).collect();
    }
}

/// "Patch moved Build rate limiter to done", or the closest sentence for what changed.
fn describe_update(
    conn: &Connection,
    actor: &Actor,
    before: &Task,
    after: &Task,
) -> Result<String> {
    let who = agents::display_name(conn, &actor.agent_id)?;
    Ok(if before.status != after.status {
        format!("{who} moved {} to {}", after.title, after.status)
    } else if before.assigned_agent != after.assigned_agent && before.title == after.title {
        match &after.assigned_agent {
            Some(agent) => {
                let name = agents::display_name(conn, agent)?;
                format!("{who} assigned {} to {name}", after.title)
            }
            None => format!("{who} unassigned {}", after.title),
        }
    } else {
        format!("{who} updated task: {}", after.title)
    })
}
