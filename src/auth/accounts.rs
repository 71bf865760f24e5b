//! Managing users: add, change role, deactivate, reactivate, set a new password. Administrators
//! manage everyone; Managers manage everyone but Administrators (DESIGN.md section 4); an actor
//! restricted to a list of organizations manages no one who sees more than he does.

use super::{AuthError, Role, User, UserId, password, session, users};
use crate::audit;
use crate::db::DbConn;
use crate::validation::{self, FieldErrors};

/// The most organizations a Lite user may see.
pub const LITE_MAX: i64 = 5;

/// A user to create, parsed from a form.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

impl NewUser {
    pub fn parse(
        email: &str,
        name: &str,
        role: &str,
        pass: &str,
        confirm: &str,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let email = validation::email(&mut errors, "email", email);
        let display_name = validation::required_text(&mut errors, "display_name", name, 120);
        let role = role.parse().unwrap_or_else(|message: String| {
            errors.add("role", message);
            Role::ReadOnly
        });
        let password = new_password(&mut errors, pass, confirm);
        errors.into_result(|| NewUser {
            email,
            display_name,
            role,
            password,
        })
    }
}

/// A new password and its confirmation, checked.
pub fn new_password(errors: &mut FieldErrors, pass: &str, confirm: &str) -> String {
    if let Err(message) = password::check_strength(pass) {
        errors.add("password", message);
    } else if pass != confirm {
        errors.add("password_confirm", "The two passwords differ.");
    }
    pass.to_owned()
}

/// The user `id`, locked for the rest of the transaction, when `actor` may change them: his role
/// manages theirs, and they see nothing that he does not (an actor restricted to a list of
/// organizations may not act for a user who sees more than he does).
pub(crate) fn target(conn: &mut DbConn, actor: &User, id: UserId) -> Result<User, AuthError> {
    users::lock(conn, id)?;
    let user = users::find(conn, id)?.ok_or(AuthError::NotFound)?.user();
    if !actor.role.can_manage(user.role) {
        return Err(AuthError::Forbidden(
            "Managers cannot change Administrators.".into(),
        ));
    }
    if !users::wider_than(conn, actor, Some(id))?.is_empty() {
        return Err(AuthError::Forbidden(format!(
            "{} sees organizations outside your access; only someone who sees them all can \
             change their role, password or status.",
            user.email
        )));
    }
    Ok(user)
}

/// The actor as the database has him now: a request that demoted or deactivated him a moment
/// ago counts (the session read him when the request started).
fn fresh(conn: &mut DbConn, actor: &User) -> Result<User, AuthError> {
    let now = users::find(conn, actor.id)?
        .map(|row| row.user())
        .filter(|u| u.active)
        .ok_or_else(|| AuthError::Forbidden("Your account is no longer active.".into()))?;
    Ok(now)
}

/// Only an Administrator may manage a user in `role`, or give it.
fn may_give(actor: &User, role: Role) -> Result<(), AuthError> {
    if actor.role.can_manage(role) {
        Ok(())
    } else {
        Err(AuthError::Forbidden(format!(
            "A {} cannot give the role {}.",
            actor.role, role
        )))
    }
}

/// Refuses a change that would leave no active Administrator. The caller has locked the rows of
/// the active Administrators first (`users::lock_active_admins`), so the count holds until commit.
fn keeps_an_admin(conn: &mut DbConn, user: &User) -> Result<(), AuthError> {
    if user.role == Role::Administrator && user.active && users::count_active_admins(conn)? <= 1 {
        return Err(AuthError::Conflict(
            "This is the last active Administrator; make someone else an Administrator first."
                .into(),
        ));
    }
    Ok(())
}

pub fn create(conn: &mut DbConn, actor: Option<&User>, new: &NewUser) -> Result<UserId, AuthError> {
    if let Some(actor) = actor {
        may_give(actor, new.role)?;
    }
    let hash = password::hash(&new.password)?;
    crate::db::write(conn, |conn| {
        if users::find_by_email(conn, &new.email)?.is_some() {
            return Err(AuthError::Invalid(FieldErrors::single(
                "email",
                "A user with this email address already exists.",
            )));
        }
        let id = users::insert(
            conn,
            &users::NewUserRow {
                email: &new.email,
                display_name: &new.display_name,
                role: new.role,
                password_hash: &hash,
            },
        )?;
        // Nobody makes a user who sees more than himself: a restricted actor's users start
        // with an empty list, which he fills from what he sees.
        if actor.is_some_and(|a| !a.all_organizations) {
            users::set_all_organizations(conn, id, false)?;
        }
        let summary = format!("added {} as {}", new.email, new.role);
        audit::record(conn, actor, "user.create", &summary)?;
        Ok(id)
    })
}

pub fn change_role(
    conn: &mut DbConn,
    actor: &User,
    id: UserId,
    role: Role,
) -> Result<User, AuthError> {
    crate::db::write(conn, |conn| {
        users::lock_active_admins(conn)?;
        let actor = &fresh(conn, actor)?;
        may_give(actor, role)?;
        let user = target(conn, actor, id)?;
        if role != Role::Administrator {
            keeps_an_admin(conn, &user)?;
        }
        if role == Role::Lite {
            // Lite users see a list of at most five organizations, never all of them.
            if users::listed_organizations(conn, id)? > LITE_MAX {
                return Err(AuthError::Conflict(format!(
                    "Lite users see at most {LITE_MAX} organizations; shorten this user's list first."
                )));
            }
            users::set_all_organizations(conn, id, false)?;
        }
        users::set_role(conn, id, role)?;
        let summary = format!(
            "changed the role of {} from {} to {}",
            user.email, user.role, role
        );
        audit::record(conn, Some(actor), "user.role", &summary)?;
        Ok(user)
    })
}

pub fn set_active(
    conn: &mut DbConn,
    actor: &User,
    id: UserId,
    active: bool,
) -> Result<User, AuthError> {
    crate::db::write(conn, |conn| {
        if !active {
            users::lock_active_admins(conn)?;
        }
        let actor = &fresh(conn, actor)?;
        let user = target(conn, actor, id)?;
        if !active {
            if user.id == actor.id {
                return Err(AuthError::Conflict(
                    "You cannot deactivate yourself.".into(),
                ));
            }
            keeps_an_admin(conn, &user)?;
            session::end_all_for(conn, id)?;
        }
        users::set_active(conn, id, active)?;
        let verb = if active { "reactivated" } else { "deactivated" };
        audit::record(
            conn,
            Some(actor),
            "user.active",
            &format!("{verb} {}", user.email),
        )?;
        Ok(user)
    })
}

/// Sets a new password and signs the user out everywhere; one's own password keeps the session
/// it was set from (`current`: the hash of that session's token) and ends the others.
pub fn set_password(
    conn: &mut DbConn,
    actor: &User,
    id: UserId,
    new_password: &str,
    current: &str,
) -> Result<User, AuthError> {
    let hash = password::hash(new_password)?;
    crate::db::write(conn, |conn| {
        let user = target(conn, actor, id)?;
        users::set_password_hash(conn, id, &hash)?;
        if user.id == actor.id {
            session::end_others_for(conn, id, current)?;
        } else {
            session::end_all_for(conn, id)?;
        }
        audit::record(
            conn,
            Some(actor),
            "user.password",
            &format!("set a new password for {}", user.email),
        )?;
        Ok(user)
    })
}
