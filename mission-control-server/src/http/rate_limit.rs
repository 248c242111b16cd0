//! Rate limits, with `governor`'s keyed GCRA limiters: sign-in attempts per client address and
//! in all, failed authentications per client address, and API requests per token.
//!
//! Every key is small and fixed in size (an address, a token id), and idle keys are forgotten
//! every minute, so no client can grow these tables for good.

use std::hash::Hash;
use std::net::IpAddr;
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

pub struct Limits {
    /// Sign-in attempts per client address.
    pub login: Limiter<IpAddr>,
    /// Sign-in attempts from addresses that failed lately, all together: a flood from many
    /// addresses still cannot keep the password check busy.
    pub login_global: GlobalLimiter,
    /// Failed authentications (junk, forged, expired or revoked tokens) per client address.
    pub failed_auth: Limiter<IpAddr>,
    /// API requests per token, keyed by the token's id once its signature has been checked.
    pub api: Limiter<String>,
}

impl Limits {
    pub fn forget_idle(&self) {
        self.login.forget_idle();
        self.failed_auth.forget_idle();
        self.api.forget_idle();
    }
}

/// The key a client address is limited under: the address itself for IPv4, its /64 network
/// for IPv6 (one host usually holds a whole /64, so single addresses would be free to rotate).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_limited_per_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(client_key(v4), v4);
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(mapped), v4);
    }

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
