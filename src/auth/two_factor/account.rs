//! A user's own two-factor sign-in on My account: remove the authenticator app and make new
//! recovery codes, both behind the user's password (counted like sign-in failures). Enrolment is
//! `second_step::confirm_totp`, shared with enrolment inside a pending sign-in.

use super::{Factors, LAST_FACTOR, may_remove_last, recovery, totp};
use crate::audit;
use crate::auth::lockout::{Limits, Source};
use crate::auth::own::check_password;
use crate::auth::{AuthError, User};
use crate::config::SecretKey;
use crate::db::DbConn;

/// Removes the actor's authenticator app (`password`: typed in the field `remove_password`).
/// Refused while the policy requires two-factor sign-in and it is the last factor. Without any
/// factor left, the recovery codes go too (they would stand for nothing).
pub fn remove_totp(
    conn: &mut DbConn,
    actor: &User,
    password: &str,
    guard: (&Source, Limits),
) -> Result<(), AuthError> {
    check_password(conn, actor, ("remove_password", password), guard)?;
    crate::db::write(conn, |conn| {
        let factors = Factors::of(conn, actor.id)?;
        if !factors.totp {
            return Err(AuthError::Conflict(
                "You have no authenticator app to remove.".into(),
            ));
        }
        let remaining = factors.without_totp();
        if !may_remove_last(conn, &remaining)? {
            return Err(AuthError::Conflict(LAST_FACTOR.into()));
        }
        totp::delete(conn, actor.id)?;
        if !remaining.enrolled() {
            recovery::delete_all(conn, actor.id)?;
        }
        let summary = "removed their authenticator app (TOTP)";
        audit::account_event(
            conn,
            Some(actor),
            actor.id,
            "two_factor.totp_removed",
            summary,
        )?;
        Ok(())
    })
}

/// Replaces the actor's recovery codes (`password`: typed in the field `codes_password`);
/// returns the new ones, to show once.
pub fn new_recovery_codes(
    conn: &mut DbConn,
    key: &SecretKey,
    actor: &User,
    password: &str,
    guard: (&Source, Limits),
) -> Result<Vec<String>, AuthError> {
    check_password(conn, actor, ("codes_password", password), guard)?;
    crate::db::write(conn, |conn| {
        if !Factors::of(conn, actor.id)?.enrolled() {
            return Err(AuthError::Conflict(
                "Recovery codes come with two-factor sign-in: set up an authenticator app first."
                    .into(),
            ));
        }
        let codes = recovery::replace(conn, key, actor.id)?;
        let summary = "made new recovery codes (the old ones no longer work)";
        audit::account_event(
            conn,
            Some(actor),
            actor.id,
            "two_factor.recovery_replaced",
            summary,
        )?;
        Ok(codes)
    })
}
