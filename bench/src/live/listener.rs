//! The listener process: `--listen <addr> <token> <sockets>` (see the module above).

use std::collections::HashMap;
use std::time::Instant;

use futures_util::StreamExt;
use mission_control_testkit::socketio::{self, Message};
use tokio::sync::mpsc;

use super::monotonic_ns;
use crate::{Res, socket};

/// `--listen <addr> <token> <sockets>`: see the module documentation.
pub fn listener_main(args: &[String]) -> std::process::ExitCode {
    // One thread: four listeners and the server already share two cores.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            println!("failed cannot start a runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(listen(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            println!("failed {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn listen(args: &[String]) -> Res<()> {
    // Never outlive the benchmark, however it ends.
    // SAFETY: prctl with PR_SET_PDEATHSIG only sets this process's parent-death signal.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    let [addr, token, count] = args else {
        return Err("usage: --listen <addr> <token> <sockets>".into());
    };
    let addr: std::net::SocketAddr = addr.parse()?;
    let count: usize = count.parse()?;
    let sockets: Vec<_> = futures_util::stream::iter(0..count)
        .map(|_| socket::connect(addr, token))
        .buffer_unordered(32)
        .collect()
        .await;
    let sockets = sockets.into_iter().collect::<Res<Vec<_>>>()?;
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let _listening: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(listen_lean(ws, seen_tx.clone())))
        .collect();
    drop(seen_tx);
    println!("ready");
    // Instants of this process, on the clock every process shares.
    let (base_instant, base_ns) = (Instant::now(), monotonic_ns());
    let to_ns = |at: Instant| {
        let offset = at.saturating_duration_since(base_instant).as_nanos();
        base_ns + u64::try_from(offset).unwrap_or(0)
    };
    let mut arrivals: HashMap<u32, (usize, Instant)> = HashMap::new();
    while let Some((write, at)) = seen.recv().await {
        let entry = arrivals.entry(write).or_insert((0, at));
        entry.0 += 1;
        entry.1 = entry.1.max(at);
        if entry.0 == count {
            println!("seen {write} {}", to_ns(entry.1));
            arrivals.remove(&write);
        }
    }
    Ok(())
}

/// Reads one socket: answers pings, and for every `task.created` of a numbered write sends
/// (write, arrival). Lean on purpose (no copy of the frame, no parse of the payload), so that
/// the listeners take as little of the CPU they share with the server as they can.
async fn listen_lean(mut ws: socketio::Socket, seen: mpsc::UnboundedSender<(u32, Instant)>) {
    use futures_util::SinkExt;
    const CREATED: &str = "42[\"task.created\"";
    let title = format!("\"title\":\"{}", socket::MARKER);
    while let Some(Ok(frame)) = ws.next().await {
        let at = Instant::now();
        let Message::Text(text) = frame else {
            continue;
        };
        let text = text.as_str();
        if text == "2" {
            if ws.send(Message::text("3")).await.is_err() {
                return;
            }
        } else if text.starts_with(CREATED)
            && let Some(start) = text.find(&title).map(|i| i + title.len())
        {
            let write = text[start..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            if seen.send((write, at)).is_err() {
                return;
            }
        }
    }
}
