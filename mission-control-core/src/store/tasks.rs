//! SQL for the `tasks` table and its `task_blockers` edges.
//!
//! A task read from here always comes with its blockers (`blockedBy`, `blocked`), filled in
//! by one query for any number of tasks ([`attach_blockers`]).

use std::collections::HashMap;

use super::{Connection, Row, Sql, params};
use crate::domain::{ClaimFilter, Priority, Task, TaskId, TaskStatus};
use crate::error::Result;

macro_rules! columns {
    () => {
        "id, title, description, status, assigned_agent, priority, created_at, updated_at, \
         created_by, tags, version, updated_by, lease_expires_at, lease_seconds"
    };
}

/// Which tasks `list` returns; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    /// Only tasks assigned to this agent id.
    pub agent: Option<String>,
}

/// Where a page of the board starts: after this task, in creation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCursor {
    pub created_at: i64,
    pub id: String,
}

impl TaskCursor {
    pub fn after(task: &Task) -> Self {
        TaskCursor {
            created_at: task.created_at,
            id: task.id.clone(),
        }
    }

    /// The cursor as an opaque token for a URL: `<created_at>.<id>`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at, self.id)
    }

    pub fn decode(token: &str) -> Option<Self> {
        let (at, id) = token.split_once('.')?;
        Some(TaskCursor {
            created_at: at.parse().ok()?,
            id: TaskId::parse(id).ok()?.into_string(),
        })
    }
}

fn from_row(row: &Row<'_>) -> Result<Task> {
    let tags: Option<String> = row.get(9)?;
    Ok(Task {
        id: row.get(0)?,
        title: row.get(1)?,
        description: row.get(2)?,
        status: row.get(3)?,
        assigned_agent: row.get(4)?,
        priority: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        created_by: row.get(8)?,
        tags: tags
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        version: row.get(10)?,
        updated_by: row.get(11)?,
        lease_expires_at: row.get(12)?,
        lease_seconds: row.get(13)?,
        blocked_by: Vec::new(),
        blocked: false,
    })
}

fn tags_json(task: &Task) -> String {
    serde_json::to_string(&task.tags).unwrap_or_else(|_| "[]".into())
}

/// Runs a query of whole tasks and fills in their blockers.
fn query(conn: &Connection, sql: &Sql, params: &[&dyn super::Param]) -> Result<Vec<Task>> {
    let mut tasks = conn.query(sql, params, from_row)?;
    attach_blockers(conn, &mut tasks)?;
    Ok(tasks)
}

pub(crate) fn insert(conn: &Connection, task: &Task) -> Result<()> {
    const SQL: Sql = Sql::new(concat!(
        "INSERT INTO tasks (",
        columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ));
    conn.execute(
        &SQL,
        params![
            task.id,
            task.title,
            task.description,
            task.status,
            task.assigned_agent,
            task.priority,
            task.created_at,
            task.updated_at,
            task.created_by,
            tags_json(task),
            task.version,
            task.updated_by,
            task.lease_expires_at,
            task.lease_seconds,
        ],
    )?;
    Ok(())
}

