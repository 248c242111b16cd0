//! How values travel to and from either database: parameters are whole numbers, text or NULL
//! ([`Value`]); columns are read back as the Rust type asked for ([`Column`]). The board stores
//! nothing else (times are epoch milliseconds, lists are JSON text), which keeps the two
//! databases' schemas and statements alike.

use std::str::FromStr;

use crate::error::{Error, Result};

/// A parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

/// Anything that can be a statement's parameter.
pub(crate) trait Param {
    fn value(&self) -> Value<'_>;
}

impl Param for i64 {
    fn value(&self) -> Value<'_> {
        Value::Int(*self)
    }
}

impl Param for i32 {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl Param for u32 {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl Param for usize {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(v) => v.value(),
            None => Value::Null,
        }
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

/// A column's value as it was read, before it becomes the type asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell<'a> {
    Null,
    Int(i64),
    Text(&'a str),
}

/// A Rust type a column can be read as.
pub(crate) trait Column: Sized {
    fn from_cell(cell: Cell<'_>) -> Result<Self>;
}

fn mismatch(expected: &str, cell: Cell<'_>) -> Error {
    Error::Internal(format!(
        "a column holds {cell:?} where {expected} was expected"
    ))
}

impl Column for i64 {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        match cell {
            Cell::Int(v) => Ok(v),
            other => Err(mismatch("a whole number", other)),
        }
    }
}

impl Column for bool {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        i64::from_cell(cell).map(|v| v != 0)
    }
}

impl Column for String {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        match cell {
            Cell::Text(v) => Ok(v.to_owned()),
            other => Err(mismatch("text", other)),
        }
    }
}

impl<T: Column> Column for Option<T> {
    fn from_cell(cell: Cell<'_>) -> Result<Self> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// Reads a column of text as a type that parses from it (the domain's enums).
pub(crate) fn parsed<T: FromStr<Err = String>>(cell: Cell<'_>) -> Result<T> {
    match cell {
        Cell::Text(v) => v
            .parse()
            .map_err(|e: String| Error::Internal(format!("a stored value is invalid: {e}"))),
        other => Err(mismatch("text", other)),
    }
}
