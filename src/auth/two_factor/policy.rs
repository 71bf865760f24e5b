//! The policy "Require two-factor sign-in for every user" (Settings > Security): one row of
//! `app_settings`, read at every sign-in, so every instance sees a change at once.

use diesel::prelude::*;

use crate::audit;
use crate::auth::User;
use crate::db::schema::app_settings;
use crate::db::{DbConn, DbError, now};

const KEY: &str = "two_factor_required";

/// True when every user must sign in with a second factor.
pub fn required(conn: &mut DbConn) -> Result<bool, DbError> {
    let value: Option<String> = app_settings::table
        .find(KEY)
        .select(app_settings::value)
        .first(conn)
        .optional()?;
    Ok(value.as_deref() == Some("true"))
}

/// Sets the policy (an Administrator, from Settings > Security), with an audit event.
pub fn set(conn: &mut DbConn, actor: &User, require: bool) -> Result<(), DbError> {
    crate::db::write(conn, |conn| {
        diesel::delete(app_settings::table.find(KEY)).execute(conn)?;
        diesel::insert_into(app_settings::table)
            .values((
                app_settings::key.eq(KEY),
                app_settings::value.eq(if require { "true" } else { "false" }),
                app_settings::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let summary = if require {
            "required two-factor sign-in for every user"
        } else {
            "made two-factor sign-in optional"
        };
        audit::record(conn, Some(actor), "settings.two_factor", summary)?;
        Ok::<_, DbError>(())
    })
}
