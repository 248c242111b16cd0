//! The web toolkit: the HTTP machinery every part of the server stands on, and that knows no
//! endpoint. The REST API ([`crate::api`]), MCP's endpoint ([`crate::mcp`]) and the event
//! streams ([`crate::realtime`]) are built from these pieces, so a body limit, an error's
//! shape or a connection cap is written once and holds for all of them.
//!
//! - [`connections`]: the connection loop: accepting, admission under the connection caps,
//!   deadlines, the guarded stream every connection is served over, and the graceful drain.
//! - [`client`]: the client's address, and the key limits count it under.
//! - [`body`]: bodies: read within a size and a deadline, JSON parsed with the failing field
//!   named, JSON answers.
//! - [`error`]: the server's one error type, and the one place it becomes an HTTP answer.
//! - [`conditional`]: `ETag` and `If-Match` (no lost updates), and the `Idempotency-Key`
//!   bound to what the request asks for (no double work on a retry).
//! - [`query`]: query parameters parsed into typed values, the parameter named on error.
//! - [`origin`]: which web pages may call an endpoint that admits only the server's own.
//! - [`rate_limit`]: budgets per key and overall.
//! - [`browser`]: CORS and the security headers on every answer.
//! - [`dashboard`]: serving the dashboard's files, built into the binary or from a folder.

pub mod body;
pub mod browser;
pub mod client;
pub mod conditional;
pub mod connections;
pub mod dashboard;
pub mod error;
pub mod origin;
pub mod query;
pub mod rate_limit;
