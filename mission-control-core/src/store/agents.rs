//! SQL for the `agents` table.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::sql;
use crate::domain::Agent;
use crate::error::Result;

const COLUMNS: &str = "id, name, role, status, last_active, avatar_color";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Agent> {
    Ok(Agent {
        id: row.get(0)?,
        name: row.get(1)?,
        role: row.get(2)?,
        status: row.get(3)?,
        last_active: row.get(4)?,
        avatar_color: row.get(5)?,
    })
}

pub(crate) fn insert(conn: &Connection, agent: &Agent) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(&format!(
        "INSERT INTO agents ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    )))?;
    sql(stmt.execute(params![
        agent.id,
        agent.name,
        agent.role,
        agent.status,
        agent.last_active,
        agent.avatar_color
    ]))?;
    Ok(())
}

pub(crate) fn update(conn: &Connection, agent: &Agent) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(
        "UPDATE agents SET name = ?2, role = ?3, status = ?4, last_active = ?5, avatar_color = ?6 \
         WHERE id = ?1",
    ))?;
    sql(stmt.execute(params![
        agent.id,
        agent.name,
        agent.role,
        agent.status,
        agent.last_active,
        agent.avatar_color
    ]))?;
    Ok(())
}

/// Marks the agent as active now; a no-op for ids that are not registered agents.
pub(crate) fn touch(conn: &Connection, id: &str, now: i64) -> Result<()> {
    let mut stmt =
        sql(conn
            .prepare_cached("UPDATE agents SET last_active = MAX(last_active, ?2) WHERE id = ?1"))?;
    sql(stmt.execute(params![id, now]))?;
    Ok(())
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Agent>> {
    let mut stmt =
        sql(conn.prepare_cached(&format!("SELECT {COLUMNS} FROM agents WHERE id = ?1")))?;
    sql(stmt.query_row([id], from_row).optional())
}

pub(crate) fn exists(conn: &Connection, id: &str) -> Result<bool> {
    let mut stmt = sql(conn.prepare_cached("SELECT 1 FROM agents WHERE id = ?1"))?;
    sql(stmt.exists([id]))
}

/// The agent other than `except` that goes by `name` (case-insensitively), if any.
pub(crate) fn named(conn: &Connection, name: &str, except: &str) -> Result<Option<String>> {
    let mut stmt =
        sql(conn
            .prepare_cached("SELECT id FROM agents WHERE name = ?1 COLLATE NOCASE AND id != ?2"))?;
    sql(stmt
        .query_row(params![name, except], |r| r.get(0))
        .optional())
}

pub(crate) fn delete(conn: &Connection, id: &str) -> Result<bool> {
    let mut stmt = sql(conn.prepare_cached("DELETE FROM agents WHERE id = ?1"))?;
    Ok(sql(stmt.execute([id]))? > 0)
}

/// Records the last signs of life seen in memory (never moving `last_active` back).
pub(crate) fn touch_all(conn: &Connection, seen: &[(String, i64)]) -> Result<()> {
    for (id, at) in seen {
        touch(conn, id, *at)?;
    }
    Ok(())
}

/// The name to write in event messages: the agent's display name, else its id.
pub(crate) fn display_name(conn: &Connection, id: &str) -> Result<String> {
    let mut stmt = sql(conn.prepare_cached("SELECT name FROM agents WHERE id = ?1"))?;
    let name: Option<String> = sql(stmt.query_row([id], |r| r.get(0)).optional())?;
    Ok(name.unwrap_or_else(|| id.to_owned()))
}

/// Every agent, by name.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Agent>> {
    let mut stmt = sql(conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM agents ORDER BY name COLLATE NOCASE, id"
    )))?;
    let rows = sql(stmt.query_map([], from_row))?;
    sql(rows.collect())
}
