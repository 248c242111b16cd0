//! `mission-control-server users ...`: managing the people who sign in from the server's own
//! machine, as the system itself (the core's policy trusts it). A person is named by username;
//! their id is their card's, `agent-<username>`.

use mission_control_core::{
    Access, AgentId, AgentName, MissionControl, NewPerson, Password, PersonChanges, Username,
};

use crate::cli::UsersCommand;
use crate::config::Config;
use crate::secret::Secret;

/// Runs one `users` command; a message for the person on failure.
pub async fn run(config: Config, action: UsersCommand) -> Result<(), String> {
    let mc = crate::commands::open(&config)?;
    let result = act(&mc, action).await;
    mc.shutdown().await;
    result
}

async fn act(mc: &MissionControl, action: UsersCommand) -> Result<(), String> {
    let fail = |e: mission_control_core::Error| e.to_string();
    match action {
        UsersCommand::Add {
            username,
            name,
            role,
        } => {
            let password = new_password()?;
            let new = NewPerson {
                username: Username::parse(&username).map_err(|e| format!("username {e}"))?,
                name: AgentName::parse(&name).map_err(|e| format!("--name {e}"))?,
                access: access(&role)?,
                password: Some(
                    Password::parse(password.expose()).map_err(|e| format!("password {e}"))?,
                ),
            };
            let (person, _) = mc.add_person(None, new).await.map_err(fail)?;
            println!(
                "Added {} ({}) as {}; their password: {}\n(shown once; only its hash is kept)",
                person.username,
                person.id,
                person.role,
                password.expose()
            );
        }
        UsersCommand::List => {
            for p in mc.list_people(None).await.map_err(fail)? {
                let state = match (p.disabled, p.invited) {
                    (true, _) => "  disabled",
                    (false, true) => "  invited",
                    _ => "",
                };
                println!("{}  {}  {}  {}{state}", p.username, p.id, p.name, p.role);
            }
        }
        UsersCommand::SetRole { username, role } => {
            let changes = PersonChanges {
                access: Some(access(&role)?),
                ..Default::default()
            };
            let person = mc
                .update_person(None, &id(&username)?, changes)
                .await
                .map_err(fail)?;
            println!("{} is now {}", person.username, person.role);
        }
        UsersCommand::Disable { username, enable } => {
            let changes = PersonChanges {
                disabled: Some(!enable),
                ..Default::default()
            };
            let person = mc
                .update_person(None, &id(&username)?, changes)
                .await
                .map_err(fail)?;
            let now = if person.disabled {
                "disabled"
            } else {
                "enabled"
            };
            println!("{} is {now}", person.username);
        }
        UsersCommand::ResetPassword { username } => {
            let password = new_password()?;
            let parsed = Password::parse(password.expose()).map_err(|e| format!("password {e}"))?;
            let ended = mc
                .reset_person_password(&id(&username)?, parsed)
                .await
                .map_err(fail)?;
            println!(
                "New password for '{username}': {}\n(shown once; only its hash is kept; {ended} sessions ended)",
                password.expose()
            );
        }
    }
    Ok(())
}

/// A person's id: their card's, as the operator's is made from `ADMIN_USERNAME`.
fn id(username: &str) -> Result<String, String> {
    AgentId::for_username(username)
        .map(|id| id.as_str().to_owned())
        .map_err(|e| format!("username {e}"))
}

fn access(role: &str) -> Result<Access, String> {
    role.parse().map_err(|e| format!("role {e}"))
}

/// 20 hex characters (80 bits), easy to paste.
fn new_password() -> Result<Secret, String> {
    let secret = mission_control_core::credentials::generate_secret().map_err(|e| e.to_string())?;
    Ok(Secret::new(secret[..20].to_owned()))
}
