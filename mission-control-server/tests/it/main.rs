//! The server's black-box tests, in one binary: the real `mission-control-server` on a random
//! port, on a store of each test's own (an SQLite file by default; a PostgreSQL schema when the
//! test command has started a cluster and set `MISSION_CONTROL_TEST_POSTGRES`), spoken to as
//! its users speak to it (REST, Socket.io, Server-Sent Events, MCP, the command line). One file
//! per concept; `support` holds what they share.
//!
//! Run one concept with `cargo test -p mission-control-server --test it replay::`.

mod support;

mod agents;
mod auth;
mod blockers_and_comments;
mod claims;
mod commands;
mod costs;
mod durability;
mod events;
mod export;
mod hardening;
mod live_costs;
mod mcp;
mod moving;
mod people;
mod permissions;
mod replay;
mod retries;
mod serving;
mod sockets;
mod stream;
mod tasks;
