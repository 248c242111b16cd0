//! Live-update scenarios: how long a client takes to catch up on changes it missed (over
//! Socket.io and Server-Sent Events), and Socket.io fan-out with the receiving sockets spread
//! over several listener processes, so that the figure measures the server rather than one
//! client process's event loop.
//!
//! A listener is this very binary started as `mission-control-bench --listen <addr> <token>
//! <sockets>`: it connects its sockets, says `ready`, and for every numbered write prints
//! `seen <write> <ns>` once all its sockets have the write's `task.created`, `<ns>` being the
//! arrival at the last of them on `CLOCK_MONOTONIC`, the clock every process shares.

mod catchup;
mod listener;
mod spread;

pub use catchup::catchup;
pub use listener::listener_main;
pub use spread::spread;

pub const SCENARIOS: [&str; 2] = ["catchup", "spread"];

/// Listener processes the sockets are spread over.
const LISTENERS: usize = 4;
/// Catch-up runs per size (the figure is their median).
const CATCHUP_RUNS: usize = 3;

struct Plan {
    missed: Vec<usize>,
    sockets: Vec<usize>,
    writes: u32,
}

fn plan(quick: bool) -> Plan {
    if quick {
        Plan {
            missed: vec![1_000, 10_000],
            sockets: vec![200],
            writes: 10,
        }
    } else {
        Plan {
            missed: vec![1_000, 100_000],
            sockets: vec![1_000, 10_000],
            writes: 100,
        }
    }
}

/// Environment for a server that takes `sockets` connections from one address.
pub fn roomy(sockets: usize) -> Vec<(&'static str, String)> {
    vec![
        ("MAX_CONNECTIONS_PER_ADDRESS", (sockets + 64).to_string()),
        ("MAX_CONNECTIONS", (sockets + 128).to_string()),
        ("MAX_SOCKETS_PER_TOKEN", (sockets + 64).to_string()),
    ]
}

/// Nanoseconds on `CLOCK_MONOTONIC`, comparable between processes.
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    u64::try_from(ts.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(ts.tv_nsec).unwrap_or(0)
}
