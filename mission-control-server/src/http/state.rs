//! What every request handler can reach.

use std::sync::Arc;

use mission_control_core::MissionControl;

use super::password_check::PasswordChecks;
use super::rate_limit::Limits;
use crate::config::Config;

#[derive(Clone)]
pub struct AppState {
    pub mc: MissionControl,
    pub config: Arc<Config>,
    pub limits: Arc<Limits>,
    pub password_checks: Arc<PasswordChecks>,
    /// Bounds the board downloads streamed at once (see `board_stream`).
    pub board_streams: Arc<tokio::sync::Semaphore>,
    /// The relayed changes that `GET /api/stream` follows, and the caps on such streams.
    pub feed: Arc<crate::realtime::Feed>,
}
