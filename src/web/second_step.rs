//! The second sign-in step (`/sign-in/verify`) and enrolment under the policy (`/sign-in/enrol`),
//! for a browser whose password was right: found through `auth::two_factor::pending`, never a
//! session. `complete` turns a verified pending sign-in into the session (passkeys call it too).

use actix_web::http::StatusCode;
use actix_web::http::header::USER_AGENT;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::client_address::client_address;
use super::csrf_form::CsrfForm;
use super::ctx::{PageCtx, RequestCtx};
use super::error::WebError;
use super::flash::{self, Flash, host_cookie};
use super::guard::PRE_COOKIE;
use super::login::{self as login_page, THROTTLED};
use super::render;
use super::state::AppState;
use super::two_factor_pages::{CodesPage, EnrolPage};
use crate::auth::login::{self, Client};
use crate::auth::session::Origin;
use crate::auth::two_factor::pending::{self, Binding, Pending, Purpose};
use crate::auth::two_factor::second_step::{self, Answer, Verdict};
use crate::auth::two_factor::{Factors, totp};
use crate::auth::{AuthError, users};

/// The fresh token of a pending sign-in (its hash, with the pre cookie's, finds the row).
pub const PENDING_COOKIE: &str = "__Host-roster-pending";
const WRONG_CODE: &str = "That code is not right. Codes change every 30 seconds and each one \
                          works once; wait for the next one and try again.";
const EMPTY: &str = "Enter the code from your authenticator app, or a recovery code.";
const WRONG_RECOVERY: &str = "That recovery code is not right, or it has been used.";
const START_AGAIN: &str = "Sign in again: the second step was not started in this browser, or \
                           it took more than 5 minutes.";

/// The pending sign-in of this request's cookies, if any.
pub async fn current(
    state: &web::Data<AppState>,
    req: &HttpRequest,
) -> Result<Option<Pending>, WebError> {
    let (Some(token), Some(pre)) = (req.cookie(PENDING_COOKIE), req.cookie(PRE_COOKIE)) else {
        return Ok(None);
    };
    let (token, pre) = (token.value().to_owned(), pre.value().to_owned());
    let key = state.settings.session_key.clone();
    let found = state
        .db(move |conn| {
            let binding = Binding {
                token: &token,
                pre: &pre,
            };
            pending::current(conn, &key, binding).map_err(AuthError::from)
        })
        .await?;
    Ok(found)
}

/// Back to the sign-in form, saying why.
fn start_again(state: &AppState) -> HttpResponse {
    let mut response = flash::see_other_with(
        "/login",
        &Flash::error(START_AGAIN),
        &state.settings.session_key,
    );
    let _ = response.add_removal_cookie(&super::guard::removal(PENDING_COOKIE));
    response
}

/// The pending sign-in for `purpose`, or the answer to give instead (back to sign-in; the
/// other step's page).
async fn pending_for(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    purpose: Purpose,
) -> Result<Result<Pending, HttpResponse>, WebError> {
    Ok(match current(state, req).await? {
        Some(p) if p.purpose == purpose => Ok(p),
        Some(p) => Err(flash::see_other(step_path(p.purpose))),
        None => Err(start_again(state)),
    })
}

/// Where a pending sign-in of `purpose` continues.
pub fn step_path(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Verify => "/sign-in/verify",
        Purpose::Enrol => "/sign-in/enrol",
    }
}

/// The answer to a correct password that needs a second step: its page, with the pending cookie.
pub fn second_step_response(purpose: Purpose, token: String) -> Result<HttpResponse, WebError> {
    let mut response = flash::see_other(step_path(purpose));
    let mut cookie = host_cookie(PENDING_COOKIE, token);
    cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
        pending::LIFETIME.num_seconds(),
    ));
    response
        .add_cookie(&cookie)
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(response)
}

/// Starts the session of a verified pending sign-in, once, and puts its cookies on `response`
/// (and drops the pending and pre-session cookies). `Ok(false)`: the pending sign-in was already
/// used, or the user deactivated meanwhile; `response` is then left alone.
async fn finish(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    pending: Pending,
    response: &mut HttpResponse,
) -> Result<bool, WebError> {
    let address = client_address(&state.settings, req);
    let user_agent = req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok());
    let origin = Origin::new(address, user_agent);
    let previous = req
        .extensions()
        .get::<RequestCtx>()
        .and_then(|c| c.session.as_ref().map(|s| s.token_hash.clone()));
    let life = state.lifetimes();
    let started = state
        .db(move |conn| pending::into_session(conn, &pending, life, &origin, previous.as_deref()))
        .await?;
    let Some((token, user)) = started else {
        return Ok(false);
    };
    tracing::info!(user_id = user.id.0, "signed in with a second step");
    login_page::add_session_cookies(state, response, token, &user.email)?;
    let _ = response.add_removal_cookie(&super::guard::removal(PENDING_COOKIE));
    Ok(true)
}

/// Turns a verified pending sign-in into a session and goes on to where the user was going,
/// with `note` as the flash message. The one way out of the second step (TOTP, recovery codes,
/// passkeys).
pub async fn complete(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    pending: Pending,
    note: Option<Flash>,
) -> Result<HttpResponse, WebError> {
    let next = pending.next.clone();
    let mut response = match note {
        Some(note) => flash::see_other_with(&next, &note, &state.settings.session_key),
        None => flash::see_other(&next),
    };
    if finish(state, req, pending, &mut response).await? {
        Ok(response)
    } else {
        Ok(start_again(state))
    }
}

#[derive(Template)]
#[template(path = "signin/verify.html")]
struct VerifyPage {
    ctx: PageCtx,
    factors: Factors,
    error: Option<String>,
}

