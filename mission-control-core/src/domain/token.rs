//! What the operator sees of an agent's tokens: never the token, only when it was made, when
//! it ends and when it was last used.

use serde::{Deserialize, Serialize};

/// One issued token, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    /// The token's id (a digest of its `jti`), for revoking it.
    pub id: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds.
    pub expires_at: i64,
    /// Epoch milliseconds, to within half a minute; `null` if never used.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_used_at: Option<i64>,
}

/// An issued token as the board keeps it, for moving it to another board with the
/// command line's export: digests only, never the token. The token works on the board it is
/// imported into as long as that board signs with the same key (`JWT_SECRET`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRecord {
    /// The token's id: hex SHA-256 of its `jti`.
    pub id: String,
    /// The agent the token acts as.
    pub agent_id: String,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds.
    pub expires_at: i64,
    /// Epoch milliseconds; `null` if never used.
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

/// A revoked token, remembered until it would have expired, so that no import brings it
/// back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokedToken {
    /// The token's id: hex SHA-256 of its `jti`.
    pub id: String,
    /// Epoch milliseconds.
    pub expires_at: i64,
}

/// How long a minted agent token lives: 1 to 3650 days, a year by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenLifetime(u32);

impl TokenLifetime {
    pub const MAX_DAYS: u32 = 3650;
    pub const DEFAULT_DAYS: u32 = 365;
    pub const DEFAULT: TokenLifetime = TokenLifetime(Self::DEFAULT_DAYS);

    pub fn days(days: u32) -> Result<Self, String> {
        if (1..=Self::MAX_DAYS).contains(&days) {
            Ok(TokenLifetime(days))
        } else {
            Err(format!(
                "must be a whole number of days from 1 to {}",
                Self::MAX_DAYS
            ))
        }
    }

    pub fn as_millis(self) -> i64 {
        i64::from(self.0) * 24 * 60 * 60 * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_bounded() {
        assert!(TokenLifetime::days(0).is_err());
        assert!(TokenLifetime::days(3651).is_err());
        assert_eq!(TokenLifetime::days(1).unwrap().as_millis(), 86_400_000);
        assert_eq!(TokenLifetime::DEFAULT, TokenLifetime::days(365).unwrap());
    }
}
