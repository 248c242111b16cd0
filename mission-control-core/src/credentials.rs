//! Credentials: HS256 JWTs whose every issue is recorded (so that any token can be revoked),
//! the secrets that sign them, and password hashes and their checks.
//!
//! A token's claims are `sub` (the agent id it acts as), `jti` (a random id), `iat` and `exp`.
//! The `auth_tokens` row is keyed by SHA-256 of the `jti` and holds SHA-256 of the whole token:
//! the database never holds a usable token, and a token is valid only while its row exists.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// How long a login token lives: the specification's 7 days.
pub const LOGIN_TOKEN_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Shortest secret accepted for signing, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub sub: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
}

/// A token just issued, for the caller to hand out once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    pub token: String,
    /// Epoch milliseconds.
    pub expires_at: i64,
}

/// A token whose signature and expiry have been checked, but not yet whether it was revoked
/// ([`crate::MissionControl::authorize`] does that). Holds digests only, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedToken {
    pub(crate) id: String,
    pub(crate) token_hash: String,
    pub(crate) agent_id: String,
    pub(crate) expires_at: i64,
}

impl SignedToken {
    /// The token's id: the hex SHA-256 of its `jti`, fixed in size. Rate limits key on it.
    pub fn id(&self) -> &String {
        &self.id
    }

    /// The hex SHA-256 of the token, as [`crate::DomainEvent::TokenRevoked`] names it.
    pub fn token_hash(&self) -> &str {
        &self.token_hash
    }

    /// The agent the token acts as.
    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    /// Epoch milliseconds.
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }
}

/// Most tokens whose signature is remembered; past that the memory starts over.
const CHECKED_TOKENS: usize = 10_000;
/// Longest token remembered: longer ones (valid, but not what this server issues) are checked
/// every time, so the memory stays bounded in bytes too.
const CHECKED_TOKEN_MAX_BYTES: usize = 1024;

/// Signing and checking keys for one secret.
pub(crate) struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens whose signature was found good, by the token itself. A signature is a function
    /// of the token and the secret, so it needs checking once: the HMAC and the two SHA-256 a
    /// check costs are most of what authenticating a request costs. Expiry is checked on every
    /// use; revocation is not this memory's part (see [`crate::MissionControl::authorize`]),
    /// so a revoked token is refused at once as before. Only good tokens are kept: junk still
    /// stores nothing.
    checked: Mutex<HashMap<Box<str>, SignedToken>>,
    /// [`JwtKeys::key_check`].
    key_check: String,
}

/// What [`JwtKeys::check`] signs.
const KEY_CHECK_TEXT: &[u8] = b"mission-control signing key check";

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Result<Self> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(Error::field(
                "JWT_SECRET",
                format!("must be at least {MIN_SECRET_BYTES} bytes"),
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret)
            .map_err(|e| Error::Internal(format!("cannot key a MAC: {e}")))?;
        mac.update(KEY_CHECK_TEXT);
        let key_check = hex(&mac.finalize().into_bytes());
        Ok(JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            checked: Mutex::default(),
            key_check,
        })
    }

    /// Checks signature, algorithm and expiry (at `now`, epoch milliseconds); the token's
    /// digests, agent and expiry.
    pub fn check(&self, token: &str, now: i64) -> Result<SignedToken> {
        if let Some(signed) = self.remembered().get(token)
            && signed.expires_at > now
        {
            return Ok(signed.clone());
        }
        let claims = self.decode(token)?;
        let signed = SignedToken {
            id: sha256_hex(&claims.jti),
            token_hash: sha256_hex(token),
            agent_id: claims.sub,
            expires_at: claims.exp.saturating_mul(1000),
        };
        if token.len() <= CHECKED_TOKEN_MAX_BYTES {
            let mut checked = self.remembered();
            if checked.len() >= CHECKED_TOKENS {
                checked.retain(|_, s| s.expires_at > now);
                if checked.len() >= CHECKED_TOKENS {
                    checked.clear();
                }
            }
            checked.insert(token.into(), signed.clone());
        }
        Ok(signed)
    }

    fn remembered(&self) -> MutexGuard<'_, HashMap<Box<str>, SignedToken>> {
        self.checked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tells two keys apart without showing either: hex HMAC-SHA256 of a fixed text under
    /// the key. Says no more about the key than any token it signed does.
    pub fn key_check(&self) -> &str {
        &self.key_check
    }

    pub fn sign(&self, claims: &Claims) -> Result<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("cannot sign a token: {e}")))
    }

    /// Checks signature, algorithm and expiry; revocation is the store's part.
    pub fn decode(&self, token: &str) -> Result<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    Error::Unauthorized("the token has expired")
                }
                _ => Error::Unauthorized("the token is not valid"),
            })
    }
}

