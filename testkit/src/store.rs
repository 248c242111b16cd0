//! Where a test's board lives: a temporary folder (the SQLite file, the server's working folder)
//! and, when the test command has started a PostgreSQL cluster, a fresh schema of its own.
//!
//! `MISSION_CONTROL_TEST_POSTGRES` holds the cluster's admin URL
//! (`postgres://postgres@127.0.0.1:PORT/postgres`, as `scripts/postgres.sh start` prints it).
//! When it is set, every [`TestStore`] creates a schema `t_<random>` and hands out a URL whose
//! `search_path` names it, so tests running side by side never see each other's rows; the
//! schema is dropped with the store. When it is not, the board is an SQLite file in the folder.
//!
//! [`Raw`] reads and writes the store behind the board's back, for the few tests that check
//! what is stored or plant what no request can make (a token about to expire).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable naming the PostgreSQL cluster to test against.
pub const POSTGRES_ENV: &str = "MISSION_CONTROL_TEST_POSTGRES";

/// The file name the server gives its SQLite database.
pub const SQLITE_FILE: &str = "mission-control.db";

/// Whether the tests run against PostgreSQL (the test command started a cluster).
pub fn on_postgres() -> bool {
    admin_url().is_some()
}

/// Says why a test does not run in this mode; `return skip("...")` ends the test.
pub fn skip(why: &str) {
    eprintln!("skipped on PostgreSQL: {why}");
}

fn admin_url() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|url| !url.is_empty())
}

/// One test's board storage: its folder, and its schema on PostgreSQL.
pub struct TestStore {
    schema: Option<Schema>,
    sqlite_file: PathBuf,
    // Dropped last: the folder goes once nothing in it is needed.
    dir: tempfile::TempDir,
}

impl TestStore {
    /// A fresh store whose SQLite file is `mission-control.db` in its folder.
    pub fn new() -> TestStore {
        Self::with_sqlite_file(SQLITE_FILE)
    }

    /// A fresh store whose SQLite file is at `relative` inside its folder (its parent folders
    /// are not created: opening the board does that).
    pub fn with_sqlite_file(relative: &str) -> TestStore {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let sqlite_file = dir.path().join(relative);
        let schema = admin_url().map(|admin| Schema::create(&admin));
        TestStore {
            schema,
            sqlite_file,
            dir,
        }
    }

    /// A fresh store on an SQLite file whatever the test command started: for a test that
    /// needs both stores at once (moving a board from one to the other).
    pub fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().expect("a temporary folder");
        TestStore {
            schema: None,
            sqlite_file: dir.path().join(SQLITE_FILE),
            dir,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.schema.is_some()
    }

    /// The test's own folder: the server's working folder, files the test writes.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Where the SQLite database is (or would be, on PostgreSQL).
    pub fn sqlite_file(&self) -> &Path {
        &self.sqlite_file
    }

    /// The URL of this store's schema on PostgreSQL.
    pub fn postgres_url(&self) -> Option<&str> {
        self.schema.as_ref().map(|s| s.url.as_str())
    }

    /// The server's setting that selects this store: `DATABASE_URL` or `DATABASE_PATH`.
    pub fn server_setting(&self) -> (String, String) {
        match self.postgres_url() {
            Some(url) => ("DATABASE_URL".to_owned(), url.to_owned()),
            None => (
                "DATABASE_PATH".to_owned(),
                self.sqlite_file.display().to_string(),
            ),
        }
    }

    /// A connection of its own to the store.
    pub fn raw(&self) -> Raw {
        match self.postgres_url() {
            Some(url) => {
                let url = url.to_owned();
                Raw::Postgres(PgClient(Some(on_a_thread(move || {
                    postgres::Client::connect(&url, postgres::NoTls)
                        .expect("connect to the test schema")
                }))))
            }
            None => {
                let conn = rusqlite::Connection::open(&self.sqlite_file).expect("open the file");
                conn.busy_timeout(std::time::Duration::from_secs(10))
                    .expect("busy timeout");
                Raw::Sqlite(conn)
            }
        }
    }
}

impl Default for TestStore {
    fn default() -> Self {
        Self::new()
    }
}

