//! Tokens: issuing them, checking them (signature first, then revocation), listing an agent's
//! tokens, and revoking one, all of an agent's, or the caller's own.
//!
//! Checking is in two steps so that front ends can put their rate limit between them:
//! [`MissionControl::check_signature`] costs no database read and stores nothing, so junk is
//! free to refuse; [`MissionControl::authorize`] then checks revocation, notes the token's use
//! and the agent's sign of life.
//!
//! A token found live in the database is remembered ([`VerifiedTokens`]), so most requests need
//! no database read to authenticate. Revoking it here forgets it at once; a revocation made by
//! another process reaches this one through the change log, which the process follows
//! ([`MissionControl::learn`]: the server's relay reads the log every second). An entry is
//! trusted for [`VERIFIED_FOR_MS`] at most, in case nothing follows the log.

use std::collections::HashMap;

use super::policy::{Action, Target};
use super::{Actor, MissionControl};
use crate::bus::DomainEvent;
use crate::credentials::{Claims, IssuedToken, LOGIN_TOKEN_TTL_MS, SignedToken, sha256_hex};
use crate::domain::{TokenInfo, TokenLifetime, now_millis};
use crate::error::{Error, Result};
use crate::store::{agents, tokens};

/// Most verified tokens remembered; past that the cache starts over.
const VERIFIED_CACHE: usize = 10_000;
/// How long a verified token is trusted before it is checked against the database again,
/// should no revocation reach this process through the change log.
const VERIFIED_FOR_MS: i64 = 30_000;

/// Tokens already checked against `auth_tokens`, by hex SHA-256 of the token.
#[derive(Default)]
pub(crate) struct VerifiedTokens {
    entries: HashMap<String, VerifiedToken>,
    /// Moves on whenever a token is forgotten, so that a check that read the database before
    /// a revocation cannot remember the token after the revocation was applied.
    generation: u64,
}

#[derive(Debug, Clone)]
struct VerifiedToken {
    actor: Actor,
    expires_at: i64,
    checked_at: i64,
}

impl VerifiedTokens {
    fn get(&self, token_hash: &str, now: i64) -> Option<Actor> {
        let entry = self.entries.get(token_hash)?;
        (entry.expires_at > now && now - entry.checked_at < VERIFIED_FOR_MS)
            .then(|| entry.actor.clone())
    }

    /// Remembers a token checked at `now`, unless a token was forgotten since `generation`.
    fn remember(&mut self, signed: &SignedToken, actor: &Actor, now: i64, generation: u64) {
        if generation != self.generation {
            return;
        }
        if self.entries.len() >= VERIFIED_CACHE {
            self.entries
                .retain(|_, v| v.expires_at > now && now - v.checked_at < VERIFIED_FOR_MS);
            if self.entries.len() >= VERIFIED_CACHE {
                self.entries.clear();
            }
        }
        self.entries.insert(
            signed.token_hash.clone(),
            VerifiedToken {
                actor: actor.clone(),
                expires_at: signed.expires_at,
                checked_at: now,
            },
        );
    }

    fn forget<'a>(&mut self, token_hashes: impl IntoIterator<Item = &'a str>) {
        self.generation += 1;
        for hash in token_hashes {
            self.entries.remove(hash);
        }
    }

    fn forget_all(&mut self) {
        self.generation += 1;
        self.entries.clear();
    }
}

impl MissionControl {
    /// Issues a token acting as `agent_id`, valid for `ttl_ms` milliseconds. The agent must be
    /// registered. For the system itself (sign-in, the command line); see [`Self::mint_token`].
    pub async fn issue_token(&self, agent_id: &str, ttl_ms: i64) -> Result<IssuedToken> {
        let now = now_millis();
        let claims = Claims {
            sub: agent_id.to_owned(),
            jti: uuid::Uuid::now_v7().to_string(),
            iat: now / 1000,
            exp: (now + ttl_ms) / 1000,
        };
        let token = self.inner.keys.sign(&claims)?;
        let issued = IssuedToken {
            token: token.clone(),
            expires_at: claims.exp * 1000,
        };
        let agent_id = agent_id.to_owned();
        self.write(move |conn| {
            if !agents::exists(conn, &agent_id)? {
                return Err(Error::NotFound {
                    kind: "agent",
                    id: agent_id,
                });
            }
            // A disabled person gets no new session.
            MissionControl::actor_in(conn, &agent_id)?;
            tokens::insert(
                conn,
                &tokens::TokenRow {
                    id_hash: &sha256_hex(&claims.jti),
                    user_id: &agent_id,
                    token_hash: &sha256_hex(&token),
                    created_at: now,
                    expires_at: claims.exp * 1000,
                },
            )?;
            Ok(((), vec![]))
        })
        .await?;
        Ok(issued)
    }

