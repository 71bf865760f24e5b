//! Signing in: the same answer, after the same work, for an unknown email and a wrong password;
//! failures counted in the database per (email, client address) and per email, known or not, so
//! that restarts and other instances share them (see `lockout`).

use std::net::IpAddr;
use std::time::Duration;

use super::device;
use super::lockout::{self, EmailKey, Gate, Limits, Source};
use super::session::{self, Lifetimes};
use super::users::{self, UserRow};
use super::{AuthError, User, password};
use crate::config::SecretKey;
use crate::db::{DbConn, now};

/// The longest email an account can have (RFC 5321's path limit; `validation::email` agrees).
pub const MAX_EMAIL_LEN: usize = 254;

#[derive(Debug, Clone)]
pub struct LoginPolicy {
    pub max_failures: i32,
    pub lock: Duration,
    pub sessions: Lifetimes,
}

impl LoginPolicy {
    /// The per-address lock of `lockout`, for sign-in and for anything else that checks a password.
    pub fn limits(&self) -> Limits {
        Limits {
            max_failures: self.max_failures,
            lock: self.lock,
        }
    }
}

/// A sign-in attempt as it arrives: an email that some account could have, the password, the
/// client's address and the browser's device token, if any.
pub struct Attempt {
    email: String,
    password: String,
    source: Source,
}

/// What the browser sent besides the form.
pub struct Client<'a> {
    pub address: Option<IpAddr>,
    pub device_token: Option<&'a str>,
}

impl Attempt {
    /// None when no account can have this email (too long): refuse it without counting it.
    pub fn parse(email: &str, password: String, client: &Client, key: &SecretKey) -> Option<Self> {
        let email = lockout::normalized(email);
        if email.len() > MAX_EMAIL_LEN {
            return None;
        }
        let email_key = EmailKey::of(&email, key);
        let known_device = client
            .device_token
            .is_some_and(|token| device::is_valid(key, &email_key, token));
        Some(Self {
            email,
            password,
            source: Source {
                email: email_key,
                address: client.address,
                known_device,
            },
        })
    }

    /// What the in-memory limiter counts this attempt under.
    pub fn limiter_key(&self) -> (EmailKey, Option<IpAddr>) {
        (self.source.email, self.source.address)
    }

    /// The email's key, for the device token a sign-in hands out.
    pub fn email_key(&self) -> EmailKey {
        self.source.email
    }
}

pub enum LoginOutcome {
    SignedIn {
        token: String,
        user: User,
    },
    Refused,
    /// This address failed too often for this email.
    Locked,
    /// This email failed too often from everywhere: try again after this long.
    Wait(Duration),
}

pub fn attempt(
    conn: &mut DbConn,
    attempt: &Attempt,
    policy: &LoginPolicy,
    dummy_hash: &str,
) -> Result<LoginOutcome, AuthError> {
    let limits = policy.limits();
    let source = &attempt.source;
    match lockout::gate(conn, source, limits, now())? {
        Gate::Open => {}
        Gate::Locked => return Ok(LoginOutcome::Locked),
        Gate::Wait(left) => return Ok(LoginOutcome::Wait(left)),
    }
    let row = users::find_by_email(conn, &attempt.email)?;
    let hash = row
        .as_ref()
        .map_or(dummy_hash, |r| r.password_hash.as_str());
    let matches = password::verify(&attempt.password, hash);
    match row {
        Some(row) if matches && row.active => {
            lockout::record_success(conn, source)?;
            signed_in(conn, &row, policy)
        }
        _ => {
            lockout::record_failure(conn, source, limits, now())?;
            Ok(LoginOutcome::Refused)
        }
    }
}

fn signed_in(
    conn: &mut DbConn,
    row: &UserRow,
    policy: &LoginPolicy,
) -> Result<LoginOutcome, AuthError> {
    let user = row.user();
    users::record_success(conn, user.id)?;
    let token = session::create(conn, user.id, policy.sessions)?;
    Ok(LoginOutcome::SignedIn { token, user })
}
