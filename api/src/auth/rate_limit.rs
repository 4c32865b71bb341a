//! Login throttling. Failed attempts are counted per phone number and per client address, each
//! by a GCRA limiter (governor) with a burst of N and N replenished per minute. When a budget is
//! spent, every attempt on that phone or from that address (a right password included) is
//! refused with `RATE_LIMITED` until the limiter would admit one again. Successful logins cost
//! nothing, so many people behind one carrier NAT are not locked out by each other's logins.
//!
//! IPv6 clients are keyed by their /64 network, the block one subscriber usually holds.
//! The state is per process; with several replicas each enforces its own budget, which bounds
//! a guessing attack to (replicas × N) per minute.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};

use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Phone(String),
    Address(IpAddr),
    Account(i64),
}

type Limiter =
    RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock, StateInformationMiddleware>;

/// Failed-login and registration throttle.
pub struct LoginThrottle {
    registrations: Limiter,
    identity_changes: Limiter,
    failures: Limiter,
    failures_per_address: Limiter,
    failure_interval: Duration,
    failure_interval_per_address: Duration,
    /// Keys whose budget is spent, and until when.
    blocked: Mutex<HashMap<Key, Instant>>,
    /// One login attempt at a time per phone (see [`LoginThrottle::turn`]).
    turns: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The right to make one login attempt on a phone; the next waits until it is dropped.
pub struct Turn<'a> {
    throttle: &'a LoginThrottle,
    phone: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut turns = self
            .throttle
            .turns
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Only the map holds it: nobody is waiting, forget the phone.
        if turns
            .get(&self.phone)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            turns.remove(&self.phone);
        }
    }
}

/// Real-name identity changes an account may make an hour: each answer tells whether a
/// document is registered elsewhere, so guessing an ID number through it must stay slow.
pub const IDENTITY_CHANGES_PER_HOUR: u32 = 5;

/// Above this many tracked keys, forget the ones whose budget is full again.
const RETAIN_THRESHOLD: usize = 10_000;

fn quota(per_minute: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN))
}

/// The address a client is throttled by: IPv4 as is, IPv6 by its /64.
fn address_key(addr: IpAddr) -> Key {
    match addr {
        IpAddr::V4(_) => Key::Address(addr),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Key::Address(IpAddr::V4(v4)),
            None => {
                let s = v6.segments();
                Key::Address(IpAddr::V6(Ipv6Addr::new(
                    s[0], s[1], s[2], s[3], 0, 0, 0, 0,
                )))
            }
        },
    }
}

impl LoginThrottle {
    /// Allow `per_phone` failures a minute per phone and `per_address` per client address.
    /// Registrations are limited separately, to `registrations_per_address` a minute.
    pub fn new(per_phone: u32, per_address: u32, registrations_per_address: u32) -> Self {
        let limiter =
            |q: Quota| RateLimiter::keyed(q).with_middleware::<StateInformationMiddleware>();
        Self {
            registrations: limiter(quota(registrations_per_address)),
            identity_changes: limiter(
                Quota::per_hour(
                    NonZeroU32::new(IDENTITY_CHANGES_PER_HOUR).unwrap_or(NonZeroU32::MIN),
                )
                .allow_burst(NonZeroU32::new(IDENTITY_CHANGES_PER_HOUR).unwrap_or(NonZeroU32::MIN)),
            ),
            failures: limiter(quota(per_phone)),
            failures_per_address: limiter(quota(per_address)),
            failure_interval: quota(per_phone).replenish_interval(),
            failure_interval_per_address: quota(per_address).replenish_interval(),
            blocked: Mutex::new(HashMap::new()),
            turns: Mutex::new(HashMap::new()),
        }
    }

