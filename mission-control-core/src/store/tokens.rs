//! SQL for the `auth_tokens` table: one row per issued token, keyed by a hash of the token's
//! id, holding a hash of the token. Deleting the row revokes the token.

use super::{Connection, Row, Sql, params};
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
    const SQL: Sql = Sql::new(
        "INSERT INTO auth_tokens (id, user_id, token_hash, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    );
    conn.execute(
        &SQL,
        params![
            row.id_hash,
            row.user_id,
            row.token_hash,
            row.created_at,
            row.expires_at
        ],
    )?;
    Ok(())
}

/// The stored token hash for an unexpired token id hash, if the token is still valid.
pub(crate) fn live_hash(conn: &Connection, id_hash: &str, now: i64) -> Result<Option<String>> {
    const SQL: Sql =
        Sql::new("SELECT token_hash FROM auth_tokens WHERE id = ?1 AND expires_at > ?2");
    conn.query_opt(&SQL, params![id_hash, now], |r| r.get(0))
}

/// Deletes one token; the hash of the token, if it existed.
pub(crate) fn delete(conn: &Connection, id_hash: &str) -> Result<Option<String>> {
    const SQL: Sql = Sql::new("DELETE FROM auth_tokens WHERE id = ?1 RETURNING token_hash");
    conn.query_opt(&SQL, params![id_hash], |r| r.get(0))
}

/// Deletes one of an agent's tokens; the token's hash, if the agent had it.
pub(crate) fn delete_of(conn: &Connection, user_id: &str, id_hash: &str) -> Result<Option<String>> {
    const SQL: Sql =
        Sql::new("DELETE FROM auth_tokens WHERE id = ?1 AND user_id = ?2 RETURNING token_hash");
    conn.query_opt(&SQL, params![id_hash, user_id], |r| r.get(0))
}

/// Deletes every token of an agent; their hashes.
pub(crate) fn delete_all_of(conn: &Connection, user_id: &str) -> Result<Vec<String>> {
    const SQL: Sql = Sql::new("DELETE FROM auth_tokens WHERE user_id = ?1 RETURNING token_hash");
    conn.query(&SQL, params![user_id], |r| r.get(0))
}

/// Deletes every token of an agent but one (by its id hash); their hashes.
pub(crate) fn delete_all_of_but(
    conn: &Connection,
    user_id: &str,
    keep_id_hash: &str,
) -> Result<Vec<String>> {
    const SQL: Sql =
        Sql::new("DELETE FROM auth_tokens WHERE user_id = ?1 AND id <> ?2 RETURNING token_hash");
    conn.query(&SQL, params![user_id, keep_id_hash], |r| r.get(0))
}

fn info_from_row(row: &Row<'_>) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.get(0)?,
        created_at: row.get(1)?,
        expires_at: row.get(2)?,
        last_used_at: row.get(3)?,
    })
}

/// An agent's unexpired tokens, newest first (never the tokens themselves).
pub(crate) fn list_of(conn: &Connection, user_id: &str, now: i64) -> Result<Vec<TokenInfo>> {
    const SQL: Sql = Sql::new(
        "SELECT id, created_at, expires_at, last_used_at FROM auth_tokens \
         WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at DESC LIMIT 500",
    );
    conn.query(&SQL, params![user_id, now], info_from_row)
}

/// Records when tokens were last used.
pub(crate) fn touch(conn: &Connection, used: &[(String, i64)]) -> Result<()> {
    const SQL: Sql = Sql::new(
        "UPDATE auth_tokens SET last_used_at = ?2 \
         WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
    );
    for (id_hash, at) in used {
        conn.execute(&SQL, params![id_hash, at])?;
    }
    Ok(())
}

/// Drops rows of tokens that have expired anyway; returns how many.
pub(crate) fn delete_expired(conn: &Connection, now: i64) -> Result<usize> {
    const SQL: Sql = Sql::new("DELETE FROM auth_tokens WHERE expires_at <= ?1");
    conn.execute(&SQL, params![now])
}
