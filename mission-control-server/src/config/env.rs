//! The variables the server reads (every one optional) and how they become a [`Config`]: each
//! value checked, with an error that names the variable, and every default filled in.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mission_control_core::credentials::MIN_SECRET_BYTES;
use mission_control_core::{AgentId, AgentName, AgentRole, Database, Options, PasswordHash};
use serde::Deserialize;

use super::values::{
    at_least_one, capitalise, change_log_max_bytes, database, duration, host, positive,
    trusted_proxies, wal_max_bytes,
};
use super::{Admin, Config, ConfigError, DEFAULT_DATABASE_PATH, EventStreamLimits, LogFormat};
use crate::secret::Secret;

/// The variables as found; every one optional.
#[derive(Default, Deserialize)]
pub(super) struct Env {
    port: Option<u16>,
    host: Option<String>,
    jwt_secret: Option<String>,
    admin_username: Option<String>,
    admin_password: Option<String>,
    admin_name: Option<String>,
    admin_role: Option<String>,
    database_path: Option<PathBuf>,
    database_url: Option<String>,
    database_direct_url: Option<String>,
    trusted_proxies: Option<String>,
    frontend_url: Option<String>,
    rate_limit_per_minute: Option<u32>,
    login_rate_limit_per_minute: Option<u32>,
    max_connections: Option<usize>,
    max_connections_per_address: Option<usize>,
    max_event_streams: Option<usize>,
    max_event_streams_per_token: Option<usize>,
    max_sockets_per_token: Option<usize>,
    agent_offline_after: Option<String>,
    change_log_retention: Option<String>,
    change_log_max_entries: Option<u64>,
    change_log_max_mb: Option<u64>,
    wal_max_mb: Option<u64>,
    log_format: Option<String>,
    dashboard_dir: Option<PathBuf>,
}

