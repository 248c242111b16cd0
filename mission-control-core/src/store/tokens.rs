//! SQL for the `auth_tokens` table: one row per issued token, keyed by a hash of the token's
//! id, holding a hash of the token. Deleting the row revokes the token; `revoked_tokens`
//! remembers the revoked ids until they would have expired anyway, so that an import of an
//! older export cannot bring one back.

use super::{Connection, Row, Sql, params};
use crate::domain::{RevokedToken, TokenInfo, TokenRecord};
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

/// Deletes one token, remembering it as revoked; the hash of the token, if it existed.
pub(crate) fn delete(conn: &Connection, id_hash: &str) -> Result<Option<String>> {
    const REMEMBER: Sql = Sql::new(
        "INSERT INTO revoked_tokens (id, expires_at) \
         SELECT id, expires_at FROM auth_tokens WHERE id = ?1 ON CONFLICT (id) DO NOTHING",
    );
    const SQL: Sql = Sql::new("DELETE FROM auth_tokens WHERE id = ?1 RETURNING token_hash");
    conn.execute(&REMEMBER, params![id_hash])?;
    conn.query_opt(&SQL, params![id_hash], |r| r.get(0))
}

/// Deletes one of an agent's tokens, remembering it as revoked; the token's hash, if the
/// agent had it.
pub(crate) fn delete_of(conn: &Connection, user_id: &str, id_hash: &str) -> Result<Option<String>> {
    const REMEMBER: Sql = Sql::new(
        "INSERT INTO revoked_tokens (id, expires_at) \
         SELECT id, expires_at FROM auth_tokens WHERE id = ?1 AND user_id = ?2 \
         ON CONFLICT (id) DO NOTHING",
    );
    const SQL: Sql =
        Sql::new("DELETE FROM auth_tokens WHERE id = ?1 AND user_id = ?2 RETURNING token_hash");
    conn.execute(&REMEMBER, params![id_hash, user_id])?;
    conn.query_opt(&SQL, params![id_hash, user_id], |r| r.get(0))
}

/// Deletes every token of an agent, remembering them as revoked; their hashes.
pub(crate) fn delete_all_of(conn: &Connection, user_id: &str) -> Result<Vec<String>> {
    const REMEMBER: Sql = Sql::new(
        "INSERT INTO revoked_tokens (id, expires_at) \
         SELECT id, expires_at FROM auth_tokens WHERE user_id = ?1 ON CONFLICT (id) DO NOTHING",
    );
    const SQL: Sql = Sql::new("DELETE FROM auth_tokens WHERE user_id = ?1 RETURNING token_hash");
    conn.execute(&REMEMBER, params![user_id])?;
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

/// Drops rows of tokens that have expired anyway, and the revocations of expired tokens;
/// returns how many tokens.
pub(crate) fn delete_expired(conn: &Connection, now: i64) -> Result<usize> {
    const SQL: Sql = Sql::new("DELETE FROM auth_tokens WHERE expires_at <= ?1");
    const REVOKED: Sql = Sql::new("DELETE FROM revoked_tokens WHERE expires_at <= ?1");
    conn.execute(&REVOKED, params![now])?;
    conn.execute(&SQL, params![now])
}

/// Every unexpired token, by id: what an export carries to another board.
pub(crate) fn all_live(conn: &Connection, now: i64) -> Result<Vec<TokenRecord>> {
    const SQL: Sql = Sql::new(
        "SELECT id, user_id, token_hash, created_at, expires_at, last_used_at FROM auth_tokens \
         WHERE expires_at > ?1 ORDER BY id",
    );
    conn.query(&SQL, params![now], |r| {
        Ok(TokenRecord {
            id: r.get(0)?,
            agent_id: r.get(1)?,
            token_hash: r.get(2)?,
            created_at: r.get(3)?,
            expires_at: r.get(4)?,
            last_used_at: r.get(5)?,
        })
    })
}

/// Every remembered revocation of a token not yet expired, by id.
pub(crate) fn all_revoked(conn: &Connection, now: i64) -> Result<Vec<RevokedToken>> {
    const SQL: Sql =
        Sql::new("SELECT id, expires_at FROM revoked_tokens WHERE expires_at > ?1 ORDER BY id");
    conn.query(&SQL, params![now], |r| {
        Ok(RevokedToken {
            id: r.get(0)?,
            expires_at: r.get(1)?,
        })
    })
}

/// Whether the board has a row for this token id.
pub(crate) fn exists(conn: &Connection, id_hash: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("SELECT 1 FROM auth_tokens WHERE id = ?1");
    conn.exists(&SQL, params![id_hash])
}

/// Whether this token id was revoked here (and has not expired since).
pub(crate) fn is_revoked(conn: &Connection, id_hash: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("SELECT 1 FROM revoked_tokens WHERE id = ?1");
    conn.exists(&SQL, params![id_hash])
}

/// Adds a token's row as another board kept it (an import).
pub(crate) fn insert_record(conn: &Connection, token: &TokenRecord) -> Result<()> {
    const SQL: Sql = Sql::new(
        "INSERT INTO auth_tokens (id, user_id, token_hash, created_at, expires_at, last_used_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    );
    conn.execute(
        &SQL,
        params![
            token.id,
            token.agent_id,
            token.token_hash,
            token.created_at,
            token.expires_at,
            token.last_used_at
        ],
    )?;
    Ok(())
}

/// Records a revocation another board made (an import); whether it was new here.
pub(crate) fn remember_revoked(conn: &Connection, token: &RevokedToken) -> Result<bool> {
    const SQL: Sql = Sql::new(
        "INSERT INTO revoked_tokens (id, expires_at) VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
    );
    Ok(conn.execute(&SQL, params![token.id, token.expires_at])? > 0)
}
