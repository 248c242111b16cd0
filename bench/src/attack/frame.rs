//! What every attack is measured by, the same way: the server's resident memory before the
//! attack, at its peak and a few seconds after the attackers left (`VmRSS` of
//! `/proc/<pid>/status`); the growth of the data folder (the database, its write-ahead log);
//! and what a well-behaved client saw meanwhile from another loopback address (127.0.0.2): its
//! writes (a `PATCH` of its own task, back to back with a short pause) and `/health`.
//!
//! A guard stops an attack early when the server's memory or the data folder grows past what
//! this shared machine can spare, or the disk runs low: the figure then says so, and is a
//! lower bound.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::json;
use tokio::sync::watch;

use crate::Res;
use crate::server::Server;
use crate::stats::Samples;

/// The well-behaved client's address; attackers use 127.0.0.1 (or 127.0.0.10 and up).
pub const WELL_BEHAVED: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// The server's memory past which an attack is stopped.
const RSS_GUARD_BYTES: u64 = 6 * 1024 * 1024 * 1024;
/// Growth of the data folder past which an attack is stopped.
const DISK_GUARD_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Free space on the data folder's file system below which an attack is stopped.
const MIN_FREE_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// How often memory and disk are sampled during an attack.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// Longest an attack may take to let go once told to stop.
const STOP_GRACE: Duration = Duration::from_secs(30);
/// Longest one request of the well-behaved client may take before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// The server under attack, and the well-behaved client's token and task.
pub struct Target<'a> {
    pub server: &'a Server,
    /// The database file; the data folder's size is that of every file named after it.
    pub db: PathBuf,
    pub probe_token: String,
    pub probe_task: String,
    /// The well-behaved client's pace: `loops` writers, each pausing `every` between writes.
    pub probe_loops: usize,
    pub probe_every: Duration,
}

/// Tells an attack to let go of what it holds.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Resolves once the attack is to stop.
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    pub fn now(&self) -> bool {
        *self.0.borrow()
    }

    /// Sleeps `time`, or less if the attack is to stop meanwhile.
    pub async fn pause(&self, time: Duration) {
        let mut stop = self.clone();
        tokio::select! {
            _ = tokio::time::sleep(time) => {}
            _ = stop.wait() => {}
        }
    }
}

/// What one attack cost, as measured.
pub struct Measured {
    pub rss_before: u64,
    pub rss_peak: u64,
    pub rss_after: u64,
    pub disk_before: u64,
    pub disk_peak: u64,
    pub disk_after: u64,
    pub wal_peak: u64,
    pub writes: Samples,
    pub write_failures: usize,
    pub first_failure: Option<String>,
    pub health: Samples,
    /// Why the guard stopped the attack early, if it did.
    pub guard: Option<String>,
    /// What the attack itself reports (how many it held, what it got).
    pub outcome: String,
}

impl Measured {
    /// MB the attack added to the server's memory at its peak.
    pub fn added_mb(&self) -> f64 {
        mb(self.rss_peak.saturating_sub(self.rss_before))
    }

    /// MB the memory stayed above where it was, after the attack.
    pub fn kept_mb(&self) -> f64 {
        mb(self.rss_after) - mb(self.rss_before)
    }
}

pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Runs `attack` for `time` (less if the guard stops it) while the well-behaved client works,
/// then lets the server settle for `settle`; what it cost.
pub async fn under_attack<F, Fut>(
    target: &Target<'_>,
    what: &str,
    time: Duration,
    settle: Duration,
    attack: F,
) -> Res<Measured>
where
    F: FnOnce(Stop) -> Fut,
    Fut: std::future::Future<Output = String> + Send + 'static,
{
    eprintln!("  {what}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = target.server.pid;
    let rss_before = alive_rss(target.server)?;
    let disk_before = data_bytes(&target.db);
    let (stop_tx, stop_rx) = watch::channel(false);
    let probe_stop = Arc::new(AtomicBool::new(false));
    let probe = tokio::spawn(probe(
        target.server.base.clone(),
        target.probe_token.clone(),
        target.probe_task.clone(),
        target.probe_loops,
        target.probe_every,
        probe_stop.clone(),
    ));
    let attacker = tokio::spawn(attack(Stop(stop_rx)));
    let started = Instant::now();
    let (mut rss_peak, mut disk_peak, mut wal_peak) = (rss_before, disk_before, 0);
    let mut guard = None;
    while started.elapsed() < time && !attacker.is_finished() {
        tokio::time::sleep(SAMPLE_EVERY).await;
        let rss = rss_of(pid).unwrap_or(0);
        let disk = data_bytes(&target.db);
        rss_peak = rss_peak.max(rss);
        disk_peak = disk_peak.max(disk);
        wal_peak = wal_peak.max(wal_bytes(&target.db));
        guard = guard_tripped(rss, disk.saturating_sub(disk_before), &target.db);
        if guard.is_some() {
            break;
        }
    }
    let _ = stop_tx.send(true);
    probe_stop.store(true, Ordering::Relaxed);
    let outcome = match tokio::time::timeout(STOP_GRACE, attacker).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => format!("the attack failed: {e}"),
        Err(_) => "the attack did not let go in time".into(),
    };
    let seen = probe.await?;
    tokio::time::sleep(settle).await;
    let rss_after = alive_rss(target.server)?;
    let disk_after = data_bytes(&target.db);
    if let Some(why) = &guard {
        eprintln!("    stopped early: {why}");
    }
    Ok(Measured {
        rss_before,
        rss_peak: rss_peak.max(rss_after),
        rss_after,
        disk_before,
        disk_peak: disk_peak.max(disk_after),
        disk_after,
        wal_peak,
        writes: seen.writes,
        write_failures: seen.failures,
        first_failure: seen.first_failure,
        health: seen.health,
        guard,
        outcome,
    })
}

/// The server's resident memory; an error with the end of its log if it is gone.
fn alive_rss(server: &Server) -> Res<u64> {
    rss_of(server.pid).ok_or_else(|| {
        format!(
            "the server (pid {}) is gone; its log ends:\n{}",
            server.pid,
            server.log_tail(20)
        )
        .into()
    })
}

/// Why an attack must stop now, if it must.
fn guard_tripped(rss: u64, disk_growth: u64, db: &Path) -> Option<String> {
    if rss > RSS_GUARD_BYTES {
        return Some(format!("server RSS past the guard ({:.0} MB)", mb(rss)));
    }
    if disk_growth > DISK_GUARD_BYTES {
        return Some(format!(
            "data folder grew past the guard (+{:.0} MB)",
            mb(disk_growth)
        ));
    }
    match free_bytes(db) {
        Some(free) if free < MIN_FREE_BYTES => {
            Some(format!("disk nearly full ({:.0} MB free)", mb(free)))
        }
        _ => None,
    }
}

/// Resident memory of process `pid`, in bytes.
pub fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Bytes of the database and everything beside it that carries its name (`-wal`, `-shm`).
pub fn data_bytes(db: &Path) -> u64 {
    let (Some(dir), Some(name)) = (db.parent(), db.file_name().and_then(|n| n.to_str())) else {
        return 0;
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|f| f.starts_with(name)))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

/// Bytes of the write-ahead log.
pub fn wal_bytes(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |m| m.len())
}

/// Free bytes on the file system of `path`.
fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path.parent()?;
    let c_path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs only writes into the struct it is given; the path is NUL-terminated.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    (rc == 0).then(|| stat.f_bavail as u64 * stat.f_frsize as u64)
}

/// A client on one keep-alive connection from the well-behaved client's address.
pub fn well_behaved_client() -> Res<Client> {
    Ok(Client::builder()
        .no_proxy()
        .local_address(WELL_BEHAVED)
        .pool_max_idle_per_host(1)
        .tcp_nodelay(true)
        .timeout(PROBE_TIMEOUT)
        .build()?)
}

/// What the well-behaved client saw.
struct Seen {
    writes: Samples,
    failures: usize,
    first_failure: Option<String>,
    health: Samples,
}

