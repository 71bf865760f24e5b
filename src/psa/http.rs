//! Calls to a PSA: placeholder, being written.

use super::PsaError;

/// Refuses addresses that are not `https://` (unless plain http is allowed).
pub fn check_address(url: &str, allow_http: bool) -> Result<(), PsaError> {
    if url.starts_with("https://") || (allow_http && url.starts_with("http://")) {
        Ok(())
    } else {
        Err(PsaError::Config(
            "the PSA address must start with https://".into(),
        ))
    }
}
