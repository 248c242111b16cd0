//! SQL for the `users` table: people who sign in, keyed by their card's id. Their display name
//! is their card's (`agents.name`), kept in one place.

use super::{Connection, Row, Sql, params};
use crate::domain::{Access, Person};
use crate::error::Result;

pub(crate) struct NewRow<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub access: Access,
    pub password_hash: Option<&'a str>,
    pub invite_hash: Option<&'a str>,
    pub invite_expires_at: Option<i64>,
    pub now: i64,
}

pub(crate) fn insert(conn: &Connection, row: &NewRow<'_>) -> Result<()> {
    const SQL: Sql = Sql::new(
        "INSERT INTO users (id, username, access, password_hash, invite_hash, \
         invite_expires_at, disabled, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    );
    insert_with(conn, &SQL, row)
}

/// Inserts the row unless one with its id or username exists (two processes starting on one
/// PostgreSQL board at once both make the operator's account: one row results).
pub(crate) fn insert_if_missing(conn: &Connection, row: &NewRow<'_>) -> Result<()> {
    const SQL: Sql = Sql::new(
        "INSERT INTO users (id, username, access, password_hash, invite_hash, \
         invite_expires_at, disabled, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT DO NOTHING",
    );
    insert_with(conn, &SQL, row)
}

fn insert_with(conn: &Connection, sql: &Sql, row: &NewRow<'_>) -> Result<()> {
    conn.execute(
        sql,
        params![
            row.id,
            row.username,
            row.access.as_str(),
            row.password_hash,
            row.invite_hash,
            row.invite_expires_at,
            false,
            row.now
        ],
    )?;
    Ok(())
}

macro_rules! person {
    () => {
        "SELECT u.id, u.username, COALESCE(a.name, u.username), u.access, u.disabled, \
         u.password_hash, u.created_at FROM users u LEFT JOIN agents a ON a.id = u.id"
    };
}

fn access(raw: &str) -> Result<Access> {
    raw.parse().map_err(|e: String| {
        crate::Error::Internal(format!("a stored access role is invalid: {e}"))
    })
}

fn person_from_row(row: &Row<'_>) -> Result<Person> {
    let role: String = row.get(3)?;
    let hash: Option<String> = row.get(5)?;
    Ok(Person {
        id: row.get(0)?,
        username: row.get(1)?,
        name: row.get(2)?,
        role: access(&role)?,
        disabled: row.get(4)?,
        invited: hash.is_none(),
        created_at: row.get(6)?,
    })
}

pub(crate) fn get(conn: &Connection, id: &str) -> Result<Option<Person>> {
    const SQL: Sql = Sql::new(concat!(person!(), " WHERE u.id = ?1"));
    conn.query_opt(&SQL, params![id], person_from_row)
}

/// Everyone, by username; at most 1000 (adding more is refused).
pub(crate) fn list(conn: &Connection) -> Result<Vec<Person>> {
    const SQL: Sql = Sql::new(concat!(person!(), " ORDER BY u.username LIMIT 1000"));
    conn.query(&SQL, params![], person_from_row)
}

/// How many people there are, for the bound on adding more.
pub(crate) fn count(conn: &Connection) -> Result<i64> {
    const SQL: Sql = Sql::new("SELECT COUNT(*) FROM users");
    Ok(conn.value(&SQL, params![])?.unwrap_or(0))
}

/// What signing in needs: the card's id, the password hash (none while invited), and whether
/// the person is disabled.
pub(crate) struct SignIn {
    pub id: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
}

pub(crate) fn sign_in(conn: &Connection, username: &str) -> Result<Option<SignIn>> {
    const SQL: Sql = Sql::new("SELECT id, password_hash, disabled FROM users WHERE username = ?1");
    conn.query_opt(&SQL, params![username], |r| {
        Ok(SignIn {
            id: r.get(0)?,
            password_hash: r.get(1)?,
            disabled: r.get(2)?,
        })
    })
}

/// The person a card belongs to, as the policy sees them: their access role and whether
/// they are disabled. `None`: the card is an agent's.
pub(crate) fn access_of(conn: &Connection, id: &str) -> Result<Option<(Access, bool)>> {
    const SQL: Sql = Sql::new("SELECT access, disabled FROM users WHERE id = ?1");
    conn.query_opt(&SQL, params![id], |r| {
        let role: String = r.get(0)?;
        Ok((access(&role)?, r.get(1)?))
    })
}

/// A person's password hash; `None` for nobody, or while invited.
pub(crate) fn password_hash(conn: &Connection, id: &str) -> Result<Option<String>> {
    const SQL: Sql = Sql::new("SELECT password_hash FROM users WHERE id = ?1");
    Ok(conn
        .query_opt(&SQL, params![id], |r| r.get::<Option<String>>(0))?
        .flatten())
}

/// The person whose unexpired invitation has this hash.
pub(crate) fn invited(conn: &Connection, invite_hash: &str, now: i64) -> Result<Option<String>> {
    const SQL: Sql = Sql::new(
        "SELECT id FROM users WHERE invite_hash = ?1 AND invite_expires_at > ?2 AND disabled = 0",
    );
    conn.query_opt(&SQL, params![invite_hash, now], |r| r.get(0))
}

/// Sets the password hash and ends any pending invitation.
pub(crate) fn set_password(conn: &Connection, id: &str, hash: &str, now: i64) -> Result<bool> {
    const SQL: Sql = Sql::new(
        "UPDATE users SET password_hash = ?2, invite_hash = NULL, invite_expires_at = NULL, \
         updated_at = ?3 WHERE id = ?1",
    );
    Ok(conn.execute(&SQL, params![id, hash, now])? > 0)
}

pub(crate) fn set_access(conn: &Connection, id: &str, access: Access, now: i64) -> Result<()> {
    const SQL: Sql = Sql::new("UPDATE users SET access = ?2, updated_at = ?3 WHERE id = ?1");
    conn.execute(&SQL, params![id, access.as_str(), now])?;
    Ok(())
}

pub(crate) fn set_disabled(conn: &Connection, id: &str, disabled: bool, now: i64) -> Result<()> {
    const SQL: Sql = Sql::new("UPDATE users SET disabled = ?2, updated_at = ?3 WHERE id = ?1");
    conn.execute(&SQL, params![id, disabled, now])?;
    Ok(())
}

pub(crate) fn delete(conn: &Connection, id: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("DELETE FROM users WHERE id = ?1");
    Ok(conn.execute(&SQL, params![id])? > 0)
}

/// Whether a person with this username exists.
pub(crate) fn username_taken(conn: &Connection, username: &str) -> Result<bool> {
    const SQL: Sql = Sql::new("SELECT 1 FROM users WHERE username = ?1");
    conn.exists(&SQL, params![username])
}
