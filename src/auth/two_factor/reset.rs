//! Reset two-factor: for a user who lost their device, an Administrator (or a Manager, for the
//! users he manages) or the server operator (`roster user reset-2fa`) removes every factor and
//! recovery code; the user's sessions end and they enrol again at the next sign-in.

use diesel::prelude::*;

use super::{pending, recovery, totp};
use crate::audit;
use crate::auth::{AuthError, User, UserId, accounts, session, users};
use crate::db::DbConn;
use crate::db::schema::passkeys;

/// Resets the two-factor sign-in of `id`, which `actor` must be allowed to change (the rules of
/// the Users page); `None`: the server operator.
pub fn reset(conn: &mut DbConn, actor: Option<&User>, id: UserId) -> Result<User, AuthError> {
    crate::db::write(conn, |conn| {
        let user = match actor {
            Some(actor) => accounts::target(conn, actor, id)?,
            None => users::find(conn, id)?.ok_or(AuthError::NotFound)?.user(),
        };
        totp::delete(conn, id)?;
        diesel::delete(passkeys::table.filter(passkeys::user_id.eq(id.0))).execute(conn)?;
        recovery::delete_all(conn, id)?;
        pending::delete_for(conn, id)?;
        let ended = session::end_all_for(conn, id)?;
        let by = if actor.is_some() {
            ""
        } else {
            " (from the command line)"
        };
        let summary = format!(
            "reset the two-factor sign-in of {}{by}; {ended} session(s) signed out",
            user.email
        );
        audit::account_event(conn, actor, id, "two_factor.reset", &summary)?;
        Ok(user)
    })
}

/// The same by email, for the command line.
pub fn reset_by_email(conn: &mut DbConn, email: &str) -> Result<User, AuthError> {
    let email = crate::auth::lockout::normalized(email);
    let row = users::find_by_email(conn, &email)?.ok_or(AuthError::NotFound)?;
    reset(conn, None, UserId(row.id))
}
