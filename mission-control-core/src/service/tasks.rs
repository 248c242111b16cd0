//! Tasks: creating, changing, moving and deleting the board's cards, and reading them.
//!
//! Rules every change obeys, whoever makes it:
//! - every change to a task increments its `version`; a caller that names the version it saw
//!   (or versions: an `If-Match` list) gets [`Error::Stale`] with the current task when it
//!   changed meanwhile;
//! - a task waiting for an unfinished blocker cannot move to in-progress or done; blockers must
//!   exist and must not make a task wait for itself;
//! - a claim (a lease) holds only while the task is in progress and assigned to its holder:
//!   any change that moves it elsewhere, reassigns it or changes what it waits for ends or
//!   needs the claim, and only the holder or the operator may make such a change while the
//!   claim is live;
//! - every write costs a bounded number of rows whatever the graph of blockers (see
//!   `blockers.rs`): a blocker that finishes or is deleted rewrites none of the tasks waiting
//!   for it.

use crate::store::Connection;

use super::blockers::{
    announce_finished, check_blockers_exist, check_no_cycle, check_room_to_wait, ensure_unblocked,
};
use super::policy::{Action, Policy, Target};
use super::{Actor, MissionControl, log, not_found, quoted};
use crate::bus::DomainEvent;
use crate::domain::{
    AgentId, EventType, ExpectedVersions, IdempotencyKey, NewTask, Task, TaskChanges, TaskRefs,
    TaskStatus, now_millis,
};
use crate::error::{Error, Result};
use crate::store::{TaskCursor, TaskFilter, agents, changes, tasks};

/// One page of the board, and where the board stood when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPage {
    pub tasks: Vec<Task>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<TaskCursor>,
    /// The change log's position at the time of the read.
    pub seq: i64,
}

impl MissionControl {
    pub async fn create_task(&self, actor: &Actor, new: NewTask) -> Result<Task> {
        self.create_task_keyed(actor, new, None).await
    }

