//! SQL for the `auth_tokens` table: one row per issued token, keyed by a hash of the token's
//! id, holding a hash of the token. Deleting the row revokes the token.

use rusqlite::{Connection, OptionalExtension, params};

use super::sql;
use crate::error::Result;

pub(crate) struct TokenRow<'a> {
    pub id_hash: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

pub(crate) fn insert(conn: &Connection, row: &TokenRow<'_>) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(
        "INSERT INTO auth_tokens (id, user_id, token_hash, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    ))?;
    sql(stmt.execute(params![
        row.id_hash,
        row.user_id,
        row.token_hash,
        row.created_at,
        row.expires_at
    ]))?;
    Ok(())
}

/// The stored token hash for an unexpired token id hash, if the token is still valid.
pub(crate) fn live_hash(conn: &Connection, id_hash: &str, now: i64) -> Result<Option<String>> {
    let mut stmt = sql(
        conn.prepare_cached("SELECT token_hash FROM auth_tokens WHERE id = ?1 AND expires_at > ?2")
    )?;
    sql(stmt
        .query_row(params![id_hash, now], |r| r.get(0))
        .optional())
}

pub(crate) fn delete(conn: &Connection, id_hash: &str) -> Result<bool> {
    let mut stmt = sql(conn.prepare_cached("DELETE FROM auth_tokens WHERE id = ?1"))?;
    Ok(sql(stmt.execute([id_hash]))? > 0)
}

/// Drops rows of tokens that have expired anyway; returns how many.
pub(crate) fn delete_expired(conn: &Connection, now: i64) -> Result<usize> {
    sql(conn.execute("DELETE FROM auth_tokens WHERE expires_at <= ?1", [now]))
}
