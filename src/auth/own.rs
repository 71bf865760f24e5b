//! A user's own account (My account): their display name, their password (the current one
//! required, counted like sign-in failures) and their sessions. Every use acts on the signed-in
//! user only; another user's session id is `NotFound`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::lockout::{self, Gate, Limits, Source};
use super::session::{self, Lifetimes, SessionRow};
use super::{AuthError, User, UserId, accounts, password, users};
use crate::audit;
use crate::db::schema::users as users_table;
use crate::db::{DbConn, now};
use crate::validation::{self, FieldErrors};

/// The longest display name (the Users page allows the same).
const MAX_NAME: usize = 120;
const WRONG_CURRENT: &str = "This is not your current password.";
const TOO_MANY: &str = "Too many wrong passwords. Wait a few minutes, then try again.";

/// A password change as typed on the form.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    pub confirm: &'a str,
}

impl PasswordChange<'_> {
    /// The new password when the form is complete and the new one acceptable.
    fn parse(&self) -> Result<String, FieldErrors> {
        let mut errors = FieldErrors::default();
        if self.current.is_empty() {
            errors.add("current_password", "Enter your current password.");
        }
        let new = accounts::new_password(&mut errors, self.new, self.confirm);
        errors.into_result(|| new)
    }
}

/// Sets the actor's display name; returns it as stored (trimmed).
pub fn rename(conn: &mut DbConn, actor: &User, name: &str) -> Result<String, AuthError> {
    let mut errors = FieldErrors::default();
    let name = validation::required_text(&mut errors, "display_name", name, MAX_NAME);
    let name = errors.into_result(|| name).map_err(AuthError::Invalid)?;
    crate::db::write(conn, |conn| {
        diesel::update(users_table::table.find(actor.id.0))
            .set((
                users_table::display_name.eq(&name),
                users_table::updated_at.eq(now()),
            ))
            .execute(conn)?;
        let summary = format!("changed their display name to {name}");
        audit::record(conn, Some(actor), "user.name", &summary)?;
        Ok(name.clone())
    })
}

/// Changes the actor's password when the current one is right, and ends their other sessions
/// (`keep`: the hash of this session's token). A wrong current password counts toward the same
/// lock as a failed sign-in from `source`.
pub fn change_password(
    conn: &mut DbConn,
    actor: &User,
    change: &PasswordChange,
    (source, limits): (&Source, Limits),
    keep: &str,
) -> Result<usize, AuthError> {
    let new = change.parse().map_err(AuthError::Invalid)?;
    check_password(
        conn,
        actor,
        ("current_password", change.current),
        (source, limits),
    )?;
    let hash = password::hash(&new)?;
    crate::db::write(conn, |conn| {
        users::set_password_hash(conn, actor.id, &hash)?;
        let ended = session::end_others_for(conn, actor.id, keep)?;
        let summary = format!("changed their own password; {ended} other session(s) signed out");
        audit::record(conn, Some(actor), "user.password", &summary)?;
        Ok(ended)
    })
}

/// Checks the actor's own password before a sensitive change (`field`: the form field it was
/// typed in, which gets the message); a wrong one counts like a failed sign-in from `source`.
pub fn check_password(
    conn: &mut DbConn,
    actor: &User,
    (field, typed): (&'static str, &str),
    (source, limits): (&Source, Limits),
) -> Result<(), AuthError> {
    let refuse = |message: &str| AuthError::Invalid(FieldErrors::single(field, message));
    if lockout::gate(conn, source, limits, now())? != Gate::Open {
        return Err(refuse(TOO_MANY));
    }
    let row = users::find(conn, actor.id)?.ok_or(AuthError::NotFound)?;
    if !password::verify(typed, &row.password_hash) {
        lockout::record_failure(conn, source, limits, now())?;
        return Err(refuse(WRONG_CURRENT));
    }
    lockout::record_success(conn, source)?;
    Ok(())
}

/// One of the actor's sessions, for the list.
#[derive(Debug, Clone)]
pub struct OwnSession {
    pub id: i64,
    pub started: NaiveDateTime,
    pub last_seen: NaiveDateTime,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

impl OwnSession {
    fn of(row: SessionRow, current: &str) -> Self {
        Self {
            id: row.id,
            current: row.token_hash == current,
            started: row.created_at,
            last_seen: row.last_seen_at,
            address: row.client_address,
            user_agent: row.user_agent,
        }
    }
}

/// The actor's live sessions; `current` marks the one this request came with.
pub fn sessions(
    conn: &mut DbConn,
    actor: UserId,
    current: &str,
    life: Lifetimes,
) -> Result<Vec<OwnSession>, AuthError> {
    Ok(session::list_for(conn, actor, life)?
        .into_iter()
        .map(|row| OwnSession::of(row, current))
        .collect())
}

fn where_from(s: &OwnSession) -> String {
    s.address
        .as_deref()
        .unwrap_or("an unknown address")
        .to_owned()
}

/// Ends one of the actor's sessions (`current`: this request's token hash, to say whether it was
/// this one); another user's session is `NotFound` and stays.
pub fn sign_out(
    conn: &mut DbConn,
    actor: &User,
    id: i64,
    current: &str,
) -> Result<OwnSession, AuthError> {
    crate::db::write(conn, |conn| {
        let row = session::find_for(conn, actor.id, id)?.ok_or(AuthError::NotFound)?;
        let ended = OwnSession::of(row, current);
        session::end_one_for(conn, actor.id, id)?;
        let summary = format!(
            "signed out their session started {} from {}",
            ended.started.format("%Y-%m-%d %H:%M UTC"),
            where_from(&ended)
        );
        audit::account_event(conn, Some(actor), actor.id, "session.end", &summary)?;
        Ok(ended)
    })
}

/// Ends every session of the actor but this one (`keep`: its token hash); returns how many.
pub fn sign_out_others(conn: &mut DbConn, actor: &User, keep: &str) -> Result<usize, AuthError> {
    crate::db::write(conn, |conn| {
        let ended = session::end_others_for(conn, actor.id, keep)?;
        let summary = format!("signed out everywhere else ({ended} session(s))");
        audit::account_event(conn, Some(actor), actor.id, "session.end_others", &summary)?;
        Ok(ended)
    })
}
