//! `Idempotency-Key`: a retry of a request that may already have been carried out answers the
//! first answer again instead of doing the work twice.

use mission_control_actions::limits;

use crate::credentials::sha256_hex;

/// A client's key for one request, with a fingerprint of what the request asked for: a retry
/// must carry the same key and the same request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    key: String,
    fingerprint: String,
}

impl IdempotencyKey {
    pub const MAX_CHARS: usize = limits::IDEMPOTENCY_KEY_MAX_CHARS;
    /// How long a key is remembered.
    pub const KEPT_FOR_MS: i64 = 24 * 60 * 60 * 1000;
    /// The largest answer (its JSON, in bytes) kept whole for a retry; a larger one is kept as
    /// the ids of what it is about, which a retry reads again.
    pub const MAX_ANSWER_BYTES: usize = 16 * 1024;

    /// `key` as the client sent it (1 to 255 visible ASCII characters) and the request it
    /// came with, written one way whatever door it came through (the server's
    /// `http::conditional::fingerprint`: method, path and canonical JSON body).
    pub fn new(key: &str, request: &[u8]) -> Result<Self, String> {
        if key.is_empty()
            || key.len() > Self::MAX_CHARS
            || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(format!(
                "must be 1 to {} visible ASCII characters, such as a UUID",
                Self::MAX_CHARS
            ));
        }
        let request = String::from_utf8_lossy(request);
        Ok(IdempotencyKey {
            key: key.to_owned(),
            fingerprint: sha256_hex(&request),
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_and_fingerprint_the_request() {
        assert!(IdempotencyKey::new("", b"x").is_err());
        assert!(IdempotencyKey::new("has space", b"x").is_err());
        assert!(IdempotencyKey::new(&"k".repeat(256), b"x").is_err());
        let a = IdempotencyKey::new("k1", b"POST /api/tasks {}").unwrap();
        let b = IdempotencyKey::new("k1", b"POST /api/tasks {\"title\":1}").unwrap();
        assert_eq!(a.key(), b.key());
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
