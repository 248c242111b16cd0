//! SQL for the `changes` table: the change log, numbered by `seq`.

use rusqlite::{Connection, OptionalExtension, params};

use super::sql;
use crate::error::Result;

/// One entry of the change log as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChange {
    pub seq: i64,
    pub name: String,
    pub payload: String,
}

impl StoredChange {
    /// Whether clients receive this entry: the changes to the board do; a revoked token
    /// ([`crate::bus::REVOKED_TOKEN`]) and names this version does not know do not (a client
    /// then sees the seq skipped).
    pub fn for_clients(&self) -> bool {
        crate::bus::is_wire_name(&self.name)
    }

    /// The token this entry revokes (its hex SHA-256), if it is a revocation.
    pub fn revoked_token(&self) -> Option<String> {
        (self.name == crate::bus::REVOKED_TOKEN)
            .then(|| crate::bus::revoked_token_hash(&self.payload))
            .flatten()
    }
}

/// Appends a change with the next `seq` (the writer's to choose: one above [`latest`]).
pub(crate) fn insert(
    conn: &Connection,
    seq: i64,
    name: &str,
    payload: &str,
    now: i64,
) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(
        "INSERT INTO changes (seq, name, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
    ))?;
    sql(stmt.execute(params![seq, name, payload, now]))?;
    Ok(())
}

/// Up to `limit` changes after `after`, in order.
pub(crate) fn after(conn: &Connection, after: i64, limit: usize) -> Result<Vec<StoredChange>> {
    let mut stmt = sql(conn.prepare_cached(
        "SELECT seq, name, payload FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    ))?;
    let rows = sql(stmt.query_map(params![after, limit as i64], |r| {
        Ok(StoredChange {
            seq: r.get(0)?,
            name: r.get(1)?,
            payload: r.get(2)?,
        })
    }))?;
    sql(rows.collect())
}

/// The last seq handed out (0 before the first change), whether or not it is still kept.
pub(crate) fn latest(conn: &Connection) -> Result<i64> {
    let mut stmt =
        sql(conn.prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'changes'"))?;
    Ok(sql(stmt.query_row([], |r| r.get::<_, i64>(0)).optional())?.unwrap_or(0))
}

/// The oldest seq still kept, if any.
pub(crate) fn oldest(conn: &Connection) -> Result<Option<i64>> {
    let mut stmt = sql(conn.prepare_cached("SELECT MIN(seq) FROM changes"))?;
    sql(stmt.query_row([], |r| r.get(0)))
}

/// Forgets changes older than `before` (epoch ms) and all but the newest `keep`; how many.
///
/// What is kept is always one unbroken run of seqs up to the newest: by age, everything up to
/// the newest change older than `before` goes, so a clock that stepped back cannot leave a
/// hole that a resuming client would silently skip.
pub(crate) fn sweep(conn: &Connection, before: i64, keep: u64) -> Result<usize> {
    let by_age = sql(conn.execute(
        "DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes WHERE created_at < ?1)",
        [before],
    ))?;
    let by_count = sql(conn.execute(
        "DELETE FROM changes WHERE seq <= (SELECT seq FROM sqlite_sequence WHERE name = 'changes') - ?1",
        [keep as i64],
    ))?;
    Ok(by_age + by_count)
}
