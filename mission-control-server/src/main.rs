//! `mission-control-server`: the server, the commands that look after its data, and the MCP
//! bridge over stdio (`--help` lists them). A thin front over [`commands`].

use std::process::ExitCode;

use clap::Parser;
use mission_control_server::cli::{Cli, Command};
use mission_control_server::config::Config;
use mission_control_server::{commands, telemetry};

/// jemalloc, with background threads that hand freed memory back to the system within seconds,
/// idle or not: after a burst (a large board served many times, a flood of sign-ins, a crowd of
/// slow clients) the server's resident memory falls back instead of staying at its peak, as
/// it did with glibc's per-thread arenas.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings (read once, at the first allocation): freed pages go back to the system
/// after a second unused (ten by default), by the background threads.
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 60] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Mcp { url, token }) = &cli.command {
        return mcp_bridge(url.clone(), token.clone());
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format);
    // Blocking threads serve database reads; a few are plenty on a small machine, and each
    // thread that has served a large read keeps its own malloc arena at its peak.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let command = cli
        .command
        .unwrap_or(mission_control_server::cli::Command::Serve);
    match runtime.block_on(commands::run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `mcp`: the board's MCP tools over stdio, forwarded to a running server. Needs no database
/// and no settings; stdout carries the protocol, so nothing else may be printed there.
fn mcp_bridge(url: Option<String>, token: Option<String>) -> ExitCode {
    let url = url
        .or_else(|| std::env::var("MISSION_CONTROL_URL").ok())
        .unwrap_or_else(|| "http://localhost:3002".into());
    let Some(token) = token.or_else(|| std::env::var("MISSION_CONTROL_TOKEN").ok()) else {
        eprintln!("error: mcp needs --token <token> (or MISSION_CONTROL_TOKEN)");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(mission_control_server::mcp::bridge::run(&url, &token)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
