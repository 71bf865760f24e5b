//! My account: every signed-in user changes their display name and password and sees and ends
//! their own sessions. The use cases are in `auth::own`; this file parses, renders and redirects.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::client_address::client_address;
use super::csrf_form::{CsrfForm, NoFields};
use super::ctx::{CurrentUser, MaybeSession, PageCtx};
use super::error::WebError;
use super::flash::{self, Flash};
use super::passkeys::{self, PasskeySection};
use super::render;
use super::state::AppState;
use super::user_agent;
use crate::auth::lockout::Source;
use crate::auth::own::{self, OwnSession, PasswordChange};
use crate::auth::two_factor::{Factors, policy};
use crate::auth::{AuthError, User};
use crate::validation::FieldErrors;

pub(super) const PAGE: &str = "/account";
pub(super) const THROTTLED: &str = "Too many attempts. Wait a few minutes, then try again.";

/// A session as its row in the list shows it.
struct SessionLine {
    id: i64,
    started: String,
    last_seen: String,
    address: String,
    browser: String,
    current: bool,
}

impl From<OwnSession> for SessionLine {
    fn from(s: OwnSession) -> Self {
        let when = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M UTC").to_string();
        Self {
            id: s.id,
            started: when(s.started),
            last_seen: when(s.last_seen),
            address: s.address.unwrap_or_else(|| "unknown".to_owned()),
            browser: user_agent::describe(s.user_agent.as_deref()),
            current: s.current,
        }
    }
}

#[derive(Template)]
#[template(path = "account/show.html")]
struct AccountPage {
    ctx: PageCtx,
    email: String,
    /// The display name in the form: the stored one, or what was typed when it was refused.
    display_name: String,
    errors: FieldErrors,
    sessions: Vec<SessionLine>,
    two_factor: Factors,
    /// The policy requires two-factor sign-in of every user.
    required_2fa: bool,
    passkeys: PasskeySection,
}

/// The hash of this request's session token (the route's rule guarantees a session).
pub(super) fn this_session(session: MaybeSession) -> String {
    session.0.map(|s| s.token_hash).unwrap_or_default()
}

/// The page, with `display_name` in its form and `errors` beside the fields (422 when any).
pub(super) async fn show_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    actor: &User,
    current: String,
    (display_name, errors): (String, FieldErrors),
) -> Result<HttpResponse, WebError> {
    let (id, life) = (actor.id, state.lifetimes());
    let (sessions, two_factor, required_2fa) = state
        .db(move |conn| {
            Ok::<_, AuthError>((
                own::sessions(conn, id, &current, life)?,
                Factors::of(conn, id)?,
                policy::required(conn)?,
            ))
        })
        .await?;
    let has_errors = !errors.is_empty();
    let page = AccountPage {
        ctx,
        email: actor.email.clone(),
        display_name,
        errors,
        sessions: sessions.into_iter().map(SessionLine::from).collect(),
        two_factor,
        required_2fa,
        passkeys: passkeys::section(state, actor.id).await?,
    };
    render::form(&page, has_errors)
}

pub async fn page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    session: MaybeSession,
) -> Result<HttpResponse, WebError> {
    let name = actor.display_name.clone();
    let fields = (name, FieldErrors::default());
    show_page(&state, ctx, &actor, this_session(session), fields).await
}

pub(super) fn back(state: &AppState, flash: &Flash) -> HttpResponse {
    flash::see_other_with(PAGE, flash, &state.settings.session_key)
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    display_name: String,
}

pub async fn rename(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    session: MaybeSession,
    CsrfForm(form): CsrfForm<NameForm>,
) -> Result<HttpResponse, WebError> {
    let (me, typed) = (actor.clone(), form.display_name.clone());
    match state.db(move |conn| own::rename(conn, &me, &typed)).await {
        Ok(name) => Ok(back(
            &state,
            &Flash::success(format!("Your display name is now {name}.")),
        )),
        Err(AuthError::Invalid(errors)) => {
            let fields = (form.display_name, errors);
            show_page(&state, ctx, &actor, this_session(session), fields).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

pub async fn change_password(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CurrentUser(actor): CurrentUser,
    session: MaybeSession,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let current = this_session(session);
    let address = client_address(&state.settings, &req);
    let source = Source::signed_in(&actor.email, address, &state.settings.session_key);
    let again = |errors| (actor.display_name.clone(), errors);
    if !state
        .throttle
        .admit((source.email, source.address), source.address)
    {
        let errors = FieldErrors::single("current_password", THROTTLED);
        return show_page(&state, ctx, &actor, current, again(errors)).await;
    }
    let limits = state.login_policy().limits();
    let (me, keep) = (actor.clone(), current.clone());
    let result = state
        .db(move |conn| {
            let change = PasswordChange {
                current: &form.current_password,
                new: &form.password,
                confirm: &form.password_confirm,
            };
            own::change_password(conn, &me, &change, (&source, limits), &keep)
        })
        .await;
    match result {
        Ok(ended) => {
            tracing::info!(user_id = actor.id.0, ended, "changed own password");
            let message = match ended {
                0 => "Your password is changed.".to_owned(),
                n => format!("Your password is changed; {n} other session(s) were signed out."),
            };
            Ok(back(&state, &Flash::success(message)))
        }
        Err(AuthError::Invalid(errors)) => {
            show_page(&state, ctx, &actor, current, again(errors)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn sign_out(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    session: MaybeSession,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let (id, current) = (id.into_inner(), this_session(session));
    let ended = state
        .db(move |conn| own::sign_out(conn, &actor, id, &current))
        .await?;
    let browser = user_agent::describe(ended.user_agent.as_deref());
    let message = if ended.current {
        "You have signed out.".to_owned()
    } else {
        format!("The session in {browser} is signed out.")
    };
    Ok(back(&state, &Flash::success(message)))
}

pub async fn sign_out_others(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    session: MaybeSession,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let keep = this_session(session);
    let ended = state
        .db(move |conn| own::sign_out_others(conn, &actor, &keep))
        .await?;
    let message = match ended {
        0 => "There were no other sessions.".to_owned(),
        n => format!("Signed out of {n} other session(s)."),
    };
    Ok(back(&state, &Flash::success(message)))
}
