//! A software authenticator for the HTTP tests: registrations in the "none" attestation format
//! (valid: no signature needed) with a fixed P-256 public key, and assertions whose signature
//! is not valid (enough for every refusal that WebAuthn decides before the signature). The
//! browser tests cover a real, signed sign-in with ChromeDriver's virtual authenticator.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The P-256 generator point: a valid public key (of the private key 1).
const X: [u8; 32] = [
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
    0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96,
];
const Y: [u8; 32] = [
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
    0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
];

fn head(major: u8, n: usize) -> Vec<u8> {
    match n {
        0..24 => vec![(major << 5) | n as u8],
        24..256 => vec![(major << 5) | 24, n as u8],
        _ => vec![(major << 5) | 25, (n >> 8) as u8, n as u8],
    }
}

fn int(i: i64) -> Vec<u8> {
    if i >= 0 {
        head(0, i as usize)
    } else {
        head(1, (-1 - i) as usize)
    }
}

fn text(s: &str) -> Vec<u8> {
    [head(3, s.len()), s.as_bytes().to_vec()].concat()
}

fn bytes(b: &[u8]) -> Vec<u8> {
    [head(2, b.len()), b.to_vec()].concat()
}

pub fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// The relying party id's hash that starts authenticator data.
fn rp_hash(rp_id: &str) -> Vec<u8> {
    Sha256::digest(rp_id.as_bytes()).to_vec()
}

pub struct SoftKey {
    pub id: Vec<u8>,
}

impl SoftKey {
    pub fn new() -> Self {
        Self {
            id: roster::auth::token::generate().into_bytes()[..20].to_vec(),
        }
    }

    pub fn id_text(&self) -> String {
        b64(&self.id)
    }

    /// The browser's answer to registration options whose challenge is `challenge`, as made at
    /// `origin` (e.g. `http://localhost:1234`).
    pub fn attestation(&self, challenge: &str, origin: &str) -> String {
        let client_data = json!({
            "type": "webauthn.create",
            "challenge": challenge,
            "origin": origin,
            "crossOrigin": false,
        })
        .to_string();
        let cose = [
            vec![0xa5],
            int(1),
            int(2),
            int(3),
            int(-7),
            int(-1),
            int(1),
            int(-2),
            bytes(&X),
            int(-3),
            bytes(&Y),
        ]
        .concat();
        let host = origin
            .split("//")
            .nth(1)
            .unwrap()
            .split(':')
            .next()
            .unwrap();
        // Flags: user present, user verified, attested credential data.
        let auth_data = [
            rp_hash(host),
            vec![0x45, 0, 0, 0, 0],
            vec![0; 16],
            vec![0, self.id.len() as u8],
            self.id.clone(),
            cose,
        ]
        .concat();
        let object = [
            vec![0xa3],
            text("fmt"),
            text("none"),
            text("attStmt"),
            vec![0xa0],
            text("authData"),
            bytes(&auth_data),
        ]
        .concat();
        json!({
            "id": self.id_text(),
            "rawId": self.id_text(),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&object),
                "clientDataJSON": b64(client_data.as_bytes()),
            },
            "extensions": {},
        })
        .to_string()
    }

    /// An assertion for `challenge` at `origin` under this key's id, with a signature that does
    /// not verify.
    pub fn assertion(&self, challenge: &str, origin: &str) -> String {
        let client_data = json!({
            "type": "webauthn.get",
            "challenge": challenge,
            "origin": origin,
            "crossOrigin": false,
        })
        .to_string();
        let host = origin
            .split("//")
            .nth(1)
            .unwrap()
            .split(':')
            .next()
            .unwrap();
        let auth_data = [rp_hash(host), vec![0x05, 0, 0, 0, 1]].concat();
        json!({
            "id": self.id_text(),
            "rawId": self.id_text(),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(client_data.as_bytes()),
                "signature": b64(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]),
                "userHandle": null,
            },
            "extensions": {},
        })
        .to_string()
    }
}

/// The challenge of ceremony options (registration or sign-in).
pub fn challenge_of(options: &str) -> String {
    let value: Value = serde_json::from_str(options).unwrap();
    value["publicKey"]["challenge"].as_str().unwrap().to_owned()
}
