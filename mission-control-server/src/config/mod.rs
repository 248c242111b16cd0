//! Configuration: read once from the environment (and an optional `.env` file), checked, and
//! turned into [`Config`]. Names follow the product specification. The variables and how each
//! is read are in `env`; the shapes their values take (a duration, an address) in `values`.
//!
//! Configuration is plain values: the parts of the server that a setting bounds take it from
//! here, and this module knows nothing of them.
//!
//! Reading configuration never writes anything. Secrets the operator did not set (the signing
//! key, the admin password) are found in, or generated into, the data folder by
//! [`crate::provision`], a separate start-up step.

mod env;
mod values;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use mission_control_core::{AgentId, AgentName, AgentRole, Database, PasswordHash};

use crate::secret::Secret;
use env::Env;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The operator who signs in with a username and password, acting as agent `agent-<username>`.
#[derive(Debug, Clone)]
pub struct Admin {
    pub username: String,
    pub agent_id: AgentId,
    pub name: AgentName,
    pub role: AgentRole,
    /// From `ADMIN_PASSWORD`; `None` means the one kept in the data folder.
    pub password: Option<PasswordHash>,
}

/// How many `GET /api/stream` streams may be open at once (`MAX_EVENT_STREAMS`,
/// `MAX_EVENT_STREAMS_PER_TOKEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventStreamLimits {
    pub total: usize,
    pub per_token: usize,
}

impl EventStreamLimits {
    pub const DEFAULT_TOTAL: usize = 1024;
    pub const DEFAULT_PER_TOKEN: usize = 8;
}

/// Signed-in sockets one token may have open at once, by default: a person's browser tabs, or
/// an agent's few connections.
pub const DEFAULT_SOCKETS_PER_TOKEN: usize = 32;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where the board lives: an SQLite file (`DATABASE_PATH`) or PostgreSQL (`DATABASE_URL`).
    pub database: Database,
    /// PostgreSQL only (`DATABASE_DIRECT_URL`): a URL reaching the server itself, for the
    /// connections a pooler in transaction mode cannot carry (`LISTEN`, the clock's lock).
    pub database_direct: Option<String>,
    /// SQLite only: where generated secrets are kept, the database's folder.
    pub data_dir: PathBuf,
    /// Peers whose `X-Forwarded-For` / `Forwarded` headers say who the client is
    /// (`TRUSTED_PROXIES`); from any other peer those headers are ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// From `JWT_SECRET`; `None` means the one kept in the data folder.
    pub jwt_secret: Option<Secret>,
    pub admin: Admin,
    /// Origins allowed by CORS besides the server's own.
    pub frontend_origins: Vec<String>,
    pub rate_limit_per_minute: u32,
    pub login_rate_limit_per_minute: u32,
    /// Open connections allowed in all; `None`: as many as the open-file limit allows.
    pub max_connections: Option<usize>,
    pub max_connections_per_address: usize,
    /// `GET /api/stream` streams open at once, in all and per token.
    pub event_streams: EventStreamLimits,
    /// Signed-in Socket.io sockets open at once with one token (`MAX_SOCKETS_PER_TOKEN`).
    pub sockets_per_token: usize,
    /// An agent not heard from for this long is marked offline.
    pub agent_offline_after: Duration,
    /// How long the change log keeps changes for resuming clients, how many at most, and how
    /// many bytes of them at most (`CHANGE_LOG_MAX_MB`).
    pub change_log_retention: Duration,
    pub change_log_max_entries: u64,
    pub change_log_max_bytes: u64,
    /// Most bytes the SQLite write-ahead log may hold (`WAL_MAX_MB`).
    pub wal_max_bytes: u64,
    pub log_format: LogFormat,
    /// Serve the dashboard from this folder instead of the one built into the binary.
    pub dashboard_dir: Option<PathBuf>,
}

impl Config {
    /// Reads `.env` (if present) and the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is the normal case; a malformed one is worth saying.
        if let Err(e) = dotenvy::dotenv()
            && !e.not_found()
        {
            return Err(ConfigError(format!(".env: {e}")));
        }
        let env: Env = envy::from_env().map_err(|e| ConfigError(e.to_string()))?;
        Self::from_parts(env)
    }

    /// The log format alone, for commands that fail before the rest is read.
    pub fn log_format_from_env() -> LogFormat {
        match std::env::var("LOG_FORMAT").as_deref() {
            Ok("json") => LogFormat::Json,
            _ => LogFormat::Pretty,
        }
    }
}

/// Where the database is when neither `DATABASE_PATH` nor `DATABASE_URL` is set.
pub const DEFAULT_DATABASE_PATH: &str = "./data/mission-control.db";

impl Config {
    /// The SQLite file, when the board lives in one.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        match &self.database {
            Database::Sqlite(path) => Some(path),
            Database::Postgres(_) => None,
        }
    }
}

/// A configuration with every default, for other modules' tests.
#[cfg(test)]
pub(crate) mod tests_support {
    pub fn defaults() -> super::Config {
        super::Config::from_parts(super::env::Env::default()).expect("the defaults are valid")
    }
}
