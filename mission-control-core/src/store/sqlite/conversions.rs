//! The SQLite side of the interface: statements are prepared once per connection and kept in
//! rusqlite's statement cache, keyed by their text.

use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::error::{Error, Result};
use crate::store::connection::{Row, Sql};
use crate::store::value::{Cell, Column, Param, Value};

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

fn values<'a>(params: &'a [&'a dyn Param]) -> Vec<Value<'a>> {
    params.iter().map(|p| p.value()).collect()
}

fn bind<'a>(values: &'a [Value<'a>]) -> Vec<&'a dyn rusqlite::ToSql> {
    values.iter().map(|v| v as &dyn rusqlite::ToSql).collect()
}

pub(crate) fn execute(
    conn: &rusqlite::Connection,
    sql: &Sql,
    params: &[&dyn Param],
) -> Result<usize> {
    let mut stmt = conn
        .prepare_cached(sql.sqlite)
        .map_err(Error::from_sqlite)?;
    let values = values(params);
    stmt.execute(&*bind(&values)).map_err(Error::from_sqlite)
}

pub(crate) fn query<T>(
    conn: &rusqlite::Connection,
    sql: &Sql,
    params: &[&dyn Param],
    map: &mut dyn FnMut(&Row<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn
        .prepare_cached(sql.sqlite)
        .map_err(Error::from_sqlite)?;
    let values = values(params);
    let mut rows = stmt.query(&*bind(&values)).map_err(Error::from_sqlite)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(Error::from_sqlite)? {
        out.push(map(&Row::Sqlite(row))?);
    }
    Ok(out)
}

pub(crate) fn query_opt<T>(
    conn: &rusqlite::Connection,
    sql: &Sql,
    params: &[&dyn Param],
    map: &mut dyn FnMut(&Row<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let mut stmt = conn
        .prepare_cached(sql.sqlite)
        .map_err(Error::from_sqlite)?;
    let values = values(params);
    let mut rows = stmt.query(&*bind(&values)).map_err(Error::from_sqlite)?;
    match rows.next().map_err(Error::from_sqlite)? {
        Some(row) => map(&Row::Sqlite(row)).map(Some),
        None => Ok(None),
    }
}

pub(crate) fn column<T: Column>(row: &rusqlite::Row<'_>, index: usize) -> Result<T> {
    let value = row.get_ref(index).map_err(Error::from_sqlite)?;
    let cell = match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(v) => Cell::Int(v),
        ValueRef::Text(bytes) => Cell::Text(
            std::str::from_utf8(bytes)
                .map_err(|e| Error::Internal(format!("a stored text is not UTF-8: {e}")))?,
        ),
        ValueRef::Real(v) => Cell::Int(v as i64),
        ValueRef::Blob(_) => {
            return Err(Error::Internal("a column holds a blob".into()));
        }
    };
    T::from_cell(cell)
}
