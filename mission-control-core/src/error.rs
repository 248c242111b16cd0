//! The one error type of the core. Every fallible call in the crate returns [`Error`]; the
//! server maps each variant to an HTTP status in one place.

use serde::Serialize;

/// One invalid field of a request: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke one or more validation rules; nothing was written.
    #[error("invalid input: {}", describe_fields(.0))]
    Validation(Vec<FieldError>),

    /// No row with that id.
    #[error("{kind} not found: {id}")]
    NotFound { kind: &'static str, id: String },

    /// An id that must be new is taken.
    #[error("{kind} already exists: {id}")]
    Conflict { kind: &'static str, id: String },

    /// A well-formed field names something that does not exist (a task assigned to an agent
    /// nobody registered). Unlike a validation error, the same request succeeds once it does.
    #[error("{field}: no {kind} is registered with the id {id}")]
    UnknownReference {
        field: &'static str,
        kind: &'static str,
        id: String,
    },

    /// Credentials or a token were missing, wrong, expired or revoked.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),

    /// The actor is known but may not do this (see the `policy` module).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),

    /// The database cannot take writes right now (disk full, read-only file, locked, shut down).
    /// Reads may still work; the caller may retry later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),

    /// Anything else the store reported: a bug or a corrupt file, never the caller's fault.
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A validation error about a single field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    /// Whether SQLite reported a damaged database file.
    pub fn is_corruption(&self) -> bool {
        let code = match self {
            Error::Storage(e) => e.sqlite_error_code(),
            _ => None,
        };
        matches!(
            code,
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        )
    }

    /// Sorts SQLite failures into "try again later" (full disk, read-only file, busy) and the
    /// rest, so that a full disk answers 503 rather than 500.
    pub(crate) fn from_sqlite(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::*;
        match err.sqlite_error_code() {
            Some(
                DiskFull | ReadOnly | DatabaseBusy | DatabaseLocked | CannotOpen | SystemIoFailure,
            ) => Error::Unavailable(err.to_string()),
            _ => Error::Storage(err),
        }
    }
}

fn describe_fields(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
