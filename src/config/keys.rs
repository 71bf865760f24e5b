//! Keys given in the configuration (base64), or generated on first start into the data folder,
//! readable by the owner only.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;

use super::{ConfigError, SecretKey};

pub const MIN_KEY_BYTES: usize = 32;

/// The key named `name`: decoded from `given` when set, else read from (or created at) `file`.
pub fn resolve(name: &str, given: Option<&str>, file: &Path) -> Result<SecretKey, ConfigError> {
    match given {
        Some(text) => decode(name, text),
        None if file.exists() => {
            let text = fs::read_to_string(file).map_err(|e| ConfigError::Io(file.into(), e))?;
            decode(&file.display().to_string(), text.trim())
        }
        None => generate(file),
    }
}

fn decode(name: &str, text: &str) -> Result<SecretKey, ConfigError> {
    let bytes = STANDARD
        .decode(text.trim())
        .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim()))
        .map_err(|_| ConfigError::Key {
            name: name.to_owned(),
            problem: "is not valid base64".to_owned(),
        })?;
    if bytes.len() < MIN_KEY_BYTES {
        return Err(ConfigError::Key {
            name: name.to_owned(),
            problem: format!(
                "is {} bytes long; it must be at least {MIN_KEY_BYTES}",
                bytes.len()
            ),
        });
    }
    Ok(SecretKey::new(bytes))
}

fn generate(file: &Path) -> Result<SecretKey, ConfigError> {
    let mut bytes = vec![0u8; MIN_KEY_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let io = |e| ConfigError::Io(file.into(), e);
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
        .map_err(io)?;
    out.write_all(STANDARD.encode(&bytes).as_bytes())
        .map_err(io)?;
    tracing::info!(file = %file.display(), "generated a new key");
    Ok(SecretKey::new(bytes))
}
