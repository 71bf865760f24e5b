//! API keys: each acts as one user (its role and organization access apply), may be allowed to
//! read password values, may expire, and can be revoked. The key is random and long, so it is
//! stored as a keyed hash (HMAC-SHA256 under the session key): one cheap lookup per request.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::RngCore;

use crate::audit;
use crate::auth::users::{self, UserRow};
use crate::auth::{AuthError, User};
use crate::config::SecretKey;
use crate::db::schema::{api_keys, app_settings, users as users_table};
use crate::db::{DbConn, now};
use crate::validation::{self, FieldErrors};

/// Every key starts with this, so that a key pasted into the wrong place is recognisable.
pub const KEY_START: &str = "rst_";
/// Characters of a key shown in lists (the start, then eight random characters).
const PREFIX_LEN: usize = KEY_START.len() + 8;
/// A key's name is at most this long.
pub const NAME_MAX: usize = 120;
/// The last-used time and address are written at most this often per key (a request stays one read).
const LAST_USED_EVERY: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub user_id: i64,
    pub password_access: bool,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_used_from: Option<String>,
    pub created_at: NaiveDateTime,
}

/// A key as listed: with the email of the user it acts as.
#[derive(Debug, Clone)]
pub struct Listed {
    pub key: ApiKeyRow,
    pub user_email: String,
}

impl ApiKeyRow {
    /// "Active", "Revoked" or "Expired" at `at`.
    pub fn state(&self, at: NaiveDateTime) -> &'static str {
        if self.revoked_at.is_some() {
            "Revoked"
        } else if self.expires_at.is_some_and(|e| e <= at) {
            "Expired"
        } else {
            "Active"
        }
    }
}

/// A key to create, parsed once from the form or the command line.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub user_email: String,
    pub password_access: bool,
    pub expires_at: Option<NaiveDateTime>,
}

impl NewKey {
    /// `expires` is empty (never) or a date `YYYY-MM-DD` (the key works until that day starts, UTC).
    pub fn parse(
        name: &str,
        user_email: &str,
        password_access: bool,
        expires: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = validation::required_text(&mut errors, "name", name, NAME_MAX);
        let user_email = validation::email(&mut errors, "user", user_email);
        let expires_at = match expires.trim() {
            "" => None,
            text => match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(day) if day.and_time(chrono::NaiveTime::MIN) > now() => {
                    Some(day.and_time(chrono::NaiveTime::MIN))
                }
                Ok(_) => {
                    errors.add("expires", "Choose a day after today, or leave it empty.");
                    None
                }
                Err(_) => {
                    errors.add("expires", "Write the day as YYYY-MM-DD, or leave it empty.");
                    None
                }
            },
        };
        errors.into_result(|| NewKey {
            name,
            user_email,
            password_access,
            expires_at,
        })
    }
}

/// The stored form of a key.
pub fn hash(secret: &SecretKey, key: &str) -> String {
    STANDARD.encode(secret.mac(b"roster api key", &[key.as_bytes()]))
}

fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_START}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates a key for the user named in `new` (an active user) and returns it with the key
/// itself, which is never stored and cannot be shown again. `actor` is `None` from the command line.
pub fn create(
    conn: &mut DbConn,
    secret: &SecretKey,
    actor: Option<&User>,
    new: &NewKey,
) -> Result<(ApiKeyRow, String), AuthError> {
    crate::db::write(conn, |conn| {
        let user = users::find_by_email(conn, &new.user_email)?
            .filter(|u| u.active)
            .ok_or_else(|| {
                AuthError::Invalid(FieldErrors::single(
                    "user",
                    format!("No active user has the email {}.", new.user_email),
                ))
            })?;
        let key = generate();
        let prefix: String = key.chars().take(PREFIX_LEN).collect();
        let id: i64 = diesel::insert_into(api_keys::table)
            .values((
                api_keys::name.eq(&new.name),
                api_keys::prefix.eq(&prefix),
                api_keys::key_hash.eq(hash(secret, &key)),
                api_keys::user_id.eq(user.id),
                api_keys::password_access.eq(new.password_access),
                api_keys::expires_at.eq(new.expires_at),
                api_keys::created_by.eq(actor.map(|a| a.id.0)),
                api_keys::created_at.eq(now()),
            ))
            .returning(api_keys::id)
            .get_result(conn)?;
        let row = find(conn, id)?.ok_or(AuthError::NotFound)?;
        let access = if new.password_access {
            ", with password access"
        } else {
            ""
        };
        audit::record(
            conn,
            actor,
            "api_key.create",
            &format!(
                "API key {} ({prefix}) acting as {}{access}",
                new.name, user.email
            ),
        )?;
        Ok((row, key))
    })
}

