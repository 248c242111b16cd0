//! Who is calling: the bearer token of a request, checked by the core.

use http::header;
use mission_control_core::Actor;

use super::error::ApiError;
use super::state::AppState;

/// The token in `Authorization: Bearer <token>`, if any.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Rate-limits and verifies the request's token; returns the actor and the token.
pub async fn authenticate(
    state: &AppState,
    headers: &http::HeaderMap,
) -> Result<(Actor, String), ApiError> {
    let token = bearer_token(headers)
        .ok_or(ApiError::Unauthorized(
            "an Authorization: Bearer token is required",
        ))?
        .to_owned();
    state.limits.api.check(&token)?;
    let actor = state.mc.verify_token(&token).await?;
    Ok((actor, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "bearer  abc ".parse().unwrap());
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&headers), None);
    }
}
