//! People: adding them (with a password, or an invitation to choose one), changing their name,
//! role and whether they may sign in, removing them, and their passwords.
//!
//! A person acts as their own card (`agent-<username>`), made with them and removed with them.
//! Whatever changes what a person may do (a new role, being disabled or removed) revokes every
//! token they hold, on the bus and in the change log, so that their requests are refused and
//! their live connections end within seconds, in every process serving the board; they sign in
//! again to work under the new role.

use super::agents::{ensure_name_free, insert_agent, remove_card};
use super::policy::{Action, Target};
use super::{Actor, MissionControl, not_found};
use crate::bus::DomainEvent;
use crate::credentials::{PasswordHash, generate_secret, sha256_hex};
use crate::domain::{
    Access, AgentRole, AgentStatus, EventType, NewAgent, NewPerson, Password, Person,
    PersonChanges, now_millis,
};
use crate::error::{Conflict, Error, Result};
use crate::store::{Connection, agents, tokens, users};

/// How long an invitation to choose a password lasts: 7 days.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Most people a board holds.
pub const MAX_PEOPLE: i64 = 1000;

/// An invitation just made: its token (shown once, never stored) and when it runs out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub token: String,
    /// Epoch milliseconds.
    pub expires_at: i64,
}

/// What signing in as a person needs: their card, their password hash (none while an
/// invitation is pending) and whether they are disabled.
#[derive(Debug, Clone)]
pub struct SignInRecord {
    pub agent_id: String,
    pub password_hash: Option<PasswordHash>,
    pub disabled: bool,
}

impl MissionControl {
    /// Adds a person and their card. Without a password, the answer carries an invitation.
    pub async fn add_person(
        &self,
        actor: Option<&Actor>,
        new: NewPerson,
    ) -> Result<(Person, Option<Invite>)> {
        self.allows(actor, Action::ManagePeople, Target::Board)?;
        let hash = match &new.password {
            Some(password) => Some(hash(password.clone()).await?),
            None => None,
        };
        let invite = match hash {
            Some(_) => None,
            None => Some(Invite {
                token: generate_secret()?,
                expires_at: now_millis() + INVITE_TTL_MS,
            }),
        };
        let actor = actor.cloned();
        let answer = invite.clone();
        let person = self
            .write(move |conn| {
                if users::count(conn)? >= MAX_PEOPLE {
                    return Err(Error::field(
                        "username",
                        format!("the board already has {MAX_PEOPLE} people"),
                    ));
                }
                let id = new.username.agent_id();
                if users::username_taken(conn, new.username.as_str())?
                    || agents::exists(conn, id.as_str())?
                {
                    return Err(Error::Conflict(Conflict::Exists {
                        kind: "user",
                        id: id.as_str().to_owned(),
                    }));
                }
                ensure_name_free(conn, new.name.as_str(), id.as_str())?;
                let (_, published) = insert_agent(
                    conn,
                    actor.as_ref(),
                    NewAgent {
                        id: id.clone(),
                        name: new.name,
                        role: AgentRole::Main,
                        status: AgentStatus::Offline,
                        avatar_color: None,
                    },
                )?;
                users::insert(
                    conn,
                    &users::NewRow {
                        id: id.as_str(),
                        username: new.username.as_str(),
                        access: new.access,
                        password_hash: hash.as_ref().map(PasswordHash::as_phc),
                        invite_hash: invite.as_ref().map(|i| sha256_hex(&i.token)).as_deref(),
                        invite_expires_at: invite.as_ref().map(|i| i.expires_at),
                        now: now_millis(),
                    },
                )?;
                let person = person(conn, id.as_str())?;
                Ok((person, published))
            })
            .await?;
        Ok((person, answer))
    }

    /// Everyone, by username.
    pub async fn list_people(&self, actor: Option<&Actor>) -> Result<Vec<Person>> {
        self.allows(actor, Action::ManagePeople, Target::Board)?;
        self.read(users::list).await
    }

    /// One person; a caller may always read their own record.
    pub async fn get_person(&self, actor: Option<&Actor>, id: &str) -> Result<Person> {
        if actor.is_none_or(|a| a.agent_id != id) {
            self.allows(actor, Action::ManagePeople, Target::Person(id))?;
        }
        let id = id.to_owned();
        self.read(move |conn| person(conn, &id)).await
    }

