//! `mission-control-server`: run the server, mint a token for an agent, or bridge MCP over
//! stdio to a running server.

use std::process::ExitCode;

use mission_control_core::{AgentId, AgentName, AgentRole, AgentStatus, NewAgent};
use mission_control_server::config::Config;
use mission_control_server::{startup, telemetry};

const USAGE: &str = "\
Usage:
  mission-control-server                 run the server (settings from the environment or .env)
  mission-control-server token --agent <id> [--days <n>] [--name <name> --role <Main|Dev|Research|Ops>]
                                         print a token for an agent (its MISSION_CONTROL_TOKEN);
                                         with --name and --role the agent is registered if new
  mission-control-server mcp [--url <board URL>] [--token <token>]
                                         the board's MCP tools over stdio, forwarded to a running
                                         server (default $MISSION_CONTROL_URL, else
                                         http://localhost:3002; token default $MISSION_CONTROL_TOKEN)
  mission-control-server --help | --version";

enum Command {
    Serve,
    Token {
        agent: String,
        days: u32,
        name: Option<String>,
        role: Option<String>,
    },
    Mcp {
        url: String,
        token: String,
    },
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    match args.first().map(String::as_str) {
        None | Some("serve") => Ok(Command::Serve),
        Some("token") => {
            let mut agent = None;
            let mut days = 365;
            let mut name = None;
            let mut role = None;
            let mut rest = args[1..].iter();
            while let Some(flag) = rest.next() {
                let value = rest
                    .next()
                    .ok_or_else(|| format!("{flag} needs a value"))?
                    .clone();
                match flag.as_str() {
                    "--agent" => agent = Some(value),
                    "--days" => {
                        days = value
                            .parse()
                            .ok()
                            .filter(|d| (1..=3650).contains(d))
                            .ok_or("--days must be a whole number from 1 to 3650")?
                    }
                    "--name" => name = Some(value),
                    "--role" => role = Some(value),
                    other => return Err(format!("unknown option {other}")),
                }
            }
            let agent = agent.ok_or("token needs --agent <id>")?;
            Ok(Command::Token {
                agent,
                days,
                name,
                role,
            })
        }
        Some("mcp") => {
            let mut url = std::env::var("MISSION_CONTROL_URL").ok();
            let mut token = std::env::var("MISSION_CONTROL_TOKEN").ok();
            let mut rest = args[1..].iter();
            while let Some(flag) = rest.next() {
                let value = rest
                    .next()
                    .ok_or_else(|| format!("{flag} needs a value"))?
                    .clone();
                match flag.as_str() {
                    "--url" => url = Some(value),
                    "--token" => token = Some(value),
                    other => return Err(format!("unknown option {other}")),
                }
            }
            Ok(Command::Mcp {
                url: url.unwrap_or_else(|| "http://localhost:3002".into()),
                token: token.ok_or("mcp needs --token <token> (or MISSION_CONTROL_TOKEN)")?,
            })
        }
        Some(other) => Err(format!("unknown command {other}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--version" || a == "-V") {
        println!("mission-control-server {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let command = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Command::Mcp { url, token } = &command {
        return run_bridge(url, token);
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
    let result = runtime.block_on(async move {
        match command {
            Command::Serve => startup::run(config).await.map_err(|e| e.to_string()),
            Command::Token {
                agent,
                days,
                name,
                role,
            } => mint_token(config, agent, days, name, role).await,
            // Served above, before any server configuration is read.
            Command::Mcp { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn mint_token(
    config: Config,
    agent: String,
    days: u32,
    name: Option<String>,
    role: Option<String>,
) -> Result<(), String> {
    let mc = startup::open_existing_store(&config)
        .await
        .map_err(|e| e.to_string())?;
    if let (Some(name), Some(role)) = (name, role) {
        let new = NewAgent {
            id: AgentId::parse(&agent).map_err(|e| format!("--agent {e}"))?,
            name: AgentName::parse(&name).map_err(|e| format!("--name {e}"))?,
            role: role
                .parse::<AgentRole>()
                .map_err(|e| format!("--role {e}"))?,
            status: AgentStatus::Online,
            avatar_color: None,
        };
        match mc.register_agent(None, new).await {
            Ok(_) | Err(mission_control_core::Error::Conflict { .. }) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let issued = mc
        .issue_token(&agent, i64::from(days) * 24 * 60 * 60 * 1000)
        .await
        .map_err(|e| match e {
            mission_control_core::Error::NotFound { .. } => {
                format!("no agent {agent} is registered; add --name and --role to register it")
            }
            other => other.to_string(),
        })?;
    mc.shutdown().await;
    println!("{}", issued.token);
    Ok(())
}

/// `mcp`: stdout carries the protocol, so nothing else may be printed there.
fn run_bridge(url: &str, token: &str) -> ExitCode {
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
    match runtime.block_on(mission_control_server::mcp::bridge::run(url, token)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