impl Config {
    pub(super) fn from_parts(env: Env) -> Result<Self, ConfigError> {
        let jwt_secret = match env.jwt_secret.filter(|s| !s.is_empty()) {
            Some(secret) if secret.len() < MIN_SECRET_BYTES => {
                return Err(ConfigError(format!(
                    "JWT_SECRET must be at least {MIN_SECRET_BYTES} characters"
                )));
            }
            other => other.map(Secret::new),
        };
        let (database, database_direct) = database(
            env.database_path.filter(|p| !p.as_os_str().is_empty()),
            env.database_url.filter(|u| !u.trim().is_empty()),
            env.database_direct_url.filter(|u| !u.trim().is_empty()),
        )?;
        let data_dir = match &database {
            Database::Sqlite(path) => path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_owned(),
            // Nothing of a PostgreSQL board is kept in files.
            Database::Postgres(_) => PathBuf::from(DEFAULT_DATABASE_PATH)
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_owned),
        };
        if database.is_postgres() {
            if jwt_secret.is_none() {
                return Err(ConfigError(format!(
                    "DATABASE_URL: on PostgreSQL every server process must sign tokens with the \
                     same key: set JWT_SECRET (at least {MIN_SECRET_BYTES} characters) to the \
                     same value in each"
                )));
            }
            if env.wal_max_mb.is_some() {
                return Err(ConfigError(
                    "WAL_MAX_MB bounds SQLite's write-ahead log; on PostgreSQL the server's own \
                     max_wal_size does (unset WAL_MAX_MB, or unset DATABASE_URL)"
                        .into(),
                ));
            }
        }
        let trusted_proxies = trusted_proxies(env.trusted_proxies.as_deref())?;

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
        let password = match env.admin_password.filter(|p| !p.is_empty()) {
            Some(p) => Some(PasswordHash::new(&p).map_err(|e| ConfigError(e.to_string()))?),
            None => None,
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
            listen: SocketAddr::new(host(env.host)?, env.port.unwrap_or(3002)),
            database,
            database_direct,
            data_dir,
            trusted_proxies,
            jwt_secret,
            admin: Admin {
                username,
                agent_id,
                name,
                role,
                password,
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
            max_connections: env
                .max_connections
                .map(|n| at_least_one(n, "MAX_CONNECTIONS"))
                .transpose()?,
            max_connections_per_address: at_least_one(
                env.max_connections_per_address.unwrap_or(512),
                "MAX_CONNECTIONS_PER_ADDRESS",
            )?,
            event_streams: EventStreamLimits {
                total: at_least_one(
                    env.max_event_streams
                        .unwrap_or(EventStreamLimits::DEFAULT_TOTAL),
                    "MAX_EVENT_STREAMS",
                )?,
                per_token: at_least_one(
                    env.max_event_streams_per_token
                        .unwrap_or(EventStreamLimits::DEFAULT_PER_TOKEN),
                    "MAX_EVENT_STREAMS_PER_TOKEN",
                )?,
            },
            sockets_per_token: at_least_one(
                env.max_sockets_per_token
                    .unwrap_or(super::DEFAULT_SOCKETS_PER_TOKEN),
                "MAX_SOCKETS_PER_TOKEN",
            )?,
            agent_offline_after: duration(
                env.agent_offline_after,
                Options::DEFAULT_AGENT_OFFLINE_AFTER,
                "AGENT_OFFLINE_AFTER",
                Duration::from_secs(5)..=Duration::from_secs(24 * 3600),
            )?,
            change_log_retention: duration(
                env.change_log_retention,
                Options::DEFAULT_CHANGE_LOG_RETENTION,
                "CHANGE_LOG_RETENTION",
                Duration::from_secs(60)..=Duration::from_secs(366 * 24 * 3600),
            )?,
            change_log_max_entries: match env.change_log_max_entries {
                None => Options::DEFAULT_CHANGE_LOG_MAX_ENTRIES,
                Some(n) if (1_000..=1_000_000_000).contains(&n) => n,
                Some(_) => {
                    return Err(ConfigError(
                        "CHANGE_LOG_MAX_ENTRIES must be from 1000 to 1000000000".into(),
                    ));
                }
            },
            change_log_max_bytes: change_log_max_bytes(env.change_log_max_mb)?,
            wal_max_bytes: wal_max_bytes(env.wal_max_mb)?,
            log_format,
            dashboard_dir: env.dashboard_dir.filter(|d| !d.as_os_str().is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::super::values::{MAX_CHANGE_LOG_MAX_MB, MAX_WAL_MAX_MB};
    use super::*;

    fn env_in(dir: &Path) -> Env {
        Env {
            database_path: Some(dir.join("db").join("mc.db")),
            ..Env::default()
        }
    }

    #[test]
    fn no_settings_means_defaults_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_parts(env_in(dir.path())).unwrap();
        assert_eq!(config.admin.agent_id.as_str(), "agent-admin");
        assert_eq!(config.listen.port(), 3002);
        assert!(config.listen.ip().is_loopback());
        assert!(config.jwt_secret.is_none() && config.admin.password.is_none());
        assert_eq!(config.data_dir, dir.path().join("db"));
        assert!(
            !dir.path().join("db").exists(),
            "reading settings writes nothing"
        );
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                Env {
                    jwt_secret: Some("short".into()),
                    ..env_in(dir.path())
                },
                "JWT_SECRET",
            ),
            (
                Env {
                    admin_role: Some("Boss".into()),
                    ..env_in(dir.path())
                },
                "ADMIN_ROLE",
            ),
            (
                Env {
                    log_format: Some("xml".into()),
                    ..env_in(dir.path())
                },
                "LOG_FORMAT",
            ),
            (
                Env {
                    rate_limit_per_minute: Some(0),
                    ..env_in(dir.path())
                },
                "RATE_LIMIT_PER_MINUTE",
            ),
            (
                Env {
                    admin_username: Some("Bad Name!".into()),
                    ..env_in(dir.path())
                },
                "ADMIN_USERNAME",
            ),
            (
                Env {
                    host: Some("my-laptop".into()),
                    ..env_in(dir.path())
                },
                "HOST",
            ),
            (
                Env {
                    max_connections_per_address: Some(0),
                    ..env_in(dir.path())
                },
                "MAX_CONNECTIONS_PER_ADDRESS",
            ),
            (
                Env {
                    max_event_streams_per_token: Some(0),
                    ..env_in(dir.path())
                },
                "MAX_EVENT_STREAMS_PER_TOKEN",
            ),
            (
                Env {
                    max_sockets_per_token: Some(0),
                    ..env_in(dir.path())
                },
                "MAX_SOCKETS_PER_TOKEN",
            ),
            (
                Env {
                    agent_offline_after: Some("soon".into()),
                    ..env_in(dir.path())
                },
                "AGENT_OFFLINE_AFTER",
            ),
            (
                Env {
                    change_log_retention: Some("1s".into()),
                    ..env_in(dir.path())
                },
                "CHANGE_LOG_RETENTION",
            ),
            (
                Env {
                    wal_max_mb: Some(0),
                    ..env_in(dir.path())
                },
                "WAL_MAX_MB",
            ),
            (
                Env {
                    change_log_max_mb: Some(0),
                    ..env_in(dir.path())
                },
                "CHANGE_LOG_MAX_MB",
            ),
            (
                Env {
                    change_log_max_mb: Some(MAX_CHANGE_LOG_MAX_MB + 1),
                    ..env_in(dir.path())
                },
                "CHANGE_LOG_MAX_MB",
            ),
            (
                Env {
                    wal_max_mb: Some(MAX_WAL_MAX_MB + 1),
                    ..env_in(dir.path())
                },
                "WAL_MAX_MB",
            ),
        ];
        for (env, name) in cases {
            let err = Config::from_parts(env).unwrap_err().to_string();
            assert!(err.contains(name), "{err} names {name}");
        }
    }

