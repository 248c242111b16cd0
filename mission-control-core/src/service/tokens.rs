//! Tokens: issuing them, checking them (signature first, then revocation), listing an agent's
//! tokens, and revoking one, all of an agent's, or the caller's own.
//!
//! Checking is in two steps so that front ends can put their rate limit between them:
//! [`MissionControl::check_signature`] costs no database read and stores nothing, so junk is
//! free to refuse; [`MissionControl::authorize`] then checks revocation (remembered for half a
//! minute), notes the token's use and the agent's sign of life.

use super::{Actor, MissionControl, VERIFIED_CACHE, VERIFIED_FOR_MS, VerifiedToken};
use crate::auth::{Claims, IssuedToken, LOGIN_TOKEN_TTL_MS, SignedToken, sha256_hex};
use crate::bus::DomainEvent;
use crate::domain::{TokenInfo, TokenLifetime, now_millis};
use crate::error::{Error, Result};
use crate::store::{agents, tokens};

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
        self.inner.policy.may_mint_tokens(actor)?;
        self.issue_token(agent_id, lifetime.as_millis()).await
    }

    /// Checks signature, expiry and that the token has not been revoked; returns who it acts as.
    pub async fn verify_token(&self, token: &str) -> Result<Actor> {
        let signed = self.check_signature(token)?;
        self.authorize(&signed).await
    }

    /// Checks a token's signature and expiry only: no database read, nothing stored.
    pub fn check_signature(&self, token: &str) -> Result<SignedToken> {
        let claims = self.inner.keys.decode(token)?;
        Ok(SignedToken {
            id: sha256_hex(&claims.jti),
            token_hash: sha256_hex(token),
            agent_id: claims.sub,
            expires_at: claims.exp.saturating_mul(1000),
        })
    }

    /// Checks that a signed token has not been revoked; who it acts as. Counts as a sign of
    /// life of that agent.
    pub async fn authorize(&self, signed: &SignedToken) -> Result<Actor> {
        let now = now_millis();
        let actor = match self.cached(&signed.token_hash, now) {
            Some(actor) => actor,
            None => {
                let id_hash = signed.id.clone();
                let stored = self
                    .read(move |conn| tokens::live_hash(conn, &id_hash, now_millis()))
                    .await?;
                match stored {
                    Some(hash) if crate::auth::constant_time_eq(&hash, &signed.token_hash) => {
                        let actor = Actor::new(signed.agent_id.clone());
                        self.remember(signed, &actor, now);
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

    fn cached(&self, token_hash: &str, now: i64) -> Option<Actor> {
        let verified = self.inner.verified.lock().ok()?;
        let entry = verified.get(token_hash)?;
        (entry.expires_at > now && now - entry.checked_at < VERIFIED_FOR_MS)
            .then(|| entry.actor.clone())
    }

    fn remember(&self, signed: &SignedToken, actor: &Actor, now: i64) {
        if let Ok(mut verified) = self.inner.verified.lock() {
            if verified.len() >= VERIFIED_CACHE {
                verified.retain(|_, v| v.expires_at > now && now - v.checked_at < VERIFIED_FOR_MS);
                if verified.len() >= VERIFIED_CACHE {
                    verified.clear();
                }
            }
            verified.insert(
                signed.token_hash.clone(),
                VerifiedToken {
                    actor: actor.clone(),
                    expires_at: signed.expires_at,
                    checked_at: now,
                },
            );
        }
    }

    pub(crate) fn forget_verified(&self, token_hashes: &[String]) {
        if let Ok(mut verified) = self.inner.verified.lock() {
            for hash in token_hashes {
                verified.remove(hash);
            }
        }
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
        self.inner.policy.may_manage_tokens_of(actor, agent_id)?;
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
        self.inner.policy.may_manage_tokens_of(actor, agent_id)?;
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
        self.inner.policy.may_manage_tokens_of(actor, agent_id)?;
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