/// Writes every field but the id, the creation data and the blockers.
pub(crate) fn update(conn: &Connection, task: &Task) -> Result<()> {
    const SQL: Sql = Sql::new(
        "UPDATE tasks SET title = ?2, description = ?3, status = ?4, assigned_agent = ?5, \
         priority = ?6, updated_at = ?7, tags = ?8, version = ?9, updated_by = ?10, \
         lease_expires_at = ?11, lease_seconds = ?12 WHERE id = ?1",
    );
    conn.execute(
        &SQL,
        params![
            task.id,
            task.title,
            task.description,
            task.status,
            task.assigned_agent,
            task.priority,
            task.updated_at,
            tags_json(task),
            task.version,
            task.updated_by,
            task.lease_expires_at,
            task.lease_seconds,
        ],
    )?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, id: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("DELETE FROM tasks WHERE id = ?1");
    Ok(conn.execute(&SQL, params![id])? > 0)
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Task>> {
    const SQL: Sql = Sql::new(concat!("SELECT ", columns!(), " FROM tasks WHERE id = ?1"));
    let Some(task) = conn.query_opt(&SQL, params![id], from_row)? else {
        return Ok(None);
    };
    let mut tasks = [task];
    attach_blockers(conn, &mut tasks)?;
    let [task] = tasks;
    Ok(Some(task))
}

pub(crate) fn exists(conn: &Connection, id: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("SELECT 1 FROM tasks WHERE id = ?1");
    conn.exists(&SQL, params![id])
}

/// Matching tasks, oldest first (the order cards were added to the board).
pub(crate) fn list(conn: &Connection, filter: &TaskFilter) -> Result<Vec<Task>> {
    // `?1 IS NULL OR ...` keeps one cached statement for every filter combination; the status
    // or assignee index is still used when the parameter is bound.
    const SQL: Sql = Sql::new(concat!(
        "SELECT ",
        columns!(),
        " FROM tasks \
         WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1) \
           AND (CAST(?2 AS TEXT) IS NULL OR assigned_agent = ?2) \
         ORDER BY created_at, id"
    ));
    query(conn, &SQL, params![filter.status, filter.agent])
}

/// Up to `limit` matching tasks after `after`, oldest first: one page of the board.
pub(crate) fn page(
    conn: &Connection,
    filter: &TaskFilter,
    after: Option<&TaskCursor>,
    limit: usize,
) -> Result<Vec<Task>> {
    const SQL: Sql = Sql::new(concat!(
        "SELECT ",
        columns!(),
        " FROM tasks \
         WHERE (created_at, id) > (?3, ?4) \
           AND (CAST(?1 AS TEXT) IS NULL OR status = ?1) \
           AND (CAST(?2 AS TEXT) IS NULL OR assigned_agent = ?2) \
         ORDER BY created_at, id LIMIT ?5"
    ));
    let (at, id) = after.map_or((i64::MIN, ""), |c| (c.created_at, c.id.as_str()));
    query(
        conn,
        &SQL,
        params![filter.status, filter.agent, at, id, limit],
    )
}

pub(crate) fn count(conn: &Connection) -> Result<i64> {
    const SQL: Sql = Sql::new("SELECT COUNT(*) FROM tasks");
    Ok(conn.value(&SQL, params![])?.unwrap_or(0))
}

/// Fills in `blocked_by` and `blocked` for every task, in one query.
fn attach_blockers(conn: &Connection, tasks: &mut [Task]) -> Result<()> {
    const SQL: Sql = Sql::dialects(
        "SELECT b.task_id, b.blocker_id, t.status FROM task_blockers b \
         JOIN tasks t ON t.id = b.blocker_id \
         WHERE b.task_id IN (SELECT value FROM json_each(?1)) \
         ORDER BY b.task_id, b.blocker_id",
        "SELECT b.task_id, b.blocker_id, t.status FROM task_blockers b \
         JOIN tasks t ON t.id = b.blocker_id \
         WHERE b.task_id IN (SELECT jsonb_array_elements_text(CAST($1 AS TEXT)::jsonb)) \
         ORDER BY b.task_id, b.blocker_id",
    );
    if tasks.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(&tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into());
    let mut edges: HashMap<String, Vec<(String, TaskStatus)>> = HashMap::new();
    for (task_id, blocker, status) in conn.query(&SQL, params![ids], |r| {
        Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get(2)?))
    })? {
        edges.entry(task_id).or_default().push((blocker, status));
    }
    if edges.is_empty() {
        return Ok(());
    }
    for task in tasks.iter_mut() {
        if let Some(blockers) = edges.remove(&task.id) {
            task.blocked = blockers.iter().any(|(_, s)| *s != TaskStatus::Done);
            task.blocked_by = blockers.into_iter().map(|(id, _)| id).collect();
        }
    }
    Ok(())
}

