//! A browser that signed in to an account carries a signed device token for that account; with
//! it the account-wide slowdown does not apply (its address's own lock still does), so whoever
//! keeps an account slowed down does not keep its owner out. Nothing is stored: the token is an
//! HMAC of the email's key and the time it was issued, valid for [`VALID_FOR`].

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

use super::lockout::EmailKey;
use crate::config::SecretKey;

/// How long a device token counts after the sign-in that issued it.
pub const VALID_FOR: Duration = Duration::from_secs(180 * 24 * 3600);

fn mac(key: &SecretKey, email: &EmailKey, issued: i64) -> [u8; 32] {
    key.mac(
        b"roster-device:",
        &[email.as_bytes(), &issued.to_be_bytes()],
    )
}

/// A token for this email, issued now.
pub fn issue(key: &SecretKey, email: &EmailKey) -> String {
    issue_at(key, email, chrono::Utc::now().timestamp())
}

fn issue_at(key: &SecretKey, email: &EmailKey, issued: i64) -> String {
    let mut bytes = issued.to_be_bytes().to_vec();
    bytes.extend_from_slice(&mac(key, email, issued));
    URL_SAFE_NO_PAD.encode(bytes)
}

/// True when `token` was issued for this email, with this key, less than [`VALID_FOR`] ago.
/// The signature is compared in constant time.
pub fn is_valid(key: &SecretKey, email: &EmailKey, token: &str) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    let Some((issued, signature)) = bytes.split_first_chunk::<8>() else {
        return false;
    };
    let issued = i64::from_be_bytes(*issued);
    let age = chrono::Utc::now().timestamp().saturating_sub(issued);
    let fresh = u64::try_from(age).is_ok_and(|age| age <= VALID_FOR.as_secs());
    fresh && bool::from(mac(key, email, issued).as_slice().ct_eq(signature))
}

#[cfg(test)]
mod tests {
    use super::{VALID_FOR, is_valid, issue, issue_at};
    use crate::auth::lockout::EmailKey;
    use crate::config::SecretKey;

    #[test]
    fn a_token_counts_for_its_email_key_and_time_only() {
        let key = SecretKey::new(vec![3; 32]);
        let ann = EmailKey::of("ann@example.com", &key);
        let bob = EmailKey::of("bob@example.com", &key);
        let token = issue(&key, &ann);
        assert!(is_valid(&key, &ann, &token));
        assert!(!is_valid(&key, &bob, &token));
        assert!(!is_valid(&SecretKey::new(vec![4; 32]), &ann, &token));
        assert!(!is_valid(&key, &ann, ""));
        assert!(!is_valid(&key, &ann, &token[..token.len() - 2]));
        let old = chrono::Utc::now().timestamp() - VALID_FOR.as_secs() as i64 - 60;
        assert!(!is_valid(&key, &ann, &issue_at(&key, &ann, old)));
    }
}
