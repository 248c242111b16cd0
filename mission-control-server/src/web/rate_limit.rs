//! Rate limits, with `governor`'s GCRA limiters: a budget per key ([`Limiter`]: per client
//! address, per token id) and one shared by every client ([`GlobalLimiter`]). A request over
//! budget is refused with 429 and how long to wait (`Retry-After`).
//!
//! Keys should be small and fixed in size (an address, a token id), and their owner forgets
//! idle ones ([`Limiter::forget_idle`]) every minute, so that no client can grow the tables for
//! good. Which budgets the API keeps is `api::state::Limits`.

use std::hash::Hash;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

use super::error::ApiError;

pub struct Limiter<K: Hash + Eq + Clone> {
    inner: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

fn quota_per_minute(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn limited(wait: Duration) -> ApiError {
    ApiError::RateLimited {
        retry_after: wait.max(Duration::from_millis(1)),
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// Allows `per_minute` requests a minute per key, all of which may come at once.
    pub fn per_minute(per_minute: u32) -> Self {
        Limiter {
            inner: governor::RateLimiter::keyed(quota_per_minute(per_minute)),
            clock: DefaultClock::default(),
        }
    }

    pub fn check(&self, key: &K) -> Result<(), ApiError> {
        self.inner
            .check_key(key)
            .map_err(|not_until| limited(not_until.wait_time_from(self.clock.now())))
    }

    /// Forgets keys whose budget is full again, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.inner.retain_recent();
        self.inner.shrink_to_fit();
    }
}

/// One budget shared by every client.
pub struct GlobalLimiter {
    inner: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl GlobalLimiter {
    pub fn per_minute(per_minute: u32) -> Self {
        GlobalLimiter {
            inner: governor::RateLimiter::direct(quota_per_minute(per_minute)),
            clock: DefaultClock::default(),
        }
    }

    pub fn check(&self) -> Result<(), ApiError> {
        self.inner
            .check()
            .map_err(|not_until| limited(not_until.wait_time_from(self.clock.now())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_once_its_budget_is_spent() {
        let limiter = Limiter::per_minute(2);
        assert!(limiter.check(&1).is_ok());
        assert!(limiter.check(&1).is_ok());
        assert!(matches!(
            limiter.check(&1),
            Err(ApiError::RateLimited { .. })
        ));
        assert!(limiter.check(&2).is_ok());
    }
}
