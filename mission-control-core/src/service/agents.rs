//! Agents: registering them, changing their cards, removing them, and reading them.
//!
//! Only the operator registers, renames, re-roles or removes agents; an agent changes its own
//! status and colour (see `policy`). Display names are unique. Every change of name, role,
//! colour or status is in the event log, credited to whoever made it.

use crate::store::Connection;

use super::policy::{Action, Target};
use super::tasks::save;
use super::{Actor, MissionControl, feed_line, not_found};
use crate::bus::DomainEvent;
use crate::domain::{Agent, AgentChanges, EventType, NewAgent, TaskStatus, now_millis};
use crate::error::{Conflict, Error, Result};
use crate::store::writer::Written;
use crate::store::{agents, changes, tasks, tokens, users};

impl MissionControl {
    /// Adds a new agent; a conflict when the id or the name is taken. `actor` is `None` for
    /// the system itself (the command line); otherwise only the operator may.
    pub async fn register_agent(&self, actor: Option<&Actor>, new: NewAgent) -> Result<Agent> {
        self.allows(actor, Action::RegisterAgent, Target::Board)?;
        let actor = actor.cloned();
        let agent = self
            .write(move |conn| {
                if agents::exists(conn, new.id.as_str())? {
                    return Err(Error::Conflict(Conflict::Exists {
                        kind: "agent",
                        id: new.id.as_str().to_owned(),
                    }));
                }
                ensure_name_free(conn, new.name.as_str(), new.id.as_str())?;
                insert_agent(conn, actor.as_ref(), new)
            })
            .await?;
        self.inner.presence.note_status(&agent);
        Ok(agent)
    }

    /// Registers the agent if it is new, else brings its name and role up to date (used at
    /// start-up for the operator's own agent). Never changes its status. A name another agent
    /// already has gets the id appended.
    pub async fn ensure_agent(&self, new: NewAgent) -> Result<Agent> {
        let agent = self
            .write(move |conn| {
                let mut name = new.name.as_str().to_owned();
                if agents::named(conn, &name, new.id.as_str())?.is_some() {
                    name = format!("{name} ({})", new.id);
                }
                match agents::get(conn, new.id.as_str())? {
                    None => {
                        let mut new = new;
                        if let Ok(unique) = crate::AgentName::parse(&name) {
                            new.name = unique;
                        }
                        insert_agent(conn, None, new)
                    }
                    Some(mut agent) => {
                        let before = agent.clone();
                        agent.name = name;
                        agent.role = new.role;
                        if agent == before {
                            return Ok((agent, vec![]));
                        }
                        agents::update(conn, &agent)?;
                        Ok((agent.clone(), vec![DomainEvent::AgentStatusChanged(agent)]))
                    }
                }
            })
            .await?;
        self.inner.presence.note_status(&agent);
        Ok(agent)
    }

    pub async fn update_agent(
        &self,
        actor: &Actor,
        id: &str,
        changes: AgentChanges,
    ) -> Result<Agent> {
        self.allows(
            Some(actor),
            Action::ChangeAgent(&changes),
            Target::Agent(id),
        )?;
        let actor = actor.clone();
        let id = id.to_owned();
        let agent = self
            .write(move |conn| {
                let before = agents::get(conn, &id)?.ok_or_else(|| not_found("agent", &id))?;
                let mut agent = before.clone();
                if let Some(status) = changes.status {
                    agent.status = status;
                }
                if let Some(name) = changes.name {
                    agent.name = name.as_str().to_owned();
                }
                if let Some(role) = changes.role {
                    agent.role = role;
                }
                if let Some(color) = changes.avatar_color {
                    agent.avatar_color = color.map(|c| c.as_str().to_owned());
                }
                if agent == before {
                    return Ok((agent, vec![]));
                }
                if agent.name != before.name {
                    ensure_name_free(conn, &agent.name, &agent.id)?;
                }
                let now = now_millis();
                if actor.agent_id == agent.id {
                    agent.last_active = agent.last_active.max(now);
                }
                agents::update(conn, &agent)?;
                if actor.agent_id != agent.id {
                    agents::touch(conn, &actor.agent_id, now)?;
                }
                let mut published = vec![DomainEvent::AgentStatusChanged(agent.clone())];
                for (event_type, message) in describe_changes(conn, &actor, &before, &agent)? {
                    let event = feed_line(event_type, message, Some(&actor.agent_id), None, now)?;
                    published.push(DomainEvent::EventLogged(event));
                }
                Ok((agent, published))
            })
            .await?;
        self.inner.presence.note_status(&agent);
        Ok(agent)
    }

    /// Sets only the agent's status.
    pub async fn set_agent_status(
        &self,
        actor: &Actor,
        id: &str,
        status: crate::domain::AgentStatus,
    ) -> Result<Agent> {
        self.update_agent(actor, id, AgentChanges::status(status))
            .await
    }

    /// Removes an agent: its tokens are revoked (its live connections end), its tasks are
    /// unassigned (those in progress go back to `todo`); what it did stays in the log.
    /// `actor` is `None` for the system itself; otherwise only the operator may.
    pub async fn remove_agent(&self, actor: Option<&Actor>, id: &str) -> Result<()> {
        self.allows(actor, Action::RemoveAgent, Target::Agent(id))?;
        let actor = actor.cloned();
        let id = id.to_owned();
        let revoked = self
            .write(move |conn| {
                if users::access_of(conn, &id)?.is_some() {
                    return Err(Error::Forbidden(
                        "this card is a person's: remove the person (DELETE /api/users/{id})",
                    ));
                }
                remove_card(conn, actor.as_ref(), &id)
            })
            .await?;
        self.forget_verified(&revoked);
        Ok(())
    }

