//! Password secrets at rest (see `crate::secrets`), bound to their record: a ciphertext moved to
//! another record does not decrypt.

use super::RecordError;
use crate::config::SecretKey;
use crate::secrets;

/// Also the key derivation's label: changing it makes stored secrets unreadable.
const PURPOSE: &str = "roster-password-secrets";

/// (nonce, ciphertext) of `secret`, bound to `record`.
pub fn seal(key: &SecretKey, record: i64, secret: &str) -> Result<(Vec<u8>, Vec<u8>), RecordError> {
    secrets::seal(key, PURPOSE, &record.to_be_bytes(), secret).map_err(|_| RecordError::Crypto)
}

/// The label of one-time-password secrets: one sealed as a password does not open as one.
const OTP_PURPOSE: &str = "roster-otp-secrets";

/// (nonce, ciphertext) of a password's one-time-password secret, bound to `record`.
pub fn seal_otp(
    key: &SecretKey,
    record: i64,
    secret: &str,
) -> Result<(Vec<u8>, Vec<u8>), RecordError> {
    secrets::seal(key, OTP_PURPOSE, &record.to_be_bytes(), secret).map_err(|_| RecordError::Crypto)
}

pub fn open_otp(
    key: &SecretKey,
    record: i64,
    nonce: &[u8],
    sealed: &[u8],
) -> Result<String, RecordError> {
    secrets::open(key, OTP_PURPOSE, &record.to_be_bytes(), nonce, sealed)
        .map_err(|_| RecordError::Crypto)
}

pub fn open(
    key: &SecretKey,
    record: i64,
    nonce: &[u8],
    sealed: &[u8],
) -> Result<String, RecordError> {
    secrets::open(key, PURPOSE, &record.to_be_bytes(), nonce, sealed)
        .map_err(|_| RecordError::Crypto)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = SecretKey::new(vec![9; 32]);
        let (nonce, sealed) = seal(&key, 7, "hunter2 hunter2").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(open(&key, 7, &nonce, &sealed).unwrap(), "hunter2 hunter2");
        assert!(
            open(&key, 8, &nonce, &sealed).is_err(),
            "bound to its record"
        );
        assert!(
            open(&SecretKey::new(vec![1; 32]), 7, &nonce, &sealed).is_err(),
            "needs the key"
        );
    }
}
