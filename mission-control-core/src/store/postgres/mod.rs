//! The PostgreSQL side of the store, on the rust-postgres project's clients: the synchronous
//! one on the writer thread and on blocking reader threads (as rusqlite is used), an
//! asynchronous one for `LISTEN`.
//!
//! - [`PgTarget`] ([`target`]): where the database is, from a `postgres://` URL, and TLS.
//! - [`PgConnection`]: one connection with its own statement cache (each statement is prepared
//!   once per connection, as SQLite's cache does).
//! - [`listener`]: the doorbell other processes ring when they commit changes.
//! - [`leader`]: which of several processes runs the board's clock.

mod leader;
mod listener;
mod target;

pub(crate) use leader::{Leadership, led};
pub(crate) use listener::Listener;
pub(crate) use target::PgTarget;

use std::cell::{Cell as StdCell, RefCell};
use std::collections::HashMap;
use std::mem::ManuallyDrop;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Statement};

use super::connection::{Row, Sql, numbered_placeholders};
use super::value::{Cell, Column, Param, Value};
use crate::error::{Error, Result};

/// Advisory locks, each taken as (a hash of the schema's name, one of these), so that boards in
/// different schemas of one database never wait for each other.
/// Held by a writer for the length of each group commit.
pub(crate) const WRITE_LOCK: i32 = 1;
/// Held by a process while it applies migrations.
pub(crate) const MIGRATION_LOCK: i32 = 2;
/// Held for as long as it lives, on a connection of its own, by the process that runs the
/// board's clock (see [`leader`]).
pub(crate) const LEADER_LOCK: i32 = 3;
/// Each group commit notifies this channel (suffixed with the schema's name) with its last seq.
pub(crate) const CHANGES_CHANNEL: &str = "mission_control_changes_";

impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                _ => Err(format!("a whole number cannot be sent as {ty}").into()),
            },
            Value::Text(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::BOOL
                | Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
        )
    }

    to_sql_checked!();
}

/// One PostgreSQL connection.
pub(crate) struct PgConnection {
    /// Dropped by hand (see `Drop`): the client owns a runtime, which may not be dropped on a
    /// thread that drives another.
    client: ManuallyDrop<RefCell<Client>>,
    /// Prepared statements, by the address of their SQLite text (each [`Sql`] is a constant).
    statements: RefCell<HashMap<(usize, usize), Statement>>,
    in_transaction: StdCell<bool>,
}

impl PgConnection {
    fn new(client: Client) -> Self {
        PgConnection {
            client: ManuallyDrop::new(RefCell::new(client)),
            statements: RefCell::default(),
            in_transaction: StdCell::new(false),
        }
    }

    fn statement(&self, sql: &Sql) -> Result<Statement> {
        let key = (sql.sqlite.as_ptr() as usize, sql.sqlite.len());
        if let Some(stmt) = self.statements.borrow().get(&key) {
            return Ok(stmt.clone());
        }
        let text = match sql.postgres {
            Some(text) => text.to_owned(),
            None => numbered_placeholders(sql.sqlite),
        };
        let stmt = self
            .client
            .borrow_mut()
            .prepare(&text)
            .map_err(Error::from_postgres)?;
        self.statements.borrow_mut().insert(key, stmt.clone());
        Ok(stmt)
    }

    pub fn execute(&self, sql: &Sql, params: &[&dyn Param]) -> Result<usize> {
        let stmt = self.statement(sql)?;
        let values: Vec<Value<'_>> = params.iter().map(|p| p.value()).collect();
        let bound: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let n = self
            .client
            .borrow_mut()
            .execute(&stmt, &bound)
            .map_err(Error::from_postgres)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn rows(&self, sql: &Sql, params: &[&dyn Param]) -> Result<Vec<postgres::Row>> {
        let stmt = self.statement(sql)?;
        let values: Vec<Value<'_>> = params.iter().map(|p| p.value()).collect();
        let bound: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        self.client
            .borrow_mut()
            .query(&stmt, &bound)
            .map_err(Error::from_postgres)
    }

    pub fn query<T>(
        &self,
        sql: &Sql,
        params: &[&dyn Param],
        map: &mut dyn FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.rows(sql, params)?
            .iter()
            .map(|row| map(&Row::Postgres(row)))
            .collect()
    }

    pub fn query_opt<T>(
        &self,
        sql: &Sql,
        params: &[&dyn Param],
        map: &mut dyn FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        self.rows(sql, params)?
            .first()
            .map(|row| map(&Row::Postgres(row)))
            .transpose()
    }

    pub fn batch(&self, text: &str) -> Result<()> {
        let result = self
            .client
            .borrow_mut()
            .batch_execute(text)
            .map_err(Error::from_postgres);
        let word = text.trim_start().to_ascii_uppercase();
        if word.starts_with("BEGIN") {
            self.in_transaction.set(result.is_ok());
        } else if word.starts_with("COMMIT")
            || (word.starts_with("ROLLBACK") && !word.starts_with("ROLLBACK TO"))
        {
            self.in_transaction.set(false);
        }
        result
    }

    pub fn is_idle(&self) -> bool {
        !self.in_transaction.get() && !self.client.borrow().is_closed()
    }

    /// Whether the connection was lost (the server restarted, a network failure).
    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        // SAFETY: the field is never used again; this is the only place it is taken.
        let client = unsafe { ManuallyDrop::take(&mut self.client) };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Closing may wait on the network: never on an async thread.
            let _ = std::thread::Builder::new()
                .name("mission-control-close".into())
                .spawn(move || drop(client));
        } else {
            drop(client);
        }
    }
}

pub(crate) fn column<T: Column>(row: &postgres::Row, index: usize) -> Result<T> {
    let wrong = |e: postgres::Error| Error::Internal(format!("cannot read column {index}: {e}"));
    let ty = row
        .columns()
        .get(index)
        .map(|c| c.type_().clone())
        .ok_or_else(|| Error::Internal(format!("no column {index}")))?;
    let cell = match ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(index)
            .map_err(wrong)?
            .map(Cell::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)
            .map_err(wrong)?
            .map(|v| Cell::Int(i64::from(v))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)
            .map_err(wrong)?
            .map(|v| Cell::Int(i64::from(v))),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)
            .map_err(wrong)?
            .map(|v| Cell::Int(i64::from(v))),
        _ => {
            let text: Option<&str> = row.try_get(index).map_err(wrong)?;
            return T::from_cell(text.map_or(Cell::Null, Cell::Text));
        }
    };
    T::from_cell(cell.unwrap_or(Cell::Null))
}
