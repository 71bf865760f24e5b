//! Sign in and sign out: the form, where to go afterwards (this site only), and the answers to
//! refused, locked and slowed-down attempts.

use actix_web::http::StatusCode;
use actix_web::http::header::USER_AGENT;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::client_address::client_address;
use super::csrf_form::{CsrfForm, NoFields};
use super::ctx::{MaybeSession, PageCtx};
use super::error::WebError;
use super::flash::{self, Flash, host_cookie};
use super::guard::{PRE_COOKIE, SESSION_COOKIE, removal};
use super::render;
use super::second_step;
use super::state::AppState;
use crate::auth::device;
use crate::auth::lockout::{self, EmailKey};
use crate::auth::login::{self, Attempt, Client, LoginOutcome, Start};
use crate::auth::session;
use crate::db::DbError;

/// The browser's device token for the last account it signed in to (`auth::device`).
pub(super) const DEVICE_COOKIE: &str = "__Host-roster-device";
const REFUSED: &str = "The email address or password is incorrect.";
pub(super) const THROTTLED: &str = "Too many sign-in attempts. Wait a few minutes, then try again.";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path on this site: one `/`, then neither `/` nor `\`, and no control character or white
/// space anywhere, as given or percent-decoded (browsers drop tabs and newlines, so `/\t/host`
/// would be `//host`). Anything else goes home.
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if is_local_path(n)
                && is_local_path(&percent_encoding::percent_decode_str(n).decode_utf8_lossy()) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
}

pub async fn page(
    ctx: PageCtx,
    session: MaybeSession,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, WebError> {
    let next = local_next(query.next.as_deref());
    if session.0.is_some() {
        return Ok(flash::see_other(&next));
    }
    render::page(&LoginPage {
        ctx,
        email: String::new(),
        next,
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

fn time_span(duration: std::time::Duration) -> actix_web::cookie::time::Duration {
    actix_web::cookie::time::Duration::seconds(i64::try_from(duration.as_secs()).unwrap_or(0))
}

/// A wait rounded up to whole seconds, at least one.
fn whole_seconds(left: std::time::Duration) -> u64 {
    (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1)
}

/// The answer to an account that failed too often from everywhere.
pub(super) fn wait_message(left: std::time::Duration) -> String {
    let seconds = whole_seconds(left);
    let unit = if seconds == 1 { "second" } else { "seconds" };
    format!(
        "Too many failed sign-ins for this email address. Wait {seconds} {unit}, then try again."
    )
}

pub async fn submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    previous: MaybeSession,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let next = local_next(form.next.as_deref());
    let refuse = |status, error: String| {
        render::render(
            status,
            &LoginPage {
                ctx: ctx.clone(),
                email: form.email.clone(),
                next: next.clone(),
                error: Some(error),
            },
        )
    };
    let address = client_address(&state.settings, &req);
    let device_cookie = req.cookie(DEVICE_COOKIE);
    let client = Client {
        address,
        device_token: device_cookie.as_ref().map(actix_web::cookie::Cookie::value),
    };
    let key = &state.settings.session_key;
    let Some(attempt) = Attempt::parse(&form.email, form.password.clone(), &client, key) else {
        // No account has an email this long: nothing to count, nothing to hash.
        return refuse(StatusCode::UNAUTHORIZED, REFUSED.to_owned());
    };
    let email_key = attempt.email_key();
    if !state.throttle.admit(attempt.limiter_key(), address) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, THROTTLED.to_owned());
    }
    let (policy, dummy) = (state.login_policy(), state.dummy_hash.clone());
    let previous = previous.0.map(|s| s.token_hash);
    let user_agent = req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok());
    let origin = session::Origin::new(address, user_agent);
    let pre = req
        .cookie(PRE_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let (session_key, to) = (key.clone(), next.clone());
    let outcome = state
        .db(move |conn| {
            let start = Start {
                origin: &origin,
                previous: previous.as_deref(),
                key: &session_key,
                pre: &pre,
                next: &to,
            };
            login::attempt(conn, &attempt, &policy, &dummy, &start)
        })
        .await?;
    match outcome {
        LoginOutcome::SignedIn { token, user } => {
            tracing::info!(user_id = user.id.0, "signed in");
            signed_in(&next, token, device::issue(key, &email_key))
        }
        LoginOutcome::SecondStep {
            user,
            purpose,
            token,
        } => {
            tracing::info!(
                user_id = user.id.0,
                step = purpose.as_str(),
                "password accepted"
            );
            second_step::second_step_response(purpose, token)
        }
        LoginOutcome::Refused => refuse(StatusCode::UNAUTHORIZED, REFUSED.to_owned()),
        LoginOutcome::Locked => refuse(StatusCode::TOO_MANY_REQUESTS, THROTTLED.to_owned()),
        LoginOutcome::Wait(left) => {
            let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, wait_message(left))?;
            response.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                whole_seconds(left).into(),
            );
            Ok(response)
        }
    }
}

