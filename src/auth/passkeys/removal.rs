//! Removing one of one's own passkeys from My account: refused when it is the last factor and the
//! policy requires two-factor sign-in. Another user's passkey is `NotFound`.

use super::store;
use crate::audit;
use crate::auth::two_factor::{Factors, LAST_FACTOR, may_remove_last};
use crate::auth::{AuthError, User};
use crate::db::{self, DbConn};

/// Removes `actor`'s passkey `id`; returns its name.
pub fn remove(conn: &mut DbConn, actor: &User, id: i64) -> Result<String, AuthError> {
    db::write(conn, |conn| {
        let name = store::name_of(conn, actor.id, id)?;
        let remaining = Factors::of(conn, actor.id)?.without_one_passkey();
        if !may_remove_last(conn, &remaining)? {
            return Err(AuthError::Conflict(LAST_FACTOR.into()));
        }
        store::delete(conn, actor.id, id)?;
        let summary = format!("removed the passkey {name}");
        audit::account_event(conn, Some(actor), actor.id, "passkey.removed", &summary)?;
        Ok(name)
    })
}
