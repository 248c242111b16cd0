//! Rate limits, with `governor`'s keyed GCRA limiters: sign-in attempts per client address, and
//! API requests per bearer token.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::error::ApiError;

pub struct Limiter<K: Hash + Eq + Clone> {
    inner: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// Allows `per_minute` requests a minute per key, all of which may come at once.
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Limiter {
            inner: governor::RateLimiter::keyed(Quota::per_minute(n)),
            clock: DefaultClock::default(),
        }
    }

    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        self.inner
            .check_key(key)
            .map_err(|not_until| ApiError::RateLimited {
                retry_after: not_until
                    .wait_time_from(self.clock.now())
                    .max(Duration::from_millis(1)),
            })
    }

    /// Forgets keys whose budget is full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }
}

pub struct Limits {
    pub login: Limiter<IpAddr>,
    /// Keyed by the bearer token itself, checked before the token is verified so that a flood
    /// of requests costs no database reads.
    pub api: Limiter<String>,
}