async fn verify_page_for(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    pending: &Pending,
    (status, error): (StatusCode, Option<String>),
) -> Result<HttpResponse, WebError> {
    let user = pending.user_id;
    let factors = state
        .db(move |conn| Factors::of(conn, user).map_err(AuthError::from))
        .await?;
    render::render(
        status,
        &VerifyPage {
            ctx,
            factors,
            error,
        },
    )
}

pub async fn verify_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    match pending_for(&state, &req, Purpose::Verify).await? {
        Ok(pending) => verify_page_for(&state, ctx, &pending, (StatusCode::OK, None)).await,
        Err(elsewhere) => Ok(elsewhere),
    }
}

#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    recovery_code: String,
}

/// The counters' view of this browser signing in to `email`.
pub(super) fn guard_source(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
) -> crate::auth::lockout::Source {
    let device = req.cookie(login_page::DEVICE_COOKIE);
    let client = Client {
        address: client_address(&state.settings, req),
        device_token: device.as_ref().map(actix_web::cookie::Cookie::value),
    };
    login::source(email, &client, &state.settings.session_key)
}

/// The page again with `error` (wrong code: 401; too many: 429).
fn refusal<T>(verdict: &Verdict<T>, wrong: &str) -> (StatusCode, Option<String>) {
    match verdict {
        Verdict::Locked => (StatusCode::TOO_MANY_REQUESTS, Some(THROTTLED.to_owned())),
        Verdict::Wait(left) => (
            StatusCode::TOO_MANY_REQUESTS,
            Some(login_page::wait_message(*left)),
        ),
        _ => (StatusCode::UNAUTHORIZED, Some(wrong.to_owned())),
    }
}

pub async fn verify_submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<VerifyForm>,
) -> Result<HttpResponse, WebError> {
    let pending = match pending_for(&state, &req, Purpose::Verify).await? {
        Ok(p) => p,
        Err(elsewhere) => return Ok(elsewhere),
    };
    if form.code.trim().is_empty() && form.recovery_code.trim().is_empty() {
        // Nothing typed: not an attempt, so not counted.
        let answer = (StatusCode::UNPROCESSABLE_ENTITY, Some(EMPTY.to_owned()));
        return verify_page_for(&state, ctx, &pending, answer).await;
    }
    let source = guard_source(&state, &req, &pending.email);
    let recovery = !form.recovery_code.trim().is_empty();
    let wrong = if recovery { WRONG_RECOVERY } else { WRONG_CODE };
    if !state
        .throttle
        .admit((source.email, source.address), source.address)
    {
        let answer = (StatusCode::TOO_MANY_REQUESTS, Some(THROTTLED.to_owned()));
        return verify_page_for(&state, ctx, &pending, answer).await;
    }
    let (key, limits, held) = (
        state.settings.data_key.clone(),
        state.login_policy().limits(),
        pending.clone(),
    );
    let verdict = state
        .db(move |conn| {
            let answer = if recovery {
                Answer::Recovery(&form.recovery_code)
            } else {
                Answer::Code(&form.code)
            };
            second_step::verify(conn, &key, &held, answer, (&source, limits))
        })
        .await?;
    match verdict {
        Verdict::Passed(left) => {
            let note = left.map(|n| Flash::info(recovery_left_message(n)));
            complete(&state, &req, pending, note).await
        }
        other => verify_page_for(&state, ctx, &pending, refusal(&other, wrong)).await,
    }
}

/// What a user who signed in with a recovery code is told.
fn recovery_left_message(left: i64) -> String {
    match left {
        0 => "You used your last recovery code. Make new ones now on My account.".to_owned(),
        1 => {
            "You signed in with a recovery code; 1 is left. Make new ones on My account.".to_owned()
        }
        n => format!("You signed in with a recovery code; {n} are left."),
    }
}

/// The enrolment page of a pending sign-in (`status`, `error`: after a wrong code).
async fn enrol_page_for(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    pending: &Pending,
    (status, error): (StatusCode, Option<String>),
) -> Result<HttpResponse, WebError> {
    let (key, id) = (state.settings.data_key.clone(), pending.user_id);
    let enrolment = state
        .db(move |conn| {
            let user = users::find(conn, id)?.ok_or(AuthError::NotFound)?.user();
            totp::begin(conn, &key, &user)
        })
        .await?;
    let page = EnrolPage::new(ctx, enrolment, "/sign-in/enrol", true, error);
    render::render(status, &page)
}

pub async fn enrol_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    match pending_for(&state, &req, Purpose::Enrol).await? {
        Ok(pending) => enrol_page_for(&state, ctx, &pending, (StatusCode::OK, None)).await,
        Err(elsewhere) => Ok(elsewhere),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub code: String,
}

pub async fn enrol_submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<HttpResponse, WebError> {
    let pending = match pending_for(&state, &req, Purpose::Enrol).await? {
        Ok(p) => p,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let source = guard_source(&state, &req, &pending.email);
    let (key, limits, id) = (
        state.settings.data_key.clone(),
        state.login_policy().limits(),
        pending.user_id,
    );
    let verdict = state
        .db(move |conn| {
            let user = users::find(conn, id)?.ok_or(AuthError::NotFound)?.user();
            second_step::confirm_totp(conn, &key, &user, &form.code, (&source, limits))
        })
        .await?;
    let codes = match verdict {
        Verdict::Passed(codes) => codes.unwrap_or_default(),
        other => {
            let answer = refusal(&other, WRONG_CODE);
            return enrol_page_for(&state, ctx, &pending, answer).await;
        }
    };
    let next = pending.next.clone();
    let page = CodesPage {
        ctx,
        codes,
        continue_to: next,
    };
    let mut response = render::page(&page)?;
    if finish(&state, &req, pending, &mut response).await? {
        Ok(response)
    } else {
        Ok(start_again(&state))
    }
}
