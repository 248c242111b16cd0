//! The command line: `serve` (the default) and the commands that look after a board's data.
//! Every command finds the database exactly as the server does (the same `.env`, the same
//! defaults), and none creates one: run where the server runs, or set `DATABASE_PATH`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "mission-control-server",
    version,
    about = "Mission Control: a live task board shared by AI agents and the people who run them.",
    long_about = "Mission Control: a live task board shared by AI agents and the people who run them.\n\n\
        Settings come from the environment or a .env file (see .env.example); with none, the \
        server keeps its database in ./data/mission-control.db and listens on 127.0.0.1:3002."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the REST API, Socket.io, the event stream and the dashboard on one port (the default).
    Serve,
    /// Print a token for an agent (its MISSION_CONTROL_TOKEN); with --name and --role the agent is
    /// registered first if it is new.
    Token {
        /// The agent's id, such as agent-nova.
        #[arg(long)]
        agent: String,
        /// How many days the token lasts (1 to 3650).
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// The agent's display name, to register it.
        #[arg(long, requires = "role")]
        name: Option<String>,
        /// The agent's role (Main, Dev, Research or Ops), to register it.
        #[arg(long, requires = "name")]
        role: Option<String>,
    },
    /// Generate a new admin password, print it once, and keep only its hash (a running server
    /// uses it from its next sign-in).
    ResetAdminPassword,
    /// See or revoke an agent's tokens (a running server refuses a revoked token, and ends the
    /// connections made with it, within a second).
    Tokens {
        #[command(subcommand)]
        action: TokensCommand,
    },
    /// Manage the people who sign in (a running server ends a disabled person's sessions, or
    /// those of a person whose role changed, within a second).
    Users {
        #[command(subcommand)]
        action: UsersCommand,
    },
    /// See or remove agents.
    Agents {
        #[command(subcommand)]
        action: AgentsCommand,
    },
    /// Copy the database to a new file with SQLite's online backup (safe while serving).
    Backup {
        /// The file to write; it must not exist.
        file: PathBuf,
    },
    /// Write the whole board (agents, tasks, comments, the event log, and the tokens' records:
    /// digests, never a token) as JSON. To move a board, export it with its server stopped and
    /// import the file into the new one.
    Export {
        /// Write to this file (readable by its owner only) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Add the rows of a JSON export to the board (rows whose id exists are left as they are).
    /// Stop the server first. The file's tokens keep working only where JWT_SECRET is the key
    /// of the board the file came from; a file whose tokens another key signed is refused.
    Import {
        /// A file written by `export`.
        file: PathBuf,
        /// Import everything but the tokens (the agents will need new ones).
        #[arg(long)]
        without_tokens: bool,
    },
    /// The board's MCP tools over stdio, for clients that launch a local process: every call
    /// goes to a running server's /mcp with the agent's token.
    Mcp {
        /// The board's URL (default: $MISSION_CONTROL_URL, else http://localhost:3002).
        #[arg(long)]
        url: Option<String>,
        /// The agent's token (default: $MISSION_CONTROL_TOKEN).
        #[arg(long)]
        token: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// List an agent's tokens: id, created, expires, last used (never the token).
    List {
        /// The agent's id, such as agent-nova.
        #[arg(long)]
        agent: String,
    },
    /// Revoke one token of an agent (--id) or all of them (--all).
    Revoke {
        /// The agent's id, such as agent-nova.
        #[arg(long)]
        agent: String,
        /// The token's id, from `tokens list`.
        #[arg(long, conflicts_with = "all", required_unless_present = "all")]
        id: Option<String>,
        /// Every token of the agent.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a person; their password is generated and printed once.
    Add {
        /// 1 to 32 lowercase letters, digits, '-' or '_'; their card is agent-<username>.
        username: String,
        /// Their display name.
        #[arg(long)]
        name: String,
        /// admin, member or viewer.
        #[arg(long, default_value = "member")]
        role: String,
    },
    /// List the people: username, card, role, and whether disabled or invited.
    List,
    /// Change a person's role (admin, member or viewer); their sessions end.
    SetRole { username: String, role: String },
    /// Stop a person signing in; their sessions end (--enable lets them in again).
    Disable {
        username: String,
        /// Let them sign in again instead.
        #[arg(long)]
        enable: bool,
    },
    /// Generate a new password for a person, print it once; their sessions end.
    ResetPassword { username: String },
}

#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// List the agents.
    List,
    /// Remove an agent: its tokens are revoked and its tasks unassigned; its history stays.
    Remove {
        /// The agent's id.
        id: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_command_means_serve_and_flags_are_checked() {
        assert!(
            Cli::try_parse_from(["mission-control-server"])
                .unwrap()
                .command
                .is_none()
        );
        assert!(Cli::try_parse_from(["mcs", "token", "--agent", "a", "--name", "N"]).is_err());
        assert!(Cli::try_parse_from(["mcs", "tokens", "revoke", "--agent", "a"]).is_err());
        assert!(Cli::try_parse_from(["mcs", "tokens", "revoke", "--agent", "a", "--all"]).is_ok());
        assert!(Cli::try_parse_from(["mcs", "users", "add", "nova", "--name", "Nova"]).is_ok());
        assert!(Cli::try_parse_from(["mcs", "users", "set-role", "nova"]).is_err());
    }
}
