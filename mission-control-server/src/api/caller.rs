//! Who is calling: the bearer token of a request, checked by the core.
//!
//! The order matters for a server on a network: the header's size is bounded first, then the
//! token's signature and expiry are checked (cheap, and nothing is stored for a token that
//! fails), and only a token this server signed reaches the per-token rate limit (keyed by the
//! token's id, a fixed-size digest) and the revocation check. Failed authentications count
//! against the client's address, so a client sending junk is answered 429 soon.

use std::net::IpAddr;

use http::header;
use mission_control_core::Actor;

use super::state::AppState;
use crate::web::client::client_key;
use crate::web::error::ApiError;

/// Longest `Authorization` header accepted, in bytes. Our tokens are about 300 bytes.
pub const MAX_AUTHORIZATION_BYTES: usize = 4096;

/// An authenticated caller: who it acts as, and the token it presented (and its id, what the
/// per-token limits count by).
#[derive(Clone)]
pub struct Caller {
    pub actor: Actor,
    pub token: String,
    pub token_id: String,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// The token in `Authorization: Bearer <token>`, if any.
pub fn bearer_token(headers: &http::HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    if value.len() > MAX_AUTHORIZATION_BYTES {
        return Err(ApiError::HeaderTooLarge {
            header: "Authorization",
            limit: MAX_AUTHORIZATION_BYTES,
        });
    }
    let Ok(value) = value.to_str() else {
        return Ok(None);
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return Ok(None);
    };
    Ok(scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty()))
}

/// Checks the request's token and its rate limits; the caller it acts as.
pub async fn authenticate(
    state: &AppState,
    headers: &http::HeaderMap,
    client: IpAddr,
) -> Result<Caller, ApiError> {
    let token = bearer_token(headers)?.ok_or(ApiError::Unauthorized(
        "an Authorization: Bearer token is required",
    ))?;
    // Tokens the server never signed are what guessing and junk look like: past a budget per
    // address they are answered 429. A token it did sign that no longer holds (revoked,
    // expired, its agent removed) is always a plain 401, so its holder knows to sign in again;
    // the per-token limit bounds how often it can be tried.
    let signed = state.mc.check_signature(token).map_err(|e| {
        match state.limits.failed_auth.check(&client_key(client)) {
            Ok(()) => ApiError::from(e),
            Err(limited) => limited,
        }
    })?;
    state.limits.api.check(signed.id())?;
    let actor = state.mc.authorize(&signed).await?;
    Ok(Caller {
        actor,
        token: token.to_owned(),
        token_id: signed.id().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(bearer_token(&headers).unwrap(), None);
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer_token(&headers).unwrap(), Some("abc"));
        headers.insert(header::AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer_token(&headers).unwrap(), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers).unwrap(), None);
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&headers).unwrap(), None);
    }

    #[test]
    fn an_oversized_authorization_header_is_refused_before_anything_else() {
        let mut headers = http::HeaderMap::new();
        let huge = format!("Bearer {}", "a".repeat(MAX_AUTHORIZATION_BYTES));
        headers.insert(header::AUTHORIZATION, huge.parse().unwrap());
        assert!(matches!(
            bearer_token(&headers),
            Err(ApiError::HeaderTooLarge { .. })
        ));
    }
}
