//! Numbered SQL migrations from the repository's `migrations/` folder, embedded in the binary
//! and applied in order at open: `migrations/sqlite/` for SQLite files, `migrations/postgres/`
//! for PostgreSQL databases. A new PostgreSQL database starts from one script that is the
//! schema SQLite's first migrations built; every later migration comes as a pair with the same
//! number. Each applied version is recorded in `schema_migrations`, so a migration runs once per
//! database; a file is never edited once released.
//!
//! Several processes may start on one PostgreSQL database at the same moment: they take a
//! session advisory lock around the migrations, so one applies them and the others find them
//! applied.

use super::{Connection, Dialect, Sql, params, postgres};
use crate::domain::now_millis;
use crate::error::{Error, Result};

/// (version, name, SQL), in order. Add new files at the end with the next number.
const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "0001_initial",
        include_str!("../../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "0002_hardening",
        include_str!("../../../migrations/sqlite/0002_hardening.sql"),
    ),
    (
        3,
        "0003_agents_at_work",
        include_str!("../../../migrations/sqlite/0003_agents_at_work.sql"),
    ),
    (
        4,
        "0004_change_log",
        include_str!("../../../migrations/sqlite/0004_change_log.sql"),
    ),
    (
        5,
        "0005_settings",
        include_str!("../../../migrations/sqlite/0005_settings.sql"),
    ),
    (
        6,
        "0006_bounded_storage",
        include_str!("../../../migrations/sqlite/0006_bounded_storage.sql"),
    ),
    (
        7,
        "0007_people",
        include_str!("../../../migrations/sqlite/0007_people.sql"),
    ),
    (
        8,
        "0008_leaner_writes",
        include_str!("../../../migrations/sqlite/0008_leaner_writes.sql"),
    ),
    (
        9,
        "0009_revoked_tokens",
        include_str!("../../../migrations/sqlite/0009_revoked_tokens.sql"),
    ),
];

const POSTGRES: &[(i64, &str, &str)] = &[
    (
        4,
        "0004_schema",
        include_str!("../../../migrations/postgres/0004_schema.sql"),
    ),
    (
        5,
        "0005_settings",
        include_str!("../../../migrations/postgres/0005_settings.sql"),
    ),
    (
        6,
        "0006_bounded_storage",
        include_str!("../../../migrations/postgres/0006_bounded_storage.sql"),
    ),
    (
        7,
        "0007_people",
        include_str!("../../../migrations/postgres/0007_people.sql"),
    ),
    (
        8,
        "0008_leaner_writes",
        include_str!("../../../migrations/postgres/0008_leaner_writes.sql"),
    ),
    (
        9,
        "0009_revoked_tokens",
        include_str!("../../../migrations/postgres/0009_revoked_tokens.sql"),
    ),
];

pub(crate) fn apply(conn: &Connection) -> Result<()> {
    let postgres = conn.dialect() == Dialect::Postgres;
    if postgres {
        conn.execute(
            &Sql::new("SELECT pg_advisory_lock(hashtext(current_schema()), ?1)"),
            params![postgres::MIGRATION_LOCK],
        )?;
    }
    let result = apply_locked(conn);
    if postgres {
        let _ = conn.execute(
            &Sql::new("SELECT pg_advisory_unlock(hashtext(current_schema()), ?1)"),
            params![postgres::MIGRATION_LOCK],
        );
    }
    result
}

fn apply_locked(conn: &Connection) -> Result<()> {
    let migrations = match conn.dialect() {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    conn.batch(match conn.dialect() {
        Dialect::Sqlite => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            )"
        }
        Dialect::Postgres => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )"
        }
    })?;
    let current: i64 = conn
        .value(
            &Sql::new("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"),
            params![],
        )?
        .unwrap_or(0);
    if let Some((latest, _, _)) = migrations.last()
        && current > *latest
    {
        return Err(Error::Unavailable(format!(
            "the database is at schema version {current}, newer than this build knows ({latest}); \
                 use a newer build"
        )));
    }
    for (version, name, script) in migrations.iter().filter(|(v, _, _)| *v > current) {
        // Each migration and its record commit together, so a crash leaves it fully applied
        // or not at all.
        conn.batch("BEGIN")?;
        let applied = conn.batch(script).and_then(|()| {
            conn.execute(
                &Sql::new(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                ),
                params![*version, *name, now_millis()],
            )
        });
        match applied {
            Ok(_) => conn.batch("COMMIT")?,
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                return Err(e);
            }
        }
        tracing::info!(version, name, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Connection {
        Connection::Sqlite(rusqlite::Connection::open_in_memory().unwrap())
    }

    #[test]
    fn migrations_apply_once_and_create_the_spec_tables() {
        let conn = memory();
        apply(&conn).unwrap();
        apply(&conn).unwrap();
        let count: i64 = conn
            .value(
                &Sql::new("SELECT COUNT(*) FROM schema_migrations"),
                params![],
            )
            .unwrap()
            .unwrap();
        assert_eq!(count, SQLITE.len() as i64);
        for table in ["tasks", "agents", "events", "auth_tokens"] {
            let n: i64 = conn
                .value(
                    &Sql::new(
                        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                    ),
                    params![table],
                )
                .unwrap()
                .unwrap();
            assert_eq!(n, 1, "table {table}");
        }
    }

    #[test]
    fn migration_versions_are_increasing_and_paired() {
        for list in [SQLITE, POSTGRES] {
            for pair in list.windows(2) {
                assert!(pair[0].0 < pair[1].0);
            }
        }
        // Every PostgreSQL migration has its SQLite twin, and the lists end at the same one.
        for (version, _, _) in POSTGRES {
            assert!(SQLITE.iter().any(|(v, _, _)| v == version), "{version}");
        }
        assert_eq!(SQLITE.last().map(|m| m.0), POSTGRES.last().map(|m| m.0));
    }

    #[test]
    fn a_newer_database_is_refused() {
        let conn = memory();
        apply(&conn).unwrap();
        conn.batch(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
        )
        .unwrap();
        assert!(matches!(apply(&conn), Err(Error::Unavailable(_))));
    }
}
