//! Login throttling. Failed attempts are counted by GCRA limiters (governor) under three keys:
//! - a phone number *from one address*: N a minute. Guessing from one place is slow, and the
//!   owner, elsewhere, is not locked out by it;
//! - a client address across phone numbers: M a minute (spraying one password over many
//!   numbers);
//! - a phone number from everywhere: H an hour (guessing spread over many addresses). When
//!   that budget is spent, a password alone no longer signs in to the number: the login must
//!   carry an SMS code (`requestPhoneCode(purpose: LOGIN)`), which only the owner receives. So
//!   an attacker can slow guessing down but cannot lock the owner out.
//!
//! When a budget is spent, every attempt under its key (a right password included) is refused
//! with `RATE_LIMITED` until the limiter would admit one again. Successful logins cost
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
    /// A phone number, from every address.
    Phone(String),
    /// A phone number from one address (its [`address_key`]).
    PhoneAt(String, Option<IpAddr>),
    Address(IpAddr),
    Account(i64),
}

type Limiter =
    RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock, StateInformationMiddleware>;

/// Failed-login and registration throttle.
pub struct LoginThrottle {
    registrations: Limiter,
    identity_changes: Limiter,
    failures_per_phone_at: Limiter,
    failures_per_address: Limiter,
    failures_per_phone: Limiter,
    failure_interval_per_phone_at: Duration,
    failure_interval_per_address: Duration,
    failure_interval_per_phone: Duration,
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

fn hourly(per_hour: u32) -> Quota {
    let n = NonZeroU32::new(per_hour).unwrap_or(NonZeroU32::MIN);
    Quota::per_hour(n).allow_burst(n)
}

/// The address a client is throttled by: IPv4 as is, IPv6 by its /64.
fn address_key(addr: IpAddr) -> Key {
    Key::Address(network(addr))
}

fn network(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Whether a login attempt proved the phone with an SMS code: such an attempt is not held back
/// by failures on the number from elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// A password only.
    Password,
    /// A password and a code sent to the number (or a signed-in session confirming its
    /// password: it already holds the account).
    Holder,
}

/// The `limit` of the `RATE_LIMITED` answer given when a number's budget from every address is
/// spent: an SMS code signs in still.
pub const PHONE_WIDE: &str = "loginPhone";

impl LoginThrottle {
    /// Allow `per_phone` failures a minute per phone from one address, `per_address` a minute
    /// per client address, and `per_phone_hourly` an hour per phone from everywhere.
    /// Registrations are limited separately, to `registrations_per_address` a minute.
    pub fn new(
        per_phone: u32,
        per_address: u32,
        per_phone_hourly: u32,
        registrations_per_address: u32,
    ) -> Self {
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
            failures_per_phone_at: limiter(quota(per_phone)),
            failures_per_address: limiter(quota(per_address)),
            failures_per_phone: limiter(hourly(per_phone_hourly)),
            failure_interval_per_phone_at: quota(per_phone).replenish_interval(),
            failure_interval_per_address: quota(per_address).replenish_interval(),
            failure_interval_per_phone: hourly(per_phone_hourly).replenish_interval(),
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

    fn keys(phone: &str, address: Option<IpAddr>) -> [Option<Key>; 3] {
        [
            Some(Key::PhoneAt(phone.to_owned(), address.map(network))),
            address.map(address_key),
            Some(Key::Phone(phone.to_owned())),
        ]
    }

    /// Before checking a password: `RATE_LIMITED` (with a retry-after hint) while the phone from
    /// this address, or the address, has spent its budget of failures — or the phone from
    /// everywhere, unless the attempt is [`Proof::Holder`] (then `limit` is [`PHONE_WIDE`],
    /// telling the client that a code will do).
    pub fn check(
        &self,
        phone: &str,
        address: Option<IpAddr>,
        proof: Proof,
    ) -> Result<(), AppError> {
        let now = Instant::now();
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let until = |k: &Key| blocked.get(k).copied().filter(|until| *until > now);
        let [at, from, wide] = Self::keys(phone, address);
        let local = [at, from].iter().flatten().filter_map(until).max();
        let (wait, limit) = match local {
            Some(until) => (Some(until), "login"),
            None if proof == Proof::Password => (wide.as_ref().and_then(until), PHONE_WIDE),
            None => (None, "login"),
        };
        match wait {
            Some(until) => {
                tracing::warn!(outcome = "rate_limited", limit, "login throttled");
                Err(AppError::RateLimited {
                    limit,
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
        for key in Self::keys(phone, address).into_iter().flatten() {
            let (limiter, interval) = match key {
                Key::PhoneAt(..) => (
                    &self.failures_per_phone_at,
                    self.failure_interval_per_phone_at,
                ),
                Key::Phone(_) => (&self.failures_per_phone, self.failure_interval_per_phone),
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
        if self.failures_per_phone_at.len() > RETAIN_THRESHOLD {
            self.failures_per_phone_at.retain_recent();
        }
        if self.failures_per_phone.len() > RETAIN_THRESHOLD {
            self.failures_per_phone.retain_recent();
        }
        if self.failures_per_address.len() > RETAIN_THRESHOLD {
            self.failures_per_address.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: Proof = Proof::Password;

    fn fail(t: &LoginThrottle, phone: &str, addr: IpAddr, times: usize) {
        for _ in 0..times {
            t.check(phone, Some(addr), PW).unwrap();
            t.record_failure(phone, Some(addr));
        }
    }

    fn limit(r: Result<(), AppError>) -> &'static str {
        match r {
            Err(AppError::RateLimited {
                limit,
                retry_after_secs,
            }) => {
                assert!(retry_after_secs >= 1);
                limit
            }
            other => panic!("not rate limited: {other:?}"),
        }
    }

    #[test]
    fn failures_beyond_the_budget_block_the_phone_from_that_address_only() {
        let t = LoginThrottle::new(3, 100, 100, 10);
        let attacker: IpAddr = "10.0.0.1".parse().unwrap();
        let owner: IpAddr = "10.9.9.9".parse().unwrap();
        fail(&t, "13800000001", attacker, 3);
        // Three failures spend the budget: the phone is now blocked from there …
        assert_eq!(limit(t.check("13800000001", Some(attacker), PW)), "login");
        // … and from there an SMS code does not lift it.
        assert_eq!(
            limit(t.check("13800000001", Some(attacker), Proof::Holder)),
            "login"
        );
        // The owner, elsewhere, signs in; another phone from the same address still may try.
        t.check("13800000001", Some(owner), PW).unwrap();
        t.check("13800000002", Some(attacker), PW).unwrap();
    }

    #[test]
    fn guessing_from_many_addresses_spends_the_hourly_budget_and_a_code_still_signs_in() {
        let t = LoginThrottle::new(3, 100, 5, 10);
        for i in 0..5u8 {
            fail(&t, "13800000001", IpAddr::from([10, 1, 0, i]), 1);
        }
        let owner: IpAddr = "10.9.9.9".parse().unwrap();
        assert_eq!(limit(t.check("13800000001", Some(owner), PW)), PHONE_WIDE);
        t.check("13800000001", Some(owner), Proof::Holder).unwrap();
        // Other numbers are untouched.
        t.check("13800000002", Some(owner), PW).unwrap();
    }

    #[test]
    fn successes_cost_nothing() {
        let t = LoginThrottle::new(2, 2, 2, 10);
        let addr: IpAddr = "10.0.0.3".parse().unwrap();
        for _ in 0..50 {
            t.check("13800000001", Some(addr), PW).unwrap();
        }
    }

    #[test]
    fn address_budget_covers_many_phones() {
        let t = LoginThrottle::new(100, 2, 100, 10);
        let addr: IpAddr = "10.0.0.2".parse().unwrap();
        for phone in ["13800000001", "13800000002"] {
            fail(&t, phone, addr, 1);
        }
        assert_eq!(
            t.check("13800000004", Some(addr), PW).unwrap_err().code(),
            "RATE_LIMITED"
        );
    }

    #[test]
    fn registrations_are_limited_per_address() {
        let t = LoginThrottle::new(5, 5, 5, 2);
        let addr: IpAddr = "10.0.0.4".parse().unwrap();
        t.check_registration(Some(addr)).unwrap();
        t.check_registration(Some(addr)).unwrap();
        assert!(t.check_registration(Some(addr)).is_err());
        t.check_registration(Some("10.0.0.5".parse().unwrap()))
            .unwrap();
    }

    #[test]
    fn ipv6_clients_are_throttled_by_their_64_network() {
        let t = LoginThrottle::new(100, 1, 100, 10);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        t.record_failure("13800000001", Some(a));
        t.record_failure("13800000002", Some(b));
        assert!(t.check("13800000003", Some(b), PW).is_err());
        assert!(t.check("13800000003", Some(other), PW).is_ok());
        // The per-phone-from-one-address budget uses the /64 as well.
        let t = LoginThrottle::new(1, 100, 100, 10);
        t.record_failure("13800000001", Some(a));
        assert!(t.check("13800000001", Some(b), PW).is_err());
        assert!(t.check("13800000001", Some(other), PW).is_ok());
    }
}
