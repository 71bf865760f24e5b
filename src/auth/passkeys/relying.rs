//! The relying party: Roster as WebAuthn sees it. The host of `ROSTER_BASE_URL` is the RP ID and
//! its origin the one allowed origin, so passkeys work only at that address; an IP address (the
//! default `http://127.0.0.1:8080`) cannot be an RP ID, and then passkeys are off and say why.

use webauthn_rs::prelude::{Url, Uuid, Webauthn, WebauthnBuilder};

use crate::auth::UserId;
use crate::config::SecretKey;

/// Why passkeys are off on this server, for the operator and the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

pub struct RelyingParty {
    webauthn: Webauthn,
    handles: SecretKey,
}

fn unavailable(base_url: &str, why: &str) -> Unavailable {
    Unavailable(format!(
        "Passkeys are off on this server: ROSTER_BASE_URL is {base_url}, and {why}. The \
         administrator sets ROSTER_BASE_URL to the address people open Roster at, with a host \
         name (https://roster.example.com, or http://localhost:8080 on this machine)."
    ))
}

impl RelyingParty {
    /// The relying party of `base_url`; `handles` keys the opaque user handles.
    pub fn new(base_url: &str, handles: &SecretKey) -> Result<Self, Unavailable> {
        let origin =
            Url::parse(base_url).map_err(|_| unavailable(base_url, "that is not an address"))?;
        let Some(host) = origin.domain() else {
            return Err(unavailable(
                base_url,
                "browsers accept only a host name, not an IP address, as the site of a passkey",
            ));
        };
        let local = host == "localhost" || host.ends_with(".localhost");
        if origin.scheme() != "https" && !(origin.scheme() == "http" && local) {
            return Err(unavailable(
                base_url,
                "browsers offer passkeys only over https (or http on localhost)",
            ));
        }
        let webauthn = WebauthnBuilder::new(host, &origin)
            .and_then(|b| b.rp_name("Roster").build())
            .map_err(|e| unavailable(base_url, &format!("WebAuthn refuses it ({e})")))?;
        Ok(Self {
            webauthn,
            handles: handles.clone(),
        })
    }

    pub fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }

    /// The user handle an authenticator stores: stable per user, and no personal data.
    pub fn user_handle(&self, user: UserId) -> Uuid {
        let mac = self
            .handles
            .mac(b"roster-webauthn-user:", &[&user.0.to_be_bytes()]);
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&mac[..16]);
        Uuid::from_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::new(vec![7; 32])
    }

    #[test]
    fn a_host_name_is_a_relying_party() {
        assert!(RelyingParty::new("https://roster.example.com", &key()).is_ok());
        assert!(RelyingParty::new("http://localhost:8080", &key()).is_ok());
    }

    #[test]
    fn an_ip_address_or_plain_http_elsewhere_is_not() {
        let ip = RelyingParty::new("http://127.0.0.1:8080", &key())
            .err()
            .unwrap();
        assert!(ip.0.contains("not an IP address"), "{}", ip.0);
        let http = RelyingParty::new("http://roster.example.com", &key())
            .err()
            .unwrap();
        assert!(http.0.contains("only over https"), "{}", http.0);
    }

    #[test]
    fn user_handles_are_stable_and_distinct() {
        let rp = RelyingParty::new("http://localhost:8080", &key()).unwrap();
        assert_eq!(rp.user_handle(UserId(1)), rp.user_handle(UserId(1)));
        assert_ne!(rp.user_handle(UserId(1)), rp.user_handle(UserId(2)));
    }
}
