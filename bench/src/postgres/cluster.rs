//! The PostgreSQL the scenario runs on: a throwaway cluster of its own (started with
//! `scripts/postgres.sh` in a temporary folder, stopped and removed at the end), or the
//! cluster whose admin URL is in `MISSION_CONTROL_BENCH_POSTGRES`; and a fresh database on it
//! for each board, dropped after.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::Res;

/// The environment variable that names a cluster to use instead of a throwaway one
/// (`postgres://user@host:port/postgres`; its user must be able to create databases).
pub const URL_ENV: &str = "MISSION_CONTROL_BENCH_POSTGRES";

/// A PostgreSQL cluster to make databases on.
pub struct Cluster {
    admin_url: String,
    /// The throwaway cluster's folder, when the scenario started one.
    own: Option<PathBuf>,
    made: AtomicU32,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh")
}

impl Cluster {
    /// The cluster of [`URL_ENV`], else a throwaway one; `Ok(None)` (and why, on stderr) when
    /// there is neither (PostgreSQL is not installed and cannot be).
    pub fn start() -> Res<Option<Cluster>> {
        if let Some(url) = std::env::var(URL_ENV).ok().filter(|u| !u.is_empty()) {
            return Ok(Some(Cluster {
                admin_url: url,
                own: None,
                made: AtomicU32::new(0),
            }));
        }
        // Not inside the benchmark's own temporary folder: that one is readable by this user
        // only, and the cluster runs as `postgres`.
        let dir = std::env::temp_dir().join(format!("mc-bench-pg-{}", std::process::id()));
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(&dir)
            .output()?;
        if !out.status.success() {
            eprintln!(
                "  no PostgreSQL cluster ({}); set {URL_ENV} to use one",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            let _ = std::fs::remove_dir_all(&dir);
            return Ok(None);
        }
        let url = String::from_utf8(out.stdout)?.trim().to_owned();
        Ok(Some(Cluster {
            admin_url: url,
            own: Some(dir),
            made: AtomicU32::new(0),
        }))
    }

    /// A fresh, empty database on the cluster, dropped with the value.
    pub async fn database(&self) -> Res<Database> {
        let name = format!(
            "mc_bench_{}_{}",
            std::process::id(),
            self.made.fetch_add(1, Ordering::Relaxed)
        );
        let admin = self.admin_url.clone();
        let create = format!("CREATE DATABASE {name}");
        blocking(move || {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)?;
            client.batch_execute(&create)?;
            Ok(())
        })
        .await?;
        Ok(Database {
            url: with_database(&self.admin_url, &name),
            admin: self.admin_url.clone(),
            name,
        })
    }

    /// Stops and removes a throwaway cluster; leaves one named by [`URL_ENV`] running.
    pub fn stop(self) {
        if let Some(dir) = self.own {
            let _ = Command::new("bash")
                .arg(script())
                .arg("stop")
                .arg(&dir)
                .status();
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// A database of the cluster, for one board.
pub struct Database {
    pub url: String,
    admin: String,
    name: String,
}

impl Drop for Database {
    fn drop(&mut self) {
        let (admin, drop) = (
            self.admin.clone(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        // The synchronous client runs a runtime of its own: not on an async thread.
        let _ = std::thread::spawn(move || {
            if let Ok(mut client) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = client.batch_execute(&drop);
            }
        })
        .join();
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let host_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[host_end..].find('/') {
        Some(slash) => &head[..host_end + slash],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs synchronous PostgreSQL work on a blocking thread.
pub async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Res<T> + Send + 'static) -> Res<T> {
    tokio::task::spawn_blocking(work).await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_another_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "b1"),
            "postgres://postgres@127.0.0.1:5432/b1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/postgres?sslmode=disable", "b1"),
            "postgres://u:p@h/b1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "b1"), "postgres://h:1/b1");
    }
}
