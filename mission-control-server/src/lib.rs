//! # mission-control-server
//!
//! The Mission Control server: the specification's REST API, its Socket.io events, Server-Sent
//! Events, the web dashboard and an MCP server (Streamable HTTP at `/mcp`), on one port, over
//! [`mission_control_core`]. This crate holds no business rules: every write goes through the
//! core's service API.
//!
//! Its folders are its layers, each built on the ones below it:
//!
//! - At the bottom, [`web`]: a small web toolkit that knows no endpoint: the connection loop
//!   and its caps and deadlines, bodies within limits, the one error type and its one mapping
//!   to HTTP, conditional and retry-safe requests, query parsing, origin checks, rate limits,
//!   CORS and security headers, and serving the dashboard's files.
//! - [`api`]: the REST API: the endpoint table (each endpoint written once, its OpenAPI
//!   description completed by rule), the handlers and their wire types, and who is calling.
//! - [`mcp`]: MCP. Its endpoint is a route of the same table, and each tool call runs as the
//!   REST request the action catalogue describes, through that same table.
//! - [`realtime`]: Socket.io and the event stream, both fed by one relay of the core's change
//!   log.
//! - At the top, the program: [`cli`] (the command line, which `main.rs` parses),
//!   [`commands`] (what each command does), [`startup`] (serving: start-up, the service stack,
//!   shutdown), [`config`] (settings from the environment, plain values that know nothing of
//!   the layers they bound), [`provision`] (secrets generated on first start), [`lock`] (one
//!   server per database file), [`secret`] and [`telemetry`].

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod lock;
pub mod mcp;
pub mod people_commands;
pub mod provision;
pub mod realtime;
pub mod secret;
pub mod startup;
pub mod telemetry;
pub mod web;
