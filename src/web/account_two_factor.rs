//! My account's two-factor part: set up an authenticator app (QR code, key, first code), remove
//! it, and make new recovery codes. The use cases are in `auth::two_factor`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::account::{PAGE, THROTTLED, back, show_page, this_session};
use super::client_address::client_address;
use super::csrf_form::CsrfForm;
use super::ctx::{CurrentUser, MaybeSession, PageCtx};
use super::error::WebError;
use super::flash::Flash;
use super::render;
use super::second_step::CodeForm;
use super::state::AppState;
use super::two_factor_pages::{CodesPage, EnrolPage};
use crate::auth::lockout::{Limits, Source};
use crate::auth::two_factor::second_step::{self, Verdict};
use crate::auth::two_factor::{account, totp};
use crate::auth::{AuthError, User};

const ENROL: &str = "/account/two-factor/totp";
const WRONG_CODE: &str = "That code is not right. Check the app's clock, wait for the next code \
                          and try again.";

/// The counters' view of the actor checking a code or their password again.
fn guard(state: &AppState, req: &HttpRequest, actor: &User) -> Option<(Source, Limits)> {
    let address = client_address(&state.settings, req);
    let source = Source::signed_in(&actor.email, address, &state.settings.session_key);
    state
        .throttle
        .admit((source.email, source.address), source.address)
        .then(|| (source, state.login_policy().limits()))
}

/// The enrolment page with its QR code (`error`: after a wrong first code).
async fn enrol_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    actor: User,
    (status, error): (StatusCode, Option<String>),
) -> Result<HttpResponse, WebError> {
    let key = state.settings.data_key.clone();
    match state.db(move |conn| totp::begin(conn, &key, &actor)).await {
        Ok(enrolment) => {
            let page = EnrolPage::new(ctx, enrolment, ENROL, false, error);
            render::render(status, &page)
        }
        Err(AuthError::Conflict(message)) => Ok(back(state, &Flash::error(message))),
        Err(e) => Err(e.into()),
    }
}

pub async fn totp_page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
) -> Result<HttpResponse, WebError> {
    enrol_page(&state, ctx, actor, (StatusCode::OK, None)).await
}

pub async fn totp_confirm(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CurrentUser(actor): CurrentUser,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<HttpResponse, WebError> {
    let Some((source, limits)) = guard(&state, &req, &actor) else {
        let answer = (StatusCode::TOO_MANY_REQUESTS, Some(THROTTLED.to_owned()));
        return enrol_page(&state, ctx, actor, answer).await;
    };
    let (key, me) = (state.settings.data_key.clone(), actor.clone());
    let verdict = state
        .db(move |conn| second_step::confirm_totp(conn, &key, &me, &form.code, (&source, limits)))
        .await?;
    tracing::info!(
        user_id = actor.id.0,
        confirmed = matches!(verdict, Verdict::Passed(_)),
        "TOTP enrolment code"
    );
    match verdict {
        Verdict::Passed(Some(codes)) => render::page(&CodesPage {
            ctx,
            codes,
            continue_to: PAGE.to_owned(),
        }),
        Verdict::Passed(None) => Ok(back(
            &state,
            &Flash::success("Your authenticator app is set up."),
        )),
        Verdict::Refused => {
            let answer = (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(WRONG_CODE.to_owned()),
            );
            enrol_page(&state, ctx, actor, answer).await
        }
        Verdict::Locked | Verdict::Wait(_) => {
            let answer = (StatusCode::TOO_MANY_REQUESTS, Some(THROTTLED.to_owned()));
            enrol_page(&state, ctx, actor, answer).await
        }
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    remove_password: String,
}

/// A refused password-checked change: the page with the message beside the field, a flash for
/// a conflict, or the error.
async fn refused(
    state: &web::Data<AppState>,
    (ctx, actor, session): (PageCtx, &User, MaybeSession),
    error: AuthError,
) -> Result<HttpResponse, WebError> {
    match error {
        AuthError::Invalid(errors) => {
            let fields = (actor.display_name.clone(), errors);
            show_page(state, ctx, actor, this_session(session), fields).await
        }
        AuthError::Conflict(message) => Ok(back(state, &Flash::error(message))),
        e => Err(e.into()),
    }
}

/// The password-checked changes when the in-memory limiter refuses: the message beside `field`.
async fn throttled(
    state: &web::Data<AppState>,
    (ctx, actor, session): (PageCtx, &User, MaybeSession),
    field: &'static str,
) -> Result<HttpResponse, WebError> {
    let errors = crate::validation::FieldErrors::single(field, THROTTLED);
    let fields = (actor.display_name.clone(), errors);
    show_page(state, ctx, actor, this_session(session), fields).await
}

pub async fn totp_remove(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CurrentUser(actor): CurrentUser,
    session: MaybeSession,
    CsrfForm(form): CsrfForm<RemoveForm>,
) -> Result<HttpResponse, WebError> {
    let Some((source, limits)) = guard(&state, &req, &actor) else {
        return throttled(&state, (ctx, &actor, session), "remove_password").await;
    };
    let me = actor.clone();
    let result = state
        .db(move |conn| account::remove_totp(conn, &me, &form.remove_password, (&source, limits)))
        .await;
    match result {
        Ok(()) => Ok(back(
            &state,
            &Flash::success("Your authenticator app is removed."),
        )),
        Err(e) => refused(&state, (ctx, &actor, session), e).await,
    }
}

#[derive(Deserialize)]
pub struct CodesForm {
    #[serde(default)]
    codes_password: String,
}

pub async fn new_codes(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CurrentUser(actor): CurrentUser,
    session: MaybeSession,
    CsrfForm(form): CsrfForm<CodesForm>,
) -> Result<HttpResponse, WebError> {
    let Some((source, limits)) = guard(&state, &req, &actor) else {
        return throttled(&state, (ctx, &actor, session), "codes_password").await;
    };
    let (key, me) = (state.settings.data_key.clone(), actor.clone());
    let result = state
        .db(move |conn| {
            account::new_recovery_codes(conn, &key, &me, &form.codes_password, (&source, limits))
        })
        .await;
    match result {
        Ok(codes) => render::page(&CodesPage {
            ctx,
            codes,
            continue_to: PAGE.to_owned(),
        }),
        Err(e) => refused(&state, (ctx, &actor, session), e).await,
    }
}
