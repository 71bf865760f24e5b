//! Password secrets at rest: XChaCha20-Poly1305 (authenticated) with a key derived from the
//! data-encryption key, a random 192-bit nonce per secret, and the record's id as associated data,
//! so a ciphertext moved to another record does not decrypt.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::RecordError;
use crate::config::SecretKey;

fn cipher(key: &SecretKey) -> Result<XChaCha20Poly1305, RecordError> {
    let mut hasher = Sha256::new();
    hasher.update(b"roster-password-secrets:");
    hasher.update(key.expose());
    XChaCha20Poly1305::new_from_slice(&hasher.finalize()).map_err(|_| RecordError::Crypto)
}

/// (nonce, ciphertext) of `secret`, bound to `record`.
pub fn seal(key: &SecretKey, record: i64, secret: &str) -> Result<(Vec<u8>, Vec<u8>), RecordError> {
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    let aad = record.to_be_bytes();
    let sealed = cipher(key)?
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: secret.as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| RecordError::Crypto)?;
    Ok((nonce.to_vec(), sealed))
}

pub fn open(
    key: &SecretKey,
    record: i64,
    nonce: &[u8],
    sealed: &[u8],
) -> Result<String, RecordError> {
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| RecordError::Crypto)?;
    let aad = record.to_be_bytes();
    let plain = cipher(key)?
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: sealed,
                aad: &aad,
            },
        )
        .map_err(|_| RecordError::Crypto)?;
    String::from_utf8(plain).map_err(|_| RecordError::Crypto)
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