/// On to `next` with the new session, a device token for this account, and no pre-session.
fn signed_in(next: &str, token: String, device_token: String) -> Result<HttpResponse, WebError> {
    let mut response = flash::see_other(next);
    session_cookies(&mut response, token, device_token)?;
    Ok(response)
}

/// The cookies of a new session of `email`'s account on `response` (after a second step).
pub(super) fn add_session_cookies(
    state: &AppState,
    response: &mut HttpResponse,
    token: String,
    email: &str,
) -> Result<(), WebError> {
    let key = &state.settings.session_key;
    let email_key = EmailKey::of(&lockout::normalized(email), key);
    session_cookies(response, token, device::issue(key, &email_key))
}

/// The session cookie, the device cookie, and the pre-session's removal.
fn session_cookies(
    response: &mut HttpResponse,
    token: String,
    device_token: String,
) -> Result<(), WebError> {
    let mut device_cookie = host_cookie(DEVICE_COOKIE, device_token);
    device_cookie.set_max_age(time_span(device::VALID_FOR));
    for cookie in [host_cookie(SESSION_COOKIE, token), device_cookie] {
        response
            .add_cookie(&cookie)
            .map_err(|e| WebError::Internal(e.into()))?;
    }
    let _ = response.add_removal_cookie(&removal(PRE_COOKIE));
    Ok(())
}

pub async fn logout(
    state: web::Data<AppState>,
    session: MaybeSession,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    if let Some(s) = session.0 {
        let hash = s.token_hash;
        state
            .db(move |conn| session::end(conn, &hash).map_err(DbError::from))
            .await?;
    }
    let mut response = flash::see_other_with(
        "/login",
        &Flash::info("You have signed out."),
        &state.settings.session_key,
    );
    let _ = response.add_removal_cookie(&removal(SESSION_COOKIE));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::{local_next, wait_message};

    #[test]
    fn next_is_local_only() {
        for good in [
            "/",
            "/users?x=1",
            "/organizations/3",
            "/organizations?q=a%2Fb",
        ] {
            assert_eq!(local_next(Some(good)), good);
        }
        for bad in [
            "https://elsewhere.example",
            "//elsewhere.example",
            "/\\elsewhere.example",
            "/\t/elsewhere.example",
            "/\n/x",
            "/\r/x",
            "/ /x",
            "/%09/x",
            "/%0A/x",
            "/%2F/x",
            "/%5C/x",
            "/x\u{7f}",
            "/x\u{3000}y",
            "users",
            "",
        ] {
            assert_eq!(local_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(local_next(None), "/");
    }

    #[test]
    fn waits_are_whole_seconds_rounded_up() {
        let wait = |ms| wait_message(std::time::Duration::from_millis(ms));
        assert!(wait(300).contains("Wait 1 second,"));
        assert!(wait(1000).contains("Wait 1 second,"));
        assert!(wait(1001).contains("Wait 2 seconds,"));
    }
}