    #[test]
    fn durations_read_as_people_write_them() {
        let config = Config::from_parts(Env {
            agent_offline_after: Some("90s".into()),
            change_log_retention: Some("3d".into()),
            ..Env::default()
        })
        .unwrap();
        assert_eq!(config.agent_offline_after, Duration::from_secs(90));
        assert_eq!(config.change_log_retention, Duration::from_secs(3 * 86_400));
        let sized = Config::from_parts(Env {
            change_log_max_mb: Some(64),
            ..Env::default()
        })
        .unwrap();
        assert_eq!(sized.change_log_max_bytes, 64 * 1024 * 1024);
        assert_eq!(
            Config::from_parts(Env::default())
                .unwrap()
                .change_log_max_bytes,
            Options::DEFAULT_CHANGE_LOG_MAX_BYTES
        );
        let plain = Config::from_parts(Env {
            agent_offline_after: Some("30".into()),
            ..Env::default()
        })
        .unwrap();
        assert_eq!(plain.agent_offline_after, Duration::from_secs(30));
    }

    #[test]
    fn localhost_is_the_loopback_address() {
        let config = Config::from_parts(Env {
            host: Some("localhost".into()),
            ..Env::default()
        })
        .unwrap();
        assert_eq!(config.listen.ip(), IpAddr::from([127, 0, 0, 1]));
    }

    #[test]
    fn admin_identity_follows_the_username_and_secrets_stay_out_of_debug() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_parts(Env {
            admin_username: Some("patch".into()),
            admin_password: Some("pw-that-must-not-show".into()),
            admin_role: Some("Dev".into()),
            jwt_secret: Some("a-signing-key-that-must-never-be-logged".into()),
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
        let debug = format!("{config:?}");
        assert!(!debug.contains("must-never-be-logged"), "{debug}");
        assert!(!debug.contains("must-not-show"), "{debug}");
    }
}
