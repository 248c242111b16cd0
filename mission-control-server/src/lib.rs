//! # mission-control-server
//!
//! The Mission Control server: the specification's REST API, its Socket.io events, the web
//! dashboard and an MCP server (Streamable HTTP at `/mcp`), on one port, over
//! [`mission_control_core`]. This crate holds no business rules: every write goes through the
//! core's service API; here live configuration, HTTP routing and JSON mapping, status codes,
//! rate limits, CORS, Socket.io authentication and fan-out, MCP, serving the dashboard, and
//! graceful shutdown.
//!
//! `main.rs` is a thin command-line front ([`cli`]) over [`commands`] and [`startup`].

pub mod cli;
pub mod commands;
pub mod config;
pub mod http;
pub mod lock;
pub mod mcp;
pub mod net;
pub mod provision;
pub mod realtime;
pub mod secret;
pub mod startup;
pub mod telemetry;
