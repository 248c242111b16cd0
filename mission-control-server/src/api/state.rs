//! What every request handler can reach: the core, the configuration, the API's rate limits
//! and capacity limits, the MCP service and the feed the event streams follow.

use std::net::IpAddr;
use std::sync::Arc;

use mission_control_core::MissionControl;

use super::password_check::PasswordChecks;
use super::slots::AnswerSlots;
use crate::config::Config;
use crate::realtime::StreamFeed;
use crate::web::rate_limit::{GlobalLimiter, Limiter};

#[derive(Clone)]
pub struct AppState {
    pub mc: MissionControl,
    pub config: Arc<Config>,
    pub limits: Arc<Limits>,
    pub password_checks: Arc<PasswordChecks>,
    /// The places for big answers: board downloads, exports, long pages (see `slots`).
    pub slots: Arc<AnswerSlots>,
    /// The MCP server behind `POST /mcp` (see `crate::mcp`).
    pub mcp: crate::mcp::McpService,
    /// The relayed changes that `GET /api/stream` follows, and the caps on such streams.
    pub stream_feed: Arc<StreamFeed>,
}

/// The API's rate limits.
pub struct Limits {
    /// Sign-in attempts per client address.
    pub login: Limiter<IpAddr>,
    /// Sign-in attempts from addresses that failed lately, all together: a flood from many
    /// addresses still cannot keep the password check busy.
    pub login_global: GlobalLimiter,
    /// Failed authentications (junk, forged, expired or revoked tokens) per client address.
    pub failed_auth: Limiter<IpAddr>,
    /// API requests per token, keyed by the token's id once its signature has been checked.
    pub api: Limiter<String>,
}

impl Limits {
    pub fn forget_idle(&self) {
        self.login.forget_idle();
        self.failed_auth.forget_idle();
        self.api.forget_idle();
    }
}