    pub async fn get_agent(&self, id: &str) -> Result<Agent> {
        let id = id.to_owned();
        self.read(move |conn| agents::get(conn, &id)?.ok_or_else(|| not_found("agent", &id)))
            .await
    }

    /// Every agent, by name.
    pub async fn list_agents(&self) -> Result<Vec<Agent>> {
        self.read(agents::list).await
    }

    /// Every agent, by name, and the change log's position, from one consistent read.
    pub async fn list_agents_at(&self) -> Result<(Vec<Agent>, i64)> {
        self.read_snapshot(|conn| Ok((agents::list(conn)?, changes::latest(conn)?)))
            .await
    }
}

/// Removes a card: its tokens are revoked, its tasks unassigned (those in progress go back to
/// `todo`), and the removal is logged; the hashes of the revoked tokens.
pub(super) fn remove_card(
    conn: &Connection,
    actor: Option<&Actor>,
    id: &str,
) -> Result<Written<Vec<String>>> {
    let agent = agents::get(conn, id)?.ok_or_else(|| not_found("agent", id))?;
    let now = now_millis();
    let mut published = Vec::new();
    let revoked = tokens::delete_all_of(conn, id)?;
    published.extend(revoked.iter().map(|h| DomainEvent::TokenRevoked {
        token_hash: h.clone(),
    }));
    for task in tasks::assigned_to(conn, id)? {
        let mut freed = task.clone();
        freed.assigned_agent = None;
        freed.lease_expires_at = None;
        freed.lease_seconds = None;
        if freed.status == TaskStatus::InProgress {
            freed.status = TaskStatus::Todo;
        }
        let freed = save(conn, &task, freed, actor, now)?;
        published.push(DomainEvent::TaskUpdated(freed));
    }
    agents::delete(conn, id)?;
    let who = match actor {
        Some(a) => agents::display_name(conn, &a.agent_id)?,
        None => "The operator".to_owned(),
    };
    let message = format!("{who} removed agent {}", agent.name);
    let event = feed_line(
        EventType::AgentRemoved,
        message,
        actor.map(|a| a.agent_id.as_str()),
        None,
        now,
    )?;
    published.push(DomainEvent::AgentRemoved {
        agent_id: id.to_owned(),
    });
    published.push(DomainEvent::EventLogged(event));
    Ok((revoked, published))
}

pub(super) fn ensure_name_free(conn: &Connection, name: &str, id: &str) -> Result<()> {
    match agents::named(conn, name, id)? {
        Some(_) => Err(Error::Conflict(Conflict::NameTaken {
            name: name.to_owned(),
        })),
        None => Ok(()),
    }
}

/// One event-log line per kind of change: status, then name, role and colour.
fn describe_changes(
    conn: &Connection,
    actor: &Actor,
    before: &Agent,
    after: &Agent,
) -> Result<Vec<(EventType, String)>> {
    let own = actor.agent_id == after.id;
    let who = agents::display_name(conn, &actor.agent_id)?;
    let mut lines = Vec::new();
    if before.status != after.status {
        lines.push((
            EventType::AgentStatusChanged,
            if own {
                format!("{} is now {}", after.name, after.status)
            } else {
                format!("{who} set {} to {}", after.name, after.status)
            },
        ));
    }
    if before.name != after.name {
        lines.push((
            EventType::AgentUpdated,
            format!("{who} renamed {} to {}", before.name, after.name),
        ));
    }
    if before.role != after.role {
        lines.push((
            EventType::AgentUpdated,
            format!("{who} changed {}'s role to {}", after.name, after.role),
        ));
    }
    if before.avatar_color != after.avatar_color {
        lines.push((
            EventType::AgentUpdated,
            if own {
                format!("{} changed its colour", after.name)
            } else {
                format!("{who} changed {}'s colour", after.name)
            },
        ));
    }
    Ok(lines)
}

pub(super) fn insert_agent(
    conn: &Connection,
    actor: Option<&Actor>,
    new: NewAgent,
) -> Result<Written<Agent>> {
    let now = now_millis();
    let agent = Agent {
        id: new.id.as_str().to_owned(),
        name: new.name.as_str().to_owned(),
        role: new.role,
        status: new.status,
        last_active: now,
        avatar_color: new.avatar_color.map(|c| c.as_str().to_owned()),
    };
    agents::insert(conn, &agent)?;
    if let Some(actor) = actor {
        agents::touch(conn, &actor.agent_id, now)?;
    }
    let message = format!(
        "{} joined as {} and is {}",
        agent.name, agent.role, agent.status
    );
    let event = feed_line(
        EventType::AgentStatusChanged,
        message,
        Some(actor.map_or(agent.id.as_str(), |a| a.agent_id.as_str())),
        None,
        now,
    )?;
    Ok((
        agent.clone(),
        vec![
            DomainEvent::AgentStatusChanged(agent),
            DomainEvent::EventLogged(event),
        ],
    ))
}
