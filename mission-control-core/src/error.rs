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

    /// The change is not possible in the board's current state (see [`Conflict`]).
    #[error("conflict: {0}")]
    Conflict(Conflict),

    /// A conditional write (`If-Match`) named no version the task is at (it changed since).
    #[error("the task is not at {expected}: it is at version {}", .current.version)]
    Stale {
        expected: crate::domain::ExpectedVersions,
        current: Box<crate::domain::Task>,
    },

    /// An `Idempotency-Key` reused with a different request.
    #[error("the Idempotency-Key was already used for a different request")]
    KeyReused,

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
    Storage(#[from] StorageError),

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
            Error::Storage(StorageError::Sqlite(e)) => e.sqlite_error_code(),
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
            _ => Error::Storage(StorageError::Sqlite(err)),
        }
    }

    /// Sorts PostgreSQL failures the same way: a lost connection, a server shutting down or
    /// out of room, a transaction the server gave up on are "try again later".
    pub(crate) fn from_postgres(err: postgres::Error) -> Self {
        let transient = err.is_closed()
            || err.code().is_some_and(|code| {
                let code = code.code();
                // 08: connection exception; 53: insufficient resources (disk full, too many
                // connections); 57P: the server is shutting down or starting; 40: a
                // serialization failure or deadlock the client may retry.
                code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P")
                    || code.starts_with("40")
            })
            || std::error::Error::source(&err).is_some_and(|s| s.is::<std::io::Error>());
        if transient {
            Error::Unavailable(err.to_string())
        } else {
            Error::Storage(StorageError::Postgres(err))
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

/// What the database itself reported.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
}

/// Why a change conflicts with the board as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// An id that must be new is taken.
    #[error("an {kind} with id {id} already exists")]
    Exists { kind: &'static str, id: String },
    /// Another agent already goes by that display name.
    #[error("another agent is already called {name}")]
    NameTaken { name: String },
    /// Another agent holds a live claim on the task.
    #[error("{task_id} is claimed by {holder} until {expires_at}")]
    Held {
        task_id: String,
        holder: String,
        /// Epoch milliseconds.
        expires_at: i64,
    },
    /// The task waits for blockers that are not done.
    #[error("{task_id} is blocked by {}", .blockers.join(", "))]
    Blocked {
        task_id: String,
        blockers: Vec<String>,
    },
    /// The task is assigned to another agent, who has not claimed it.
    #[error("{task_id} is assigned to {agent}")]
    AssignedToOther { task_id: String, agent: String },
    /// The task is already done.
    #[error("{task_id} is already done")]
    Done { task_id: String },
    /// Blockers that would make a task wait for itself.
    #[error("{task_id} cannot wait for {via}: that task already waits for it")]
    Cycle { task_id: String, via: String },
    /// Only a claimed task can be released.
    #[error("{task_id} is not claimed by {agent}")]
    NotHeld { task_id: String, agent: String },
    /// The blocker already has as many tasks waiting for it as one task may have.
    #[error("{blocker} already has {limit} tasks waiting for it, the most one task may have")]
    TooManyWaiting { blocker: String, limit: usize },
    /// The tasks the new blockers wait for, directly or through others, are more than the
    /// cycle check walks: the change is refused rather than checked at any cost.
    #[error(
        "the tasks the new blockers of {task_id} wait for are more than {limit}: too many to \
         check for a cycle"
    )]
    TooDeepToCheck { task_id: String, limit: usize },
    /// The agent holds as many tasks as one agent may hold at once.
    #[error("{agent} already holds {limit} tasks, the most one agent may hold at once")]
    TooManyHeld { agent: String, limit: usize },
}
