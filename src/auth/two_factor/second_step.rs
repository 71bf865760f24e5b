//! Codes checked behind the same gate as passwords (`lockout`): the second sign-in step (a TOTP
//! code or a recovery code) and the first code of an enrolment. A wrong code counts as a failed
//! sign-in; only a right one forgives the failures.

use std::time::Duration;

use super::pending::Pending;
use super::{Factors, recovery, totp};
use crate::audit;
use crate::auth::lockout::{self, Gate, Limits, Source};
use crate::auth::{AuthError, User, users};
use crate::config::SecretKey;
use crate::db::{DbConn, now};

/// What the user typed at the second step.
#[derive(Debug, Clone, Copy)]
pub enum Answer<'a> {
    Code(&'a str),
    Recovery(&'a str),
}

/// The outcome of a guarded check.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict<T> {
    Passed(T),
    Refused,
    /// This address failed too often for this account.
    Locked,
    /// The account failed too often from everywhere: wait this long.
    Wait(Duration),
}

/// Runs `check` when the gate is open, counting a `None` as a failure and a `Some` as a success.
pub fn guarded<T>(
    conn: &mut DbConn,
    (source, limits): (&Source, Limits),
    check: impl FnOnce(&mut DbConn) -> Result<Option<T>, AuthError>,
) -> Result<Verdict<T>, AuthError> {
    match lockout::gate(conn, source, limits, now())? {
        Gate::Open => {}
        Gate::Locked => return Ok(Verdict::Locked),
        Gate::Wait(left) => return Ok(Verdict::Wait(left)),
    }
    match check(conn)? {
        Some(value) => {
            lockout::record_success(conn, source)?;
            Ok(Verdict::Passed(value))
        }
        None => {
            lockout::record_failure(conn, source, limits, now())?;
            Ok(Verdict::Refused)
        }
    }
}

/// Checks `answer` for `pending` (`key`: the data key, which seals TOTP secrets and keys the
/// recovery codes' hashes). Passed: with a recovery code, how many are left.
pub fn verify(
    conn: &mut DbConn,
    key: &SecretKey,
    pending: &Pending,
    answer: Answer,
    guard: (&Source, Limits),
) -> Result<Verdict<Option<i64>>, AuthError> {
    let user = users::find(conn, pending.user_id)?
        .ok_or(AuthError::NotFound)?
        .user();
    guarded(conn, guard, |conn| match answer {
        Answer::Code(code) => Ok(totp::check(conn, key, &user, code)?.then_some(None)),
        Answer::Recovery(code) => {
            let Some(left) = recovery::use_code(conn, key, user.id, code)? else {
                return Ok(None);
            };
            let summary = format!("signed in with a recovery code; {left} left");
            audit::account_event(
                conn,
                Some(&user),
                user.id,
                "two_factor.recovery_used",
                &summary,
            )?;
            Ok(Some(Some(left)))
        }
    })
}

/// Confirms the enrolment of `user`'s authenticator app with its first code. Passed: the new
/// recovery codes when this is the user's first factor (to show once), else none.
pub fn confirm_totp(
    conn: &mut DbConn,
    key: &SecretKey,
    user: &User,
    code: &str,
    guard: (&Source, Limits),
) -> Result<Verdict<Option<Vec<String>>>, AuthError> {
    guarded(conn, guard, |conn| {
        crate::db::write(conn, |conn| {
            let first = !Factors::of(conn, user.id)?.enrolled();
            if !totp::confirm(conn, key, user, code)? {
                return Ok(None);
            }
            let codes = if first {
                Some(recovery::replace(conn, key, user.id)?)
            } else {
                None
            };
            let summary = "set up an authenticator app (TOTP)";
            audit::account_event(
                conn,
                Some(user),
                user.id,
                "two_factor.totp_enrolled",
                summary,
            )?;
            Ok(Some(codes))
        })
    })
}
