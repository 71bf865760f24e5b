//! Synchronizer tokens: an HMAC of what the request is bound to (the session, or for forms shown
//! before sign-in a random pre-session cookie), so nothing extra is stored and another session's
//! token never matches. Compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::config::SecretKey;

pub const FIELD: &str = "csrf_token";

pub fn token_for(key: &SecretKey, binding: &str) -> String {
    URL_SAFE_NO_PAD.encode(mac(key, binding))
}

pub fn verify(key: &SecretKey, binding: &str, given: &str) -> bool {
    let Ok(given) = URL_SAFE_NO_PAD.decode(given.trim()) else {
        return false;
    };
    mac(key, binding).ct_eq(given.as_slice()).into()
}

fn mac(key: &SecretKey, binding: &str) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.expose()) else {
        return Vec::new();
    };
    mac.update(b"roster-csrf:");
    mac.update(binding.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_to_its_session() {
        let key = SecretKey::new(vec![7; 32]);
        let token = token_for(&key, "session-a");
        assert!(verify(&key, "session-a", &token));
        assert!(!verify(&key, "session-b", &token));
        assert!(!verify(&key, "session-a", ""));
        let mut changed = token.clone().into_bytes();
        changed[3] = if changed[3] == b'A' { b'B' } else { b'A' };
        assert!(!verify(
            &key,
            "session-a",
            &String::from_utf8(changed).unwrap()
        ));
    }
}
