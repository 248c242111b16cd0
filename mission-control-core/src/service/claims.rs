//! Claims: how agents take work without taking the same task twice.
//!
//! A claim is atomic (one write on the single writer thread): the task is assigned to the
//! caller, moved to in-progress and held for a lease. While the lease is live nobody else may
//! claim, move or reassign it; heartbeats and the holder's own work renew it; `release` gives
//! it back; `complete` finishes it (with a closing note, in the same transaction); a lease
//! nobody renews runs out and the sweeper returns the task to `todo`, unassigned. One agent
//! holds at most [`Work::MAX_HELD`] tasks at once: a claim past that is refused.

use crate::store::Connection;

use super::blockers::{announce_finished, ensure_unblocked};
use super::pages::{PAGE_MAX_BYTES, json_len};
use super::policy::{Action, Target};
use super::tasks::{renew_if_due, save};
use super::{Actor, MissionControl, feed_line, log, not_found, quoted};
use crate::bus::DomainEvent;
use crate::domain::{
    Agent, AgentStatus, ClaimFilter, Comment, CommentText, EventType, IdempotencyKey,
    LeaseDuration, Task, TaskStatus, Work, now_millis,
};
use crate::error::{Conflict, Error, Result};
use crate::store::writer::Written;
use crate::store::{agents, tasks};

/// What a heartbeat answers: the agent as it now stands, and its work.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Heartbeat {
    pub agent: Agent,
    pub work: Work,
}

/// What `complete` answers: the finished task, and the closing note if one was given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Completed {
    pub task: Task,
    pub comment: Option<Comment>,
}

impl MissionControl {
    /// Claims a task for `actor` for `lease`. Claiming a task one already holds renews it.
    pub async fn claim(&self, actor: &Actor, task_id: &str, lease: LeaseDuration) -> Result<Task> {
        self.claim_keyed(actor, task_id, lease, None).await
    }

    pub(crate) async fn claim_keyed(
        &self,
        actor: &Actor,
        task_id: &str,
        lease: LeaseDuration,
        key: Option<IdempotencyKey>,
    ) -> Result<Task> {
        let actor = actor.clone();
        let task_id = task_id.to_owned();
        self.may_work(&actor)?;
        let operator = self.is_admin(&actor);
        let keyed = self.keyed(key);
        self.write(move |conn| {
            keyed.once(conn, &actor, |conn| {
                let task =
                    tasks::get(conn, &task_id)?.ok_or_else(|| not_found("task", &task_id))?;
                claim_in(conn, &actor, operator, task, lease, now_millis())
            })
        })
        .await
    }

    /// Claims the task `claim-next` picks for `actor` (see [`crate::store`]'s `claimable`), in
    /// the same transaction; `None` when there is nothing to take.
    pub async fn claim_next(
        &self,
        actor: &Actor,
        filter: ClaimFilter,
        lease: LeaseDuration,
    ) -> Result<Option<Task>> {
        self.claim_next_keyed(actor, filter, lease, None).await
    }

    pub(crate) async fn claim_next_keyed(
        &self,
        actor: &Actor,
        filter: ClaimFilter,
        lease: LeaseDuration,
        key: Option<IdempotencyKey>,
    ) -> Result<Option<Task>> {
        let actor = actor.clone();
        self.may_work(&actor)?;
        let operator = self.is_admin(&actor);
        let keyed = self.keyed(key);
        self.write(move |conn| {
            keyed.once(conn, &actor, |conn| {
                match tasks::claimable(conn, &actor.agent_id, &filter)? {
                    None => Ok((None, vec![])),
                    Some(task) => {
                        let (task, events) =
                            claim_in(conn, &actor, operator, task, lease, now_millis())?;
                        Ok((Some(task), events))
                    }
                }
            })
        })
        .await
    }

