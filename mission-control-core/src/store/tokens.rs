//! SQL for the `auth_tokens` table: one row per issued token, keyed by a hash of the token's
//! id, holding a hash of the token. Deleting the row revokes the token.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::sql;
use crate::domain::TokenInfo;
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

/// Deletes one token; the hash of the token, if it existed.
pub(crate) fn delete(conn: &Connection, id_hash: &str) -> Result<Option<String>> {
    let mut stmt =
        sql(conn.prepare_cached("DELETE FROM auth_tokens WHERE id = ?1 RETURNING token_hash"))?;
    sql(stmt.query_row([id_hash], |r| r.get(0)).optional())
}

/// Deletes one of an agent's tokens; the token's hash, if the agent had it.
pub(crate) fn delete_of(conn: &Connection, user_id: &str, id_hash: &str) -> Result<Option<String>> {
    let mut stmt = sql(conn.prepare_cached(
        "DELETE FROM auth_tokens WHERE id = ?1 AND user_id = ?2 RETURNING token_hash",
    ))?;
    sql(stmt.query_row([id_hash, user_id], |r| r.get(0)).optional())
}

/// Deletes every token of an agent; their hashes.
pub(crate) fn delete_all_of(conn: &Connection, user_id: &str) -> Result<Vec<String>> {
    let mut stmt = sql(
        conn.prepare_cached("DELETE FROM auth_tokens WHERE user_id = ?1 RETURNING token_hash")
    )?;
    let rows = sql(stmt.query_map([user_id], |r| r.get(0)))?;
    sql(rows.collect())
}

fn info_from_row(row: &Row<'_>) -> rusqlite::Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.get(0)?,
        created_at: row.get(1)?,
        expires_at: row.get(2)?,
        last_used_at: row.get(3)?,
    })
}

/// An agent's unexpired tokens, newest first (never the tokens themselves).
pub(crate) fn list_of(conn: &Connection, user_id: &str, now: i64) -> Result<Vec<TokenInfo>> {
    let mut stmt = sql(conn.prepare_cached(
        "SELECT id, created_at, expires_at, last_used_at FROM auth_tokens \
         WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at DESC LIMIT 500",
    ))?;
    let rows = sql(stmt.query_map(params![user_id, now], info_from_row))?;
    sql(rows.collect())
}

/// Records when tokens were last used.
pub(crate) fn touch(conn: &Connection, used: &[(String, i64)]) -> Result<()> {
    let mut stmt = sql(conn.prepare_cached(
        "UPDATE auth_tokens SET last_used_at = MAX(COALESCE(last_used_at, 0), ?2) WHERE id = ?1",
    ))?;
    for (id_hash, at) in used {
        sql(stmt.execute(params![id_hash, at]))?;
    }
    Ok(())
}

/// Drops rows of tokens that have expired anyway; returns how many.
pub(crate) fn delete_expired(conn: &Connection, now: i64) -> Result<usize> {
    sql(conn.execute("DELETE FROM auth_tokens WHERE expires_at <= ?1", [now]))
}
