//! MCP, the Model Context Protocol, served by the board itself: any MCP client (Claude Code,
//! Codex, OpenClaw, Hermes, ...) uses the board with one URL and the agent's token, no plugin.
//!
//! - [`endpoint`]: `POST /mcp` (Streamable HTTP, stateless, with the official SDK `rmcp`), a
//!   route of the API's endpoint table like any other (which checks its `Origin`,
//!   authenticates the caller and caps its body), and the authorization metadata MCP asks for.
//! - [`board`]: the MCP server itself: its tools and resources.
//! - [`tools`]: the tool list, generated from the action catalogue (`mission-control-actions`),
//!   which the `mission_control` WebAssembly tool and the skill share.
//! - [`rest`]: each tool call (and resource read) as the REST request the catalogue describes,
//!   served in process by the endpoint table, as the authenticated caller.
//! - [`results`]: tool results (structured content plus a short text) and tool errors (the
//!   REST API's error body).
//! - [`resources`]: `mission-control://board` and `mission-control://tasks/{id}`.
//! - [`bridge`]: `mission-control-server mcp --url ... --token ...`: the same tools over stdio
//!   for clients that only launch local processes, forwarding to a running server.

pub mod board;
pub mod bridge;
pub mod endpoint;
pub mod resources;
pub mod rest;
pub mod results;
pub mod tools;

use std::sync::Arc;

use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::web::body::MAX_BODY_BYTES;

/// The Streamable HTTP service behind `POST /mcp`.
pub type McpService = StreamableHttpService<board::Board, NeverSessionManager>;

/// The MCP service: stateless (no sessions, every request stands alone, so any number of
/// clients cost nothing between calls), JSON answers.
pub fn service() -> McpService {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        // The server may be reached under any name its operator gives it. Every request
        // carries an agent's bearer token, which a page that rebinds DNS to this server
        // cannot have, and the endpoint table refuses other sites' `Origin` (403).
        .disable_allowed_hosts();
    StreamableHttpService::new(
        || Ok(board::Board),
        Arc::new(NeverSessionManager::default()),
        config,
    )
}

#[cfg(test)]
mod catalogue_matches_openapi;
