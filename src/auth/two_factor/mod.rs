//! Two-factor sign-in: which factors a user has (TOTP, passkeys, recovery codes), the policy that
//! may require one, and the rule that the last factor cannot go while it does. TOTP lives in
//! `totp`, recovery codes in `recovery`, the state between the two sign-in steps in `pending`.

pub mod account;
pub mod pending;
pub mod policy;
pub mod recovery;
pub mod reset;
pub mod second_step;
pub mod totp;

use diesel::prelude::*;

use super::UserId;
use crate::db::schema::{passkeys, recovery_codes, totp_factors};
use crate::db::{DbConn, DbError};

/// What a user has to prove themselves with after their password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Factors {
    /// A confirmed TOTP secret (one still waiting for its first code does not count).
    pub totp: bool,
    pub passkeys: i64,
    /// Recovery codes not used yet.
    pub recovery_left: i64,
}

impl Factors {
    pub fn of(conn: &mut DbConn, user: UserId) -> Result<Factors, DbError> {
        let totp = totp_factors::table
            .filter(totp_factors::user_id.eq(user.0))
            .filter(totp_factors::confirmed_at.is_not_null())
            .count()
            .get_result::<i64>(conn)?
            > 0;
        let passkeys = passkeys::table
            .filter(passkeys::user_id.eq(user.0))
            .count()
            .get_result(conn)?;
        let recovery_left = recovery_codes::table
            .filter(recovery_codes::user_id.eq(user.0))
            .filter(recovery_codes::used_at.is_null())
            .count()
            .get_result(conn)?;
        Ok(Factors {
            totp,
            passkeys,
            recovery_left,
        })
    }

    /// A confirmed TOTP secret or at least one passkey (recovery codes alone are not a factor).
    pub fn enrolled(&self) -> bool {
        self.totp || self.passkeys > 0
    }

    /// These factors once the TOTP secret is removed.
    pub fn without_totp(self) -> Factors {
        Factors {
            totp: false,
            ..self
        }
    }

    /// These factors once one passkey is removed.
    pub fn without_one_passkey(self) -> Factors {
        Factors {
            passkeys: (self.passkeys - 1).max(0),
            ..self
        }
    }
}

/// The message for a removal that `may_remove_last` refuses.
pub const LAST_FACTOR: &str = "Two-factor sign-in is required for every user, so your last \
     factor cannot be removed. Add another (an authenticator app or a passkey) first.";

/// Whether a factor may be removed, given what would be left (`remaining`, e.g.
/// `Factors::of(..)?.without_one_passkey()`): always, unless the policy requires two-factor
/// sign-in and nothing would be left. Call it in the transaction that deletes the factor.
pub fn may_remove_last(conn: &mut DbConn, remaining: &Factors) -> Result<bool, DbError> {
    Ok(remaining.enrolled() || !policy::required(conn)?)
}
