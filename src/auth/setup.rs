//! The first Administrator: while there is no user, a one-time link with a random token (only its
//! hash is stored) lets one person create that account; afterwards the page is gone for good.

use diesel::prelude::*;

use super::accounts::NewUser;
use super::{AuthError, Role, UserId, password, token, users};
use crate::db::schema::app_settings;
use crate::db::{DbConn, now};

const KEY: &str = "setup_token_hash";

/// When there is no user yet: a fresh token (replacing any earlier one) to put in the setup link.
pub fn prepare(conn: &mut DbConn) -> QueryResult<Option<String>> {
    crate::db::write(conn, |conn| {
        if users::count(conn)? > 0 {
            diesel::delete(app_settings::table.find(KEY)).execute(conn)?;
            return Ok(None);
        }
        let token = token::generate();
        diesel::delete(app_settings::table.find(KEY)).execute(conn)?;
        diesel::insert_into(app_settings::table)
            .values((
                app_settings::key.eq(KEY),
                app_settings::value.eq(token::hash(&token)),
                app_settings::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(Some(token))
    })
}

/// True while `token` opens the setup page.
pub fn is_open(conn: &mut DbConn, token: &str) -> QueryResult<bool> {
    let stored: Option<String> = app_settings::table
        .find(KEY)
        .select(app_settings::value)
        .first(conn)
        .optional()?;
    let matches = stored.is_some_and(|hash| {
        subtle::ConstantTimeEq::ct_eq(hash.as_bytes(), token::hash(token).as_bytes()).into()
    });
    Ok(matches && users::count(conn)? == 0)
}

/// Creates the first Administrator and closes the setup page, or says the page is closed.
pub fn complete(conn: &mut DbConn, token: &str, new: &NewUser) -> Result<UserId, AuthError> {
    let hash = password::hash(&new.password)?;
    crate::db::write(conn, |conn| {
        if !is_open(conn, token)? {
            return Err(AuthError::NotFound);
        }
        let id = users::insert(
            conn,
            &users::NewUserRow {
                email: &new.email,
                display_name: &new.display_name,
                role: Role::Administrator,
                password_hash: &hash,
            },
        )?;
        diesel::delete(app_settings::table.find(KEY)).execute(conn)?;
        crate::audit::record(
            conn,
            None,
            "user.setup",
            &format!("first Administrator {} created", new.email),
        )?;
        Ok(id)
    })
}