    /// Changes a person's name (their card's), role, or whether they may sign in. A new role
    /// or being disabled ends their sessions.
    pub async fn update_person(
        &self,
        actor: Option<&Actor>,
        id: &str,
        changes: PersonChanges,
    ) -> Result<Person> {
        self.allows(actor, Action::ChangePerson(&changes), Target::Person(id))?;
        let actor = actor.cloned();
        let id = id.to_owned();
        let (person, revoked) = self
            .write(move |conn| {
                let before = person(conn, &id)?;
                let now = now_millis();
                let mut published = Vec::new();
                if let Some(name) = &changes.name
                    && name.as_str() != before.name
                {
                    ensure_name_free(conn, name.as_str(), &id)?;
                    let mut card =
                        agents::get(conn, &id)?.ok_or_else(|| not_found("agent", &id))?;
                    card.name = name.as_str().to_owned();
                    agents::update(conn, &card)?;
                    let who = match &actor {
                        Some(a) => agents::display_name(conn, &a.agent_id)?,
                        None => "The operator".to_owned(),
                    };
                    let event = super::feed_line(
                        EventType::AgentUpdated,
                        format!("{who} renamed {} to {}", before.name, card.name),
                        actor.as_ref().map(|a| a.agent_id.as_str()),
                        None,
                        now,
                    )?;
                    published.push(DomainEvent::AgentStatusChanged(card));
                    published.push(DomainEvent::EventLogged(event));
                }
                let mut ends_sessions = false;
                if let Some(access) = changes.access
                    && access != before.role
                {
                    users::set_access(conn, &id, access, now)?;
                    ends_sessions = true;
                }
                if let Some(disabled) = changes.disabled
                    && disabled != before.disabled
                {
                    users::set_disabled(conn, &id, disabled, now)?;
                    ends_sessions |= disabled;
                }
                let revoked = if ends_sessions {
                    revoke_all(conn, &id, None, &mut published)?
                } else {
                    Vec::new()
                };
                Ok(((person(conn, &id)?, revoked), published))
            })
            .await?;
        self.forget_verified(&revoked);
        Ok(person)
    }

    /// Removes a person and their card: their sessions end, their tasks are unassigned; what
    /// they did stays in the log.
    pub async fn remove_person(&self, actor: Option<&Actor>, id: &str) -> Result<()> {
        self.allows(actor, Action::RemovePerson, Target::Person(id))?;
        let actor = actor.cloned();
        let id = id.to_owned();
        let revoked = self
            .write(move |conn| {
                if !users::delete(conn, &id)? {
                    return Err(not_found("user", &id));
                }
                if agents::exists(conn, &id)? {
                    remove_card(conn, actor.as_ref(), &id)
                } else {
                    let mut published = Vec::new();
                    let revoked = revoke_all(conn, &id, None, &mut published)?;
                    Ok((revoked, published))
                }
            })
            .await?;
        self.forget_verified(&revoked);
        Ok(())
    }

    /// What signing in as `username` needs; `None` when nobody has that username.
    pub async fn sign_in_record(&self, username: &str) -> Result<Option<SignInRecord>> {
        let username = username.to_owned();
        let found = self
            .read(move |conn| users::sign_in(conn, &username))
            .await?;
        found
            .map(|row| {
                Ok(SignInRecord {
                    agent_id: row.id,
                    password_hash: row
                        .password_hash
                        .map(|phc| PasswordHash::from_phc(&phc))
                        .transpose()?,
                    disabled: row.disabled,
                })
            })
            .transpose()
    }

    /// The password hash of the person `actor` is; `None` for an agent, or while invited.
    pub async fn password_hash_of(&self, actor: &Actor) -> Result<Option<PasswordHash>> {
        self.allows(
            Some(actor),
            Action::ChangeOwnPassword,
            Target::Person(&actor.agent_id),
        )?;
        let id = actor.agent_id.clone();
        let phc = self
            .read(move |conn| users::password_hash(conn, &id))
            .await?;
        phc.map(|p| PasswordHash::from_phc(&p)).transpose()
    }

