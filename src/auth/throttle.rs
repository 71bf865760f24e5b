//! In-process rate limits on sign-in, per account and per client address, checked before any
//! password is hashed. The database lock in `login` is what survives restarts and spans instances.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct LoginThrottle {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(burst: u32, every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl LoginThrottle {
    /// `account_burst` quick attempts per account, then one every six seconds; `address_burst`
    /// per client address (an office behind one NAT), then one every two seconds.
    pub fn new(account_burst: u32, address_burst: u32) -> Self {
        Self {
            per_account: RateLimiter::keyed(quota(account_burst, Duration::from_secs(6))),
            per_address: RateLimiter::keyed(quota(address_burst, Duration::from_secs(2))),
        }
    }

    /// True when this attempt may go on to the password check.
    pub fn admit(&self, email: &str, address: Option<IpAddr>) -> bool {
        let address_ok = address.is_none_or(|a| self.per_address.check_key(&a).is_ok());
        address_ok
            && self
                .per_account
                .check_key(&email.trim().to_lowercase())
                .is_ok()
    }
}