    /// A token for the specification's login: 7 days.
    pub async fn issue_login_token(&self, agent_id: &str) -> Result<IssuedToken> {
        self.issue_token(agent_id, LOGIN_TOKEN_TTL_MS).await
    }

    /// A long-lived token for an agent (its `MISSION_CONTROL_TOKEN`), minted by `actor`
    /// (`None`: the system); only the operator may.
    pub async fn mint_token(
        &self,
        actor: Option<&Actor>,
        agent_id: &str,
        lifetime: TokenLifetime,
    ) -> Result<IssuedToken> {
        self.allows(actor, Action::MintToken, Target::Agent(agent_id))?;
        self.issue_token(agent_id, lifetime.as_millis()).await
    }

    /// Checks signature, expiry and that the token has not been revoked; returns who it acts as.
    pub async fn verify_token(&self, token: &str) -> Result<Actor> {
        let signed = self.check_signature(token)?;
        self.authorize(&signed).await
    }

    /// Checks a token's signature and expiry only: no database read; only a good signature is
    /// remembered (see [`crate::credentials`]), so junk stores nothing.
    pub fn check_signature(&self, token: &str) -> Result<SignedToken> {
        self.inner.keys.check(token, now_millis())
    }

    /// Checks that a signed token has not been revoked; who it acts as. Counts as a sign of
    /// life of that agent.
    pub async fn authorize(&self, signed: &SignedToken) -> Result<Actor> {
        let now = now_millis();
        let (cached, generation) = {
            let verified = self.verified();
            (verified.get(&signed.token_hash, now), verified.generation)
        };
        let actor = match cached {
            Some(actor) => actor,
            None => {
                let id_hash = signed.id.clone();
                let agent_id = signed.agent_id.clone();
                let (stored, actor) = self
                    .read(move |conn| {
                        let stored = tokens::live_hash(conn, &id_hash, now_millis())?;
                        Ok((stored, MissionControl::actor_in(conn, &agent_id)))
                    })
                    .await?;
                match stored {
                    Some(hash)
                        if crate::credentials::constant_time_eq(&hash, &signed.token_hash) =>
                    {
                        let actor = actor?;
                        self.verified().remember(signed, &actor, now, generation);
                        actor
                    }
                    _ => return Err(Error::Unauthorized("the token has been revoked")),
                }
            }
        };
        if let Ok(mut used) = self.inner.token_use.lock()
            && (used.len() < VERIFIED_CACHE || used.contains_key(&signed.id))
        {
            used.insert(signed.id.clone(), now);
        }
        self.saw(&actor).await?;
        Ok(actor)
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, VerifiedTokens> {
        self.inner
            .verified
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets that these tokens (by hex SHA-256) were found live: their next use is checked
    /// against the database.
    pub(crate) fn forget_verified(&self, token_hashes: &[String]) {
        self.verified()
            .forget(token_hashes.iter().map(String::as_str));
    }

    /// Forgets every token found live: each is checked against the database at its next use
    /// (for a follower of the change log that may have missed revocations).
    pub fn forget_verified_tokens(&self) {
        self.verified().forget_all();
    }

    /// Revokes a token so that it is refused from now on, and announces it on the bus (so that
    /// live connections made with it can be closed). Returns whether it was live.
    pub async fn revoke_token(&self, token: &str) -> Result<bool> {
        let claims = self.inner.keys.decode(token)?;
        let id_hash = sha256_hex(&claims.jti);
        let revoked = self
            .write(move |conn| {
                let hash = tokens::delete(conn, &id_hash)?;
                let announce = hash
                    .clone()
                    .map(|token_hash| DomainEvent::TokenRevoked { token_hash });
                Ok((hash, announce.into_iter().collect()))
            })
            .await?;
        self.forget_verified(&[sha256_hex(token)]);
        Ok(revoked.is_some())
    }

    /// An agent's unexpired tokens, newest first: never the tokens themselves.
    pub async fn list_tokens(
        &self,
        actor: Option<&Actor>,
        agent_id: &str,
    ) -> Result<Vec<TokenInfo>> {
        self.allows(actor, Action::ManageTokens, Target::Agent(agent_id))?;
        let agent_id = agent_id.to_owned();
        self.read(move |conn| {
            if !agents::exists(conn, &agent_id)? {
                return Err(super::not_found("agent", &agent_id));
            }
            tokens::list_of(conn, &agent_id, now_millis())
        })
        .await
    }

    /// Revokes one of an agent's tokens by its id; live connections made with it end.
    pub async fn revoke_token_id(
        &self,
        actor: Option<&Actor>,
        agent_id: &str,
        token_id: &str,
    ) -> Result<()> {
        self.allows(actor, Action::ManageTokens, Target::Agent(agent_id))?;
        let agent = agent_id.to_owned();
        let id = token_id.to_owned();
        let hash = self
            .write(move |conn| match tokens::delete_of(conn, &agent, &id)? {
                Some(hash) => Ok((
                    hash.clone(),
                    vec![DomainEvent::TokenRevoked { token_hash: hash }],
                )),
                None => Err(super::not_found("token", &id)),
            })
            .await?;
        self.forget_verified(&[hash]);
        Ok(())
    }

    /// Revokes every token of an agent; how many. Live connections made with them end.
    pub async fn revoke_all_tokens(&self, actor: Option<&Actor>, agent_id: &str) -> Result<usize> {
        self.allows(actor, Action::ManageTokens, Target::Agent(agent_id))?;
        let agent = agent_id.to_owned();
        let hashes = self
            .write(move |conn| {
                if !agents::exists(conn, &agent)? {
                    return Err(super::not_found("agent", &agent));
                }
                let hashes = tokens::delete_all_of(conn, &agent)?;
                let events = hashes
                    .iter()
                    .map(|h| DomainEvent::TokenRevoked {
                        token_hash: h.clone(),
                    })
                    .collect();
                Ok((hashes, events))
            })
            .await?;
        self.forget_verified(&hashes);
        Ok(hashes.len())
    }

    /// Writes when tokens were last used.
    pub(crate) async fn flush_token_use(&self) -> Result<()> {
        let used: Vec<(String, i64)> = self
            .inner
            .token_use
            .lock()
            .map(|mut u| u.drain().collect())
            .unwrap_or_default();
        if used.is_empty() {
            return Ok(());
        }
        self.write(move |conn| Ok((tokens::touch(conn, &used)?, vec![])))
            .await
    }

    /// Forgets tokens that have expired anyway; how many.
    pub(crate) async fn sweep_expired_tokens(&self, now: i64) -> Result<usize> {
        self.write(move |conn| Ok((tokens::delete_expired(conn, now)?, vec![])))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(hash: &str) -> SignedToken {
        SignedToken {
            id: format!("id-{hash}"),
            token_hash: hash.to_owned(),
            agent_id: "agent-nova".into(),
            expires_at: i64::MAX,
        }
    }

    #[test]
    fn a_check_that_began_before_a_revocation_is_not_remembered_after_it() {
        let mut verified = VerifiedTokens::default();
        let nova = Actor::new("agent-nova");
        // A check reads the database (the token is still there) ...
        let began = verified.generation;
        // ... the revocation is applied meanwhile ...
        verified.forget(["a"]);
        // ... and the check's answer comes back: not remembered.
        verified.remember(&signed("a"), &nova, 1_000, began);
        assert_eq!(verified.get("a", 1_000), None);
        // A check that began after it is.
        verified.remember(&signed("a"), &nova, 1_000, verified.generation);
        assert_eq!(verified.get("a", 1_000), Some(nova.clone()));
        assert_eq!(
            verified.get("a", 1_000 + VERIFIED_FOR_MS),
            None,
            "for a while"
        );
        verified.forget_all();
        assert_eq!(verified.get("a", 1_000), None);
    }
}
