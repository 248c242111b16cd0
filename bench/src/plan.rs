//! What a run measures and how much of it: the command line, the scenarios, and the sizes of
//! the full run and of the smoke run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{attack, claims, live};

pub const SCENARIOS: [&str; 13] = [
    "create",
    "update",
    "list",
    "events",
    "fanout",
    "startup",
    "mcp",
    live::SCENARIOS[0],
    live::SCENARIOS[1],
    "sustained",
    claims::SCENARIO,
    crate::postgres::SCENARIO,
    attack::SCENARIO,
];

/// How much of everything: the full run, or a smoke run under 30 seconds.
pub struct Plan {
    pub quick: bool,
    pub create_clients: Vec<usize>,
    pub create_time: Duration,
    pub create_max: usize,
    pub update_seed: usize,
    pub update_time: Duration,
    pub list_tasks: usize,
    pub list_requests: usize,
    pub list_time: Duration,
    pub event_rows: usize,
    pub event_requests: usize,
    pub event_time: Duration,
    pub fanout_clients: Vec<usize>,
    pub fanout_writes: u32,
    pub cold_starts: usize,
    pub sustained_clients: usize,
    pub sustained_time: Duration,
    pub sustained_idle_reads: Duration,
    pub sustained_single_time: Duration,
    pub sustained_max: usize,
}

impl Plan {
    pub fn full() -> Self {
        Plan {
            quick: false,
            create_clients: vec![1, 16, 64],
            create_time: Duration::from_secs(5),
            create_max: 200_000,
            update_seed: 1_000,
            update_time: Duration::from_secs(5),
            list_tasks: 10_000,
            list_requests: 200,
            list_time: Duration::from_secs(15),
            event_rows: 1_000_000,
            event_requests: 2_000,
            event_time: Duration::from_secs(5),
            fanout_clients: vec![100, 1_000],
            fanout_writes: 100,
            cold_starts: 5,
            sustained_clients: 16,
            sustained_time: Duration::from_secs(60),
            sustained_idle_reads: Duration::from_secs(5),
            sustained_single_time: Duration::from_secs(20),
            sustained_max: 2_000_000,
        }
    }

    pub fn quick() -> Self {
        Plan {
            quick: true,
            create_clients: vec![1, 16, 64],
            create_time: Duration::from_millis(1_000),
            create_max: 20_000,
            update_seed: 200,
            update_time: Duration::from_millis(1_000),
            list_tasks: 2_000,
            list_requests: 20,
            list_time: Duration::from_secs(3),
            event_rows: 100_000,
            event_requests: 300,
            event_time: Duration::from_secs(1),
            fanout_clients: vec![50, 200],
            fanout_writes: 10,
            cold_starts: 3,
            sustained_clients: 16,
            sustained_time: Duration::from_secs(4),
            sustained_idle_reads: Duration::from_secs(1),
            sustained_single_time: Duration::from_secs(2),
            sustained_max: 500_000,
        }
    }
}
/// The command line.
pub struct Args {
    pub quick: bool,
    pub server: Option<PathBuf>,
    pub tmp: Option<PathBuf>,
    pub only: Vec<String>,
    pub attacks: Vec<String>,
}

pub fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        server: None,
        tmp: None,
        only: SCENARIOS.iter().map(|s| s.to_string()).collect(),
        attacks: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => args.quick = true,
            "--server" => args.server = Some(it.next().ok_or("--server needs a path")?.into()),
            "--tmp" => args.tmp = Some(it.next().ok_or("--tmp needs a folder")?.into()),
            "--only" => {
                let list = it.next().ok_or("--only needs a list")?;
                args.only = list.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(bad) = args.only.iter().find(|s| !SCENARIOS.contains(&s.as_str())) {
                    return Err(format!("unknown scenario {bad}; known: {SCENARIOS:?}"));
                }
            }
            "--attacks" => {
                let list = it.next().ok_or("--attacks needs a list")?;
                args.attacks = list.split(',').map(|s| s.trim().to_owned()).collect();
                if let Some(bad) = args
                    .attacks
                    .iter()
                    .find(|s| !attack::ATTACKS.contains(&s.as_str()))
                {
                    return Err(format!(
                        "unknown attack {bad}; known: {:?}",
                        attack::ATTACKS
                    ));
                }
            }
            "-h" | "--help" => {
                println!(
                    "usage: mission-control-bench [--quick] [--server <path>] [--tmp <dir>] [--only {}] [--attacks {}]",
                    SCENARIOS.join(","),
                    attack::ATTACKS.join(",")
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    Ok(args)
}

/// The release server: --server, else $CARGO_TARGET_DIR/release, else target/release.
pub fn server_binary(explicit: Option<PathBuf>) -> PathBuf {
    if let Some(path) = explicit {
        return path;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("release").join("mission-control-server")
}
