//! The shapes settings take, each read with an error that names the variable: an address, a
//! duration as people write it, a count of at least one, a size in MiB.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use mission_control_core::Database;

use super::ConfigError;

/// Largest `WAL_MAX_MB` accepted: 1 TiB, far beyond any sensible bound.
pub(super) const MAX_WAL_MAX_MB: u64 = 1024 * 1024;
/// Largest `CHANGE_LOG_MAX_MB` accepted: 1 TiB.
pub(super) const MAX_CHANGE_LOG_MAX_MB: u64 = 1024 * 1024;

pub(super) fn wal_max_bytes(mb: Option<u64>) -> Result<u64, ConfigError> {
    match mb {
        None => Ok(mission_control_core::DEFAULT_WAL_MAX_BYTES),
        Some(mb @ 1..=MAX_WAL_MAX_MB) => Ok(mb * 1024 * 1024),
        Some(_) => Err(ConfigError(format!(
            "WAL_MAX_MB must be between 1 and {MAX_WAL_MAX_MB}"
        ))),
    }
}

/// `CHANGE_LOG_MAX_MB`: the most bytes of payloads the change log keeps, in MiB.
pub(super) fn change_log_max_bytes(mb: Option<u64>) -> Result<u64, ConfigError> {
    match mb {
        None => Ok(mission_control_core::Options::DEFAULT_CHANGE_LOG_MAX_BYTES),
        Some(mb @ 1..=MAX_CHANGE_LOG_MAX_MB) => Ok(mb * 1024 * 1024),
        Some(_) => Err(ConfigError(format!(
            "CHANGE_LOG_MAX_MB must be between 1 and {MAX_CHANGE_LOG_MAX_MB}"
        ))),
    }
}

/// `HOST`: an IP address, or `localhost` (the loopback address).
pub(super) fn host(value: Option<String>) -> Result<IpAddr, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(IpAddr::from([127, 0, 0, 1])),
        Some(h) if h.eq_ignore_ascii_case("localhost") => Ok(IpAddr::from([127, 0, 0, 1])),
        Some(h) => h.parse().map_err(|_| {
            ConfigError(format!(
                "HOST must be an IP address such as 127.0.0.1 or 0.0.0.0, or localhost; not {h}"
            ))
        }),
    }
}

/// A duration such as `2m`, `90s`, `7d` or `1h 30m`, or a whole number of seconds.
pub(super) fn duration(
    value: Option<String>,
    default: Duration,
    name: &str,
    range: std::ops::RangeInclusive<Duration>,
) -> Result<Duration, ConfigError> {
    let Some(raw) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(default);
    };
    let raw = raw.trim();
    let parsed = match raw.parse::<u64>() {
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => humantime::parse_duration(raw),
    };
    match parsed {
        Ok(d) if range.contains(&d) => Ok(d),
        _ => Err(ConfigError(format!(
            "{name} must be a duration from {} to {} (such as 2m, 90s or 7d), not {raw}",
            humantime::format_duration(*range.start()),
            humantime::format_duration(*range.end())
        ))),
    }
}

pub(super) fn positive(value: Option<u32>, default: u32, name: &str) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(0) => Err(ConfigError(format!("{name} must be at least 1"))),
        Some(n) => Ok(n),
    }
}

pub(super) fn at_least_one(value: usize, name: &str) -> Result<usize, ConfigError> {
    if value == 0 {
        Err(ConfigError(format!("{name} must be at least 1")))
    } else {
        Ok(value)
    }
}

pub(super) fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Where the board lives: `DATABASE_URL` (PostgreSQL) or `DATABASE_PATH` (an SQLite file, by
/// default `./data/mission-control.db`), never both; and `DATABASE_DIRECT_URL`, PostgreSQL only.
pub(super) fn database(
    path: Option<PathBuf>,
    url: Option<String>,
    direct: Option<String>,
) -> Result<(Database, Option<String>), ConfigError> {
    match (path, url) {
        (Some(_), Some(_)) => Err(ConfigError(
            "DATABASE_PATH and DATABASE_URL are both set: choose one (DATABASE_PATH for an \
             SQLite file, DATABASE_URL for PostgreSQL)"
                .into(),
        )),
        (path, None) => {
            if direct.is_some() {
                return Err(ConfigError(
                    "DATABASE_DIRECT_URL is for PostgreSQL: set DATABASE_URL too".into(),
                ));
            }
            let path = path.unwrap_or_else(|| PathBuf::from(super::DEFAULT_DATABASE_PATH));
            Ok((Database::Sqlite(path), None))
        }
        (None, Some(url)) => {
            let database = Database::postgres(url.trim())
                .map_err(|e| ConfigError(format!("DATABASE_URL {e}")))?;
            let direct = match direct {
                Some(direct) => {
                    Database::postgres(direct.trim())
                        .map_err(|e| ConfigError(format!("DATABASE_DIRECT_URL {e}")))?;
                    Some(direct.trim().to_owned())
                }
                None => None,
            };
            Ok((database, direct))
        }
    }
}

/// `TRUSTED_PROXIES`: addresses (`10.0.0.5`) and networks (`10.0.0.0/8`, `fd00::/8`),
/// separated by commas; none by default.
pub(super) fn trusted_proxies(value: Option<&str>) -> Result<Vec<IpNet>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<IpNet>()
                .or_else(|_| v.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError(format!(
                        "TRUSTED_PROXIES: {v} is not an address or network (such as 10.0.0.5 \
                         or 10.0.0.0/8)"
                    ))
                })
        })
        .collect()
}
