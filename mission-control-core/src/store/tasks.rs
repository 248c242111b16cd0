//! SQL for the `tasks` table.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::sql;
use crate::domain::{Task, TaskStatus};
use crate::error::Result;

const COLUMNS: &str = "id, title, description, status, assigned_agent, priority, created_at, \
                       updated_at, created_by, tags";

/// Which tasks `list` returns; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    /// Only tasks assigned to this agent id.
    pub agent: Option<String>,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Task> {
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
    })
}

fn tags_json(task: &Task) -> String {
    serde_json::to_string(&task.tags).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn insert(conn: &Connection, task: &Task) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(&format!(
        "INSERT INTO tasks ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    )))?;
    sql(stmt.execute(params![
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
    ]))?;
    Ok(())
}

/// Writes every field but the id and creation data.
pub(crate) fn update(conn: &Connection, task: &Task) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(
        "UPDATE tasks SET title = ?2, description = ?3, status = ?4, assigned_agent = ?5, \
         priority = ?6, updated_at = ?7, tags = ?8 WHERE id = ?1",
    ))?;
    sql(stmt.execute(params![
        task.id,
        task.title,
        task.description,
        task.status,
        task.assigned_agent,
        task.priority,
        task.updated_at,
        tags_json(task),
    ]))?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, id: &str) -> Result<bool> {
    let mut stmt = sql(conn.prepare_cached("DELETE FROM tasks WHERE id = ?1"))?;
    Ok(sql(stmt.execute([id]))? > 0)
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Task>> {
    let mut stmt = sql(conn.prepare_cached(&format!("SELECT {COLUMNS} FROM tasks WHERE id = ?1")))?;
    sql(stmt.query_row([id], from_row).optional())
}

/// Matching tasks, oldest first (the order cards were added to the board).
pub(crate) fn list(conn: &Connection, filter: &TaskFilter) -> Result<Vec<Task>> {
    // `?1 IS NULL OR ...` keeps one cached statement for every filter combination; SQLite still
    // uses the status or assignee index when the parameter is bound.
    let mut stmt = sql(conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM tasks \
         WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR assigned_agent = ?2) \
         ORDER BY created_at, id"
    )))?;
    let rows = sql(stmt.query_map(params![filter.status, filter.agent], from_row))?;
    sql(rows.collect())
}

pub(crate) fn count(conn: &Connection) -> Result<i64> {
    sql(conn.query_row("SELECT COUNT(*) FROM tasks", [], |r| r.get(0)))
}
