//! SQL for the `changes` table: the change log, numbered by `seq`.
//!
//! Where the last seq handed out is kept differs: SQLite's `AUTOINCREMENT` counter
//! (`sqlite_sequence`), which moves by itself as rows are added; on PostgreSQL the one row of
//! `log_position`, which the writer sets before each group commit ([`set_latest`]).
//!
//! The log's size in bytes (the sum of its payloads' bytes) is kept beside it in
//! `change_log_size`: the writer adds what each group commit logged ([`grow`]), a trim takes
//! off what it forgot ([`sweep`]), so the bound in bytes is checked without reading the log.

use super::{Connection, Dialect, Sql, params};
use crate::bus::ChangeEntry;
use crate::error::Result;

/// Appends a change with the next `seq` (the writer's to choose: one above [`latest`]).
pub(crate) fn insert(
    conn: &Connection,
    seq: i64,
    name: &str,
    payload: &str,
    now: i64,
) -> Result<()> {
    const SQL: Sql =
        Sql::new("INSERT INTO changes (seq, name, payload, created_at) VALUES (?1, ?2, ?3, ?4)");
    conn.execute(&SQL, params![seq, name, payload, now])?;
    Ok(())
}

/// Up to `limit` changes after `after`, in order.
pub(crate) fn after(conn: &Connection, after: i64, limit: usize) -> Result<Vec<ChangeEntry>> {
    const SQL: Sql =
        Sql::new("SELECT seq, name, payload FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    conn.query(&SQL, params![after, limit], |r| {
        Ok(ChangeEntry {
            seq: r.get(0)?,
            name: r.get(1)?,
            payload: r.get(2)?,
        })
    })
}

/// The last seq handed out (0 before the first change), whether or not it is still kept.
pub(crate) fn latest(conn: &Connection) -> Result<i64> {
    const SQL: Sql = Sql::dialects(
        "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
        "SELECT last_seq FROM log_position WHERE id = 1",
    );
    Ok(conn.value(&SQL, params![])?.unwrap_or(0))
}

/// Records the last seq handed out, where the database does not do it itself.
pub(crate) fn set_latest(conn: &Connection, seq: i64) -> Result<()> {
    const SQL: Sql = Sql::new("UPDATE log_position SET last_seq = ?1 WHERE id = 1");
    if conn.dialect() == Dialect::Postgres {
        conn.execute(&SQL, params![seq])?;
    }
    Ok(())
}

/// Moves SQLite's counter of the last seq handed out to `seq` (a job setting seqs aside,
/// with no row of the log to move it); PostgreSQL's is written by the writer at each commit.
pub(crate) fn set_sqlite_latest(conn: &Connection, seq: i64) -> Result<()> {
    const UPDATE: Sql = Sql::new("UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'changes'");
    const INSERT: Sql = Sql::new("INSERT INTO sqlite_sequence (name, seq) VALUES ('changes', ?1)");
    if conn.dialect() == Dialect::Sqlite && conn.execute(&UPDATE, params![seq])? == 0 {
        conn.execute(&INSERT, params![seq])?;
    }
    Ok(())
}

/// The oldest seq still kept, if any.
pub(crate) fn oldest(conn: &Connection) -> Result<Option<i64>> {
    const SQL: Sql = Sql::new("SELECT MIN(seq) FROM changes");
    Ok(conn.value::<Option<i64>>(&SQL, params![])?.flatten())
}

/// Adds `bytes` (payload bytes just logged) to the log's size.
pub(crate) fn grow(conn: &Connection, bytes: i64) -> Result<()> {
    const SQL: Sql = Sql::new("UPDATE change_log_size SET bytes = bytes + ?1 WHERE id = 1");
    if bytes != 0 {
        conn.execute(&SQL, params![bytes])?;
    }
    Ok(())
}

/// The bytes of the payloads the log keeps.
pub(crate) fn size(conn: &Connection) -> Result<i64> {
    const SQL: Sql = Sql::new("SELECT bytes FROM change_log_size WHERE id = 1");
    Ok(conn.value(&SQL, params![])?.unwrap_or(0))
}

/// How far the log may reach back: what [`sweep`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bounds {
    /// Changes made before this time (epoch ms) go.
    pub before: i64,
    /// At most this many changes stay.
    pub keep: u64,
    /// At most this many bytes of payloads stay.
    pub max_bytes: u64,
}

/// Forgets changes older than `bounds.before`, all but the newest `bounds.keep`, and the oldest
/// until the payloads kept take at most `bounds.max_bytes`; how many.
///
/// What is kept is always one unbroken run of seqs up to the newest: each bound moves one cut
/// point, and everything up to the furthest goes (by age, everything up to the newest change
/// older than `before`, so a clock that stepped back cannot leave a hole that a resuming
/// client would silently skip). Reads only the rows it forgets.
pub(crate) fn sweep(conn: &Connection, bounds: Bounds) -> Result<usize> {
    // The newest feed line older than `before`, by the feed's timestamp index: every write logs
    // one, with the same clock reading as its changes, so the changes up to its seq are older too.
    const BY_AGE: Sql = Sql::new(
        "SELECT seq FROM events WHERE timestamp < ?1 AND seq IS NOT NULL \
         ORDER BY timestamp DESC, id DESC LIMIT 1",
    );
    const BYTES_UP_TO: Sql = Sql::new(
        "SELECT CAST(COALESCE(SUM(octet_length(payload)), 0) AS BIGINT) FROM changes \
         WHERE seq <= ?1",
    );
    const OLDEST_AFTER: Sql = Sql::new(
        "SELECT seq, octet_length(payload) FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    );
    const FORGET: Sql = Sql::new("DELETE FROM changes WHERE seq <= ?1");
    const SHRINK: Sql = Sql::new("UPDATE change_log_size SET bytes = bytes - ?1 WHERE id = 1");
    /// Rows read per step while looking for where the bytes fit.
    const STEP: usize = 1024;
    let by_age = conn
        .value::<Option<i64>>(&BY_AGE, params![bounds.before])?
        .flatten();
    let keep = i64::try_from(bounds.keep).unwrap_or(i64::MAX);
    let by_count = latest(conn)?.saturating_sub(keep);
    let mut cut = by_age.unwrap_or(0).max(by_count);
    let size = size(conn)?;
    let mut forgotten: i64 = conn.value(&BYTES_UP_TO, params![cut])?.unwrap_or(0);
    let max_bytes = i64::try_from(bounds.max_bytes).unwrap_or(i64::MAX);
    'by_size: while size - forgotten > max_bytes {
        let oldest: Vec<(i64, i64)> = conn.query(&OLDEST_AFTER, params![cut, STEP], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        if oldest.is_empty() {
            break;
        }
        for (seq, bytes) in oldest {
            if size - forgotten <= max_bytes {
                break 'by_size;
            }
            forgotten += bytes;
            cut = seq;
        }
    }
    let removed = conn.execute(&FORGET, params![cut])?;
    if removed > 0 {
        conn.execute(&SHRINK, params![forgotten])?;
    }
    Ok(removed)
}