/// A schema of the test cluster, dropped with the value.
struct Schema {
    admin: String,
    name: String,
    url: String,
}

impl Schema {
    fn create(admin: &str) -> Schema {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "t_{}_{:x}_{}",
            std::process::id(),
            nanos,
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        let sql = format!("CREATE SCHEMA {name}");
        let url = admin.to_owned();
        on_a_thread(move || {
            let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| {
                panic!("cannot reach the PostgreSQL cluster of {POSTGRES_ENV}: {e}")
            });
            client.batch_execute(&sql).expect("create the test schema");
        });
        let separator = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{separator}options=-c%20search_path%3D{name}");
        Schema {
            admin: admin.to_owned(),
            name,
            url,
        }
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // When practical: a server that was just killed may hold its connections a moment
        // longer; a schema left behind goes with the throwaway cluster.
        let sql = format!(
            "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {} CASCADE",
            self.name
        );
        let admin = self.admin.clone();
        let _ = std::thread::spawn(move || {
            if let Ok(mut client) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = client.batch_execute(&sql);
            }
        })
        .join();
    }
}

/// Runs `work` on a thread of its own: the synchronous PostgreSQL client starts a runtime of
/// its own, which it may not do on a thread that drives a tokio runtime (every async test's).
fn on_a_thread<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .expect("the database call panicked")
    })
}

/// A value sent with a statement or read from a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(v) => Some(*v),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(v) => Some(v),
            _ => None,
        }
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(v)
    }
}

impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(v.to_owned())
    }
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(v)
    }
}

/// A connection to a test's store that bypasses the board. Statements are written once for
/// both databases, with `$1`, `$2`... for parameters.
pub enum Raw {
    Sqlite(rusqlite::Connection),
    Postgres(PgClient),
}

/// A synchronous PostgreSQL client, closed on a thread of its own (closing blocks on its own
/// runtime too).
pub struct PgClient(Option<postgres::Client>);

impl PgClient {
    fn get(&mut self) -> &mut postgres::Client {
        self.0.as_mut().expect("an open client")
    }
}

impl Drop for PgClient {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            let _ = std::thread::spawn(move || drop(client)).join();
        }
    }
}

impl Raw {
    /// Runs a statement; the rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Cell]) -> u64 {
        match self {
            Raw::Sqlite(conn) => conn
                .execute(
                    &sqlite_placeholders(sql),
                    rusqlite::params_from_iter(params),
                )
                .unwrap_or_else(|e| panic!("{sql}: {e}")) as u64,
            Raw::Postgres(client) => on_a_thread(|| {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p as _).collect();
                client
                    .get()
                    .execute(sql, &params)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }),
        }
    }

    /// Every row a query answers.
    pub fn query(&mut self, sql: &str, params: &[Cell]) -> Vec<Vec<Cell>> {
        match self {
            Raw::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare(&sqlite_placeholders(sql))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                let columns = stmt.column_count();
                stmt.query_map(rusqlite::params_from_iter(params), |row| {
                    (0..columns)
                        .map(|i| {
                            Ok(match row.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => Cell::Null,
                                rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                                other => Cell::Text(
                                    String::from_utf8_lossy(other.as_bytes().unwrap_or_default())
                                        .into_owned(),
                                ),
                            })
                        })
                        .collect()
                })
                .and_then(Iterator::collect)
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Raw::Postgres(client) => on_a_thread(|| {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p as _).collect();
                let rows = client
                    .get()
                    .query(sql, &params)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter().map(postgres_cells).collect()
            }),
        }
    }

    /// The single number a query answers (`COUNT(*)`, `MAX(seq)`); `None` for SQL's null.
    pub fn number(&mut self, sql: &str) -> Option<i64> {
        let rows = self.query(sql, &[]);
        let cell = rows.first().and_then(|r| r.first()).cloned();
        match cell {
            Some(Cell::Int(v)) => Some(v),
            Some(Cell::Null) | None => None,
            Some(Cell::Text(v)) => panic!("{sql}: not a number: {v}"),
        }
    }

    /// A mark that moves whenever another connection commits a write (on SQLite its
    /// `data_version`; on PostgreSQL every row of every table with the transaction that last
    /// wrote it).
    pub fn writes_mark(&mut self) -> String {
        match self {
            Raw::Sqlite(conn) => conn
                .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
                .expect("data_version")
                .to_string(),
            Raw::Postgres(_) => self.every_row("t.xmin::text || ' ' || "),
        }
    }

    /// Everything the store holds, as text: on SQLite the bytes of the file and its
    /// write-ahead log, on PostgreSQL every row of every table of the schema.
    pub fn stored_text(&mut self, sqlite_file: &Path) -> String {
        match self {
            Raw::Sqlite(_) => {
                let mut all = std::fs::read(sqlite_file).expect("read the database file");
                let mut wal = sqlite_file.as_os_str().to_owned();
                wal.push("-wal");
                if let Ok(log) = std::fs::read(PathBuf::from(wal)) {
                    all.extend(log);
                }
                String::from_utf8_lossy(&all).into_owned()
            }
            Raw::Postgres(_) => self.every_row(""),
        }
    }

    /// PostgreSQL: each row of each table of the current schema as `<prefix>row::text`, one
    /// line each, tables by name and rows sorted.
    fn every_row(&mut self, prefix: &str) -> String {
        let tables = self.query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             ORDER BY table_name",
            &[],
        );
        let mut out = String::new();
        for table in tables {
            let name = table[0].text().expect("a table name").to_owned();
            let rows = self.query(
                &format!("SELECT {prefix}t::text FROM \"{name}\" t ORDER BY 1"),
                &[],
            );
            for row in rows {
                out.push_str(&name);
                out.push(' ');
                out.push_str(row[0].text().unwrap_or_default());
                out.push('\n');
            }
        }
        out
    }
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Cell::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Cell::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Cell::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

