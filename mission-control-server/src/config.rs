//! Configuration: read once at start-up from the environment (and an optional `.env` file),
//! checked, and turned into [`Config`]. Names follow the product specification.
//!
//! With nothing set at all the server still starts safely: the JWT secret and the admin
//! password are generated on first run and kept in the data folder (the password only as an
//! Argon2 hash), and the password is printed once.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use mission_control_core::auth::{MIN_SECRET_BYTES, generate_secret};
use mission_control_core::{AgentId, AgentName, AgentRole, PasswordHash};
use serde::Deserialize;

/// The variables as found; every one optional.
#[derive(Debug, Default, Deserialize)]
struct Env {
    port: Option<u16>,
    host: Option<IpAddr>,
    jwt_secret: Option<String>,
    admin_username: Option<String>,
    admin_password: Option<String>,
    admin_name: Option<String>,
    admin_role: Option<String>,
    database_path: Option<PathBuf>,
    frontend_url: Option<String>,
    rate_limit_per_minute: Option<u32>,
    login_rate_limit_per_minute: Option<u32>,
    log_format: Option<String>,
    dashboard_dir: Option<PathBuf>,
    wal_max_mb: Option<u64>,
}

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
    pub password: PasswordHash,
    /// Set when the password was generated on this run: shown once, then only its hash is kept.
    pub generated_password: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_path: PathBuf,
    pub jwt_secret: String,
    pub admin: Admin,
    /// Origins allowed by CORS besides the server's own.
    pub frontend_origins: Vec<String>,
    pub rate_limit_per_minute: u32,
    pub login_rate_limit_per_minute: u32,
    pub log_format: LogFormat,
    pub dashboard_dir: PathBuf,
    /// Most bytes the SQLite write-ahead log may hold (`WAL_MAX_MB`).
    pub wal_max_bytes: u64,
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

    /// Just enough to reach the database, for command-line tools such as `token`.
    pub fn log_format_from_env() -> LogFormat {
        match std::env::var("LOG_FORMAT").as_deref() {
            Ok("json") => LogFormat::Json,
            _ => LogFormat::Pretty,
        }
    }

    fn from_parts(env: Env) -> Result<Self, ConfigError> {
        let database_path = env
            .database_path
            .unwrap_or_else(|| PathBuf::from("./data/mission-control.db"));
        let data_dir = database_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();

        let jwt_secret = match env.jwt_secret.filter(|s| !s.is_empty()) {
            Some(secret) if secret.len() < MIN_SECRET_BYTES => {
                return Err(ConfigError(format!(
                    "JWT_SECRET must be at least {MIN_SECRET_BYTES} characters"
                )));
            }
            Some(secret) => secret,
            None => stored_secret(&data_dir.join("jwt-secret"))?,
        };

        let username = env
            .admin_username
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "admin".into());
        let agent_id = AgentId::for_username(&username)
            .map_err(|e| ConfigError(format!("ADMIN_USERNAME {e}")))?;
        let name = AgentName::parse(&env.admin_name.unwrap_or_else(|| capitalise(&username)))
            .map_err(|e| ConfigError(format!("ADMIN_NAME {e}")))?;
        let role = match env.admin_role {
            Some(r) => r
                .parse()
                .map_err(|e| ConfigError(format!("ADMIN_ROLE {e}")))?,
            None => AgentRole::Main,
        };
        let (password, generated_password) = match env.admin_password.filter(|p| !p.is_empty()) {
            Some(p) => (hash(&p)?, None),
            None => stored_password(&data_dir.join("admin-password.argon2"))?,
        };

        let log_format = match env.log_format.as_deref() {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError(format!(
                    "LOG_FORMAT must be json or pretty, not {other}"
                )));
            }
        };

        let frontend_origins = env
            .frontend_url
            .map(|urls| {
                urls.split(',')
                    .map(|u| u.trim().trim_end_matches('/').to_owned())
                    .filter(|u| !u.is_empty())
                    .collect()
            })
            .unwrap_or_default();

        Ok(Config {
            listen: SocketAddr::new(
                env.host.unwrap_or(IpAddr::from([127, 0, 0, 1])),
                env.port.unwrap_or(3002),
            ),
            database_path,
            jwt_secret,
            admin: Admin {
                username,
                agent_id,
                name,
                role,
                password,
                generated_password,
            },
            frontend_origins,
            rate_limit_per_minute: positive(
                env.rate_limit_per_minute,
                1000,
                "RATE_LIMIT_PER_MINUTE",
            )?,
            login_rate_limit_per_minute: positive(
                env.login_rate_limit_per_minute,
                10,
                "LOGIN_RATE_LIMIT_PER_MINUTE",
            )?,
            log_format,
            dashboard_dir: env
                .dashboard_dir
                .unwrap_or_else(|| PathBuf::from("frontend/dist")),
            wal_max_bytes: wal_max_bytes(env.wal_max_mb)?,
        })
    }
}