/// Hex SHA-256 of `data`: how tokens are identified in storage and on the bus.
pub fn sha256_hex(data: &str) -> String {
    hex(&Sha256::digest(data.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        hex.push(char::from(DIGITS[usize::from(b >> 4)]));
        hex.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    hex
}

/// Whether `text` looks like [`sha256_hex`]'s output: 64 lowercase hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A fresh random secret: 32 bytes, hex encoded (64 characters).
pub fn generate_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no system randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A password stored as an Argon2id hash (PHC string format).
#[derive(Clone)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Hashes `password` with a fresh salt.
    pub fn new(password: &str) -> Result<Self> {
        use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| PasswordHash(h.to_string()))
            .map_err(|e| Error::Internal(format!("cannot hash a password: {e}")))
    }

    /// A hash read back from storage; refused when it is not a PHC string.
    pub fn from_phc(phc: &str) -> Result<Self> {
        argon2::password_hash::PasswordHash::new(phc.trim())
            .map_err(|e| Error::Internal(format!("stored password hash is unreadable: {e}")))?;
        Ok(PasswordHash(phc.trim().to_owned()))
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Whether `password` matches; Argon2's check runs in constant time.
    pub fn verify(&self, password: &str) -> bool {
        use argon2::password_hash::PasswordVerifier;
        argon2::password_hash::PasswordHash::new(&self.0)
            .map(|parsed| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "agent-patch".into(),
            jti: "j1".into(),
            iat: 0,
            exp,
        }
    }

    #[test]
    fn a_signed_token_decodes_with_the_same_key_only() {
        let keys = JwtKeys::new(SECRET).unwrap();
        let token = keys.sign(&claims(i64::MAX / 2_000)).unwrap();
        assert_eq!(keys.decode(&token).unwrap().sub, "agent-patch");
        let other = JwtKeys::new(b"another-secret-another-secret-xx").unwrap();
        assert!(other.decode(&token).is_err());
        assert!(keys.decode("garbage").is_err());
    }

    #[test]
    fn expired_and_unsigned_tokens_are_refused() {
        let keys = JwtKeys::new(SECRET).unwrap();
        let expired = keys.sign(&claims(1)).unwrap();
        assert!(matches!(
            keys.decode(&expired),
            Err(Error::Unauthorized("the token has expired"))
        ));

        // alg: none with the same claims.
        let header = base64url(r#"{"alg":"none","typ":"JWT"}"#);
        let body = base64url(r#"{"sub":"agent-patch","jti":"j","iat":0,"exp":99999999999}"#);
        assert!(keys.decode(&format!("{header}.{body}.")).is_err());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(JwtKeys::new(b"short").is_err());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = PasswordHash::new("correct horse").unwrap();
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("wrong horse"));
        let again = PasswordHash::from_phc(hash.as_phc()).unwrap();
        assert!(again.verify("correct horse"));
        assert!(PasswordHash::from_phc("not a hash").is_err());
    }

    #[test]
    fn secrets_and_comparisons() {
        let a = generate_secret().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, generate_secret().unwrap());
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    fn base64url(s: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |acc, b| (acc << 8) | *b as u32) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}
