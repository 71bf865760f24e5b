//! The state between a correct password and the second step (or enrolment): five minutes, found
//! by a keyed hash of a fresh token (its own cookie) together with the browser's pre-session
//! cookie. Not a session: only the second-step pages read it; `into_session` ends it, once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::session::{self, Lifetimes, Origin};
use crate::auth::{AuthError, User, UserId, token, users};
use crate::config::SecretKey;
use crate::db::schema::pending_signins as ps;
use crate::db::schema::users as users_table;
use crate::db::{DbConn, now};

/// How long the second step may take.
pub const LIFETIME: chrono::Duration = chrono::Duration::minutes(5);

/// What the pending sign-in still needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A code, a recovery code or a passkey.
    Verify,
    /// The policy requires a factor the user does not have: enrol one first.
    Enrol,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Enrol => "enrol",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "verify" => Some(Purpose::Verify),
            "enrol" => Some(Purpose::Enrol),
            _ => None,
        }
    }
}

/// A live pending sign-in.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: i64,
    pub user_id: UserId,
    /// The user's email, for the sign-in counters (`lockout`).
    pub email: String,
    pub purpose: Purpose,
    /// Where to go once signed in (already checked to be a path on this site).
    pub next: String,
}

/// The cookies a pending sign-in is found by.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The fresh token of the pending cookie.
    pub token: &'a str,
    /// The pre-session cookie (which also binds the forms' CSRF tokens).
    pub pre: &'a str,
}

impl Binding<'_> {
    fn hash(&self, key: &SecretKey) -> String {
        hex::encode(key.mac(
            b"roster pending sign-in\0",
            &[self.token.as_bytes(), b"\0", self.pre.as_bytes()],
        ))
    }
}

/// A pending sign-in for `user`, bound to the browser's pre-session cookie `pre`; returns the
/// token for the pending cookie. Expired rows are swept at the same time.
pub fn create(
    conn: &mut DbConn,
    key: &SecretKey,
    (user, purpose): (UserId, Purpose),
    next: &str,
    pre: &str,
) -> QueryResult<String> {
    let fresh = token::generate();
    let binding = Binding { token: &fresh, pre };
    let at = now();
    crate::db::write(conn, |conn| {
        diesel::delete(ps::table.filter(ps::expires_at.le(at))).execute(conn)?;
        diesel::insert_into(ps::table)
            .values((
                ps::token_hash.eq(binding.hash(key)),
                ps::user_id.eq(user.0),
                ps::purpose.eq(purpose.as_str()),
                ps::next_path.eq(next),
                ps::created_at.eq(at),
                ps::expires_at.eq(at + LIFETIME),
            ))
            .execute(conn)
    })?;
    Ok(fresh)
}

/// The live pending sign-in of these cookies, if any (expired ones are not).
pub fn current(
    conn: &mut DbConn,
    key: &SecretKey,
    binding: Binding,
) -> QueryResult<Option<Pending>> {
    let row: Option<(i64, i64, String, String, NaiveDateTime, String)> = ps::table
        .inner_join(users_table::table)
        .filter(ps::token_hash.eq(binding.hash(key)))
        .filter(users_table::active.eq(true))
        .select((
            ps::id,
            ps::user_id,
            ps::purpose,
            ps::next_path,
            ps::expires_at,
            users_table::email,
        ))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(id, user, purpose, next, expires, email)| {
        (expires > now()).then_some(())?;
        Some(Pending {
            id,
            user_id: UserId(user),
            email,
            purpose: Purpose::parse(&purpose)?,
            next,
        })
    }))
}

/// Keeps the passkey ceremony's state (WebAuthn challenge) with the pending sign-in.
pub fn set_ceremony(conn: &mut DbConn, id: i64, ceremony: &str) -> QueryResult<usize> {
    diesel::update(ps::table.find(id))
        .set(ps::ceremony.eq(Some(ceremony)))
        .execute(conn)
}

/// The passkey ceremony's state kept by `set_ceremony`, if any.
pub fn ceremony(conn: &mut DbConn, id: i64) -> QueryResult<Option<String>> {
    ps::table
        .find(id)
        .select(ps::ceremony)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

/// Deletes every pending sign-in of `user` (a reset of their two-factor sign-in).
pub fn delete_for(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    diesel::delete(ps::table.filter(ps::user_id.eq(user.0))).execute(conn)
}

/// Turns a verified pending sign-in into a session, once: the row is deleted, and a second call
/// (a replayed request) gets `None`, as does a user deactivated meanwhile. The session is
/// started as the password-only sign-in starts it (`session::start`).
pub fn into_session(
    conn: &mut DbConn,
    pending: &Pending,
    life: Lifetimes,
    origin: &Origin,
    previous: Option<&str>,
) -> Result<Option<(String, User)>, AuthError> {
    crate::db::write(conn, |conn| {
        if diesel::delete(ps::table.find(pending.id)).execute(conn)? == 0 {
            return Ok(None);
        }
        let Some(user) = users::find(conn, pending.user_id)?.filter(|u| u.active) else {
            return Ok(None);
        };
        let user = user.user();
        let token = session::start(conn, &user, life, origin, previous)?;
        Ok(Some((token, user)))
    })
}