    pub(crate) async fn create_task_keyed(
        &self,
        actor: &Actor,
        new: NewTask,
        key: Option<IdempotencyKey>,
    ) -> Result<Task> {
        self.may_work(actor)?;
        let actor = actor.clone();
        let keyed = self.keyed(key);
        self.write(move |conn| {
            keyed.once(conn, &actor, |conn| {
                let now = now_millis();
                if let Some(agent) = &new.assigned_agent {
                    ensure_agent_exists(conn, agent)?;
                }
                let blockers = new.blocked_by.as_slice();
                check_blockers_exist(conn, blockers)?;
                check_room_to_wait(conn, blockers)?;
                let mut task = Task {
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
                    version: 1,
                    updated_by: Some(actor.agent_id.clone()),
                    lease_expires_at: None,
                    blocked_by: new.blocked_by.as_slice().to_vec(),
                    blocked: false,
                    lease_seconds: None,
                };
                if task.status.is_started() {
                    ensure_unblocked(conn, &task.id, new.blocked_by.as_slice())?;
                }
                tasks::insert(conn, &task)?;
                if !task.blocked_by.is_empty() {
                    tasks::set_blockers(conn, &task.id, &task.blocked_by)?;
                    settle_blockers(conn, &mut task)?;
                }
                let who = agents::display_name(conn, &actor.agent_id)?;
                let message = format!("{who} created task {}", quoted(&task.title));
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
        })
        .await
    }

    /// Applies `changes`; a change that alters nothing writes nothing and announces nothing.
    pub async fn update_task(&self, actor: &Actor, id: &str, changes: TaskChanges) -> Result<Task> {
        self.update_task_if(actor, id, None, changes).await
    }

    /// Applies `changes` if the task is still at one of the `expected` versions (when given).
    pub async fn update_task_if(
        &self,
        actor: &Actor,
        id: &str,
        expected: Option<ExpectedVersions>,
        changes: TaskChanges,
    ) -> Result<Task> {
        self.may_work(actor)?;
        let actor = actor.clone();
        let id = id.to_owned();
        let policy = self.inner.policy.clone();
        self.write(move |conn| {
            let now = now_millis();
            let before = tasks::get(conn, &id)?.ok_or_else(|| not_found("task", &id))?;
            check_version(&before, expected.as_ref())?;
            policy.allows(
                Some(&actor),
                Action::ChangeTask(&changes),
                Target::Task { task: &before, now },
            )?;
            if let Some(Some(agent)) = &changes.assigned_agent {
                ensure_agent_exists(conn, agent)?;
            }
            if let Some(blockers) = &changes.blocked_by {
                // Blockers it had passed these checks when they were added.
                let added: Vec<String> = blockers
                    .as_slice()
                    .iter()
                    .filter(|b| !before.blocked_by.contains(b))
                    .cloned()
                    .collect();
                check_blockers_exist(conn, &added)?;
                check_no_cycle(conn, &id, &added)?;
                check_room_to_wait(conn, &added)?;
            }
            let mut task = before.clone();
            let blockers = changes.blocked_by.clone();
            apply_changes(&mut task, changes);
            let blockers_changed = blockers
                .as_ref()
                .is_some_and(|b| b.as_slice() != before.blocked_by.as_slice());
            if task.status.is_started() && (task.status != before.status || blockers_changed) {
                let waiting_for = blockers
                    .as_ref()
                    .map_or(before.blocked_by.as_slice(), TaskRefs::as_slice);
                ensure_unblocked(conn, &task.id, waiting_for)?;
            }
            keep_lease_rules(&mut task, &actor, now);
            if task == before && !blockers_changed {
                return Ok((task, vec![]));
            }
            if let Some(blockers) = &blockers {
                tasks::set_blockers(conn, &task.id, blockers.as_slice())?;
            }
            let task = save(conn, &before, task, Some(&actor), now)?;
            let message = describe_update(conn, &actor, &before, &task)?;
            let event = log(
                conn,
                &actor,
                EventType::TaskUpdated,
                message,
                Some(&task.id),
                now,
            )?;
            let mut published = vec![
                DomainEvent::TaskUpdated(task.clone()),
                DomainEvent::EventLogged(event),
            ];
            published.extend(announce_finished(conn, &before, &task, now)?);
            Ok((task, published))
        })
        .await
    }

    /// Moves a task to another column.
    pub async fn move_task(&self, actor: &Actor, id: &str, status: TaskStatus) -> Result<Task> {
        self.update_task(actor, id, TaskChanges::move_to(status))
            .await
    }

    pub async fn delete_task(&self, actor: &Actor, id: &str) -> Result<()> {
        self.delete_task_if(actor, id, None).await
    }

    /// Deletes a task if it is still at one of the `expected` versions (when given). A task
    /// another agent holds can be deleted by the operator only.
    pub async fn delete_task_if(
        &self,
        actor: &Actor,
        id: &str,
        expected: Option<ExpectedVersions>,
    ) -> Result<()> {
        self.may_work(actor)?;
        let actor = actor.clone();
        let id = id.to_owned();
        let policy = self.inner.policy.clone();
        self.write(move |conn| {
            let now = now_millis();
            let task = tasks::get(conn, &id)?.ok_or_else(|| not_found("task", &id))?;
            check_version(&task, expected.as_ref())?;
            policy.allows(
                Some(&actor),
                Action::TakeOver,
                Target::Task { task: &task, now },
            )?;
            // Its edges go with it (at most `TaskRefs::MAX_WAITING`); the tasks that waited for
            // it are not rewritten: they are read without it from now on.
            tasks::delete(conn, &id)?;
            let who = agents::display_name(conn, &actor.agent_id)?;
            let message = format!("{who} deleted task {}", quoted(&task.title));
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

    /// Up to `limit` matching tasks after `after`, oldest first, with where the next page
    /// starts and the change log's position, all from one consistent read.
    pub async fn list_tasks_page(
        &self,
        filter: TaskFilter,
        after: Option<TaskCursor>,
        limit: usize,
    ) -> Result<TaskPage> {
        self.read_snapshot(move |conn| {
            let seq = changes::latest(conn)?;
            let mut tasks = tasks::page(conn, &filter, after.as_ref(), limit + 1)?;
            let next = if tasks.len() > limit {
                tasks.truncate(limit);
                tasks.last().map(TaskCursor::after)
            } else {
                None
            };
            Ok(TaskPage { tasks, next, seq })
        })
        .await
    }

    pub async fn count_tasks(&self) -> Result<i64> {
        self.read(tasks::count).await
    }
}

impl TaskStatus {
    /// In progress or done: the columns a task waiting for a blocker cannot enter.
    pub fn is_started(self) -> bool {
        matches!(self, TaskStatus::InProgress | TaskStatus::Done)
    }
}

/// [`Error::Stale`] unless the task is at one of the `expected` versions (when given).
pub(crate) fn check_version(task: &Task, expected: Option<&ExpectedVersions>) -> Result<()> {
    match expected {
        Some(versions) if !versions.admits(task.version) => Err(Error::Stale {
            expected: versions.clone(),
            current: Box::new(task.clone()),
        }),
        _ => Ok(()),
    }
}

/// Writes `after` as the next version of `before`, by `actor` (`None`: the server itself);
/// the task as stored. Whatever is not a column (its blockers) must be written already.
pub(crate) fn save(
    conn: &Connection,
    before: &Task,
    mut after: Task,
    actor: Option<&Actor>,
    now: i64,
) -> Result<Task> {
    after.version = before.version + 1;
    after.updated_at = now.max(before.updated_at);
    after.updated_by = actor.map(|a| a.agent_id.clone());
    tasks::update(conn, &after)?;
    if after.blocked_by == before.blocked_by {
        after.blocked = before.blocked;
    } else {
        settle_blockers(conn, &mut after)?;
    }
    Ok(after)
}

/// `blockedBy` as a task is read back (in id order, once each) and `blocked` from its
/// blockers as they stand, without reading the task itself again.
fn settle_blockers(conn: &Connection, task: &mut Task) -> Result<()> {
    task.blocked_by.sort();
    task.blocked_by.dedup();
    task.blocked = tasks::any_unfinished(conn, &task.blocked_by)?;
    Ok(())
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

/// Keeps a claim consistent with the task: it ends when the task leaves in-progress or its
/// holder; work by the holder renews it once less than half of it is left.
pub(crate) fn keep_lease_rules(task: &mut Task, actor: &Actor, now: i64) {
    let Some(expires) = task.lease_expires_at else {
        return;
    };
    let holder_kept = task.assigned_agent.is_some() && task.status == TaskStatus::InProgress;
    if !holder_kept {
        task.lease_expires_at = None;
        task.lease_seconds = None;
        return;
    }
    if task.assigned_agent.as_deref() == Some(actor.agent_id.as_str()) && expires > now {
        renew_if_due(task, now);
    }
}

/// Renews a live lease to its full length when less than half of it is left; whether it did.
pub(crate) fn renew_if_due(task: &mut Task, now: i64) -> bool {
    let (Some(expires), Some(seconds)) = (task.lease_expires_at, task.lease_seconds) else {
        return false;
    };
    let length = seconds * 1000;
    if expires > now && expires - now < length / 2 {
        task.lease_expires_at = Some(now + length);
        true
    } else {
        false
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
    if let Some(blockers) = changes.blocked_by {
        task.blocked_by = blockers.as_slice().to_vec();
    }
}

/// "Patch moved “Build rate limiter” to Done", or the closest sentence for what changed.
fn describe_update(
    conn: &Connection,
    actor: &Actor,
    before: &Task,
    after: &Task,
) -> Result<String> {
    let who = agents::display_name(conn, &actor.agent_id)?;
    let title = quoted(&after.title);
    Ok(if before.status != after.status {
        format!("{who} moved {title} to {}", after.status.label())
    } else if before.assigned_agent != after.assigned_agent && before.title == after.title {
        match &after.assigned_agent {
            Some(agent) => {
                let name = agents::display_name(conn, agent)?;
                format!("{who} assigned {title} to {name}")
            }
            None => format!("{who} unassigned {title}"),
        }
    } else if before.blocked_by != after.blocked_by && before.title == after.title {
        if after.blocked_by.is_empty() {
            format!("{who} removed the blockers of {title}")
        } else {
            format!("{who} set what {title} waits for")
        }
    } else {
        format!("{who} updated task {title}")
    })
}

/// The policy in force for a board; for the modules that need it in a write.
pub(crate) fn policy_of(mc: &MissionControl) -> Policy {
    mc.inner.policy.clone()
}