    /// Wait for this phone's turn. Attempts on one phone run one after another, from check to
    /// recorded failure, so concurrent guesses (a batch, parallel connections) cannot all pass
    /// the check before the first failure is counted: the per-phone budget is exact.
    pub async fn turn(&self, phone: &str) -> Turn<'_> {
        let lock = {
            let mut turns = self.turns.lock().unwrap_or_else(|e| e.into_inner());
            // A waiter cancelled at the wrong moment can leave an entry nobody will remove:
            // sweep unused ones when the map grows.
            if turns.len() > RETAIN_THRESHOLD {
                turns.retain(|_, m| Arc::strong_count(m) > 1);
            }
            turns.entry(phone.to_owned()).or_default().clone()
        };
        let guard = lock.lock_owned().await;
        Turn {
            throttle: self,
            phone: phone.to_owned(),
            guard: Some(guard),
        }
    }

    fn keys(phone: &str, address: Option<IpAddr>) -> impl Iterator<Item = Key> {
        std::iter::once(Key::Phone(phone.to_owned())).chain(address.map(address_key))
    }

    /// Before checking a password: `RATE_LIMITED` (with a retry-after hint) while the phone or
    /// the address has spent its budget of failures.
    pub fn check(&self, phone: &str, address: Option<IpAddr>) -> Result<(), AppError> {
        let now = Instant::now();
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let wait = Self::keys(phone, address)
            .filter_map(|k| blocked.get(&k).copied())
            .filter(|until| *until > now)
            .max();
        match wait {
            Some(until) => {
                tracing::warn!(outcome = "rate_limited", "login throttled");
                Err(AppError::RateLimited {
                    limit: "login",
                    retry_after_secs: (until - now).as_secs().max(1),
                })
            }
            None => Ok(()),
        }
    }

    /// Count one registration attempt from `address`: each costs a password hash, and the
    /// answer tells whether a phone is registered, so their rate is bounded too.
    pub fn check_registration(&self, address: Option<IpAddr>) -> Result<(), AppError> {
        let Some(addr) = address else {
            return Ok(());
        };
        let key = address_key(addr);
        match self.registrations.check_key(&key) {
            Ok(_) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.registrations.clock().now());
                tracing::warn!(outcome = "rate_limited", "registration throttled");
                Err(AppError::RateLimited {
                    limit: "registration",
                    retry_after_secs: wait.as_secs().max(1),
                })
            }
        }
    }

    /// Count one `setMyIdentity` attempt of `account_id` (`RATE_LIMITED` past
    /// [`IDENTITY_CHANGES_PER_HOUR`]).
    pub fn check_identity_change(&self, account_id: i64) -> Result<(), AppError> {
        match self.identity_changes.check_key(&Key::Account(account_id)) {
            Ok(_) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.identity_changes.clock().now());
                tracing::warn!(outcome = "rate_limited", "identity change throttled");
                Err(AppError::RateLimited {
                    limit: "identity",
                    retry_after_secs: wait.as_secs().max(1),
                })
            }
        }
    }

    /// After a wrong password: spend one unit of each budget; the failure that spends a budget
    /// blocks its key until the limiter admits another attempt.
    pub fn record_failure(&self, phone: &str, address: Option<IpAddr>) {
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        for key in Self::keys(phone, address) {
            let (limiter, interval) = match key {
                Key::Phone(_) => (&self.failures, self.failure_interval),
                Key::Address(_) | Key::Account(_) => (
                    &self.failures_per_address,
                    self.failure_interval_per_address,
                ),
            };
            let wait: Option<Duration> = match limiter.check_key(&key) {
                Ok(snapshot) if snapshot.remaining_burst_capacity() == 0 => Some(interval),
                Ok(_) => None,
                Err(not_until) => Some(not_until.wait_time_from(limiter.clock().now())),
            };
            if let Some(wait) = wait {
                blocked.insert(key, now + wait);
            }
        }
        if blocked.len() > RETAIN_THRESHOLD {
            blocked.retain(|_, until| *until > now);
        }
        if self.registrations.len() > RETAIN_THRESHOLD {
            self.registrations.retain_recent();
        }
        if self.identity_changes.len() > RETAIN_THRESHOLD {
            self.identity_changes.retain_recent();
        }
        if self.failures.len() > RETAIN_THRESHOLD {
            self.failures.retain_recent();
        }
        if self.failures_per_address.len() > RETAIN_THRESHOLD {
            self.failures_per_address.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(t: &LoginThrottle, phone: &str, addr: IpAddr, times: usize) {
        for _ in 0..times {
            t.check(phone, Some(addr)).unwrap();
            t.record_failure(phone, Some(addr));
        }
    }

    #[test]
    fn failures_beyond_the_budget_block_the_phone() {
        let t = LoginThrottle::new(3, 100, 10);
        let addr: IpAddr = "10.0.0.1".parse().unwrap();
        fail(&t, "13800000001", addr, 3);
        // Three failures spend the budget: the phone is now blocked.
        let err = t.check("13800000001", Some(addr)).unwrap_err();
        assert!(
            matches!(err, AppError::RateLimited { retry_after_secs, .. } if retry_after_secs >= 1)
        );
        // Another phone from the same address still may try.
        t.check("13800000002", Some(addr)).unwrap();
    }

    #[test]
    fn successes_cost_nothing() {
        let t = LoginThrottle::new(2, 2, 10);
        let addr: IpAddr = "10.0.0.3".parse().unwrap();
        for _ in 0..50 {
            t.check("13800000001", Some(addr)).unwrap();
        }
    }

    #[test]
    fn address_budget_covers_many_phones() {
        let t = LoginThrottle::new(100, 2, 10);
        let addr: IpAddr = "10.0.0.2".parse().unwrap();
        for phone in ["13800000001", "13800000002"] {
            t.check(phone, Some(addr)).unwrap();
            t.record_failure(phone, Some(addr));
        }
        assert_eq!(
            t.check("13800000004", Some(addr)).unwrap_err().code(),
            "RATE_LIMITED"
        );
    }

    #[test]
    fn registrations_are_limited_per_address() {
        let t = LoginThrottle::new(5, 5, 2);
        let addr: IpAddr = "10.0.0.4".parse().unwrap();
        t.check_registration(Some(addr)).unwrap();
        t.check_registration(Some(addr)).unwrap();
        assert!(t.check_registration(Some(addr)).is_err());
        t.check_registration(Some("10.0.0.5".parse().unwrap()))
            .unwrap();
    }

    #[test]
    fn ipv6_clients_are_throttled_by_their_64_network() {
        let t = LoginThrottle::new(100, 1, 10);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        t.record_failure("13800000001", Some(a));
        t.record_failure("13800000002", Some(b));
        assert!(t.check("13800000003", Some(b)).is_err());
        assert!(t.check("13800000003", Some(other)).is_ok());
    }
}
