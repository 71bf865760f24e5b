//! In-process rate limits on sign-in, per (email, client address) and per client address, checked
//! before any password is hashed. They stop bursts cheaply; the counters in `lockout` are what
//! survive restarts and span instances. Their maps are bounded whatever the requests.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::lockout::EmailKey;

/// Keys each map may hold (about 100 bytes each).
const MAX_KEYS: usize = 50_000;
/// Every so many checks, keys whose limit has fully recovered are dropped.
const SWEEP_EVERY: u64 = 4096;

/// A keyed limiter that never holds more than `cap` keys (give or take the checks in flight):
/// when full, keys that have fully recovered go; when it is still full, it starts over, which only
/// forgets quick bursts (the database counters still hold).
struct BoundedLimiter<K: Hash + Eq + Clone> {
    quota: Quota,
    cap: usize,
    limiter: RwLock<DefaultKeyedRateLimiter<K>>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> BoundedLimiter<K> {
    fn new(quota: Quota, cap: usize) -> Self {
        Self {
            quota,
            cap: cap.max(1),
            limiter: RwLock::new(RateLimiter::keyed(quota)),
            checks: AtomicU64::new(0),
        }
    }

    fn check(&self, key: &K) -> bool {
        let n = self.checks.fetch_add(1, Ordering::Relaxed);
        if n % SWEEP_EVERY == SWEEP_EVERY - 1 || self.len() >= self.cap {
            self.trim();
        }
        let limiter = self.limiter.read().unwrap_or_else(PoisonError::into_inner);
        limiter.check_key(key).is_ok()
    }

    fn trim(&self) {
        let mut limiter = self.limiter.write().unwrap_or_else(PoisonError::into_inner);
        limiter.retain_recent();
        if limiter.len() >= self.cap {
            *limiter = RateLimiter::keyed(self.quota);
        }
        limiter.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.limiter
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

pub struct LoginThrottle {
    per_email: BoundedLimiter<(EmailKey, Option<IpAddr>)>,
    per_address: BoundedLimiter<IpAddr>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl LoginThrottle {
    /// `email_burst` quick attempts per email from one address, then one every six seconds;
    /// `address_burst` per client address (an office behind one NAT), then one every two seconds.
    pub fn new(email_burst: u32, address_burst: u32) -> Self {
        Self::with_cap(email_burst, address_burst, MAX_KEYS)
    }

    fn with_cap(email_burst: u32, address_burst: u32, cap: usize) -> Self {
        Self {
            per_email: BoundedLimiter::new(quota(email_burst, Duration::from_secs(6)), cap),
            per_address: BoundedLimiter::new(quota(address_burst, Duration::from_secs(2)), cap),
        }
    }

    /// True when this attempt may go on to the password check. The email's limit counts per
    /// client address: one shared by every address would let anyone hold any account shut.
    pub fn admit(&self, email: (EmailKey, Option<IpAddr>), address: Option<IpAddr>) -> bool {
        let address_ok = address.is_none_or(|a| self.per_address.check(&a));
        address_ok && self.per_email.check(&email)
    }

    /// Keys held, per (email, address) and per address.
    pub fn len(&self) -> (usize, usize) {
        (self.per_email.len(), self.per_address.len())
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::LoginThrottle;
    use crate::auth::lockout::EmailKey;
    use crate::config::SecretKey;

    #[test]
    fn many_distinct_emails_and_addresses_stay_under_the_cap() {
        let throttle = LoginThrottle::with_cap(10, 30, 100);
        let key = SecretKey::new(vec![7; 32]);
        for i in 0..2_000u32 {
            let email = if i % 2 == 0 {
                format!("{i}@example.com")
            } else {
                format!("{}{i}@example.com", "x".repeat(240))
            };
            let address = Some(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)));
            let email = (EmailKey::of(&email, &key), address);
            // A fresh key is always admitted, even when the map had to start over.
            assert!(throttle.admit(email, address), "attempt {i}");
            let (emails, addresses) = throttle.len();
            assert!(emails <= 100 && addresses <= 100, "{emails}, {addresses}");
        }
    }

    #[test]
    fn a_burst_for_one_email_from_one_address_is_cut() {
        let throttle = LoginThrottle::with_cap(3, 30, 100);
        let key = SecretKey::new(vec![7; 32]);
        let address = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let email = (EmailKey::of("a@example.com", &key), address);
        let admitted = (0..5).filter(|_| throttle.admit(email, address)).count();
        assert_eq!(admitted, 3);
        // Another address for the same email is not held back by the first one.
        let elsewhere = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        let other = (EmailKey::of("a@example.com", &key), elsewhere);
        assert!(throttle.admit(other, elsewhere));
    }
}
