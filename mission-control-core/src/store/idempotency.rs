//! SQL for the `idempotency_keys` table: the first answer to a keyed request, per actor.

use rusqlite::{Connection, OptionalExtension, params};

use super::sql;
use crate::error::Result;

/// The fingerprint and stored answer (JSON) of a key, if the actor used it.
pub(crate) fn get(conn: &Connection, actor: &str, key: &str) -> Result<Option<(String, String)>> {
    let mut stmt = sql(conn.prepare_cached(
        "SELECT fingerprint, answer FROM idempotency_keys WHERE actor = ?1 AND key = ?2",
    ))?;
    sql(stmt
        .query_row(params![actor, key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional())
}

pub(crate) fn insert(
    conn: &Connection,
    actor: &str,
    key: &str,
    fingerprint: &str,
    answer: &str,
    now: i64,
) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(
        "INSERT INTO idempotency_keys (actor, key, fingerprint, answer, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    ))?;
    sql(stmt.execute(params![actor, key, fingerprint, answer, now]))?;
    Ok(())
}

/// Forgets keys used before `before` (epoch ms); how many.
pub(crate) fn sweep(conn: &Connection, before: i64) -> Result<usize> {
    sql(conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < ?1",
        [before],
    ))
}
