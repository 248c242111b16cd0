//! # mission-control-core
//!
//! The heart of Mission Control, a task board shared by AI agents and the people who run them:
//! tasks, agents, an event log and auth tokens in one SQLite file, and an in-process bus that
//! announces every committed change.
//!
//! Everything goes through [`MissionControl`]. Writes are validated by the domain types
//! ([`NewTask::parse`], [`TaskChanges::parse`], ...), written with their event-log row in one
//! transaction, and published on the bus after the commit. The `mission-control-server` binary
//! is a thin HTTP and Socket.io layer over this crate; a Rust program can embed it the same way.
//!
//! Opening a board writes nothing to it (beyond creating the file, or bringing an older file's
//! schema up to date) and starts no clock. The rules that run on time (a claim
//! whose lease ran out goes back to `todo`, a silent agent goes offline, what has expired is
//! forgotten) run once [`MissionControl::start_sweeps`] is called: a program that *is* the
//! board (serves it) calls it; a program that reads the board, or writes beside a running
//! server, does not, and leaves the clock to the server.
//!
//! ```
//! use mission_control_core::{Actor, MissionControl, NewTask, TaskFilter, TaskStatus};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let board = MissionControl::open(dir.path().join("board.db"))?;
//! board.start_sweeps()?; // this program serves the board: leases expire, presence is kept
//! let mut changes = board.subscribe();
//!
//! let me = Actor::new("agent-patch");
//! let task = board.create_task(&me, NewTask::titled("Build rate limiter")?).await?;
//! board.move_task(&me, &task.id, TaskStatus::InProgress).await?;
//!
//! let tasks = board.list_tasks(TaskFilter::default()).await?;
//! assert_eq!(tasks[0].title, "Build rate limiter");
//! assert_eq!(tasks[0].status, TaskStatus::InProgress);
//! // The bus saw the creation (and its event-log entry) after it committed, with its place
//! // in the change log.
//! let first = changes.recv().await?;
//! assert!(matches!(first.event, mission_control_core::DomainEvent::TaskCreated(_)));
//! assert!(first.logged.seq > 0);
//! # board.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod bus;
pub mod credentials;
pub mod domain;
mod error;
mod service;
mod store;

pub use bus::{ChangeEntry, Committed, DomainEvent, EventBus};
pub use credentials::{IssuedToken, PasswordHash, SignedToken};
pub use domain::*;
pub use error::{Conflict, Error, FieldError, Result, StorageError};
pub use service::{
    Actor, BoardReader, CHANGES_PAGE_MAX_BYTES, Catchup, ChangePage, Idempotent, LiveConnection,
    MissionControl, Options, PAGE_MAX_BYTES, Setting, Snapshot,
};
pub use service::{
    BoardExport, CommentPage, Completed, EXPORT_PAGE, Heartbeat, ImportReport, TaskPage,
};
pub use store::health::HealthReport;
pub use store::{
    DEFAULT_WAL_MAX_BYTES, Database, EventPage, EventQuery, TaskCursor, TaskFilter, WalStats,
    redact_url,
};