/// Largest `WAL_MAX_MB` accepted: 1 TiB, far beyond any sensible bound.
const MAX_WAL_MAX_MB: u64 = 1024 * 1024;

fn wal_max_bytes(mb: Option<u64>) -> Result<u64, ConfigError> {
    match mb {
        None => Ok(mission_control_core::DEFAULT_WAL_MAX_BYTES),
        Some(mb @ 1..=MAX_WAL_MAX_MB) => Ok(mb * 1024 * 1024),
        Some(_) => Err(ConfigError(format!(
            "WAL_MAX_MB must be between 1 and {MAX_WAL_MAX_MB}"
        ))),
    }
}

fn positive(value: Option<u32>, default: u32, name: &str) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(0) => Err(ConfigError(format!("{name} must be at least 1"))),
        Some(n) => Ok(n),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn hash(password: &str) -> Result<PasswordHash, ConfigError> {
    PasswordHash::new(password).map_err(|e| ConfigError(e.to_string()))
}

/// The signing secret kept in the data folder, created on first run.
fn stored_secret(path: &Path) -> Result<String, ConfigError> {
    if let Ok(secret) = std::fs::read_to_string(path) {
        let secret = secret.trim().to_owned();
        if secret.len() >= MIN_SECRET_BYTES {
            return Ok(secret);
        }
    }
    let secret = generate_secret().map_err(|e| ConfigError(e.to_string()))?;
    write_private(path, &secret)?;
    Ok(secret)
}

/// The admin password hash kept in the data folder; on first run a password is generated and
/// returned so that it can be shown once.
fn stored_password(path: &Path) -> Result<(PasswordHash, Option<String>), ConfigError> {
    if let Ok(phc) = std::fs::read_to_string(path)
        && let Ok(hash) = PasswordHash::from_phc(&phc)
    {
        return Ok((hash, None));
    }
    let secret = generate_secret().map_err(|e| ConfigError(e.to_string()))?;
    // 20 hex characters: 80 bits, easy to paste.
    let password = secret[..20].to_owned();
    let hashed = hash(&password)?;
    write_private(path, hashed.as_phc())?;
    Ok((hashed, Some(password)))
}

/// Writes a file only its owner can read, creating its folder.
fn write_private(path: &Path, contents: &str) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| ConfigError(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    std::io::Write::write_all(&mut file, contents.as_bytes()).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_in(dir: &Path) -> Env {
        Env {
            database_path: Some(dir.join("db").join("mc.db")),
            ..Env::default()
        }
    }

    #[test]
    fn no_settings_generates_and_keeps_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let first = Config::from_parts(env_in(dir.path())).unwrap();
        let password = first
            .admin
            .generated_password
            .clone()
            .expect("a generated password");
        assert_eq!(first.admin.agent_id.as_str(), "agent-admin");
        assert_eq!(first.listen.port(), 3002);
        assert_eq!(first.wal_max_bytes, 64 * 1024 * 1024);
        assert!(first.admin.password.verify(&password));

        let second = Config::from_parts(env_in(dir.path())).unwrap();
        assert_eq!(second.jwt_secret, first.jwt_secret, "the secret is kept");
        assert!(second.admin.generated_password.is_none(), "shown once only");
        assert!(second.admin.password.verify(&password));
        let stored = std::fs::read_to_string(dir.path().join("db/admin-password.argon2")).unwrap();
        assert!(!stored.contains(&password), "only the hash is stored");
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            Env {
                jwt_secret: Some("short".into()),
                ..env_in(dir.path())
            },
            Env {
                admin_role: Some("Boss".into()),
                ..env_in(dir.path())
            },
            Env {
                log_format: Some("xml".into()),
                ..env_in(dir.path())
            },
            Env {
                rate_limit_per_minute: Some(0),
                ..env_in(dir.path())
            },
            Env {
                admin_username: Some("Bad Name!".into()),
                ..env_in(dir.path())
            },
            Env {
                wal_max_mb: Some(0),
                ..env_in(dir.path())
            },
            Env {
                wal_max_mb: Some(MAX_WAL_MAX_MB + 1),
                ..env_in(dir.path())
            },
        ];
        for env in cases {
            assert!(Config::from_parts(env).is_err());
        }
    }

    #[test]
    fn admin_identity_follows_the_username() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_parts(Env {
            admin_username: Some("patch".into()),
            admin_password: Some("pw".into()),
            admin_role: Some("Dev".into()),
            frontend_url: Some("http://localhost:9000/, http://example.test".into()),
            ..env_in(dir.path())
        })
        .unwrap();
        assert_eq!(config.admin.agent_id.as_str(), "agent-patch");
        assert_eq!(config.admin.name.as_str(), "Patch");
        assert_eq!(config.admin.role, AgentRole::Dev);
        assert_eq!(
            config.frontend_origins,
            ["http://localhost:9000", "http://example.test"]
        );
    }
}