    /// Gives a claimed task back: to `todo`, unassigned. The holder or the operator only.
    pub async fn release(&self, actor: &Actor, task_id: &str) -> Result<Task> {
        let actor = actor.clone();
        let task_id = task_id.to_owned();
        self.may_work(&actor)?;
        let operator = self.is_admin(&actor);
        self.write(move |conn| {
            let now = now_millis();
            let task = tasks::get(conn, &task_id)?.ok_or_else(|| not_found("task", &task_id))?;
            let holder = task.holder_at(now).map(str::to_owned);
            let mine = task.assigned_agent.as_deref() == Some(actor.agent_id.as_str())
                && task.status == TaskStatus::InProgress;
            match &holder {
                Some(h) if h != &actor.agent_id && !operator => {
                    return Err(Error::Conflict(Conflict::Held {
                        task_id: task.id.clone(),
                        holder: h.clone(),
                        expires_at: task.lease_expires_at.unwrap_or(now),
                    }));
                }
                None if !mine => {
                    return Err(Error::Conflict(Conflict::NotHeld {
                        task_id: task.id.clone(),
                        agent: actor.agent_id.clone(),
                    }));
                }
                _ => {}
            }
            let mut released = task.clone();
            released.status = TaskStatus::Todo;
            released.assigned_agent = None;
            released.lease_expires_at = None;
            released.lease_seconds = None;
            let released = save(conn, &task, released, Some(&actor), now)?;
            let who = agents::display_name(conn, &actor.agent_id)?;
            let message = format!("{who} released {}", quoted(&released.title));
            let event = log(
                conn,
                &actor,
                EventType::TaskUpdated,
                message,
                Some(&released.id),
                now,
            )?;
            Ok((
                released.clone(),
                vec![
                    DomainEvent::TaskUpdated(released),
                    DomainEvent::EventLogged(event),
                ],
            ))
        })
        .await
    }

    /// Finishes a task: moves it to done, ends any claim, and adds the closing note as a
    /// comment, all in one transaction. Not for a task another agent holds (but the operator).
    pub async fn complete(
        &self,
        actor: &Actor,
        task_id: &str,
        note: Option<CommentText>,
    ) -> Result<Completed> {
        self.complete_keyed(actor, task_id, note, None).await
    }

    pub(crate) async fn complete_keyed(
        &self,
        actor: &Actor,
        task_id: &str,
        note: Option<CommentText>,
        key: Option<IdempotencyKey>,
    ) -> Result<Completed> {
        let actor = actor.clone();
        let task_id = task_id.to_owned();
        self.may_work(&actor)?;
        let policy = super::tasks::policy_of(self);
        let keyed = self.keyed(key);
        self.write(move |conn| {
            keyed.once(conn, &actor, |conn| {
                let now = now_millis();
                let task =
                    tasks::get(conn, &task_id)?.ok_or_else(|| not_found("task", &task_id))?;
                if task.status == TaskStatus::Done {
                    return Err(Error::Conflict(Conflict::Done { task_id: task.id }));
                }
                policy.allows(
                    Some(&actor),
                    Action::TakeOver,
                    Target::Task { task: &task, now },
                )?;
                ensure_unblocked(conn, &task.id, &task.blocked_by)?;
                let mut done = task.clone();
                done.status = TaskStatus::Done;
                done.lease_expires_at = None;
                done.lease_seconds = None;
                if done.assigned_agent.is_none() {
                    done.assigned_agent = Some(actor.agent_id.clone());
                }
                let done = save(conn, &task, done, Some(&actor), now)?;
                let who = agents::display_name(conn, &actor.agent_id)?;
                let message = format!("{who} completed {}", quoted(&done.title));
                let event = log(
                    conn,
                    &actor,
                    EventType::TaskUpdated,
                    message,
                    Some(&done.id),
                    now,
                )?;
                let mut published = vec![
                    DomainEvent::TaskUpdated(done.clone()),
                    DomainEvent::EventLogged(event),
                ];
                let comment = match note {
                    Some(text) => {
                        let (comment, events) =
                            super::comments::insert_comment(conn, &actor, &done, &text, now)?;
                        published.extend(events);
                        Some(comment)
                    }
                    None => None,
                };
                published.extend(announce_finished(conn, &task, &done, now)?);
                Ok((
                    Completed {
                        task: done,
                        comment,
                    },
                    published,
                ))
            })
        })
        .await
    }

