//! `mission-control-server`: the server, and the commands that look after its data
//! (`--help` lists them). A thin front over [`commands`].

use std::process::ExitCode;

use clap::Parser;
use mission_control_server::cli::Cli;
use mission_control_server::config::Config;
use mission_control_server::{commands, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
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
