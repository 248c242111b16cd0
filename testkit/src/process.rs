//! The server as a child process: spawned with the caller's settings, considered up once it
//! prints `Mission Control listening on http://<addr>`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::Result;

const LISTENING: &str = "Mission Control listening on http://";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// `$MISSION_CONTROL_SERVER_BIN`, else `mission-control-server` in the cargo profile folder of
/// the running executable (`target/<profile>/`, whether it runs from there or from `deps/`).
pub fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MISSION_CONTROL_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("mission-control-server")
}

/// A running server.
pub struct ServerProcess {
    pub child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    /// `http://<addr>`
    pub url: String,
    /// From spawn to the listening line.
    pub started_in: Duration,
}

impl ServerProcess {
    /// Spawns `command` (binary, environment, working folder and stderr as the caller set
    /// them) and waits until the server says where it listens. The server is killed when the
    /// value is dropped.
    pub async fn spawn(mut command: Command) -> Result<ServerProcess> {
        let spawned_at = Instant::now();
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start the server: {e}"))?;
        let pid = child.id().ok_or("the server exited at once")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.strip_prefix(LISTENING) {
                    return Ok::<_, std::io::Error>(Some(rest.trim().to_owned()));
                }
            }
            Ok(None)
        })
        .await
        .map_err(|_| "the server did not print its address in time")??;
        let started_in = spawned_at.elapsed();
        let hostport = found.ok_or("the server exited before listening (see its stderr)")?;
        // Keep reading stdout so that the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let addr: SocketAddr = hostport
            .parse()
            .map_err(|e| format!("bad listening address {hostport}: {e}"))?;
        Ok(ServerProcess {
            child,
            pid,
            addr,
            url: format!("http://{addr}"),
            started_in,
        })
    }

    /// Sends SIGTERM and waits for the exit (SIGKILL if it takes longer than 20 s).
    pub async fn terminate(&mut self) -> Result<ExitStatus> {
        // SAFETY: kill(2) on a child this process spawned and has not reaped yet.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                self.child.kill().await?;
                Err("the server did not stop within 20 s of SIGTERM; killed it".into())
            }
        }
    }

    /// SIGKILL: no chance to flush or close anything.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}
