//! Signing in: the same answer, after the same work, for an unknown email and a wrong password;
//! failures counted in the database so that restarts and other instances share them.

use chrono::NaiveDateTime;

use super::session::{self, Lifetimes};
use super::users::{self, UserRow};
use super::{AuthError, User, password};
use crate::db::{DbConn, now};

#[derive(Debug, Clone)]
pub struct LoginPolicy {
    pub max_failures: i32,
    pub lock: std::time::Duration,
    pub sessions: Lifetimes,
}

pub enum LoginOutcome {
    SignedIn { token: String, user: User },
    Refused,
    Locked,
}

pub fn attempt(
    conn: &mut DbConn,
    email: &str,
    password_given: &str,
    policy: &LoginPolicy,
    dummy_hash: &str,
) -> Result<LoginOutcome, AuthError> {
    let email = email.trim().to_lowercase();
    let Some(row) = users::find_by_email(conn, &email)? else {
        password::verify(password_given, dummy_hash);
        return Ok(LoginOutcome::Refused);
    };
    let at = now();
    if row.locked_until.is_some_and(|until| until > at) {
        return Ok(LoginOutcome::Locked);
    }
    let matches = password::verify(password_given, &row.password_hash);
    if !matches || !row.active {
        if !matches {
            users::record_failure(
                conn,
                row.user().id,
                policy.max_failures,
                lock_end(at, policy),
            )?;
        }
        return Ok(LoginOutcome::Refused);
    }
    signed_in(conn, &row, policy)
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

fn lock_end(at: NaiveDateTime, policy: &LoginPolicy) -> NaiveDateTime {
    at + chrono::Duration::from_std(policy.lock).unwrap_or(chrono::Duration::minutes(15))
}
