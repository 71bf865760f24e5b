//! The Users page: list, add, change role, deactivate, reactivate, set a new password.
//! Administrators manage everyone; Managers everyone but Administrators (checked in `accounts`).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf_form::CsrfForm;
use super::ctx::{CurrentUser, MaybeSession, PageCtx};
use super::error::WebError;
use super::flash::{self, Flash};
use super::render;
use super::state::AppState;
use crate::audit::{self, AccountEvent};
use crate::auth::accounts::{self, NewUser};
use crate::auth::two_factor::Factors;
use crate::auth::{AuthError, Role, User, UserId, users};
use crate::db::DbError;
use crate::orgs::{OrgError, OrgRef, Scope, access};
use crate::validation::FieldErrors;

/// The roles `actor` may give, for the drop-downs.
fn roles_for(actor: &User) -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| actor.role.can_manage(*r))
        .collect()
}

fn when(at: Option<chrono::NaiveDateTime>) -> String {
    at.map_or_else(
        || "never".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct ListPage {
    ctx: PageCtx,
    users: Vec<(User, String, bool)>,
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<HttpResponse, WebError> {
    let me = actor.clone();
    let (all, wider) = state
        .db(move |conn| Ok::<_, DbError>((users::list(conn)?, users::wider_than(conn, &me, None)?)))
        .await?;
    let users = all
        .into_iter()
        .map(|u| {
            let manageable = actor.role.can_manage(u.role) && !wider.contains(&u.id.0);
            let last = when(u.last_login_at);
            (u, last, manageable)
        })
        .collect();
    render::page(&ListPage { ctx, users })
}

#[derive(Deserialize, Default)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

#[derive(Template)]
#[template(path = "users/new.html")]
struct NewPage {
    ctx: PageCtx,
    roles: Vec<Role>,
    form: NewUserForm,
    errors: FieldErrors,
}

pub async fn new_form(
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<HttpResponse, WebError> {
    let form = NewUserForm {
        role: Role::Editor.as_str().to_owned(),
        ..NewUserForm::default()
    };
    render::page(&NewPage {
        ctx,
        roles: roles_for(&actor),
        form,
        errors: FieldErrors::default(),
    })
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    CsrfForm(form): CsrfForm<NewUserForm>,
) -> Result<HttpResponse, WebError> {
    let roles = roles_for(&actor);
    let again = |form: NewUserForm, errors| {
        let form = NewUserForm {
            password: String::new(),
            password_confirm: String::new(),
            ..form
        };
        render::invalid(&NewPage {
            ctx: ctx.clone(),
            roles: roles.clone(),
            form,
            errors,
        })
    };
    let new = match NewUser::parse(
        &form.email,
        &form.display_name,
        &form.role,
        &form.password,
        &form.password_confirm,
    ) {
        Ok(new) => new,
        Err(errors) => return again(form, errors),
    };
    let mut summary = format!("Added {} as {}.", new.email, new.role);
    if !actor.all_organizations {
        summary.push_str(" They see no organizations yet: add those they need below.");
    }
    let result = state
        .db(move |conn| accounts::create(conn, Some(&actor), &new))
        .await;
    match result {
        Ok(id) => Ok(see_user(&state, id, &Flash::success(summary))),
        Err(AuthError::Invalid(errors)) => again(form, errors),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "users/show.html")]
struct ShowPage {
    ctx: PageCtx,
    user: User,
    last_login: String,
    roles: Vec<Role>,
    errors: FieldErrors,
    /// The organizations on the user's access list that the actor sees.
    access: Vec<OrgRef>,
    /// How many others the list holds (never named).
    hidden: usize,
    /// The user sees nothing the actor does not: role, password and status are his to change.
    can_act: bool,
    /// The actor sees all organizations: "all organizations" is his to give or take.
    actor_all: bool,
    lite_max: usize,
    factors: Factors,
    /// (when, who, what), newest first.
    history: Vec<(String, String, String)>,
}

/// A user as the actor may see them: their access list within his scope, whether he may
/// change their role, password and status, their two-factor sign-in and account history.
pub(super) struct Managed {
    pub user: User,
    access: Vec<OrgRef>,
    hidden: usize,
    pub can_act: bool,
    factors: Factors,
    history: Vec<AccountEvent>,
}

/// How many lines of a user's account history their page shows.
const HISTORY: i64 = 50;

/// The user and their access list, when the actor's role manages theirs.
pub(super) async fn manageable(
    state: &web::Data<AppState>,
    actor: &User,
    id: UserId,
) -> Result<Managed, WebError> {
    let me = actor.clone();
    let (row, (access, hidden), wider, (factors, history)) = state
        .db(move |conn| {
            Ok::<_, DbError>((
                users::find(conn, id)?,
                access::listed(conn, id, Scope::of(&me))?,
                users::wider_than(conn, &me, Some(id))?,
                (Factors::of(conn, id)?, audit::for_user(conn, id, HISTORY)?),
            ))
        })
        .await?;
    let user = row.ok_or(WebError::NotFound)?.user();
    if actor.role.can_manage(user.role) {
        Ok(Managed {
            user,
            access,
            hidden,
            can_act: wider.is_empty(),
            factors,
            history,
        })
    } else {
        Err(WebError::Forbidden(
            "Managers cannot change Administrators.".into(),
        ))
    }
}

fn show_page(ctx: PageCtx, actor: &User, managed: Managed, errors: FieldErrors) -> ShowPage {
    ShowPage {
        ctx,
        last_login: when(managed.user.last_login_at),
        roles: roles_for(actor),
        user: managed.user,
        errors,
        access: managed.access,
        hidden: managed.hidden,
        can_act: managed.can_act,
        actor_all: actor.all_organizations,
        lite_max: access::LITE_MAX,
        factors: managed.factors,
        history: managed
            .history
            .into_iter()
            .map(|e| (when(Some(e.at)), e.actor_email, e.summary))
            .collect(),
    }
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let user = manageable(&state, &actor, UserId(*id)).await?;
    render::page(&show_page(ctx, &actor, user, FieldErrors::default()))
}

pub(super) fn see_user(state: &AppState, id: UserId, flash: &Flash) -> HttpResponse {
    flash::see_other_with(
        &format!("/users/{}", id.0),
        flash,
        &state.settings.session_key,
    )
}

/// A change went through (flash it), or was refused for a reason the user can act on (flash that).
fn after_change(
    state: &AppState,
    id: UserId,
    result: Result<User, AuthError>,
    done: impl FnOnce(&User) -> String,
) -> Result<HttpResponse, WebError> {
    match result {
        Ok(user) => Ok(see_user(state, id, &Flash::success(done(&user)))),
        Err(AuthError::Conflict(message)) => Ok(see_user(state, id, &Flash::error(message))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn change_role(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<HttpResponse, WebError> {
    let id = UserId(*id);
    let role: Role = form.role.parse().map_err(WebError::BadRequest)?;
    let result = state
        .db(move |conn| accounts::change_role(conn, &actor, id, role))
        .await;
    after_change(&state, id, result, |u| {
        format!("{} is now {}.", u.display_name, role)
    })
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: bool,
}

pub async fn set_active(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> Result<HttpResponse, WebError> {
    let id = UserId(*id);
    let active = form.active;
    let result = state
        .db(move |conn| accounts::set_active(conn, &actor, id, active))
        .await;
    after_change(&state, id, result, |u| {
        if active {
            format!("{} can sign in again.", u.display_name)
        } else {
            format!(
                "{} is deactivated and has been signed out everywhere.",
                u.display_name
            )
        }
    })
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn set_password(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    MaybeSession(session): MaybeSession,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let current = session.map(|s| s.token_hash).unwrap_or_default();
    let id = UserId(*id);
    let user = manageable(&state, &actor, id).await?;
    let mut errors = FieldErrors::default();
    let password = accounts::new_password(&mut errors, &form.password, &form.password_confirm);
    if !errors.is_empty() {
        return render::invalid(&show_page(ctx, &actor, user, errors));
    }
    let result = state
        .db(move |conn| accounts::set_password(conn, &actor, id, &password, &current))
        .await;
    after_change(&state, id, result, |u| {
        format!(
            "{} has a new password and was signed out elsewhere.",
            u.display_name
        )
    })
}

/// An access change went through (flash it) or was refused with a reason (flash that).
fn after_access<T>(
    state: &AppState,
    id: UserId,
    result: Result<T, OrgError>,
    done: impl FnOnce(T) -> String,
) -> Result<HttpResponse, WebError> {
    match result {
        Ok(value) => Ok(see_user(state, id, &Flash::success(done(value)))),
        Err(OrgError::Conflict(message)) => Ok(see_user(state, id, &Flash::error(message))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct AllForm {
    all: bool,
}

pub async fn access_all(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<AllForm>,
) -> Result<HttpResponse, WebError> {
    let id = UserId(*id);
    let all = form.all;
    let result = state
        .db(move |conn| access::set_all(conn, &actor, id, all))
        .await;
    after_access(&state, id, result, |u| {
        if all {
            format!("{} now sees all organizations.", u.display_name)
        } else {
            format!(
                "{} now sees only the organizations on their list.",
                u.display_name
            )
        }
    })
}

#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    organization: String,
}

pub async fn access_add(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<GrantForm>,
) -> Result<HttpResponse, WebError> {
    let id = UserId(*id);
    let result = state
        .db(move |conn| access::grant(conn, &actor, id, &form.organization))
        .await;
    after_access(&state, id, result, |(u, org)| {
        format!("{} may now see {}.", u.display_name, org.name)
    })
}

#[derive(Deserialize)]
pub struct RevokeForm {
    organization_id: i64,
}

pub async fn access_remove(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<RevokeForm>,
) -> Result<HttpResponse, WebError> {
    let id = UserId(*id);
    let org = form.organization_id;
    let result = state
        .db(move |conn| access::revoke(conn, &actor, id, org))
        .await;
    after_access(&state, id, result, |u| {
        format!(
            "Removed an organization from the list of {}.",
            u.display_name
        )
    })
}
