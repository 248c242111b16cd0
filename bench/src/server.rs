//! The server under test: the release binary, started on loopback with a fresh database, and
//! what /proc says about it (resident memory, CPU time).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use mission_control_testkit::ServerProcess;
use tokio::process::Command;

use crate::Res;

pub const ADMIN_USERNAME: &str = "bench";
pub const ADMIN_PASSWORD: &str = "bench-password-0123456789";
/// The bound on the WAL the server is started with (`WAL_MAX_MB`), which the sustained-write
/// scenario checks.
pub const WAL_MAX_MB: u64 = 64;
const JWT_SECRET: &str = "bench-jwt-secret-that-is-long-enough-0123456789abcdef";

/// A running server process.
pub struct Server {
    process: ServerProcess,
    pub pid: u32,
    pub addr: SocketAddr,
    pub base: String,
    /// When the process was spawned.
    pub spawned_at: Instant,
    /// From spawn to the listening line.
    pub started_in: Duration,
    stderr_path: PathBuf,
}

impl Server {
    /// Spawns `bin` on 127.0.0.1 with a random port and the database at `db`, and waits for it
    /// to print where it listens.
    pub async fn start(bin: &Path, db: &Path) -> Res<Server> {
        Self::start_with(bin, db, &[]).await
    }

    /// As [`Server::start`], with more environment (`extra` wins over the defaults).
    pub async fn start_with(bin: &Path, db: &Path, extra: &[(&str, String)]) -> Res<Server> {
        let dir = db.parent().ok_or("the database path has no folder")?;
        let stderr_path = dir.join(format!(
            "server-stderr-{}.log",
            db.file_stem().and_then(|s| s.to_str()).unwrap_or("db")
        ));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr_path)?;
        // A stand-in dashboard, so that the server has nothing to warn about at start.
        let dashboard = dir.join("dashboard");
        std::fs::create_dir_all(&dashboard)?;
        std::fs::write(
            dashboard.join("index.html"),
            "<!doctype html><title>bench</title>",
        )?;
        let spawned_at = Instant::now();
        let mut command = Command::new(bin);
        command
            // The temp folder, so that no `.env` of the working tree is read.
            .current_dir(dir)
            .env("DATABASE_PATH", db)
            .env("PORT", "0")
            .env("HOST", "127.0.0.1")
            .env("ADMIN_USERNAME", ADMIN_USERNAME)
            .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("JWT_SECRET", JWT_SECRET)
            .env("RATE_LIMIT_PER_MINUTE", "1000000000")
            .env("LOGIN_RATE_LIMIT_PER_MINUTE", "1000000")
            .env("WAL_MAX_MB", WAL_MAX_MB.to_string())
            .env("RUST_LOG", "warn")
            .env("DASHBOARD_DIR", &dashboard)
            .env_remove("FRONTEND_URL")
            .env_remove("LOG_FORMAT")
            .envs(extra.iter().map(|(k, v)| (k, v)))
            .stderr(Stdio::from(stderr));
        if extra.iter().any(|(k, _)| *k == "DATABASE_URL") {
            // A PostgreSQL board: `db` only names the folder and the log, and its WAL is
            // PostgreSQL's own to bound.
            command.env_remove("DATABASE_PATH").env_remove("WAL_MAX_MB");
        }
        let process = ServerProcess::spawn(command).await.map_err(|e| {
            let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            format!("cannot start {}: {e}\n{log}", bin.display())
        })?;
        if !process.addr.ip().is_loopback() {
            return Err(format!("the server listens on {}, not loopback", process.addr).into());
        }
        Ok(Server {
            pid: process.pid,
            addr: process.addr,
            base: process.url.clone(),
            spawned_at,
            started_in: process.started_in,
            process,
            stderr_path,
        })
    }

    /// Resident memory in bytes (VmRSS).
    pub fn rss_bytes(&self) -> Res<u64> {
        Ok(self.status_field("VmRSS:")? * 1024)
    }

    /// Threads the server runs now (tokio workers, blocking pool, the writer).
    pub fn threads(&self) -> Res<u64> {
        self.status_field("Threads:")
    }

    fn status_field(&self, name: &str) -> Res<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| format!("no {name} in /proc status"))?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .ok_or_else(|| format!("bad {name} line"))?
            .parse()?)
    }

    /// What the server has written so far, from `/proc/<pid>/io` (zeros where unreadable).
    pub fn io(&self) -> Written {
        Written::of(&format!("/proc/{}/io", self.pid))
    }

    /// User plus system CPU time the server has used so far.
    pub fn cpu_time(&self) -> Duration {
        cpu_time_of(&format!("/proc/{}/stat", self.pid))
    }

    /// Stops the server with SIGTERM (graceful: the database is closed and checkpointed) and
    /// waits for it to exit; SIGKILL if it does not within the time limit.
    pub async fn stop(mut self) -> Res<()> {
        match self.process.terminate().await {
            Ok(status) if !status.success() => eprintln!("  (server exited with {status})"),
            Ok(_) => {}
            Err(e) => eprintln!("  ({e})"),
        }
        self.report_stderr();
        Ok(())
    }

    /// The last `lines` lines the server wrote to its stderr log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let all: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn report_stderr(&self) {
        let log = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        if !lines.is_empty() {
            eprintln!(
                "  server logged {} line(s) at warn or above; first: {}",
                lines.len(),
                lines[0]
            );
        }
    }
}

/// Bytes a process has written, as `/proc/<pid>/io` counts them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    /// Bytes handed to write calls, whether or not they reached storage.
    pub wchar: u64,
    /// Bytes the process caused to be sent to storage (page-cache pages it dirtied).
    pub write_bytes: u64,
}

impl Written {
    fn of(io_path: &str) -> Written {
        let text = std::fs::read_to_string(io_path).unwrap_or_default();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        Written {
            wchar: field("wchar:"),
            write_bytes: field("write_bytes:"),
        }
    }

    /// What was written after `before`.
    pub fn since(&self, before: &Written) -> Written {
        Written {
            wchar: self.wchar.saturating_sub(before.wchar),
            write_bytes: self.write_bytes.saturating_sub(before.write_bytes),
        }
    }
}

/// CPU time of this benchmark process itself.
pub fn own_cpu_time() -> Duration {
    cpu_time_of("/proc/self/stat")
}

/// CPU time (user + system) of the process whose `/proc/<pid>/stat` this is.
pub fn cpu_time_of(stat_path: &str) -> Duration {
    let Ok(stat) = std::fs::read_to_string(stat_path) else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as u64 } else { 100 };
    Duration::from_nanos(ticks * 1_000_000_000 / hz)
}

/// The 1-minute load average.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| {
            let f: Vec<&str> = s.split_whitespace().take(3).collect();
            (f.len() == 3).then(|| f.join(" "))
        })
        .unwrap_or_else(|| "?".into())
}

/// Share of both cores busy (any process) over `window`, in percent: what else is running.
pub async fn busy_percent(window: Duration) -> Option<f64> {
    fn sample() -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        let total: u64 = cpu.iter().take(8).sum();
        let idle = cpu.get(3)? + cpu.get(4)?;
        Some((total, idle))
    }
    let (t1, i1) = sample()?;
    tokio::time::sleep(window).await;
    let (t2, i2) = sample()?;
    let total = t2.checked_sub(t1).filter(|&t| t > 0)?;
    Some(100.0 * (1.0 - (i2 - i1) as f64 / total as f64))
}