/// Every key, newest first, with the email of its user.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Listed>> {
    let rows: Vec<(ApiKeyRow, String)> = api_keys::table
        .inner_join(users_table::table)
        .order_by(api_keys::id.desc())
        .select((ApiKeyRow::as_select(), users_table::email))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(key, user_email)| Listed { key, user_email })
        .collect())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<ApiKeyRow>> {
    api_keys::table
        .find(id)
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
}

/// Revokes the key whose prefix (or id) is given; revoking a revoked key changes nothing.
pub fn revoke(
    conn: &mut DbConn,
    actor: Option<&User>,
    which: Which<'_>,
) -> Result<ApiKeyRow, AuthError> {
    crate::db::write(conn, |conn| {
        let found = match which {
            Which::Id(id) => find(conn, id)?,
            Which::Prefix(prefix) => api_keys::table
                .filter(api_keys::prefix.eq(prefix.trim()))
                .select(ApiKeyRow::as_select())
                .first(conn)
                .optional()?,
        };
        let key = found.ok_or(AuthError::NotFound)?;
        if key.revoked_at.is_some() {
            return Ok(key);
        }
        let at = now();
        diesel::update(api_keys::table.find(key.id))
            .set(api_keys::revoked_at.eq(at))
            .execute(conn)?;
        audit::record(
            conn,
            actor,
            "api_key.revoke",
            &format!("API key {} ({}) revoked", key.name, key.prefix),
        )?;
        Ok(ApiKeyRow {
            revoked_at: Some(at),
            ..key
        })
    })
}

/// How a key to revoke is named: by its id (the web page) or its prefix (the command line).
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    Id(i64),
    Prefix(&'a str),
}

/// A request's key, checked.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: ApiKeyRow,
    pub user: User,
    /// The version of organization types and statuses (`orgs::kinds::VERSION_KEY`), read in the
    /// same statement as the key (as a session lookup reads it), for the cached lists.
    pub kinds_version: Option<String>,
    /// The version of the organizations' marks (`orgs::marks::version`), read likewise.
    pub marks_version: Option<i64>,
}

impl Caller {
    /// The user as the audit trail names them for a write through this key: their email, then
    /// the key's prefix and name (e.g. `alice@example.com (API key rst_ab12cd34 "Nightly sync")`).
    pub fn actor(&self) -> User {
        let mut user = self.user.clone();
        user.email = format!(
            "{} (API key {} \u{201c}{}\u{201d})",
            self.user.email, self.key.prefix, self.key.name
        );
        user
    }
}

/// Why a presented key does not admit a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Unknown,
    Revoked,
    Expired,
    UserInactive,
}

/// The key's holder, if the key is known, not revoked, not expired and its user active; notes
/// when and from where it was used (at most once a minute, so most requests only read).
pub fn authenticate(
    conn: &mut DbConn,
    secret: &SecretKey,
    key: &str,
    from: Option<&str>,
) -> QueryResult<Result<Caller, Refused>> {
    let kinds_version = app_settings::table
        .filter(app_settings::key.eq(crate::orgs::kinds::VERSION_KEY))
        .select(app_settings::value)
        .single_value();
    type Found = (ApiKeyRow, UserRow, Option<String>, Option<i64>);
    let found: Option<Found> = api_keys::table
        .inner_join(users_table::table)
        .filter(api_keys::key_hash.eq(hash(secret, key)))
        .select((
            ApiKeyRow::as_select(),
            UserRow::as_select(),
            kinds_version,
            crate::orgs::marks::version(),
        ))
        .first(conn)
        .optional()?;
    let Some((row, user, kinds_version, marks_version)) = found else {
        return Ok(Err(Refused::Unknown));
    };
    let at = now();
    let refused = match row.state(at) {
        "Revoked" => Some(Refused::Revoked),
        "Expired" => Some(Refused::Expired),
        _ if !user.active => Some(Refused::UserInactive),
        _ => None,
    };
    if let Some(refused) = refused {
        return Ok(Err(refused));
    }
    let stale = row.last_used_at.is_none_or(|t| at - t >= LAST_USED_EVERY)
        || row.last_used_from.as_deref() != from;
    if stale {
        diesel::update(api_keys::table.find(row.id))
            .set((
                api_keys::last_used_at.eq(at),
                api_keys::last_used_from.eq(from),
            ))
            .execute(conn)?;
    }
    let user = user.user();
    Ok(Ok(Caller {
        key: row,
        user,
        kinds_version,
        marks_version,
    }))
}
