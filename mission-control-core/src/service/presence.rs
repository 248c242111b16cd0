//! Presence the server computes, so the dashboard's "online" can never lie.
//!
//! Every authenticated request and every live socket of an agent is a sign of life, kept in
//! memory (a write per request would cost more than the request). An agent not heard from for
//! `agent_offline_after` (and with no live connection) is marked offline by the sweeper, with
//! an event; its next sign of life brings it back online. Signs of life reach the database's
//! `last_active` every half minute, so a restart knows who was around.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::store::Connection;

use super::{Actor, MissionControl, feed_line};
use crate::bus::DomainEvent;
use crate::domain::{Agent, AgentStatus, EventType, now_millis};
use crate::error::Result;
use crate::store::agents;

#[derive(Default)]
pub(crate) struct Presence {
    /// Last sign of life per agent (epoch ms).
    seen: Mutex<HashMap<String, i64>>,
    /// Signs of life not yet written to `last_active`.
    unflushed: Mutex<HashMap<String, i64>>,
    /// Open live connections per agent.
    live: Mutex<HashMap<String, usize>>,
    /// Agents the store has as offline.
    offline: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Presence {
    /// Starts from the store: who is offline now.
    pub fn load(conn: &Connection) -> Result<Self> {
        let presence = Presence::default();
        lock(&presence.offline).extend(
            agents::list(conn)?
                .into_iter()
                .filter(|a| a.status == AgentStatus::Offline)
                .map(|a| a.id),
        );
        Ok(presence)
    }

    /// Records a sign of life; whether the agent was offline.
    fn saw(&self, agent: &str, now: i64) -> bool {
        lock(&self.seen).insert(agent.to_owned(), now);
        lock(&self.unflushed).insert(agent.to_owned(), now);
        lock(&self.offline).contains(agent)
    }

    fn last_seen(&self, agent: &str) -> Option<i64> {
        lock(&self.seen).get(agent).copied()
    }

    fn is_live(&self, agent: &str) -> bool {
        lock(&self.live).get(agent).is_some_and(|n| *n > 0)
    }

    /// Keeps the offline set in step with a committed change to an agent.
    pub fn note_status(&self, agent: &Agent) {
        let mut offline = lock(&self.offline);
        if agent.status == AgentStatus::Offline {
            offline.insert(agent.id.clone());
        } else {
            offline.remove(&agent.id);
        }
    }

    pub fn forget(&self, agent: &str) {
        lock(&self.seen).remove(agent);
        lock(&self.unflushed).remove(agent);
        lock(&self.offline).remove(agent);
    }

    /// The signs of life to write: those seen since the last flush, and every agent with a
    /// live connection here (alive now, though it may have said nothing: another process that
    /// leads the board must not mark it offline).
    fn take_unflushed(&self, now: i64) -> Vec<(String, i64)> {
        let mut seen: HashMap<String, i64> = lock(&self.unflushed).drain().collect();
        for agent in lock(&self.live).keys() {
            seen.insert(agent.clone(), now);
        }
        seen.into_iter().collect()
    }
}

/// An open live connection of an agent (a socket, a stream): the agent counts as alive while
/// it is held. Dropping it is a last sign of life.
pub struct LiveConnection {
    presence: Arc<Presence>,
    agent: String,
}

impl Drop for LiveConnection {
    fn drop(&mut self) {
        let mut live = lock(&self.presence.live);
        if let Some(n) = live.get_mut(&self.agent) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                live.remove(&self.agent);
            }
        }
        drop(live);
        self.presence.saw(&self.agent, now_millis());
    }
}

impl MissionControl {
    /// A sign of life from `actor`; brings it back online if it was offline.
    pub async fn saw(&self, actor: &Actor) -> Result<()> {
        if self.inner.presence.saw(&actor.agent_id, now_millis()) {
            self.bring_online(&actor.agent_id).await?;
        }
        Ok(())
    }

    /// Marks `actor` alive for as long as the returned guard lives.
    pub fn live_connection(&self, actor: &Actor) -> LiveConnection {
        *lock(&self.inner.presence.live)
            .entry(actor.agent_id.clone())
            .or_default() += 1;
        LiveConnection {
            presence: self.inner.presence.clone(),
            agent: actor.agent_id.clone(),
        }
    }

    async fn bring_online(&self, agent_id: &str) -> Result<()> {
        let id = agent_id.to_owned();
        let agent = self
            .write(move |conn| {
                let Some(mut agent) = agents::get(conn, &id)? else {
                    return Ok((None, vec![]));
                };
                if agent.status != AgentStatus::Offline {
                    return Ok((Some(agent), vec![]));
                }
                let now = now_millis();
                agent.status = AgentStatus::Online;
                agent.last_active = agent.last_active.max(now);
                agents::update(conn, &agent)?;
                let message = format!("{} is back online", agent.name);
                let event = feed_line(
                    EventType::AgentStatusChanged,
                    message,
                    Some(&agent.id),
                    None,
                    now,
                )?;
                Ok((
                    Some(agent.clone()),
                    vec![
                        DomainEvent::AgentStatusChanged(agent),
                        DomainEvent::EventLogged(event),
                    ],
                ))
            })
            .await?;
        match agent {
            Some(agent) => self.inner.presence.note_status(&agent),
            None => self.inner.presence.forget(agent_id),
        }
        Ok(())
    }

    /// Marks offline every agent not heard from for `agent_offline_after`; how many.
    pub(crate) async fn sweep_presence(&self, now: i64) -> Result<usize> {
        let after_ms =
            i64::try_from(self.inner.agent_offline_after.as_millis()).unwrap_or(i64::MAX);
        let presence = self.inner.presence.clone();
        let silent = move |agent: &Agent| {
            let last = presence
                .last_seen(&agent.id)
                .unwrap_or(0)
                .max(agent.last_active);
            agent.status != AgentStatus::Offline
                && !presence.is_live(&agent.id)
                && now.saturating_sub(last) >= after_ms
        };
        let all = self.read(agents::list).await?;
        if !all.iter().any(&silent) {
            return Ok(0);
        }
        let minutes = describe_silence(after_ms);
        let gone = self
            .write(move |conn| {
                let mut gone = Vec::new();
                let mut published = Vec::new();
                for agent in agents::list(conn)? {
                    if !silent(&agent) {
                        continue;
                    }
                    let mut agent = agent;
                    agent.status = AgentStatus::Offline;
                    agents::update(conn, &agent)?;
                    let message =
                        format!("{} went offline: no sign of life for {minutes}", agent.name);
                    let event = feed_line(
                        EventType::AgentStatusChanged,
                        message,
                        Some(&agent.id),
                        None,
                        now,
                    )?;
                    published.push(DomainEvent::AgentStatusChanged(agent.clone()));
                    published.push(DomainEvent::EventLogged(event));
                    gone.push(agent);
                }
                Ok((gone, published))
            })
            .await?;
        for agent in &gone {
            self.inner.presence.note_status(agent);
        }
        Ok(gone.len())
    }

    /// Writes the signs of life gathered in memory to `last_active` (no event: presence
    /// changes are announced by status, not by every request).
    pub(crate) async fn flush_presence(&self) -> Result<()> {
        let seen = self.inner.presence.take_unflushed(now_millis());
        if seen.is_empty() {
            return Ok(());
        }
        self.write(move |conn| Ok((agents::touch_all(conn, &seen)?, vec![])))
            .await
    }
}

/// "2 min", "90 s", "1 h".
fn describe_silence(ms: i64) -> String {
    super::claims::describe_duration(ms / 1000)
}