/// `loops` writers changing the probe's own task, each pausing `every` between writes, and
/// one reader of `/health` at the same pace, until `stop`.
async fn probe(
    base: String,
    token: String,
    task: String,
    loops: usize,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> Seen {
    let mut tasks = Vec::new();
    for w in 0..loops {
        let (base, token, task, stop) = (base.clone(), token.clone(), task.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut seen = Seen {
                writes: Samples::with_capacity(4096),
                failures: 0,
                first_failure: None,
                health: Samples::default(),
            };
            let Ok(c) = well_behaved_client() else {
                return seen;
            };
            let mut n = w;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let answer = c
                    .patch(format!("{base}/api/tasks/{task}"))
                    .bearer_auth(&token)
                    .json(&json!({"title": format!("Well-behaved write {n}")}))
                    .send()
                    .await;
                let result = match answer {
                    Ok(r) if r.status().is_success() => r.bytes().await.map_err(|e| e.to_string()),
                    Ok(r) => Err(format!("{}", r.status())),
                    Err(e) => Err(if e.is_timeout() {
                        "timed out".into()
                    } else {
                        e.to_string()
                    }),
                };
                match result {
                    Ok(_) => seen.writes.record(t.elapsed()),
                    Err(why) => {
                        seen.failures += 1;
                        seen.first_failure.get_or_insert(why);
                    }
                }
                n += loops;
                tokio::time::sleep(every).await;
            }
            seen
        }));
    }
    let health = tokio::spawn(async move {
        let mut samples = Samples::with_capacity(4096);
        let mut failures = 0;
        let Ok(c) = well_behaved_client() else {
            return (samples, failures);
        };
        while !stop.load(Ordering::Relaxed) {
            let t = Instant::now();
            let ok = match c.get(format!("{base}/health")).send().await {
                Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                Err(_) => false,
            };
            if ok {
                samples.record(t.elapsed());
            } else {
                failures += 1;
            }
            tokio::time::sleep(every).await;
        }
        (samples, failures)
    });
    let mut all = Seen {
        writes: Samples::with_capacity(8192),
        failures: 0,
        first_failure: None,
        health: Samples::default(),
    };
    for t in tasks {
        if let Ok(seen) = t.await {
            all.writes.merge(seen.writes);
            all.failures += seen.failures;
            if all.first_failure.is_none() {
                all.first_failure = seen.first_failure;
            }
        }
    }
    if let Ok((samples, failures)) = health.await {
        all.health = samples;
        all.failures += failures;
    }
    all
}

/// Bytes process `pid` has caused to be written to storage (`write_bytes` of
/// `/proc/<pid>/io`): the write-ahead log and the checkpoints that copy it back.
pub fn written_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .and_then(|io| {
            io.lines()
                .find(|l| l.starts_with("write_bytes:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// Writes made one at a time on a quiet server, each timed, with what they cost it.
pub struct OneAtATime {
    pub count: usize,
    pub took: Samples,
    pub cpu_ms_each: f64,
    pub grown_kb_each: f64,
    pub written_kb_each: f64,
    pub failure: Option<String>,
}

impl OneAtATime {
    pub fn summary(&mut self) -> String {
        format!(
            "{}, one at a time: answered in p50 {} / max {} ms; each: server CPU {:.1} ms, \
             data folder +{:.0} KB, {:.0} KB written to disk{}",
            if self.count == 1 {
                "1 write".to_owned()
            } else {
                format!("{} writes", self.count)
            },
            crate::ms(self.took.percentile_ms(0.5)),
            crate::ms(self.took.percentile_ms(1.0)),
            self.cpu_ms_each,
            self.grown_kb_each,
            self.written_kb_each,
            self.failure
                .as_ref()
                .map(|why| format!(" (failed: {why})"))
                .unwrap_or_default()
        )
    }
}

/// Runs `count` writes (`write(i)`) one after another on `server`, timing each.
pub async fn one_at_a_time<F, Fut>(
    server: &Server,
    db: &Path,
    count: usize,
    write: F,
) -> Res<OneAtATime>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (cpu, disk, written) = (server.cpu_time(), data_bytes(db), written_bytes(server.pid));
    let mut took = Samples::default();
    let mut failure = None;
    for i in 0..count {
        let t = Instant::now();
        match write(i).await {
            Ok(()) => took.record(t.elapsed()),
            Err(why) => {
                failure.get_or_insert(why);
            }
        }
    }
    let n = count.max(1) as f64;
    Ok(OneAtATime {
        count,
        took,
        cpu_ms_each: (server.cpu_time() - cpu).as_secs_f64() * 1e3 / n,
        grown_kb_each: data_bytes(db).saturating_sub(disk) as f64 / 1e3 / n,
        written_kb_each: written_bytes(server.pid).saturating_sub(written) as f64 / 1e3 / n,
        failure,
    })
}
