//! Agents: registering them, changing their cards, and reading them.

use rusqlite::Connection;

use super::{Actor, MissionControl, insert_event, not_found};
use crate::bus::DomainEvent;
use crate::domain::{Agent, AgentChanges, AgentStatus, EventType, NewAgent, now_millis};
use crate::error::{Error, Result};
use crate::store::agents;
use crate::store::writer::Written;

impl MissionControl {
    /// Adds a new agent; `Conflict` when the id is taken.
    pub async fn register_agent(&self, actor: Option<&Actor>, new: NewAgent) -> Result<Agent> {
        let actor = actor.cloned();
        self.write(move |conn| {
            if agents::exists(conn, new.id.as_str())? {
                return Err(Error::Conflict {
                    kind: "agent",
                    id: new.id.as_str().to_owned(),
                });
            }
            insert_agent(conn, actor.as_ref(), new)
        })
        .await
    }

    /// Registers the agent if it is new, else brings its name and role up to date (used at
    /// start-up for the operator's own agent). Never changes its status.
    pub async fn ensure_agent(&self, new: NewAgent) -> Result<Agent> {
        self.write(move |conn| match agents::get(conn, new.id.as_str())? {
            None => insert_agent(conn, None, new),
            Some(mut agent) => {
                let before = agent.clone();
                agent.name = new.name.as_str().to_owned();
                agent.role = new.role;
                if agent == before {
                    return Ok((agent, vec![]));
                }
                agents::update(conn, &agent)?;
                Ok((agent.clone(), vec![DomainEvent::AgentStatusChanged(agent)]))
            }
        })
        .await
    }

    pub async fn update_agent(
        &self,
        actor: &Actor,
        id: &str,
        changes: AgentChanges,
    ) -> Result<Agent> {
        let actor = actor.clone();
        let id = id.to_owned();
        self.write(move |conn| {
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
            let now = now_millis();
            if actor.agent_id == agent.id {
                agent.last_active = agent.last_active.max(now);
            }
            agents::update(conn, &agent)?;
            if actor.agent_id != agent.id {
                agents::touch(conn, &actor.agent_id, now)?;
            }
            let mut published = vec![DomainEvent::AgentStatusChanged(agent.clone())];
            if agent.status != before.status {
                let message = format!("{} is now {}", agent.name, agent.status);
                let event = insert_event(
                    conn,
                    EventType::AgentStatusChanged,
                    message,
                    Some(&agent.id),
                    None,
                    now,
                )?;
                published.push(DomainEvent::EventLogged(event));
            }
            Ok((agent, published))
        })
        .await
    }

    /// Sets only the agent's status.
    pub async fn set_agent_status(
        &self,
        actor: &Actor,
        id: &str,
        status: AgentStatus,
    ) -> Result<Agent> {
        self.update_agent(actor, id, AgentChanges::status(status))
            .await
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
}

fn insert_agent(conn: &Connection, actor: Option<&Actor>, new: NewAgent) -> Result<Written<Agent>> {
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
    let event = insert_event(
        conn,
        EventType::AgentStatusChanged,
        message,
        Some(&agent.id),
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
