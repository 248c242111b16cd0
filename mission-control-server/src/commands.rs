//! What each command line command does. `serve` is [`startup::run`]; the others open the
//! board the server uses (never a new one) and act through the core, as the system itself.
//! They write only what they are asked to (`token --name --role` registers its agent, `import`
//! imports, `tokens revoke` revokes); reading commands write nothing, and none of them runs
//! the board's clock, which is the serving process's alone.

use std::io::Write;
use std::path::{Path, PathBuf};

use mission_control_core::{
    AgentId, AgentName, AgentRole, AgentStatus, BoardExport, Error as CoreError, NewAgent,
    TokenLifetime,
};

use crate::cli::{AgentsCommand, Command, TokensCommand};
use crate::config::Config;
use crate::lock::ServerLock;
use crate::{provision, startup};

/// Runs one command; a message for the person on failure.
pub async fn run(command: Command, config: Config) -> Result<(), String> {
    match command {
        Command::Serve => startup::run(config).await.map_err(|e| e.to_string()),
        Command::Mcp { url, token } => {
            let url = url.unwrap_or_else(|| "http://localhost:3002".into());
            let token = token.ok_or("mcp needs --token <token> (or MISSION_CONTROL_TOKEN)")?;
            crate::mcp::bridge::run(&url, &token)
                .await
                .map_err(|e| e.to_string())
        }
        Command::Token {
            agent,
            days,
            name,
            role,
        } => token(config, agent, days, name, role).await,
        Command::ResetAdminPassword => reset_admin_password(&config).await,
        Command::Tokens { action } => tokens(config, action).await,
        Command::Agents { action } => agents(config, action).await,
        Command::Users { action } => crate::people_commands::run(config, action).await,
        Command::Backup { file } => {
            let mc = open(&config)?;
            mc.backup(&file).await.map_err(|e| e.to_string())?;
            mc.shutdown().await;
            println!("Backed up {} to {}", config.database, file.display());
            Ok(())
        }
        Command::Export { output } => export(&config, output).await,
        Command::Import {
            file,
            without_tokens,
        } => import(&config, &file, without_tokens).await,
    }
}

pub(crate) fn open(config: &Config) -> Result<mission_control_core::MissionControl, String> {
    startup::open_existing_store(config).map_err(|e| e.to_string())
}

async fn token(
    config: Config,
    agent: String,
    days: u32,
    name: Option<String>,
    role: Option<String>,
) -> Result<(), String> {
    let lifetime = TokenLifetime::days(days).map_err(|e| format!("--days {e}"))?;
    let mc = open(&config)?;
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
            Ok(_) | Err(CoreError::Conflict(mission_control_core::Conflict::Exists { .. })) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
    let issued = mc
        .mint_token(None, &agent, lifetime)
        .await
        .map_err(|e| match e {
            CoreError::NotFound { .. } => {
                format!("no agent {agent} is registered; add --name and --role to register it")
            }
            other => other.to_string(),
        })?;
    mc.shutdown().await;
    println!("{}", issued.token);
    Ok(())
}

async fn reset_admin_password(config: &Config) -> Result<(), String> {
    if config.admin.password.is_some() {
        return Err(
            "ADMIN_PASSWORD is set in the environment (or .env): change it there instead".into(),
        );
    }
    let mc = open(config)?;
    let reset = provision::reset_admin_password(config, &mc).await;
    mc.shutdown().await;
    let (password, kept) = reset.map_err(|e| e.to_string())?;
    println!(
        "New password for '{}': {}\n(shown once; only its hash is kept, in {}. A running server uses it from its next sign-in.)",
        config.admin.username,
        password.expose(),
        kept
    );
    Ok(())
}

async fn tokens(config: Config, action: TokensCommand) -> Result<(), String> {
    let mc = open(&config)?;
    let result = match action {
        TokensCommand::List { agent } => mc.list_tokens(None, &agent).await.map(|tokens| {
            if tokens.is_empty() {
                println!("{agent} has no live tokens");
            }
            for t in tokens {
                println!(
                    "{}  created {}  expires {}  last used {}",
                    t.id,
                    when(t.created_at),
                    when(t.expires_at),
                    t.last_used_at.map_or("never".into(), when)
                );
            }
        }),
        TokensCommand::Revoke { agent, id, all } => {
            if all {
                mc.revoke_all_tokens(None, &agent)
                    .await
                    .map(|n| println!("Revoked {n} tokens of {agent}"))
            } else {
                let id = id.unwrap_or_default();
                mc.revoke_token_id(None, &agent, &id)
                    .await
                    .map(|()| println!("Revoked token {id} of {agent}"))
            }
        }
    };
    mc.shutdown().await;
    result.map_err(|e| e.to_string())
}

