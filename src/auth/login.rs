//! Signing in: the same answer, after the same work, for an unknown email and a wrong password;
//! failures counted in the database per (email, client address) and per email, known or not, so
//! that restarts and other instances share them (see `lockout`).

use std::net::IpAddr;
use std::time::Duration;

use super::device;
use super::lockout::{self, EmailKey, Gate, Limits, Source};
use super::session::{self, Lifetimes, Origin};
use super::two_factor::pending::{self, Purpose};
use super::two_factor::{Factors, policy};
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

/// Whose attempt it is, as the counters know it: the email (normalized here), the client's
/// address, and whether the browser's device token is this email's.
pub fn source(email: &str, client: &Client, key: &SecretKey) -> Source {
    let email_key = EmailKey::of(&lockout::normalized(email), key);
    let known_device = client
        .device_token
        .is_some_and(|token| device::is_valid(key, &email_key, token));
    Source {
        email: email_key,
        address: client.address,
        known_device,
    }
}

impl Attempt {
    /// None when no account can have this email (too long): refuse it without counting it.
    pub fn parse(email: &str, password: String, client: &Client, key: &SecretKey) -> Option<Self> {
        let email = lockout::normalized(email);
        if email.len() > MAX_EMAIL_LEN {
            return None;
        }
        Some(Self {
            source: source(&email, client, key),
            email,
            password,
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
    /// The password was right; a second step comes first (the password's failures are only
    /// forgiven after it, so that a known password does not open unlimited code guesses).
    SecondStep {
        user: User,
        purpose: Purpose,
        /// The token of the pending sign-in's cookie (`two_factor::pending`).
        token: String,
    },
    Refused,
    /// This address failed too often for this email.
    Locked,
    /// This email failed too often from everywhere: try again after this long.
    Wait(Duration),
}

/// Where a session would start from, the session this browser had (its hash), if any, and what
/// a pending sign-in is bound to and goes on to.
pub struct Start<'a> {
    pub origin: &'a Origin,
    pub previous: Option<&'a str>,
    /// The key of pending sign-ins' hashes (the session key).
    pub key: &'a SecretKey,
    /// The browser's pre-session cookie.
    pub pre: &'a str,
    /// Where to go once signed in (a local path).
    pub next: &'a str,
}

pub fn attempt(
    conn: &mut DbConn,
    attempt: &Attempt,
    policy: &LoginPolicy,
    dummy_hash: &str,
    start: &Start,
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
        Some(row) if matches && row.active => after_password(conn, source, &row, policy, start),
        _ => {
            lockout::record_failure(conn, source, limits, now())?;
            Ok(LoginOutcome::Refused)
        }
    }
}

/// The password was right: a second step for a user with a factor, enrolment for one without
/// while the policy requires it, else a session.
fn after_password(
    conn: &mut DbConn,
    source: &Source,
    row: &UserRow,
    policy: &LoginPolicy,
    start: &Start,
) -> Result<LoginOutcome, AuthError> {
    let user = row.user();
    let pending = |conn: &mut DbConn, user: User, purpose| {
        let token = pending::create(conn, start.key, (user.id, purpose), start.next, start.pre)?;
        Ok(LoginOutcome::SecondStep {
            user,
            purpose,
            token,
        })
    };
    if Factors::of(conn, user.id)?.enrolled() {
        return pending(conn, user, Purpose::Verify);
    }
    lockout::record_success(conn, source)?;
    if policy::required(conn)? {
        return pending(conn, user, Purpose::Enrol);
    }
    let token = session::start(conn, &user, policy.sessions, start.origin, start.previous)?;
    Ok(LoginOutcome::SignedIn { token, user })
}
