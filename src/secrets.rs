//! Secrets at rest (password records, PSA credentials): XChaCha20-Poly1305 (authenticated) with a
//! key derived from the data-encryption key and a purpose, a random 192-bit nonce per secret, and
//! associated data naming the row, so that a ciphertext moved elsewhere does not decrypt.

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::SecretKey;

/// A secret could not be sealed or opened (wrong key, moved, or damaged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a secret could not be decrypted (wrong data key, or damaged)")]
pub struct SealError;

fn cipher(key: &SecretKey, purpose: &str) -> Result<XChaCha20Poly1305, SealError> {
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update(b":");
    hasher.update(key.expose());
    XChaCha20Poly1305::new_from_slice(&hasher.finalize()).map_err(|_| SealError)
}

/// (nonce, ciphertext) of `plain`, for `purpose`, bound to `bound_to`.
pub fn seal(
    key: &SecretKey,
    purpose: &str,
    bound_to: &[u8],
    plain: &str,
) -> Result<(Vec<u8>, Vec<u8>), SealError> {
    let mut nonce = [0u8; 24];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher(key, purpose)?
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plain.as_bytes(),
                aad: bound_to,
            },
        )
        .map_err(|_| SealError)?;
    Ok((nonce.to_vec(), sealed))
}

pub fn open(
    key: &SecretKey,
    purpose: &str,
    bound_to: &[u8],
    nonce: &[u8],
    sealed: &[u8],
) -> Result<String, SealError> {
    let nonce: [u8; 24] = nonce.try_into().map_err(|_| SealError)?;
    let plain = cipher(key, purpose)?
        .decrypt(
            &XNonce::from(nonce),
            Payload {
                msg: sealed,
                aad: bound_to,
            },
        )
        .map_err(|_| SealError)?;
    String::from_utf8(plain).map_err(|_| SealError)
}
