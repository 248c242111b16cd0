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
    /// Bounds the board downloads and exports streamed at once (see `snapshot_stream`).
    pub snapshot_streams: Arc<super::snapshot_stream::SnapshotStreams>,
    /// The MCP server behind `POST /mcp` (see `crate::mcp`).
    pub mcp: crate::mcp::McpService,
    /// The relayed changes that `GET /api/stream` follows, and the caps on such streams.
    pub feed: Arc<crate::realtime::Feed>,
}

impl AppState {
    /// A place among the snapshot streams, or 503 when all are taken.
    pub fn snapshot_permit(
        &self,
        client: std::net::IpAddr,
    ) -> Result<super::snapshot_stream::StreamPermit, super::error::ApiError> {
        self.snapshot_streams
            .admit(client)
            .ok_or(super::error::ApiError::Busy {
                reason: "too many board downloads at once",
                retry_after: std::time::Duration::from_secs(1),
            })
    }
}
