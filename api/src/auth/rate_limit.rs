//! Login throttling: attempts per phone number and per client address, each a GCRA limiter
//! (governor) with a burst of N and N replenished per minute. Every attempt counts, so a
//! guessed-right password during a lockout is refused as well.
//!
//! The state is per process; with several replicas behind a load balancer each enforces its own
//! budget, which bounds a guessing attack to (replicas × N) per minute.

use std::{net::IpAddr, num::NonZeroU32};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};

use crate::error::AppError;

/// Keyed limiters for login attempts.
pub struct LoginThrottle {
    per_phone: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

/// Above this many tracked keys, forget the ones whose budget is full again.
const RETAIN_THRESHOLD: usize = 10_000;

impl LoginThrottle {
    /// Limit attempts to `per_phone` a minute per phone and `per_address` a minute per address.
    pub fn new(per_phone: u32, per_address: u32) -> Self {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            per_phone: RateLimiter::keyed(quota(per_phone)),
            per_address: RateLimiter::keyed(quota(per_address)),
        }
    }

    /// Count one attempt; `RATE_LIMITED` with a retry-after hint when a budget is spent.
    pub fn check(&self, phone: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        let clock = governor::clock::DefaultClock::default();
        if let Some(addr) = address
            && let Err(not_until) = self.per_address.check_key(&addr)
        {
            let wait = not_until.wait_time_from(clock.now());
            tracing::warn!(
                outcome = "rate_limited",
                scope = "address",
                "login throttled"
            );
            return Err(AppError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        if let Err(not_until) = self.per_phone.check_key(&phone.to_owned()) {
            let wait = not_until.wait_time_from(clock.now());
            tracing::warn!(outcome = "rate_limited", scope = "phone", "login throttled");
            return Err(AppError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        self.housekeep();
        Ok(())
    }

    fn housekeep(&self) {
        if self.per_phone.len() > RETAIN_THRESHOLD {
            self.per_phone.retain_recent();
        }
        if self.per_address.len() > RETAIN_THRESHOLD {
            self.per_address.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_budget_is_separate_from_address_budget() {
        let t = LoginThrottle::new(3, 100);
        let addr: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..3 {
            t.check("13800000001", Some(addr)).unwrap();
        }
        let err = t.check("13800000001", Some(addr)).unwrap_err();
        assert!(matches!(err, AppError::RateLimited { retry_after_secs } if retry_after_secs >= 1));
        // Another phone from the same address still may try.
        t.check("13800000002", Some(addr)).unwrap();
    }

    #[test]
    fn address_budget_covers_many_phones() {
        let t = LoginThrottle::new(100, 2);
        let addr: IpAddr = "10.0.0.2".parse().unwrap();
        t.check("13800000001", Some(addr)).unwrap();
        t.check("13800000002", Some(addr)).unwrap();
        assert_eq!(
            t.check("13800000003", Some(addr)).unwrap_err().code(),
            "RATE_LIMITED"
        );
    }
}
