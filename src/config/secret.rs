//! Key material that cannot be printed by accident.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// HMAC-SHA256 under this key of `domain` then `parts`: every use (CSRF, flash, device tokens,
    /// email keys) names its own domain, so a MAC made for one never verifies for another.
    pub fn mac(&self, domain: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            // HMAC takes keys of any length; this branch cannot run.
            return [0; 32];
        };
        mac.update(domain);
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}
