//! Removing one of one's own passkeys from My account. Another user's passkey is `NotFound`.

use super::store;
use crate::auth::{AuthError, User};
use crate::db::{self, DbConn};

/// Removes `actor`'s passkey `id`; returns its name.
pub fn remove(conn: &mut DbConn, actor: &User, id: i64) -> Result<String, AuthError> {
    db::write(conn, |conn| {
        let name = store::name_of(conn, actor.id, id)?;
        store::delete(conn, actor.id, id)?;
        let summary = format!("removed the passkey {name}");
        crate::audit::record(conn, Some(actor), "passkey.removed", &summary)?;
        Ok(name)
    })
}
