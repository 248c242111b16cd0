//! The two databases a board can live in, behind one small interface: an embedded SQLite file
//! (the default, for a person with a few agents) or a PostgreSQL server (for a team, and for
//! several server processes sharing one board).
//!
//! Why an interface of our own rather than an ORM: every table module (`tasks`, `agents`, ...)
//! writes its SQL once, and the rules above them (the service) never see which database runs it.
//! What differs between the two is small and kept here: placeholders (`?1` in SQLite, `$1` in
//! PostgreSQL; queries are written with `?N` and translated once per statement), how values and
//! columns are carried, transactions, and errors. The few statements whose SQL must differ (JSON
//! functions, a case-insensitive comparison) say so with [`Sql::dialects`].

use super::postgres::{self, PgConnection};
use super::sqlite::conversions as sqlite;
use super::value::{Column, Param};
use crate::error::Result;

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// One statement, with its text for each database. Write it with `?1`, `?2`, ... placeholders;
/// for PostgreSQL they become `$1`, `$2`, ... (text inside quotes is left alone).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sql {
    pub sqlite: &'static str,
    /// `None`: the SQLite text, with its placeholders translated.
    pub postgres: Option<&'static str>,
}

impl Sql {
    /// A statement both databases understand as written.
    pub const fn new(text: &'static str) -> Sql {
        Sql {
            sqlite: text,
            postgres: None,
        }
    }

    /// A statement whose text differs: the PostgreSQL text uses `$1`, `$2`, ... itself.
    pub const fn dialects(sqlite: &'static str, postgres: &'static str) -> Sql {
        Sql {
            sqlite,
            postgres: Some(postgres),
        }
    }
}

/// A connection to the board's database: the writer's, a reader's, or a snapshot's.
pub(crate) enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConnection>),
}

/// One row of a result, read by column index.
pub(crate) enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r ::postgres::Row),
}

impl Row<'_> {
    /// The value of column `index` (from 0).
    pub fn get<T: Column>(&self, index: usize) -> Result<T> {
        match self {
            Row::Sqlite(row) => sqlite::column(row, index),
            Row::Postgres(row) => postgres::column(row, index),
        }
    }
}

impl Connection {
    pub fn dialect(&self) -> Dialect {
        match self {
            Connection::Sqlite(_) => Dialect::Sqlite,
            Connection::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection, for what only SQLite has (its WAL, online backup, `quick_check`).
    pub fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Connection::Sqlite(conn) => Some(conn),
            Connection::Postgres(_) => None,
        }
    }

    /// Runs a statement; how many rows it changed.
    pub fn execute(&self, sql: &Sql, params: &[&dyn Param]) -> Result<usize> {
        match self {
            Connection::Sqlite(conn) => sqlite::execute(conn, sql, params),
            Connection::Postgres(conn) => conn.execute(sql, params),
        }
    }

    /// Every row of a query, each turned into a `T` by `map`.
    pub fn query<T>(
        &self,
        sql: &Sql,
        params: &[&dyn Param],
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        match self {
            Connection::Sqlite(conn) => sqlite::query(conn, sql, params, &mut map),
            Connection::Postgres(conn) => conn.query(sql, params, &mut map),
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt<T>(
        &self,
        sql: &Sql,
        params: &[&dyn Param],
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match self {
            Connection::Sqlite(conn) => sqlite::query_opt(conn, sql, params, &mut map),
            Connection::Postgres(conn) => conn.query_opt(sql, params, &mut map),
        }
    }

    /// Whether a query returns any row.
    pub fn exists(&self, sql: &Sql, params: &[&dyn Param]) -> Result<bool> {
        Ok(self.query_opt(sql, params, |_| Ok(()))?.is_some())
    }

    /// The one value the first row holds in its first column (an aggregate, say).
    pub fn value<T: Column>(&self, sql: &Sql, params: &[&dyn Param]) -> Result<Option<T>> {
        self.query_opt(sql, params, |row| row.get(0))
    }

    /// Statements without parameters or results, such as `SAVEPOINT job`.
    pub fn batch(&self, text: &str) -> Result<()> {
        match self {
            Connection::Sqlite(conn) => conn
                .execute_batch(text)
                .map_err(crate::error::Error::from_sqlite),
            Connection::Postgres(conn) => conn.batch(text),
        }
    }

    /// One fixed statement without parameters or results, run again and again (`SAVEPOINT job`,
    /// `COMMIT`): on SQLite prepared once and kept, which spares parsing it every time.
    pub fn control(&self, text: &'static str) -> Result<()> {
        match self {
            Connection::Sqlite(conn) => conn
                .prepare_cached(text)
                .and_then(|mut statement| statement.raw_execute())
                .map(|_| ())
                .map_err(crate::error::Error::from_sqlite),
            Connection::Postgres(conn) => conn.batch(text),
        }
    }

    /// Starts a read transaction that sees one moment of the board.
    pub fn begin_read(&self) -> Result<()> {
        self.batch(match self {
            Connection::Sqlite(_) => "BEGIN",
            Connection::Postgres(_) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        })
    }

    /// Whether the connection to a database server was lost.
    pub fn is_lost(&self) -> bool {
        match self {
            Connection::Sqlite(_) => false,
            Connection::Postgres(conn) => conn.is_closed(),
        }
    }

    /// Whether no transaction is open (so the connection can go back to a pool).
    pub fn is_idle(&self) -> bool {
        match self {
            Connection::Sqlite(conn) => conn.is_autocommit(),
            Connection::Postgres(conn) => conn.is_idle(),
        }
    }
}

/// `params![a, b, c]`: the parameters of a statement.
macro_rules! params {
    () => { &[] as &[&dyn $crate::store::Param] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::store::Param),+] as &[&dyn $crate::store::Param] };
}
pub(crate) use params;

/// Turns `?1`, `?2`, ... into `$1`, `$2`, ..., leaving quoted text alone.
pub(crate) fn numbered_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ?1 AND c = '?' AND d > ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?' AND d > $12"
        );
    }
}
