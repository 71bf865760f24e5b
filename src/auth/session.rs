//! Sessions in the database: the cookie holds a random token, the table only its hash (and, for
//! the user's own list, the address and browser it was started from). Each request re-reads the
//! user (in the same statement), so a role change or a deactivation counts at once.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::users::UserRow;
use super::{User, UserId, token};
use crate::db::schema::{app_settings, sessions, users};
use crate::db::{DbConn, StoredTime, now};

/// A signed-in request: the user and the hash its CSRF token is bound to.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub user: User,
    /// The version of organization types and statuses (`orgs::kinds::VERSION_KEY`), read in
    /// the same statement, so that this instance's cached lists follow other instances' changes.
    pub kinds_version: Option<String>,
    /// The version of the organizations' marks (`orgs::marks::version`), read likewise.
    pub marks_version: Option<i64>,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: Duration,
    pub max: Duration,
}

fn plus(at: NaiveDateTime, d: Duration) -> NaiveDateTime {
    at + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(1))
}

/// A new session for `user`; returns the token for the cookie. Sessions past their absolute
/// expiry are swept at the same time, so the table does not grow without bound.
pub fn create(conn: &mut DbConn, user: UserId, life: Lifetimes) -> QueryResult<String> {
    let token = token::generate();
    let at = now();
    diesel::delete(sessions::table.filter(sessions::expires_at.le(at))).execute(conn)?;
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token::hash(&token)),
            sessions::user_id.eq(user.0),
            sessions::created_at.eq(at),
            sessions::last_seen_at.eq(at),
            sessions::expires_at.eq(plus(at, life.max)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The live session of a cookie token, or `None` (and the row removed) when it has expired,
/// was ended, or its user is deactivated.
pub fn lookup(conn: &mut DbConn, token: &str, life: Lifetimes) -> QueryResult<Option<Session>> {
    let hash = token::hash(token);
    let kinds_version = app_settings::table
        .filter(app_settings::key.eq(crate::orgs::kinds::VERSION_KEY))
        .select(app_settings::value)
        .single_value();
    type Found = (
        i64,
        StoredTime,
        StoredTime,
        UserRow,
        Option<String>,
        Option<i64>,
    );
    let found: Option<Found> = crate::native!(conn, |c| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(&hash))
        .select((
            sessions::id,
            sessions::last_seen_at,
            sessions::expires_at,
            UserRow::as_select(),
            kinds_version,
            crate::orgs::marks::version(),
        ))
        .first(c)
        .optional())?;
    let Some((id, StoredTime(last_seen), StoredTime(expires), user, kinds_version, marks_version)) =
        found
    else {
        return Ok(None);
    };
    let at = now();
    if expires <= at || plus(last_seen, life.idle) <= at || !user.active {
        diesel::delete(sessions::table.find(id)).execute(conn)?;
        return Ok(None);
    }
    // Writing on every request would serialise SQLite writers; a minute's precision is enough.
    if at - last_seen > chrono::Duration::seconds(60) {
        diesel::update(sessions::table.find(id))
            .set(sessions::last_seen_at.eq(at))
            .execute(conn)?;
    }
    Ok(Some(Session {
        token_hash: hash,
        user: user.user(),
        kinds_version,
        marks_version,
    }))
}

pub fn end(conn: &mut DbConn, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash))).execute(conn)
}

pub fn end_all_for(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user.0))).execute(conn)
}

/// Ends every session of `user` but the one whose token hashes to `keep`.
pub fn end_others_for(conn: &mut DbConn, user: UserId, keep: &str) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::user_id.eq(user.0))
            .filter(sessions::token_hash.ne(keep)),
    )
    .execute(conn)
}

/// The longest User-Agent kept with a session; real ones are shorter, and what is past this says
/// nothing the list shows.
pub const MAX_USER_AGENT: usize = 400;

/// Where a session was started from, recorded at sign-in for the user's list of sessions.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    /// The address as text and the User-Agent cut to [`MAX_USER_AGENT`] characters.
    pub fn new(address: Option<std::net::IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            address: address.map(|a| a.to_string()),
            user_agent: user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
        }
    }
}

/// Starts a session for `user` after a successful sign-in (one step or two): notes the sign-in,
/// records where it came from, and ends the session this browser had (`previous`: its hash).
pub fn start(
    conn: &mut DbConn,
    user: &User,
    life: Lifetimes,
    origin: &Origin,
    previous: Option<&str>,
) -> QueryResult<String> {
    super::users::record_success(conn, user.id)?;
    let token = create(conn, user.id, life)?;
    set_origin(conn, &token, origin)?;
    if let Some(hash) = previous {
        end(conn, hash)?;
    }
    Ok(token)
}

/// Records where the session of `token` was started from.
pub fn set_origin(conn: &mut DbConn, token: &str, origin: &Origin) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::token_hash.eq(token::hash(token))))
        .set((
            sessions::client_address.eq(origin.address.as_deref()),
            sessions::user_agent.eq(origin.user_agent.as_deref()),
        ))
        .execute(conn)
}

/// One of a user's live sessions, as their list shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: i64,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub client_address: Option<String>,
    pub user_agent: Option<String>,
}

/// The live sessions of `user`, the most recently seen first.
pub fn list_for(conn: &mut DbConn, user: UserId, life: Lifetimes) -> QueryResult<Vec<SessionRow>> {
    let at = now();
    let idle_since =
        at - chrono::Duration::from_std(life.idle).unwrap_or(chrono::Duration::days(1));
    sessions::table
        .filter(sessions::user_id.eq(user.0))
        .filter(sessions::expires_at.gt(at))
        .filter(sessions::last_seen_at.gt(idle_since))
        .order((sessions::last_seen_at.desc(), sessions::id.desc()))
        .select(SessionRow::as_select())
        .load(conn)
}

/// The session `id` when it belongs to `user` (another user's id: `None`).
pub fn find_for(conn: &mut DbConn, user: UserId, id: i64) -> QueryResult<Option<SessionRow>> {
    sessions::table
        .filter(sessions::id.eq(id))
        .filter(sessions::user_id.eq(user.0))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

/// Ends the session `id` of `user`; another user's session is left alone (returns 0).
pub fn end_one_for(conn: &mut DbConn, user: UserId, id: i64) -> QueryResult<usize> {
    diesel::delete(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user.0)),
    )
    .execute(conn)
}
