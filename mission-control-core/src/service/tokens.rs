//! Tokens: issuing them, checking them (signature first, then revocation), and revoking them.

use super::{Actor, MissionControl, VERIFIED_CACHE};
use crate::auth::{Claims, IssuedToken, LOGIN_TOKEN_TTL_MS, SignedToken, sha256_hex};
use crate::bus::DomainEvent;
use crate::domain::now_millis;
use crate::error::{Error, Result};
use crate::store::{agents, tokens};

impl MissionControl {
    /// Issues a token acting as `agent_id`, valid for `ttl_ms` milliseconds. The agent must be
    /// registered.
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

    /// Checks signature, expiry and that the token has not been revoked; returns who it acts as.
    pub async fn verify_token(&self, token: &str) -> Result<Actor> {
        let signed = self.check_signature(token)?;
        self.authorize(&signed).await
    }

    /// Checks a token's signature and expiry only: no database read, nothing stored. A front
    /// end calls this first, so that junk costs nothing, then rate-limits by
    /// [`SignedToken::id`], then calls [`MissionControl::authorize`].
    pub fn check_signature(&self, token: &str) -> Result<SignedToken> {
        let claims = self.inner.keys.decode(token)?;
        Ok(SignedToken {
            id: sha256_hex(&claims.jti),
            token_hash: sha256_hex(token),
            agent_id: claims.sub,
            expires_at: claims.exp.saturating_mul(1000),
        })
    }

    /// Checks that a signed token has not been revoked; who it acts as.
    pub async fn authorize(&self, signed: &SignedToken) -> Result<Actor> {
        if let Some(actor) = self.cached_actor(&signed.token_hash) {
            return Ok(actor);
        }
        let id_hash = signed.id.clone();
        let stored = self
            .read(move |conn| tokens::live_hash(conn, &id_hash, now_millis()))
            .await?;
        match stored {
            Some(hash) if crate::auth::constant_time_eq(&hash, &signed.token_hash) => {
                let actor = Actor::new(signed.agent_id.clone());
                if let Ok(mut verified) = self.inner.verified.lock() {
                    if verified.len() >= VERIFIED_CACHE {
                        verified.clear();
                    }
                    verified.insert(
                        signed.token_hash.clone(),
                        (actor.clone(), signed.expires_at),
                    );
                }
                Ok(actor)
            }
            _ => Err(Error::Unauthorized("the token has been revoked")),
        }
    }

    fn cached_actor(&self, token_hash: &str) -> Option<Actor> {
        let verified = self.inner.verified.lock().ok()?;
        let (actor, expires_at) = verified.get(token_hash)?;
        (*expires_at > now_millis()).then(|| actor.clone())
    }

    /// Revokes a token so that it is refused from now on, and announces it on the bus (so that
    /// live connections made with it can be closed). Returns whether it was live.
    pub async fn revoke_token(&self, token: &str) -> Result<bool> {
        let claims = self.inner.keys.decode(token)?;
        let token_hash = sha256_hex(token);
        if let Ok(mut verified) = self.inner.verified.lock() {
            verified.remove(&token_hash);
        }
        let id_hash = sha256_hex(&claims.jti);
        self.write(move |conn| {
            let revoked = tokens::delete(conn, &id_hash)?;
            let announce = revoked.then_some(DomainEvent::TokenRevoked { token_hash });
            Ok((revoked, announce.into_iter().collect()))
        })
        .await
    }
}
