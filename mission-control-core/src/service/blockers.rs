//! Blockers: what a task waits for (`blockedBy`), the rules on the graph they make, and what a
//! blocker finishing announces.
//!
//! A write costs a bounded number of rows and reads whatever the graph: whether a task is
//! `blocked` is worked out when it is read (from its blockers' statuses), never stored, so a
//! blocker that finishes, reopens or is deleted rewrites none of the tasks waiting for it (its
//! edges go with it when it is deleted). Its finishing is announced as one line of the feed
//! saying what it unblocked. The graph is bounded so that the reads stay bounded too: at most
//! [`TaskRefs::MAX_WAITING`] tasks may wait for one task (which bounds what a blocker finishing
//! reads, and the edges its deletion removes), and the cycle check runs only for the blockers a
//! change adds, walking at most [`TaskRefs::MAX_UPSTREAM`] tasks upstream of them: a graph too
//! deep to walk is refused rather than walked.

use std::collections::{HashMap, HashSet};

use super::quoted;
use crate::bus::DomainEvent;
use crate::domain::{EventType, Task, TaskRefs, TaskStatus};
use crate::error::{Conflict, Error, Result};
use crate::store::Connection;
use crate::store::tasks::{self, Reach};

/// [`Error::UnknownReference`] naming the first of `blockers` that is not a task.
pub(crate) fn check_blockers_exist(conn: &Connection, blockers: &[String]) -> Result<()> {
    match tasks::missing(conn, blockers)?.into_iter().next() {
        None => Ok(()),
        Some(id) => Err(Error::UnknownReference {
            field: "blockedBy",
            kind: "task",
            id,
        }),
    }
}

/// [`Conflict::Cycle`] when making `task_id` wait for `added` would make it wait for itself,
/// [`Conflict::TooDeepToCheck`] when what they wait for is too much to walk.
pub(crate) fn check_no_cycle(conn: &Connection, task_id: &str, added: &[String]) -> Result<()> {
    const LIMIT: usize = TaskRefs::MAX_UPSTREAM;
    let cycle = |via: &str| {
        Error::Conflict(Conflict::Cycle {
            task_id: task_id.to_owned(),
            via: via.to_owned(),
        })
    };
    if let Some(own) = added.iter().find(|b| *b == task_id) {
        return Err(cycle(own));
    }
    if added.is_empty() {
        return Ok(());
    }
    match tasks::reaches(conn, added, task_id, LIMIT)? {
        Reach::No => Ok(()),
        Reach::TooFar => Err(Error::Conflict(Conflict::TooDeepToCheck {
            task_id: task_id.to_owned(),
            limit: LIMIT,
        })),
        // Which of them closes it (a refusal only: at most one more walk each).
        Reach::Yes => {
            for blocker in added {
                if added.len() == 1
                    || tasks::reaches(conn, std::slice::from_ref(blocker), task_id, LIMIT)?
                        == Reach::Yes
                {
                    return Err(cycle(blocker));
                }
            }
            Err(cycle(&added[0]))
        }
    }
}

/// [`Conflict::TooManyWaiting`] when one of `added` already has as many tasks waiting for it
/// as one task may have.
pub(crate) fn check_room_to_wait(conn: &Connection, added: &[String]) -> Result<()> {
    const LIMIT: usize = TaskRefs::MAX_WAITING;
    match tasks::crowded(conn, added, LIMIT)? {
        None => Ok(()),
        Some(blocker) => Err(Error::Conflict(Conflict::TooManyWaiting {
            blocker,
            limit: LIMIT,
        })),
    }
}

/// [`Conflict::Blocked`] when any of `blockers` is not done.
pub(crate) fn ensure_unblocked(
    conn: &Connection,
    task_id: &str,
    blockers: &[String],
) -> Result<()> {
    let mut waiting = Vec::new();
    for id in blockers {
        if let Some(blocker) = tasks::get(conn, id)?
            && blocker.status != TaskStatus::Done
        {
            waiting.push(blocker.id);
        }
    }
    if waiting.is_empty() {
        Ok(())
    } else {
        Err(Error::Conflict(Conflict::Blocked {
            task_id: task_id.to_owned(),
            blockers: waiting,
        }))
    }
}

/// When a task became done, one line of the feed for the tasks that waited for it and now wait
/// for nothing unfinished: "“B” is unblocked: “A” is done" for one, "“A” is done: 12 tasks are
/// unblocked" for several. Nothing else is written: whether a task is blocked is worked out
/// when it is read, so the tasks that waited for it are not rewritten (a client holding them
/// works their `blocked` out from their blockers' statuses, as the blocker's own
/// `task.updated` tells them). Reads at most [`TaskRefs::MAX_WAITING`] tasks' blockers.
pub(crate) fn announce_finished(
    conn: &Connection,
    before: &Task,
    after: &Task,
    now: i64,
) -> Result<Vec<DomainEvent>> {
    if before.status == TaskStatus::Done || after.status != TaskStatus::Done {
        return Ok(vec![]);
    }
    let (count, one) = tasks::unblocked_by(conn, &after.id)?;
    let (message, task_id) = match (count, one) {
        (1, Some(id)) => {
            let Some(unblocked) = tasks::get(conn, &id)? else {
                return Ok(vec![]);
            };
            let message = format!(
                "{} is unblocked: {} is done",
                quoted(&unblocked.title),
                quoted(&after.title)
            );
            (message, id)
        }
        (n, _) if n > 1 => {
            let message = format!("{} is done: {n} tasks are unblocked", quoted(&after.title));
            (message, after.id.clone())
        }
        _ => return Ok(vec![]),
    };
    let event = super::feed_line(EventType::TaskUpdated, message, None, Some(&task_id), now)?;
    Ok(vec![DomainEvent::EventLogged(event)])
}

/// Of `tasks` (their position in a file, and the task), the position of one that waits for
/// itself through the others, if any, counting only the edges among them. For an import: tasks
/// already on a board wait only for tasks already there, so a cycle the import would close can
/// only run through the tasks it adds.
pub(crate) fn in_a_cycle(tasks: &[(usize, Task)]) -> Option<usize> {
    let position: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, (_, t))| (t.id.as_str(), i))
        .collect();
    let blockers: Vec<Vec<usize>> = tasks
        .iter()
        .map(|(_, task)| {
            task.blocked_by
                .iter()
                .filter_map(|b| position.get(b.as_str()).copied())
                .collect()
        })
        .collect();
    // Kahn's algorithm: peel off the tasks waiting for nothing left. What remains waits, each
    // of them, for another that remains: in a cycle, or behind one.
    let mut waits_for: Vec<usize> = blockers.iter().map(Vec::len).collect();
    let mut waited_by: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    for (i, of) in blockers.iter().enumerate() {
        for &j in of {
            waited_by[j].push(i);
        }
    }
    let mut free: Vec<usize> = (0..tasks.len()).filter(|&i| waits_for[i] == 0).collect();
    while let Some(j) = free.pop() {
        for &i in &waited_by[j] {
            waits_for[i] -= 1;
            if waits_for[i] == 0 {
                free.push(i);
            }
        }
    }
    // From one that remains, follow what it waits for among those that remain: the first task
    // met twice is in a cycle.
    let mut at = waits_for.iter().position(|&n| n > 0)?;
    let mut seen = HashSet::new();
    while seen.insert(at) {
        at = *blockers[at].iter().find(|&&j| waits_for[j] > 0)?;
    }
    Some(tasks[at].0)
}