    /// An agent's explicit sign of life: optionally sets its status (`online` or `busy`),
    /// renews its claims, and answers its work: what it holds and what it could take next.
    ///
    /// Bounded whatever the agent holds. Its work is read on the read pool: the tasks whose
    /// leases run out first, at most [`Work::MAX_HELD`] of them and about [`PAGE_MAX_BYTES`]
    /// of JSON (`held_more` says it holds more). The write that follows sets the status or
    /// notes the sign of life, and renews only the leases among those that are due, re-reading
    /// just those tasks.
    pub async fn heartbeat(&self, actor: &Actor, status: Option<AgentStatus>) -> Result<Heartbeat> {
        self.allows(
            Some(actor),
            Action::Heartbeat,
            Target::Agent(&actor.agent_id),
        )?;
        self.saw(actor).await?;
        let agent_id = actor.agent_id.clone();
        let (mut held, mut held_more, next) = self
            .read_snapshot(move |conn| {
                if !agents::exists(conn, &agent_id)? {
                    return Err(not_found("agent", &agent_id));
                }
                let now = now_millis();
                let mut held = tasks::held_by(conn, &agent_id, now, Work::MAX_HELD + 1)?;
                let more = held.len() > Work::MAX_HELD;
                held.truncate(Work::MAX_HELD);
                let next = tasks::claimable(conn, &agent_id, &ClaimFilter::default())?;
                Ok((held, more, next))
            })
            .await?;
        let read_at = now_millis();
        let due: Vec<String> = held
            .iter()
            .filter(|task| renew_if_due(&mut (*task).clone(), read_at))
            .map(|task| task.id.clone())
            .collect();
        let actor = actor.clone();
        let (agent, renewed) = self
            .write(move |conn| {
                let now = now_millis();
                let before = agents::get(conn, &actor.agent_id)?
                    .ok_or_else(|| not_found("agent", &actor.agent_id))?;
                let mut published = Vec::new();
                let mut agent = before.clone();
                agent.last_active = agent.last_active.max(now);
                if let Some(status) = status
                    && status != before.status
                {
                    agent.status = status;
                    agents::update(conn, &agent)?;
                    let message = format!("{} is now {}", agent.name, agent.status);
                    let event = feed_line(
                        EventType::AgentStatusChanged,
                        message,
                        Some(&agent.id),
                        None,
                        now,
                    )?;
                    published.push(DomainEvent::AgentStatusChanged(agent.clone()));
                    published.push(DomainEvent::EventLogged(event));
                } else {
                    agents::touch(conn, &agent.id, now)?;
                }
                let mut renewed = Vec::new();
                for id in &due {
                    // Re-read: it may have changed hands or been renewed since.
                    let Some(task) = tasks::get(conn, id)? else {
                        continue;
                    };
                    if task.holder_at(now) != Some(actor.agent_id.as_str()) {
                        continue;
                    }
                    let mut fresh = task.clone();
                    if renew_if_due(&mut fresh, now) {
                        let fresh = save(conn, &task, fresh, Some(&actor), now)?;
                        published.push(DomainEvent::TaskUpdated(fresh.clone()));
                        renewed.push(fresh);
                    }
                }
                Ok(((agent, renewed), published))
            })
            .await?;
        self.inner.presence.note_status(&agent);
        for fresh in renewed {
            if let Some(slot) = held.iter_mut().find(|t| t.id == fresh.id) {
                *slot = fresh;
            }
        }
        held.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        let mut bytes = json_len(&agent) + next.as_ref().map_or(0, json_len);
        let fits = held
            .iter()
            .take_while(|task| {
                bytes += json_len(task) + 1;
                bytes <= PAGE_MAX_BYTES
            })
            .count()
            .max(1)
            .min(held.len());
        if fits < held.len() {
            held.truncate(fits);
            held_more = true;
        }
        Ok(Heartbeat {
            agent,
            work: Work {
                held,
                held_more,
                next,
            },
        })
    }

