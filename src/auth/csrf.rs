//! Synchronizer tokens: an HMAC of what the request is bound to (the session, or for forms shown
//! before sign-in a random pre-session cookie), so nothing extra is stored and another session's
//! token never matches. Compared in constant time.
//!
//! Pages are compressed, so a token that stayed the same in every response next to reflected input
//! (a search box) could be guessed byte by byte from response sizes (BREACH). Each token handed out is
//! therefore masked afresh: a random pad, then the secret XOR the pad; `matches` unmasks both sides.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::config::SecretKey;

/// A token for `binding`, masked with a fresh random pad: two calls give different strings that
/// both match.
pub fn token_for(key: &SecretKey, binding: &str) -> String {
    let secret = key.mac(b"roster-csrf:", &[binding.as_bytes()]);
    let mut pad = vec![0u8; secret.len()];
    rand::rng().fill_bytes(&mut pad);
    let masked: Vec<u8> = secret.iter().zip(&pad).map(|(s, p)| s ^ p).collect();
    pad.extend_from_slice(&masked);
    URL_SAFE_NO_PAD.encode(pad)
}

/// The secret under a masked token (pad, then secret XOR pad); None for anything else.
fn unmasked(token: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let (pad, masked) = bytes.split_at(bytes.len() / 2);
    Some(pad.iter().zip(masked).map(|(p, m)| p ^ m).collect())
}

/// True when `given` and `expected` carry the same secret, compared in constant time.
pub fn matches(expected: &str, given: &str) -> bool {
    match (unmasked(expected), unmasked(given)) {
        (Some(expected), Some(given)) => expected.ct_eq(&given).into(),
        _ => false,
    }
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
        assert_ne!(
            token_for(&key, "session-a"),
            token,
            "masked afresh each time (BREACH)"
        );
        let mut changed = token.clone().into_bytes();
        changed[3] = if changed[3] == b'A' { b'B' } else { b'A' };
        assert!(
            !matches(&token, &String::from_utf8(changed).unwrap()),
            "one byte changed"
        );
        let other_key = SecretKey::new(vec![8; 32]);
        assert!(
            !matches(&token_for(&other_key, "session-a"), &token),
            "depends on the key"
        );
    }
}
