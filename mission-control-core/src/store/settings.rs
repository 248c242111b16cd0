//! SQL for the `settings` table: board-wide values every serving process must agree on.

use super::{Connection, Sql, params};
use crate::error::Result;

pub(crate) fn get(conn: &Connection, name: &str) -> Result<Option<String>> {
    const SQL: Sql = Sql::new("SELECT value FROM settings WHERE name = ?1");
    conn.query_opt(&SQL, params![name], |r| r.get(0))
}

/// Sets `name` to `value`, whether or not it was set.
pub(crate) fn put(conn: &Connection, name: &str, value: &str, now: i64) -> Result<()> {
    const SQL: Sql = Sql::new(
        "INSERT INTO settings (name, value, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    );
    conn.execute(&SQL, params![name, value, now])?;
    Ok(())
}
