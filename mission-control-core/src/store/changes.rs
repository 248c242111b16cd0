//! SQL for the `changes` table: the change log, numbered by `seq`.
//!
//! Where the last seq handed out is kept differs: SQLite's `AUTOINCREMENT` counter
//! (`sqlite_sequence`), which moves by itself as rows are added; on PostgreSQL the one row of
//! `log_position`, which the writer sets before each group commit ([`set_latest`]).

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

/// The oldest seq still kept, if any.
pub(crate) fn oldest(conn: &Connection) -> Result<Option<i64>> {
    const SQL: Sql = Sql::new("SELECT MIN(seq) FROM changes");
    Ok(conn.value::<Option<i64>>(&SQL, params![])?.flatten())
}

/// Forgets changes older than `before` (epoch ms) and all but the newest `keep`; how many.
///
/// What is kept is always one unbroken run of seqs up to the newest: by age, everything up to
/// the newest change older than `before` goes, so a clock that stepped back cannot leave a
/// hole that a resuming client would silently skip.
pub(crate) fn sweep(conn: &Connection, before: i64, keep: u64) -> Result<usize> {
    const BY_AGE: Sql = Sql::new(
        "DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes WHERE created_at < ?1)",
    );
    const BY_COUNT: Sql = Sql::new("DELETE FROM changes WHERE seq <= ?1");
    let by_age = conn.execute(&BY_AGE, params![before])?;
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    let by_count = conn.execute(&BY_COUNT, params![latest(conn)?.saturating_sub(keep)])?;
    Ok(by_age + by_count)
}
