//! SQL for the `agents` table.

use super::{Connection, Row, Sql, params};
use crate::domain::Agent;
use crate::error::Result;

macro_rules! columns {
    () => {
        "id, name, role, status, last_active, avatar_color"
    };
}

fn from_row(row: &Row<'_>) -> Result<Agent> {
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
    const SQL: Sql = Sql::new(concat!(
        "INSERT INTO agents (",
        columns!(),
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
    ));
    conn.execute(
        &SQL,
        params![
            agent.id,
            agent.name,
            agent.role,
            agent.status,
            agent.last_active,
            agent.avatar_color
        ],
    )?;
    Ok(())
}

pub(crate) fn update(conn: &Connection, agent: &Agent) -> Result<()> {
    const SQL: Sql = Sql::new(
        "UPDATE agents SET name = ?2, role = ?3, status = ?4, last_active = ?5, avatar_color = ?6 \
         WHERE id = ?1",
    );
    conn.execute(
        &SQL,
        params![
            agent.id,
            agent.name,
            agent.role,
            agent.status,
            agent.last_active,
            agent.avatar_color
        ],
    )?;
    Ok(())
}

/// Marks the agent as active at `now` (never moving `last_active` back); a no-op for ids that
/// are not registered agents.
pub(crate) fn touch(conn: &Connection, id: &str, now: i64) -> Result<()> {
    const SQL: Sql =
        Sql::new("UPDATE agents SET last_active = ?2 WHERE id = ?1 AND last_active < ?2");
    conn.execute(&SQL, params![id, now])?;
    Ok(())
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Agent>> {
    const SQL: Sql = Sql::new(concat!("SELECT ", columns!(), " FROM agents WHERE id = ?1"));
    conn.query_opt(&SQL, params![id], from_row)
}

pub(crate) fn exists(conn: &Connection, id: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("SELECT 1 FROM agents WHERE id = ?1");
    conn.exists(&SQL, params![id])
}

/// The agent other than `except` that goes by `name` (case-insensitively), if any.
pub(crate) fn named(conn: &Connection, name: &str, except: &str) -> Result<Option<String>> {
    const SQL: Sql = Sql::dialects(
        "SELECT id FROM agents WHERE name = ?1 COLLATE NOCASE AND id != ?2",
        "SELECT id FROM agents WHERE lower(name) = lower($1) AND id != $2",
    );
    conn.query_opt(&SQL, params![name, except], |r| r.get(0))
}

pub(crate) fn delete(conn: &Connection, id: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("DELETE FROM agents WHERE id = ?1");
    Ok(conn.execute(&SQL, params![id])? > 0)
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
    const SQL: Sql = Sql::new("SELECT name FROM agents WHERE id = ?1");
    let name: Option<String> = conn.query_opt(&SQL, params![id], |r| r.get(0))?;
    Ok(name.unwrap_or_else(|| id.to_owned()))
}

/// Every agent, by name.
pub(crate) fn list(conn: &Connection) -> Result<Vec<Agent>> {
    const SQL: Sql = Sql::dialects(
        concat!(
            "SELECT ",
            columns!(),
            " FROM agents ORDER BY name COLLATE NOCASE, id"
        ),
        concat!(
            "SELECT ",
            columns!(),
            " FROM agents ORDER BY lower(name), id"
        ),
    );
    conn.query(&SQL, params![], from_row)
}
