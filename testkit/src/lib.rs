//! Support shared by every Rust program that tests Mission Control from the outside (the
//! core's and the server's integration tests, the tool host's tests, the benchmark): a test's
//! own store (an SQLite file, or a PostgreSQL schema when the test command started a cluster),
//! the real `mission-control-server` binary started on it and its REST API spoken by intent, a
//! raw Socket.io client, a Server-Sent Events reader, an MCP client, arguments for any
//! catalogue action, and clients that stop reading.
//!
//! Nothing here is a stand-in for the server: it starts the very binary users run.

pub mod actions;
pub mod app;
pub mod mcp;
pub mod process;
pub mod reply;
pub mod socketio;
pub mod sse;
pub mod stall;
pub mod store;

pub use app::{App, Reply, Session};
pub use process::{ServerProcess, server_binary};
pub use store::{TestStore, on_postgres, skip};

/// Errors of this crate: a message for the test or benchmark to show.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;