async fn agents(config: Config, action: AgentsCommand) -> Result<(), String> {
    let mc = open(&config)?;
    let result = match action {
        AgentsCommand::List => mc.list_agents().await.map(|agents| {
            for a in agents {
                println!("{}  {}  {}  {}", a.id, a.name, a.role, a.status);
            }
        }),
        AgentsCommand::Remove { id } => mc
            .remove_agent(None, &id)
            .await
            .map(|()| println!("Removed {id}")),
    };
    mc.shutdown().await;
    result.map_err(|e| e.to_string())
}

/// `export`: the board as JSON, on standard output or in a file only its owner can read (it
/// holds the tokens' digests); a file says, on stderr, what the tokens need where it goes.
async fn export(config: &Config, output: Option<PathBuf>) -> Result<(), String> {
    let mc = open(config)?;
    let export = mc.export().await.map_err(|e| e.to_string())?;
    mc.shutdown().await;
    let json = serde_json::to_vec_pretty(&export).map_err(|e| e.to_string())?;
    let Some(path) = output else {
        return std::io::stdout()
            .write_all(&json)
            .map_err(|e| e.to_string());
    };
    write_private(&path, &json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let tokens = export.tokens.as_ref().map_or(0, Vec::len);
    eprintln!(
        "Exported {} agents, {} tasks, {} comments, {} events and {tokens} tokens to {}.\n\
         The tokens keep working on the board this file is imported into only if every process \
         serving it has this board's signing key as JWT_SECRET: {}.",
        export.agents.len(),
        export.tasks.len(),
        export.comments.len(),
        export.events.len(),
        path.display(),
        provision::signing_key_origin(config),
    );
    Ok(())
}

/// `import`: a file of `export` into this board, with no server serving it.
async fn import(config: &Config, file: &Path, without_tokens: bool) -> Result<(), String> {
    if let Some(path) = config.sqlite_path() {
        ServerLock::ensure_free(path).map_err(|e| e.to_string())?;
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut export: BoardExport = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not an export: {e}", file.display()))?;
    if without_tokens {
        export.tokens = None;
    }
    let mc = open(config)?;
    if mc.served_elsewhere().await.map_err(|e| e.to_string())? {
        mc.shutdown().await;
        return Err(
            "a server is already serving this board: stop every server process first".into(),
        );
    }
    let report = mc.import(export).await;
    mc.shutdown().await;
    let report = report.map_err(|e| match e {
        CoreError::Validation(fields) if fields.iter().any(|f| f.field == "signingKeyCheck") => {
            "the file's tokens were signed with another key than this board's JWT_SECRET, so \
             they would not work here. Set JWT_SECRET, for this command and for every server \
             process of this board, to the signing key of the board the file came from (the \
             JWT_SECRET it ran with, or its data/jwt-secret file) and import again; or add \
             --without-tokens to import the rest and give the agents new tokens. Nothing was \
             imported."
                .to_owned()
        }
        other => other.to_string(),
    })?;
    println!(
        "Imported {} agents, {} tasks, {} comments, {} events, {} tokens, {} revocations \
         ({} already there, revoked or expired)",
        report.agents,
        report.tasks,
        report.comments,
        report.events,
        report.tokens,
        report.revoked_tokens,
        report.skipped
    );
    match report.seq_shift {
        Some(0) => println!("The feed keeps its seqs."),
        Some(shift) => println!(
            "The feed keeps its order; its seqs come after this board's own (moved up by {shift})."
        ),
        None => {}
    }
    if report.tokens > 0 {
        println!(
            "The tokens work while every server process of this board has the JWT_SECRET this \
             command ran with."
        );
    }
    Ok(())
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}

/// An instant for people: RFC 3339 in UTC, to the second.
fn when(ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string()
}
