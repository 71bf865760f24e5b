//! The `passkeys` table: a user's credentials (the serialized `Passkey`, its id in base64url so
//! that one credential belongs to one account), listed, added, used and removed. Every query is
//! scoped to its user, so another user's passkey is `NotFound`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind::UniqueViolation;
use webauthn_rs::prelude::Passkey;

use super::{unreadable, unwritable};
use crate::auth::{AuthError, UserId};
use crate::db::schema::passkeys;
use crate::db::{DbConn, now};

pub const ALREADY_REGISTERED: &str =
    "This passkey is already registered with Roster. Use another passkey or security key.";

/// A passkey as My account lists it.
#[derive(Debug, Clone, Queryable)]
pub struct PasskeyLine {
    pub id: i64,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

/// A stored credential, ready for a ceremony.
pub struct StoredPasskey {
    pub id: i64,
    pub name: String,
    pub passkey: Passkey,
}

/// The base64url form of a credential id, as stored and as the browser names it.
pub fn credential_id(passkey: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(passkey.cred_id())
}

pub fn list(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<PasskeyLine>> {
    passkeys::table
        .filter(passkeys::user_id.eq(user.0))
        .order((passkeys::created_at, passkeys::id))
        .select((
            passkeys::id,
            passkeys::name,
            passkeys::created_at,
            passkeys::last_used_at,
        ))
        .load(conn)
}

pub fn count(conn: &mut DbConn, user: UserId) -> QueryResult<i64> {
    passkeys::table
        .filter(passkeys::user_id.eq(user.0))
        .count()
        .get_result(conn)
}

/// The user's credentials, for a ceremony.
pub fn credentials(conn: &mut DbConn, user: UserId) -> Result<Vec<StoredPasskey>, AuthError> {
    let rows: Vec<(i64, String, String)> = passkeys::table
        .filter(passkeys::user_id.eq(user.0))
        .order(passkeys::id)
        .select((passkeys::id, passkeys::name, passkeys::credential))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, name, json)| {
            let passkey = serde_json::from_str(&json).map_err(unreadable)?;
            Ok(StoredPasskey { id, name, passkey })
        })
        .collect()
}

/// Whether any account holds the credential `id` (base64url).
pub fn registered(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        passkeys::table.filter(passkeys::credential_id.eq(id)),
    ))
    .get_result(conn)
}

/// Stores a new credential of `user`; returns its row id. The caller checked `registered`.
pub fn insert(
    conn: &mut DbConn,
    user: UserId,
    name: &str,
    passkey: &Passkey,
) -> Result<i64, AuthError> {
    let json = serde_json::to_string(passkey).map_err(unwritable)?;
    let id = diesel::insert_into(passkeys::table)
        .values((
            passkeys::user_id.eq(user.0),
            passkeys::name.eq(name),
            passkeys::credential_id.eq(credential_id(passkey)),
            passkeys::credential.eq(json),
            passkeys::created_at.eq(now()),
        ))
        .returning(passkeys::id)
        .get_result(conn)
        .map_err(|e| match e {
            // Another request registered the same credential a moment ago.
            diesel::result::Error::DatabaseError(UniqueViolation, _) => {
                AuthError::Conflict(ALREADY_REGISTERED.into())
            }
            e => e.into(),
        })?;
    Ok(id)
}

/// After a sign-in: the credential with its new counter, and when it was used.
pub fn record_use(conn: &mut DbConn, stored: &StoredPasskey) -> Result<(), AuthError> {
    let json = serde_json::to_string(&stored.passkey).map_err(unwritable)?;
    diesel::update(passkeys::table.find(stored.id))
        .set((
            passkeys::credential.eq(json),
            passkeys::last_used_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The name of `user`'s passkey `id`; `NotFound` when it is not theirs.
pub fn name_of(conn: &mut DbConn, user: UserId, id: i64) -> Result<String, AuthError> {
    passkeys::table
        .filter(passkeys::id.eq(id).and(passkeys::user_id.eq(user.0)))
        .select(passkeys::name)
        .first(conn)
        .optional()?
        .ok_or(AuthError::NotFound)
}

pub fn delete(conn: &mut DbConn, user: UserId, id: i64) -> QueryResult<usize> {
    diesel::delete(passkeys::table.filter(passkeys::id.eq(id).and(passkeys::user_id.eq(user.0))))
        .execute(conn)
}
