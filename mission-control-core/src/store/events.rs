//! SQL for the `events` table, the append-only log behind the dashboard's feed.

use mission_control_actions::limits;

use super::{Connection, Row, Sql, params};
use crate::domain::Event;
use crate::error::Result;

/// Which events `list` returns: at most `limit`; newest first, only later than `since`; or,
/// with `after`, the events that followed a seq, oldest first (a cursor that cannot skip).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventQuery {
    /// Epoch milliseconds; only events strictly later are returned.
    pub since: Option<i64>,
    /// A seq: only events after it, in order.
    pub after: Option<i64>,
    pub limit: u32,
}

/// One page of the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<Event>,
    /// Whether more events matched than `limit` allowed.
    pub has_more: bool,
}

impl EventQuery {
    pub const DEFAULT_LIMIT: u32 = limits::EVENTS_PAGE_DEFAULT as u32;
    pub const MAX_LIMIT: u32 = limits::PAGE_MAX as u32;

    /// The newest `limit` events, with `limit` capped at [`Self::MAX_LIMIT`].
    pub fn latest(limit: u32) -> Self {
        EventQuery {
            since: None,
            after: None,
            limit: limit.min(Self::MAX_LIMIT),
        }
    }
}

impl Default for EventQuery {
    fn default() -> Self {
        Self::latest(Self::DEFAULT_LIMIT)
    }
}

macro_rules! columns {
    () => {
        "id, type, message, agent_id, task_id, timestamp, seq"
    };
}

fn from_row(row: &Row<'_>) -> Result<Event> {
    Ok(Event {
        id: row.get(0)?,
        event_type: row.get(1)?,
        message: row.get(2)?,
        agent_id: row.get(3)?,
        task_id: row.get(4)?,
        timestamp: row.get(5)?,
        seq: row.get(6)?,
    })
}

/// Adds an event-log row, with the seq of its `event.new` change when it has one.
pub(crate) fn insert(conn: &Connection, event: &Event) -> Result<()> {
    const SQL: Sql = Sql::new(
        "INSERT INTO events (id, type, message, agent_id, task_id, timestamp, seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    );
    conn.execute(
        &SQL,
        params![
            event.id,
            event.event_type,
            event.message,
            event.agent_id,
            event.task_id,
            event.timestamp,
            event.seq
        ],
    )?;
    Ok(())
}

pub(crate) fn list(conn: &Connection, query: EventQuery) -> Result<EventPage> {
    const AFTER: Sql = Sql::new(concat!(
        "SELECT ",
        columns!(),
        " FROM events WHERE seq > ?1 AND timestamp > ?2 ORDER BY seq LIMIT ?3"
    ));
    const SINCE: Sql = Sql::new(concat!(
        "SELECT ",
        columns!(),
        " FROM events WHERE timestamp > ?1 ORDER BY timestamp DESC, id DESC LIMIT ?2"
    ));
    const NEWEST: Sql = Sql::new(concat!(
        "SELECT ",
        columns!(),
        " FROM events ORDER BY timestamp DESC, id DESC LIMIT ?1"
    ));
    let limit = query.limit.clamp(1, EventQuery::MAX_LIMIT);
    // One more than asked for says whether the page is the last. Separate statements rather
    // than `?1 IS NULL OR`: SQLite range-scans an index only when it can see the bound.
    let fetch = i64::from(limit) + 1;
    let mut events: Vec<Event> = match (query.after, query.since) {
        (Some(after), since) => conn.query(
            &AFTER,
            params![after, since.unwrap_or(i64::MIN), fetch],
            from_row,
        )?,
        (None, Some(since)) => conn.query(&SINCE, params![since, fetch], from_row)?,
        (None, None) => conn.query(&NEWEST, params![fetch], from_row)?,
    };
    let has_more = events.len() > limit as usize;
    events.truncate(limit as usize);
    Ok(EventPage { events, has_more })
}

/// Up to `limit` events after `after` (a timestamp and an id), oldest first: the whole log,
/// page by page.
pub(crate) fn page_all(
    conn: &Connection,
    after: Option<&(i64, String)>,
    limit: usize,
) -> Result<Vec<Event>> {
    const SQL: Sql = Sql::new(concat!(
        "SELECT ",
        columns!(),
        " FROM events WHERE (timestamp, id) > (?1, ?2) ORDER BY timestamp, id LIMIT ?3"
    ));
    let (at, id) = after.map_or((i64::MIN, ""), |(at, id)| (*at, id.as_str()));
    conn.query(&SQL, params![at, id, limit], from_row)
}

pub(crate) fn exists(conn: &Connection, id: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("SELECT 1 FROM events WHERE id = ?1");
    conn.exists(&SQL, params![id])
}