impl postgres::types::ToSql for Cell {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::Type;
        match self {
            Cell::Null => Ok(postgres::types::IsNull::Yes),
            Cell::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Cell::Text(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        use postgres::types::Type;
        matches!(
            *ty,
            Type::INT8 | Type::INT4 | Type::INT2 | Type::TEXT | Type::VARCHAR | Type::NAME
        )
    }

    postgres::types::to_sql_checked!();
}

fn postgres_cells(row: &postgres::Row) -> Vec<Cell> {
    use postgres::types::Type;
    (0..row.len())
        .map(|i| {
            let ty = row.columns()[i].type_().clone();
            let int = |v: Option<i64>| v.map_or(Cell::Null, Cell::Int);
            match ty {
                Type::INT8 => int(row.get::<_, Option<i64>>(i)),
                Type::INT4 => int(row.get::<_, Option<i32>>(i).map(i64::from)),
                Type::INT2 => int(row.get::<_, Option<i16>>(i).map(i64::from)),
                Type::BOOL => int(row.get::<_, Option<bool>>(i).map(i64::from)),
                _ => row
                    .get::<_, Option<String>>(i)
                    .map_or(Cell::Null, Cell::Text),
            }
        })
        .collect()
}

/// `$1` → `?1`: SQLite numbers `?NNN` parameters as PostgreSQL numbers `$NNN`.
fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_the_sqlite_way() {
        assert_eq!(
            sqlite_placeholders("SELECT a FROM t WHERE b > $1 AND c = $12"),
            "SELECT a FROM t WHERE b > ?1 AND c = ?12"
        );
    }

    #[test]
    fn raw_sql_reads_and_writes_an_sqlite_file() {
        if on_postgres() {
            return skip("a test of the SQLite half");
        }
        let store = TestStore::new();
        let mut raw = store.raw();
        raw.execute("CREATE TABLE t (n INTEGER, s TEXT)", &[]);
        let mark = raw.writes_mark();
        raw.execute("INSERT INTO t VALUES ($1, $2)", &[7.into(), "seven".into()]);
        assert_eq!(
            raw.query("SELECT n, s FROM t", &[]),
            [[Cell::Int(7), Cell::Text("seven".into())]]
        );
        assert_eq!(raw.number("SELECT MAX(n) FROM t"), Some(7));
        assert_eq!(raw.writes_mark(), mark, "its own writes do not count");
        assert!(raw.stored_text(store.sqlite_file()).contains("seven"));
    }
}
