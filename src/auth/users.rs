//! The `users` table: plain functions named after their use; the caller owns the transaction.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Role, UserId};
use crate::db::schema::users;
use crate::db::{DbConn, MultiBackend, now};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    pub all_organizations: bool,
    pub last_login_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub updated_at: NaiveDateTime,
}

/// A user as the rest of the program sees one (no hash).
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub all_organizations: bool,
    pub last_login_at: Option<NaiveDateTime>,
}

impl UserRow {
    pub fn user(&self) -> User {
        User {
            id: UserId(self.id),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            // An unknown role in the database gets the least power rather than an error page.
            role: self.role.parse().unwrap_or(Role::ReadOnly),
            active: self.active,
            all_organizations: self.all_organizations,
            last_login_at: self.last_login_at,
        }
    }
}

/// A user to insert; the password is already hashed.
pub struct NewUserRow<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

pub fn count_active_admins(conn: &mut DbConn) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Administrator.as_str()))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id.0)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<User>> {
    let rows: Vec<UserRow> = users::table
        .order((users::display_name, users::id))
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(rows.iter().map(UserRow::user).collect())
}

pub fn insert(conn: &mut DbConn, new: &NewUserRow<'_>) -> QueryResult<UserId> {
    let at = now();
    diesel::insert_into(users::table)
        .values((
            users::email.eq(new.email),
            users::display_name.eq(new.display_name),
            users::role.eq(new.role.as_str()),
            users::password_hash.eq(new.password_hash),
            users::active.eq(true),
            users::all_organizations.eq(new.role != Role::Lite),
            users::created_at.eq(at),
            users::updated_at.eq(at),
        ))
        .returning(users::id)
        .get_result(conn)
        .map(UserId)
}

pub fn set_role(conn: &mut DbConn, id: UserId, role: Role) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0))
        .set((users::role.eq(role.as_str()), users::updated_at.eq(now())))
        .execute(conn)
}

/// How many organizations are on the user's access list.
pub fn listed_organizations(conn: &mut DbConn, id: UserId) -> QueryResult<i64> {
    use crate::db::schema::user_organizations as uo;
    uo::table
        .filter(uo::user_id.eq(id.0))
        .count()
        .get_result(conn)
}

/// Takes the user's row lock until the transaction ends, so that what is checked after it (the
/// list's length, the role) still holds at the commit. PostgreSQL locks the row; on SQLite
/// `db::write`'s `BEGIN IMMEDIATE` already lets one writer in at a time.
pub fn lock(conn: &mut DbConn, id: UserId) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0))
        .set(users::updated_at.eq(users::updated_at))
        .execute(conn)
}

/// Locks the rows of the active Administrators (before counting them), so that two demotions
/// at once cannot both see another Administrator left.
pub fn lock_active_admins(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::update(
        users::table
            .filter(users::role.eq(Role::Administrator.as_str()))
            .filter(users::active.eq(true)),
    )
    .set(users::updated_at.eq(users::updated_at))
    .execute(conn)
}

/// The ids of the users who see an organization that `actor` does not: all organizations, or
/// one outside his list (deleted organizations count: a Restore brings them back). Empty when
/// the actor sees all organizations.
pub fn wider_than(
    conn: &mut DbConn,
    actor: &User,
    only: Option<UserId>,
) -> QueryResult<HashSet<i64>> {
    use crate::db::schema::user_organizations as uo;
    if actor.all_organizations {
        return Ok(HashSet::new());
    }
    let actor_list = listed_ids(conn, actor.id)?;
    let mut outside = uo::table
        .filter(diesel::dsl::not(uo::organization_id.eq_any(actor_list)))
        .select(uo::user_id)
        .distinct()
        .into_boxed::<MultiBackend>();
    let mut all = users::table
        .filter(users::all_organizations.eq(true))
        .select(users::id)
        .into_boxed::<MultiBackend>();
    if let Some(id) = only {
        outside = outside.filter(uo::user_id.eq(id.0));
        all = all.filter(users::id.eq(id.0));
    }
    let mut ids: HashSet<i64> = outside.load::<i64>(conn)?.into_iter().collect();
    ids.extend(all.load::<i64>(conn)?);
    Ok(ids)
}

/// The ids on a user's access list, deleted organizations too.
pub fn listed_ids(conn: &mut DbConn, id: UserId) -> QueryResult<Vec<i64>> {
    use crate::db::schema::user_organizations as uo;
    uo::table
        .filter(uo::user_id.eq(id.0))
        .select(uo::organization_id)
        .load(conn)
}

pub fn set_all_organizations(conn: &mut DbConn, id: UserId, all: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0))
        .set((
            users::all_organizations.eq(all),
            users::updated_at.eq(now()),
        ))
        .execute(conn)
}

pub fn set_active(conn: &mut DbConn, id: UserId, active: bool) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0))
        .set((users::active.eq(active), users::updated_at.eq(now())))
        .execute(conn)
}

pub fn set_password_hash(conn: &mut DbConn, id: UserId, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now())))
        .execute(conn)
}

/// Notes a sign-in. Failures are counted in `login_failures` (see `auth::lockout`).
pub fn record_success(conn: &mut DbConn, id: UserId) -> QueryResult<()> {
    diesel::update(users::table.find(id.0))
        .set(users::last_login_at.eq(Some(now())))
        .execute(conn)
        .map(|_| ())
}
