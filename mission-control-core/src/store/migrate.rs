//! Numbered SQL migrations from the repository's `migrations/` folder, embedded in the binary
//! and applied in order at open. Each applied version is recorded in `schema_migrations`, so a
//! migration runs once per database; a file is never edited once released.

use rusqlite::Connection;

use super::sql;
use crate::domain::now_millis;
use crate::error::{Error, Result};

/// (version, name, SQL), in order. Add new files at the end with the next number.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "0001_initial",
        include_str!("../../../migrations/0001_initial.sql"),
    ),
    (
        2,
        "0002_hardening",
        include_str!("../../../migrations/0002_hardening.sql"),
    ),
    (
        3,
        "0003_agents_at_work",
        include_str!("../../../migrations/0003_agents_at_work.sql"),
    ),
    (
        4,
        "0004_change_log",
        include_str!("../../../migrations/0004_change_log.sql"),
    ),
];

pub(crate) fn apply(conn: &mut Connection) -> Result<()> {
    sql(conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        )",
    ))?;
    let current: i64 = sql(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    ))?;
    if let Some((latest, _, _)) = MIGRATIONS.last()
        && current > *latest
    {
        return Err(Error::Unavailable(format!(
            "the database is at schema version {current}, newer than this build knows ({latest}); \
                 use a newer build"
        )));
    }
    for (version, name, script) in MIGRATIONS.iter().filter(|(v, _, _)| *v > current) {
        // Each migration and its record commit together, so a crash leaves it fully applied
        // or not at all.
        let tx = sql(conn.transaction())?;
        sql(tx.execute_batch(script))?;
        sql(tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![version, name, now_millis()],
        ))?;
        sql(tx.commit())?;
        tracing::info!(version, name, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_create_the_spec_tables() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        apply(&mut conn).unwrap();
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, MIGRATIONS.len() as i64);
        for table in ["tasks", "agents", "events", "auth_tokens"] {
            let n: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 1, "table {table}");
        }
    }

    #[test]
    fn migration_versions_are_increasing() {
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].0 < pair[1].0);
        }
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        apply(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
            [],
        )
        .unwrap();
        assert!(matches!(apply(&mut conn), Err(Error::Unavailable(_))));
    }
}
