//! Password checks on a budget of their own.
//!
//! Argon2 is slow on purpose (tens of milliseconds of CPU), so a flood of sign-ins must not be
//! able to take the threads that serve the board. At most two checks run at once (on the
//! blocking pool, which leaves it six threads for database reads), at most
//! [`MAX_WAITING`] more may wait, briefly, and the rest are answered 429 at once.
//!
//! The two places are not equal: one serves any address, the other only addresses with no
//! failed sign-in in the last [`SUSPECT_FOR`]. Someone else's flood of wrong passwords can
//! therefore delay the operator's correct one by one check at most, never lock it out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mission_control_core::PasswordHash;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::web::client::client_key;
use crate::web::error::ApiError;

/// Checks that may wait for a place before more are refused.
pub const MAX_WAITING: usize = 8;
/// How long a check waits for a place.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// How long an address that failed a sign-in is kept off the reserved place.
pub const SUSPECT_FOR: Duration = Duration::from_secs(15 * 60);
/// Addresses remembered as suspect, at most.
const MAX_SUSPECTS: usize = 10_000;

pub struct PasswordChecks {
    reserved: Semaphore,
    shared: Semaphore,
    waiting: AtomicUsize,
    failures: Mutex<HashMap<IpAddr, Instant>>,
}

impl Default for PasswordChecks {
    fn default() -> Self {
        PasswordChecks {
            reserved: Semaphore::new(1),
            shared: Semaphore::new(1),
            waiting: AtomicUsize::new(0),
            failures: Mutex::default(),
        }
    }
}

fn busy() -> ApiError {
    ApiError::RateLimited {
        retry_after: Duration::from_secs(1),
    }
}

impl PasswordChecks {
    /// Whether `password` matches `hash`, checked when a place is free; a wrong one marks the
    /// client's address as suspect.
    pub async fn verify(
        &self,
        client: IpAddr,
        hash: PasswordHash,
        password: String,
    ) -> Result<bool, ApiError> {
        let key = client_key(client);
        let permit = self.place(self.is_suspect(client)).await?;
        let matched = tokio::task::spawn_blocking(move || hash.verify(&password))
            .await
            .unwrap_or(false);
        drop(permit);
        if !matched {
            self.note_failure(key);
        }
        Ok(matched)
    }

    async fn place(&self, suspect: bool) -> Result<SemaphorePermit<'_>, ApiError> {
        if let Ok(permit) = self.shared.try_acquire() {
            return Ok(permit);
        }
        if !suspect && let Ok(permit) = self.reserved.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let wait = async {
            if suspect {
                self.shared.acquire().await
            } else {
                tokio::select! {
                    p = self.shared.acquire() => p,
                    p = self.reserved.acquire() => p,
                }
            }
        };
        let permit = tokio::time::timeout(QUEUE_WAIT, wait).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match permit {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }

    /// Whether the client's address failed a sign-in in the last [`SUSPECT_FOR`].
    pub fn is_suspect(&self, client: IpAddr) -> bool {
        let key = client_key(client);
        self.failures
            .lock()
            .ok()
            .and_then(|f| f.get(&key).copied())
            .is_some_and(|at| at.elapsed() < SUSPECT_FOR)
    }

    fn note_failure(&self, key: IpAddr) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        if failures.len() >= MAX_SUSPECTS {
            failures.retain(|_, at| at.elapsed() < SUSPECT_FOR);
            if failures.len() >= MAX_SUSPECTS {
                failures.clear();
            }
        }
        failures.insert(key, Instant::now());
    }

    /// Forgets addresses whose failures are old.
    pub fn forget_old(&self) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.retain(|_, at| at.elapsed() < SUSPECT_FOR);
            failures.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_clean_address_gets_the_reserved_place_while_suspects_hold_the_shared_one() {
        let checks = PasswordChecks::default();
        let attacker: IpAddr = "10.0.0.9".parse().unwrap();
        let operator: IpAddr = "10.0.0.1".parse().unwrap();
        checks.note_failure(client_key(attacker));
        assert!(checks.is_suspect(attacker) && !checks.is_suspect(operator));
        let held = checks.place(true).await.unwrap();
        // The shared place is taken: a suspect would wait, a clean address does not.
        let reserved = checks.place(false).await.unwrap();
        drop((held, reserved));
    }

    #[tokio::test]
    async fn beyond_the_queue_checks_are_refused_at_once() {
        let checks = std::sync::Arc::new(PasswordChecks::default());
        let _a = checks.shared.try_acquire().unwrap();
        let _b = checks.reserved.try_acquire().unwrap();
        let mut waiting = Vec::new();
        for _ in 0..MAX_WAITING {
            let checks = checks.clone();
            waiting.push(tokio::spawn(
                async move { checks.place(false).await.is_ok() },
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(
            checks.place(false).await,
            Err(ApiError::RateLimited { .. })
        ));
    }
}
