//! SQL for the `events` table, the append-only log behind the dashboard's feed.

use rusqlite::{Connection, Row, params};

use super::sql;
use crate::domain::Event;
use crate::error::Result;

/// Which events `list` returns: newest first, at most `limit`, only later than `since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventQuery {
    /// Epoch milliseconds; only events strictly later are returned.
    pub since: Option<i64>,
    pub limit: u32,
}

impl EventQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 500;

    /// The newest `limit` events, with `limit` capped at [`Self::MAX_LIMIT`].
    pub fn latest(limit: u32) -> Self {
        EventQuery {
            since: None,
            limit: limit.min(Self::MAX_LIMIT),
        }
    }
}

impl Default for EventQuery {
    fn default() -> Self {
        Self::latest(Self::DEFAULT_LIMIT)
    }
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: row.get(0)?,
        event_type: row.get(1)?,
        message: row.get(2)?,
        agent_id: row.get(3)?,
        task_id: row.get(4)?,
        timestamp: row.get(5)?,
    })
}

pub(crate) fn insert(conn: &Connection, event: &Event) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(
        "INSERT INTO events (id, type, message, agent_id, task_id, timestamp) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    ))?;
    sql(stmt.execute(params![
        event.id,
        event.event_type,
        event.message,
        event.agent_id,
        event.task_id,
        event.timestamp
    ]))?;
    Ok(())
}

pub(crate) fn list(conn: &Connection, query: EventQuery) -> Result<Vec<Event>> {
    let limit = query.limit.min(EventQuery::MAX_LIMIT);
    // Two statements rather than `?1 IS NULL OR`: the range scan on the timestamp index only
    // happens when SQLite can see the bound.
    match query.since {
        Some(since) => {
            let mut stmt = sql(conn.prepare_cached(
                "SELECT id, type, message, agent_id, task_id, timestamp FROM events \
                 WHERE timestamp > ?1 ORDER BY timestamp DESC, id DESC LIMIT ?2",
            ))?;
            sql(stmt.query_map(params![since, limit], from_row)?.collect())
        }
        None => {
            let mut stmt = sql(conn.prepare_cached(
                "SELECT id, type, message, agent_id, task_id, timestamp FROM events \
                 ORDER BY timestamp DESC, id DESC LIMIT ?1",
            ))?;
            sql(stmt.query_map(params![limit], from_row)?.collect())
        }
    }
}
