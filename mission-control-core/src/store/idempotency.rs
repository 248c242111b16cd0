//! SQL for the `idempotency_keys` table: the first answer to a keyed request, per actor.

use super::{Connection, Sql, params};
use crate::error::Result;

/// The fingerprint and stored answer (JSON) of a key, if the actor used it.
pub(crate) fn get(conn: &Connection, actor: &str, key: &str) -> Result<Option<(String, String)>> {
    const SQL: Sql =
        Sql::new("SELECT fingerprint, answer FROM idempotency_keys WHERE actor = ?1 AND key = ?2");
    conn.query_opt(&SQL, params![actor, key], |r| Ok((r.get(0)?, r.get(1)?)))
}

pub(crate) fn insert(
    conn: &Connection,
    actor: &str,
    key: &str,
    fingerprint: &str,
    answer: &str,
    now: i64,
) -> Result<()> {
    const SQL: Sql = Sql::new(
        "INSERT INTO idempotency_keys (actor, key, fingerprint, answer, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    );
    conn.execute(&SQL, params![actor, key, fingerprint, answer, now])?;
    Ok(())
}

/// Forgets keys used before `before` (epoch ms); how many.
pub(crate) fn sweep(conn: &Connection, before: i64) -> Result<usize> {
    const SQL: Sql = Sql::new("DELETE FROM idempotency_keys WHERE created_at < ?1");
    conn.execute(&SQL, params![before])
}