    /// Sets the password of the person `actor` is (the caller has checked the current one).
    /// With `keep`, every other session of theirs ends: all their tokens but the one with this
    /// id; how many ended.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        password: Password,
        keep: Option<&str>,
    ) -> Result<usize> {
        self.allows(
            Some(actor),
            Action::ChangeOwnPassword,
            Target::Person(&actor.agent_id),
        )?;
        self.set_password(
            &actor.agent_id.clone(),
            password,
            keep.map(|k| Keep::One(k.to_owned())),
        )
        .await
    }

    /// Sets a person's password from the server's own machine (the command line, start-up):
    /// every session of theirs ends.
    pub async fn reset_person_password(&self, id: &str, password: Password) -> Result<usize> {
        self.set_password(id, password, Some(Keep::None)).await
    }

    async fn set_password(&self, id: &str, password: Password, end: Option<Keep>) -> Result<usize> {
        let hash = hash(password).await?;
        let id = id.to_owned();
        let revoked = self
            .write(move |conn| {
                if !users::set_password(conn, &id, hash.as_phc(), now_millis())? {
                    return Err(not_found("user", &id));
                }
                let mut published = Vec::new();
                let revoked = match end {
                    None => Vec::new(),
                    Some(Keep::None) => revoke_all(conn, &id, None, &mut published)?,
                    Some(Keep::One(keep)) => revoke_all(conn, &id, Some(&keep), &mut published)?,
                };
                Ok((revoked, published))
            })
            .await?;
        self.forget_verified(&revoked);
        Ok(revoked.len())
    }

    /// Accepts an invitation: sets the password it was for; the person's card id.
    pub async fn accept_invite(&self, token: &str, password: Password) -> Result<String> {
        let invite_hash = sha256_hex(token);
        let hash = hash(password).await?;
        self.write(move |conn| {
            let Some(id) = users::invited(conn, &invite_hash, now_millis())? else {
                return Err(Error::Unauthorized(
                    "the invitation is not valid: it was used, withdrawn or has expired",
                ));
            };
            users::set_password(conn, &id, hash.as_phc(), now_millis())?;
            Ok((id, vec![]))
        })
        .await
    }

    /// Makes sure the operator has an account: an admin, with `hash` as password when they
    /// have none yet or when `replace` (the environment sets the password). Start-up only;
    /// the operator's card must exist.
    pub async fn ensure_operator(
        &self,
        username: &str,
        agent_id: &str,
        hash: Option<PasswordHash>,
        replace: bool,
    ) -> Result<()> {
        let username = username.to_owned();
        let agent_id = agent_id.to_owned();
        self.write(move |conn| {
            let now = now_millis();
            match users::access_of(conn, &agent_id)? {
                None => users::insert_if_missing(
                    conn,
                    &users::NewRow {
                        id: &agent_id,
                        username: &username,
                        access: Access::Admin,
                        password_hash: hash.as_ref().map(PasswordHash::as_phc),
                        invite_hash: None,
                        invite_expires_at: None,
                        now,
                    },
                )?,
                Some((access, disabled)) => {
                    if access != Access::Admin {
                        users::set_access(conn, &agent_id, Access::Admin, now)?;
                    }
                    if disabled {
                        users::set_disabled(conn, &agent_id, false, now)?;
                    }
                    let missing = users::password_hash(conn, &agent_id)?.is_none();
                    if let Some(hash) = hash.as_ref().filter(|_| replace || missing) {
                        users::set_password(conn, &agent_id, hash.as_phc(), now)?;
                    }
                }
            }
            Ok(((), vec![]))
        })
        .await
    }

    /// The person whose card `agent_id` is, as the policy sees them; `None` for an agent.
    /// A disabled person is refused.
    pub(crate) fn actor_in(conn: &Connection, agent_id: &str) -> Result<Actor> {
        match users::access_of(conn, agent_id)? {
            None => Ok(Actor::new(agent_id)),
            Some((_, true)) => Err(Error::Unauthorized("the account is disabled")),
            Some((access, false)) => Ok(Actor::person(agent_id, access)),
        }
    }
}

/// Which of a person's sessions a new password leaves.
enum Keep {
    None,
    One(String),
}

fn person(conn: &Connection, id: &str) -> Result<Person> {
    users::get(conn, id)?.ok_or_else(|| not_found("user", id))
}

/// Revokes a person's tokens (but `keep`, by id hash), announcing each.
fn revoke_all(
    conn: &Connection,
    id: &str,
    keep: Option<&str>,
    published: &mut Vec<DomainEvent>,
) -> Result<Vec<String>> {
    let revoked = match keep {
        None => tokens::delete_all_of(conn, id)?,
        Some(keep) => tokens::delete_all_of_but(conn, id, keep)?,
    };
    published.extend(revoked.iter().map(|h| DomainEvent::TokenRevoked {
        token_hash: h.clone(),
    }));
    Ok(revoked)
}

/// Hashes a password off the async threads (Argon2 takes tens of milliseconds of CPU).
async fn hash(password: Password) -> Result<PasswordHash> {
    tokio::task::spawn_blocking(move || PasswordHash::new(password.expose()))
        .await
        .map_err(|e| Error::Internal(format!("hashing a password failed: {e}")))?
}
