//! Synchronizer tokens: an HMAC of what the request is bound to (the session, or for forms shown
//! before sign-in a random pre-session cookie), so nothing extra is stored and another session's
//! token never matches. Compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use crate::config::SecretKey;

pub fn token_for(key: &SecretKey, binding: &str) -> String {
    URL_SAFE_NO_PAD.encode(key.mac(b"roster-csrf:", &[binding.as_bytes()]))
}

/// True when `given` is the `expected` token, compared in constant time.
pub fn matches(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_to_its_session() {
        let key = SecretKey::new(vec![7; 32]);
        let token = token_for(&key, "session-a");
        assert!(
            matches(&token_for(&key, "session-a"), &token),
            "stable for one session"
        );
        assert!(
            !matches(&token_for(&key, "session-b"), &token),
            "another session's token"
        );
        assert!(!matches(&token, ""));
        let mut changed = token.clone().into_bytes();
        changed[3] = if changed[3] == b'A' { b'B' } else { b'A' };
        assert!(
            !matches(&token, &String::from_utf8(changed).unwrap()),
            "one byte changed"
        );
        let other_key = SecretKey::new(vec![8; 32]);
        assert_ne!(
            token_for(&other_key, "session-a"),
            token,
            "depends on the key"
        );
    }
}
