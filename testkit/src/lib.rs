//! Support shared by every Rust program that drives a real `mission-control-server` from the
//! outside (the server's black-box tests, the tool host's tests, the benchmark): starting the
//! binary and waiting for its listening line, stopping it, a raw Socket.io client, a
//! Server-Sent Events reader, an MCP client, and arguments for any catalogue action.
//!
//! Nothing here is a stand-in for the server: it starts the very binary users run.

pub mod actions;
pub mod mcp;
pub mod process;
pub mod socketio;
pub mod sse;

pub use process::{ServerProcess, server_binary};

/// Errors of this crate: a message for the test or benchmark to show.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T, E = Error> = std::result::Result<T, E>;
