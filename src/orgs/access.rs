//! Which organizations exist for a user: all of them, or the ones on their access list. Every
//! query of organizations goes through `visible`, so an organization outside the scope is never
//! loaded (404, absent from lists, search and counts).

use diesel::prelude::*;

use super::{OrgError, OrgRef, REF};
use crate::audit;
use crate::auth::{Role, User, UserId, users};
use crate::db::schema::{organizations, user_organizations};
use crate::db::{DbConn, MultiBackend};

pub type OrgFilter = Box<
    dyn BoxableExpression<organizations::table, MultiBackend, SqlType = diesel::sql_types::Bool>,
>;

#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub user_id: i64,
    pub all: bool,
}

impl Scope {
    pub fn of(user: &User) -> Self {
        Self {
            user_id: user.id.0,
            all: user.all_organizations,
        }
    }
}

/// The organizations on the scope's access list, as a subquery.
fn on_list(
    scope: Scope,
) -> diesel::dsl::Select<
    diesel::dsl::Filter<
        user_organizations::table,
        diesel::dsl::Eq<user_organizations::user_id, i64>,
    >,
    user_organizations::organization_id,
> {
    user_organizations::table
        .filter(user_organizations::user_id.eq(scope.user_id))
        .select(user_organizations::organization_id)
}

/// Organizations that are not being deleted and that the scope may see.
pub fn visible(scope: Scope) -> OrgFilter {
    let alive = organizations::deleted_at.is_null();
    if scope.all {
        Box::new(alive)
    } else {
        Box::new(alive.and(organizations::id.eq_any(on_list(scope))))
    }
}

/// Organizations that the scope may see, deleted or not (for a deletion's progress and Restore).
pub fn reachable(scope: Scope) -> OrgFilter {
    if scope.all {
        Box::new(organizations::id.is_not_null())
    } else {
        Box::new(organizations::id.eq_any(on_list(scope)))
    }
}

/// The most organizations a Lite user may be given.
pub const LITE_MAX: usize = crate::auth::accounts::LITE_MAX as usize;

/// The organizations on a user's access list, by name.
pub fn listed(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<OrgRef>> {
    organizations::table
        .inner_join(user_organizations::table)
        .filter(user_organizations::user_id.eq(user.0))
        .filter(organizations::deleted_at.is_null())
        .order_by(organizations::search_text)
        .select(REF)
        .load(conn)
}

fn managed(conn: &mut DbConn, actor: &User, id: UserId) -> Result<User, OrgError> {
    let user = users::find(conn, id)?.ok_or(OrgError::NotFound)?.user();
    if actor.role.can_manage(user.role) {
        Ok(user)
    } else {
        Err(OrgError::Forbidden(
            "Managers cannot change Administrators.".into(),
        ))
    }
}

/// "All organizations" on or off. A Lite user always has a list.
pub fn set_all(conn: &mut DbConn, actor: &User, id: UserId, all: bool) -> Result<User, OrgError> {
    crate::db::write(conn, |conn| {
        let user = managed(conn, actor, id)?;
        if all && user.role == Role::Lite {
            return Err(OrgError::Conflict(format!(
                "Lite users see at most {LITE_MAX} organizations: choose them from the list instead."
            )));
        }
        users::set_all_organizations(conn, id, all)?;
        let what = if all {
            "all organizations"
        } else {
            "only the organizations on their list"
        };
        audit::record(
            conn,
            Some(actor),
            "user.access",
            &format!("{} now sees {what}", user.email),
        )?;
        Ok(user)
    })
}

/// Adds an organization (by exact name) to a user's list.
pub fn grant(
    conn: &mut DbConn,
    actor: &User,
    id: UserId,
    org_name: &str,
) -> Result<(User, OrgRef), OrgError> {
    crate::db::write(conn, |conn| {
        let user = managed(conn, actor, id)?;
        let mut found = super::store::named(conn, Scope::of(actor), org_name)?;
        let org = match found.len() {
            1 => found.remove(0),
            0 => {
                return Err(OrgError::Conflict(format!(
                    "No organization is named \u{201c}{}\u{201d}.",
                    org_name.trim()
                )));
            }
            _ => {
                return Err(OrgError::Conflict(format!(
                    "Several organizations are named \u{201c}{}\u{201d}; rename one first.",
                    org_name.trim()
                )));
            }
        };
        let current = listed(conn, id)?;
        if current.iter().any(|o| o.id == org.id) {
            return Ok((user, org));
        }
        if user.role == Role::Lite && current.len() >= LITE_MAX {
            return Err(OrgError::Conflict(format!(
                "Lite users see at most {LITE_MAX} organizations."
            )));
        }
        diesel::insert_into(user_organizations::table)
            .values((
                user_organizations::user_id.eq(id.0),
                user_organizations::organization_id.eq(org.id),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            Some(actor),
            "user.access",
            &format!("{} may see {}", user.email, org.name),
        )?;
        Ok((user, org))
    })
}

pub fn revoke(conn: &mut DbConn, actor: &User, id: UserId, org: i64) -> Result<User, OrgError> {
    crate::db::write(conn, |conn| {
        let user = managed(conn, actor, id)?;
        diesel::delete(
            user_organizations::table
                .filter(user_organizations::user_id.eq(id.0))
                .filter(user_organizations::organization_id.eq(org)),
        )
        .execute(conn)?;
        audit::record(
            conn,
            Some(actor),
            "user.access",
            &format!("{} may no longer see organization {org}", user.email),
        )?;
        Ok(user)
    })
}