/// Replaces a task's blockers.
pub(crate) fn set_blockers(conn: &Connection, task_id: &str, blockers: &[String]) -> Result<()> {
    const CLEAR: Sql = Sql::new("DELETE FROM task_blockers WHERE task_id = ?1");
    const ADD: Sql = Sql::new(
        "INSERT INTO task_blockers (task_id, blocker_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    );
    conn.execute(&CLEAR, params![task_id])?;
    for blocker in blockers {
        conn.execute(&ADD, params![task_id, blocker])?;
    }
    Ok(())
}

/// Whether any of `ids` is a task that is not done.
pub(crate) fn any_unfinished(conn: &Connection, ids: &[String]) -> Result<bool> {
    const SQL: Sql = Sql::new("SELECT 1 FROM tasks WHERE id = ?1 AND status != 'done'");
    for id in ids {
        if conn.exists(&SQL, params![id])? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Of `ids`, those that are not tasks.
pub(crate) fn missing(conn: &Connection, ids: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for id in ids {
        if !exists(conn, id)? {
            out.push(id.clone());
        }
    }
    Ok(out)
}

/// How a walk up the blocker graph ended: what [`reaches`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The walk went through everything the blockers wait for and never met the target.
    No,
    /// The target is among what the blockers wait for, directly or through others.
    Yes,
    /// More than the limit of tasks to walk, without meeting the target: unknown.
    TooFar,
}

/// Whether `target` is among the tasks `from` wait for, directly or through others, walking
/// at most `limit` tasks (each once, however many paths lead to it).
pub(crate) fn reaches(
    conn: &Connection,
    from: &[String],
    target: &str,
    limit: usize,
) -> Result<Reach> {
    // SQLite stops the recursion at the LIMIT inside it; PostgreSQL evaluates a recursive
    // query only as far as its reader takes rows, so the LIMIT of the reading query does.
    const SQL: Sql = Sql::dialects(
        "WITH RECURSIVE upstream(id) AS ( \
           SELECT value FROM json_each(?1) \
           UNION SELECT b.blocker_id FROM task_blockers b JOIN upstream u ON b.task_id = u.id \
           LIMIT ?3 \
         ) SELECT COUNT(*), COALESCE(MAX(id = ?2), 0) FROM upstream",
        "WITH RECURSIVE upstream(id) AS ( \
           SELECT value FROM jsonb_array_elements_text(CAST($1 AS TEXT)::jsonb) AS value \
           UNION SELECT b.blocker_id FROM task_blockers b JOIN upstream u ON b.task_id = u.id \
         ) SELECT COUNT(*), COALESCE(BOOL_OR(id = CAST($2 AS TEXT)), FALSE) \
           FROM (SELECT id FROM upstream LIMIT $3) AS walked",
    );
    let ids = serde_json::to_string(from).unwrap_or_else(|_| "[]".into());
    let walk = limit.saturating_add(1);
    let (walked, found) = conn
        .query_opt(&SQL, params![ids, target, walk], |r| {
            Ok((r.get::<i64>(0)?, r.get::<bool>(1)?))
        })?
        .unwrap_or((0, false));
    Ok(if found {
        Reach::Yes
    } else if usize::try_from(walked).unwrap_or(usize::MAX) > limit {
        Reach::TooFar
    } else {
        Reach::No
    })
}

/// Of `blockers`, one that `limit` tasks already wait for.
pub(crate) fn crowded(
    conn: &Connection,
    blockers: &[String],
    limit: usize,
) -> Result<Option<String>> {
    const SQL: Sql = Sql::dialects(
        "SELECT blocker_id FROM task_blockers \
         WHERE blocker_id IN (SELECT value FROM json_each(?1)) \
         GROUP BY blocker_id HAVING COUNT(*) >= ?2 ORDER BY blocker_id LIMIT 1",
        "SELECT blocker_id FROM task_blockers \
         WHERE blocker_id IN (SELECT jsonb_array_elements_text(CAST($1 AS TEXT)::jsonb)) \
         GROUP BY blocker_id HAVING COUNT(*) >= $2 ORDER BY blocker_id LIMIT 1",
    );
    if blockers.is_empty() {
        return Ok(None);
    }
    let ids = serde_json::to_string(blockers).unwrap_or_else(|_| "[]".into());
    conn.value(&SQL, params![ids, limit])
}

/// The tasks waiting for `blocker_id` that wait for nothing unfinished now: how many, and the
/// id of one of them.
pub(crate) fn unblocked_by(conn: &Connection, blocker_id: &str) -> Result<(i64, Option<String>)> {
    const SQL: Sql = Sql::new(
        "SELECT COUNT(*), MIN(d.task_id) FROM task_blockers d \
         WHERE d.blocker_id = ?1 AND NOT EXISTS ( \
           SELECT 1 FROM task_blockers o JOIN tasks t ON t.id = o.blocker_id \
           WHERE o.task_id = d.task_id AND t.status != 'done')",
    );
    Ok(conn
        .query_opt(&SQL, params![blocker_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .unwrap_or((0, None)))
}

/// The task `claim-next` gives `agent`: the highest priority, then oldest, `todo` task that
/// is unassigned or assigned to `agent`, matches `filter`, and waits for nothing unfinished.
pub(crate) fn claimable(
    conn: &Connection,
    agent: &str,
    filter: &ClaimFilter,
) -> Result<Option<Task>> {
    const WITH_PRIORITY: Sql = Sql::dialects(
        concat!(
            "SELECT ",
            columns!(),
            " FROM tasks t \
             WHERE t.status = 'todo' AND t.priority = ?1 \
               AND (t.assigned_agent IS NULL OR t.assigned_agent = ?2) \
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(t.tags) WHERE value = ?3)) \
               AND NOT EXISTS (SELECT 1 FROM task_blockers b JOIN tasks bt ON bt.id = b.blocker_id \
                               WHERE b.task_id = t.id AND bt.status != 'done') \
             ORDER BY t.created_at, t.id LIMIT 1"
        ),
        concat!(
            "SELECT ",
            columns!(),
            " FROM tasks t \
             WHERE t.status = 'todo' AND t.priority = $1 \
               AND (t.assigned_agent IS NULL OR t.assigned_agent = $2) \
               AND (CAST($3 AS TEXT) IS NULL OR (t.tags::jsonb) ? $3) \
               AND NOT EXISTS (SELECT 1 FROM task_blockers b JOIN tasks bt ON bt.id = b.blocker_id \
                               WHERE b.task_id = t.id AND bt.status != 'done') \
             ORDER BY t.created_at, t.id LIMIT 1"
        ),
    );
    const WITHOUT_PRIORITY: Sql = Sql::dialects(
        concat!(
            "SELECT ",
            columns!(),
            " FROM tasks t \
             WHERE t.status = 'todo' AND t.priority IS NULL AND ?1 IS NULL \
               AND (t.assigned_agent IS NULL OR t.assigned_agent = ?2) \
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(t.tags) WHERE value = ?3)) \
               AND NOT EXISTS (SELECT 1 FROM task_blockers b JOIN tasks bt ON bt.id = b.blocker_id \
                               WHERE b.task_id = t.id AND bt.status != 'done') \
             ORDER BY t.created_at, t.id LIMIT 1"
        ),
        concat!(
            "SELECT ",
            columns!(),
            " FROM tasks t \
             WHERE t.status = 'todo' AND t.priority IS NULL AND CAST($1 AS TEXT) IS NULL \
               AND (t.assigned_agent IS NULL OR t.assigned_agent = $2) \
               AND (CAST($3 AS TEXT) IS NULL OR (t.tags::jsonb) ? $3) \
               AND NOT EXISTS (SELECT 1 FROM task_blockers b JOIN tasks bt ON bt.id = b.blocker_id \
                               WHERE b.task_id = t.id AND bt.status != 'done') \
             ORDER BY t.created_at, t.id LIMIT 1"
        ),
    );
    // One indexed query per priority, highest first, each stopping at its first match.
    let mut priorities: Vec<Option<Priority>> =
        Priority::ALL.iter().rev().copied().map(Some).collect();
    priorities.push(None);
    let tag = filter.tag.as_ref().map(|t| t.as_str());
    for priority in priorities {
        if filter.priority.is_some() && filter.priority != priority {
            continue;
        }
        let sql = if priority.is_some() {
            &WITH_PRIORITY
        } else {
            &WITHOUT_PRIORITY
        };
        if let Some(task) = conn.query_opt(sql, params![priority, agent, tag], from_row)? {
            let mut tasks = [task];
            attach_blockers(conn, &mut tasks)?;
            let [task] = tasks;
            return Ok(Some(task));
        }
    }
    Ok(None)
}

/// Tasks whose lease has ended by `now`.
pub(crate) fn expired_leases(conn: &Connection, now: i64) -> Result<Vec<Task>> {
    const SQL: Sql = Sql::new(concat!(
        "SELECT ",
        columns!(),
        " FROM tasks WHERE lease_expires_at IS NOT NULL AND lease_expires_at <= ?1 \
         ORDER BY lease_expires_at LIMIT 500"
    ));
    query(conn, &SQL, params![now])
}

/// How many tasks `agent` holds a live lease on.
pub(crate) fn count_held_by(conn: &Connection, agent: &str, now: i64) -> Result<i64> {
    const SQL: Sql =
        Sql::new("SELECT COUNT(*) FROM tasks WHERE assigned_agent = ?1 AND lease_expires_at > ?2");
    Ok(conn.value(&SQL, params![agent, now])?.unwrap_or(0))
}

/// Up to `limit` of the tasks `agent` holds a live lease on, those whose leases run out first
/// first.
pub(crate) fn held_by(conn: &Connection, agent: &str, now: i64, limit: usize) -> Result<Vec<Task>> {
    const SQL: Sql = Sql::new(concat!(
        "SELECT ",
        columns!(),
        " FROM tasks WHERE assigned_agent = ?1 AND lease_expires_at > ?2 \
         ORDER BY lease_expires_at, id LIMIT ?3"
    ));
    query(conn, &SQL, params![agent, now, limit])
}

/// Tasks assigned to `agent`.
pub(crate) fn assigned_to(conn: &Connection, agent: &str) -> Result<Vec<Task>> {
    const SQL: Sql = Sql::new(concat!(
        "SELECT ",
        columns!(),
        " FROM tasks WHERE assigned_agent = ?1 ORDER BY created_at, id"
    ));
    query(conn, &SQL, params![agent])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let cursor = TaskCursor {
            created_at: 1708099200000,
            id: "task-0192".into(),
        };
        assert_eq!(TaskCursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(TaskCursor::decode("x.task-1"), None);
        assert_eq!(TaskCursor::decode("1.Task 1"), None);
        assert_eq!(TaskCursor::decode("12"), None);
    }
}
