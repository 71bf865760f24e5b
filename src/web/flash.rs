//! One-time messages shown on the next page (post/redirect/get), in a signed cookie so that no
//! server keeps them and nobody else can write them.

use actix_web::HttpResponse;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header::LOCATION;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::config::SecretKey;

pub const COOKIE: &str = "__Host-roster-flash";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Error,
    Info,
}

#[derive(Debug, Clone)]
pub struct Flash {
    pub kind: FlashKind,
    pub message: String,
    /// A button beside the message (Restore after a delete, say).
    pub action: Option<FlashAction>,
}

/// A button in a flash message: a POST form (with the CSRF token) or a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlashAction {
    pub label: String,
    pub path: String,
    pub post: bool,
}

/// Separates the parts of an encoded flash (a control character that no message contains).
const SEP: char = '\u{1f}';

impl Flash {
    pub fn success(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Success,
            message: message.into(),
            action: None,
        }
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Error,
            message: message.into(),
            action: None,
        }
    }

    pub fn info(message: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Info,
            message: message.into(),
            action: None,
        }
    }

    /// With a button that posts to `path`.
    pub fn with_post(mut self, label: &str, path: String) -> Self {
        self.action = Some(FlashAction {
            label: label.to_owned(),
            path,
            post: true,
        });
        self
    }

    /// With a link to `path`.
    pub fn with_link(mut self, label: &str, path: String) -> Self {
        self.action = Some(FlashAction {
            label: label.to_owned(),
            path,
            post: false,
        });
        self
    }

    /// The CSS class of the message box.
    pub fn class(&self) -> &'static str {
        match self.kind {
            FlashKind::Success => "success",
            FlashKind::Error => "error",
            FlashKind::Info => "info",
        }
    }

    fn tag(&self) -> char {
        match self.kind {
            FlashKind::Success => 's',
            FlashKind::Error => 'e',
            FlashKind::Info => 'i',
        }
    }

    pub fn encode(&self, key: &SecretKey) -> String {
        let message: String = self.message.chars().filter(|c| *c != SEP).collect();
        let text = match &self.action {
            None => format!("{}{message}", self.tag()),
            Some(a) => format!(
                "{}{message}{SEP}{}{SEP}{}{SEP}{}",
                self.tag(),
                a.label,
                a.path,
                if a.post { "post" } else { "get" }
            ),
        };
        let payload = URL_SAFE_NO_PAD.encode(text);
        let signature = URL_SAFE_NO_PAD.encode(mac(key, &payload));
        format!("{payload}.{signature}")
    }

    pub fn decode(key: &SecretKey, value: &str) -> Option<Self> {
        let (payload, signature) = value.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let valid: bool =
            subtle::ConstantTimeEq::ct_eq(mac(key, payload).as_slice(), signature.as_slice())
                .into();
        if !valid {
            return None;
        }
        let text = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let mut chars = text.chars();
        let kind = match chars.next()? {
            's' => FlashKind::Success,
            'e' => FlashKind::Error,
            _ => FlashKind::Info,
        };
        let rest: String = chars.collect();
        let mut parts = rest.split(SEP);
        let message = parts.next().unwrap_or_default().to_owned();
        let action = match (parts.next(), parts.next(), parts.next()) {
            (Some(label), Some(path), Some(method)) if path.starts_with('/') => Some(FlashAction {
                label: label.to_owned(),
                path: path.to_owned(),
                post: method == "post",
            }),
            _ => None,
        };
        Some(Self {
            kind,
            message,
            action,
        })
    }
}

fn mac(key: &SecretKey, payload: &str) -> [u8; 32] {
    key.mac(b"roster-flash:", &[payload.as_bytes()])
}

/// A cookie for the browser: `__Host-` prefixed, so Secure, Path=/ and no Domain.
pub fn host_cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .finish()
}

/// A 303 to `location` (post/redirect/get).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location.to_owned()))
        .finish()
}

/// A 303 to `location` that shows `flash` there.
pub fn see_other_with(location: &str, flash: &Flash, key: &SecretKey) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location.to_owned()))
        .cookie(host_cookie(COOKIE, flash.encode(key)))
        .finish()
}