    /// Returns every task whose lease ran out by `now` to `todo`, unassigned; how many.
    pub(crate) async fn expire_leases(&self, now: i64) -> Result<usize> {
        let due = self
            .read(move |conn| tasks::expired_leases(conn, now))
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        self.write(move |conn| {
            let mut published = Vec::new();
            let mut expired = 0;
            for task in due {
                // Re-read: the holder may have renewed it since.
                let Some(task) = tasks::get(conn, &task.id)? else {
                    continue;
                };
                if task.lease_expires_at.is_none_or(|at| at > now) {
                    continue;
                }
                let holder = task.assigned_agent.clone().unwrap_or_default();
                let mut back = task.clone();
                back.status = TaskStatus::Todo;
                back.assigned_agent = None;
                back.lease_expires_at = None;
                back.lease_seconds = None;
                let back = save(conn, &task, back, None, now)?;
                let who = agents::display_name(conn, &holder)?;
                let message = format!("{who}'s claim on {} expired", quoted(&back.title));
                let event = feed_line(
                    EventType::TaskUpdated,
                    message,
                    Some(&holder),
                    Some(&back.id),
                    now,
                )?;
                published.push(DomainEvent::TaskUpdated(back));
                published.push(DomainEvent::EventLogged(event));
                expired += 1;
            }
            Ok((expired, published))
        })
        .await
    }
}

/// Claims `task` for `actor` at `now` inside the current write.
fn claim_in(
    conn: &Connection,
    actor: &Actor,
    operator: bool,
    task: Task,
    lease: LeaseDuration,
    now: i64,
) -> Result<Written<Task>> {
    if task.status == TaskStatus::Done {
        return Err(Error::Conflict(Conflict::Done { task_id: task.id }));
    }
    let renewing = match task.holder_at(now) {
        Some(holder) if holder == actor.agent_id => true,
        Some(holder) => {
            return Err(Error::Conflict(Conflict::Held {
                task_id: task.id.clone(),
                holder: holder.to_owned(),
                expires_at: task.lease_expires_at.unwrap_or(now),
            }));
        }
        None => false,
    };
    if !renewing
        && !operator
        && let Some(other) = task
            .assigned_agent
            .as_deref()
            .filter(|a| *a != actor.agent_id)
    {
        return Err(Error::Conflict(Conflict::AssignedToOther {
            task_id: task.id.clone(),
            agent: other.to_owned(),
        }));
    }
    ensure_unblocked(conn, &task.id, &task.blocked_by)?;
    if !renewing {
        ensure_room_to_hold(conn, actor, now)?;
    }
    let mut claimed = task.clone();
    claimed.status = TaskStatus::InProgress;
    claimed.assigned_agent = Some(actor.agent_id.clone());
    claimed.lease_expires_at = Some(now + lease.as_millis());
    claimed.lease_seconds = Some(lease.as_seconds());
    let claimed = save(conn, &task, claimed, Some(actor), now)?;
    if renewing {
        agents::touch(conn, &actor.agent_id, now)?;
        return Ok((claimed.clone(), vec![DomainEvent::TaskUpdated(claimed)]));
    }
    let who = agents::display_name(conn, &actor.agent_id)?;
    let message = format!(
        "{who} claimed {} for {}",
        quoted(&claimed.title),
        describe_duration(lease.as_seconds())
    );
    let event = log(
        conn,
        actor,
        EventType::TaskUpdated,
        message,
        Some(&claimed.id),
        now,
    )?;
    Ok((
        claimed.clone(),
        vec![
            DomainEvent::TaskUpdated(claimed),
            DomainEvent::EventLogged(event),
        ],
    ))
}

/// [`Conflict::TooManyHeld`] when `actor` already holds as many tasks as one agent may.
fn ensure_room_to_hold(conn: &Connection, actor: &Actor, now: i64) -> Result<()> {
    let held = tasks::count_held_by(conn, &actor.agent_id, now)?;
    if usize::try_from(held).unwrap_or(usize::MAX) >= Work::MAX_HELD {
        return Err(Error::Conflict(Conflict::TooManyHeld {
            agent: actor.agent_id.clone(),
            limit: Work::MAX_HELD,
        }));
    }
    Ok(())
}

/// "15 min", "2 h", "45 s".
pub(crate) fn describe_duration(seconds: i64) -> String {
    if seconds % 3600 == 0 {
        format!("{} h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}
