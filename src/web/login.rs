//! Sign in and sign out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf_form::{CsrfForm, NoFields};
use super::ctx::{MaybeSession, PageCtx};
use super::error::WebError;
use super::flash::{self, Flash, host_cookie};
use super::guard::{PRE_COOKIE, SESSION_COOKIE, removal};
use super::render;
use super::state::AppState;
use crate::auth::login::{self, LoginOutcome};
use crate::auth::session;
use crate::db::DbError;

const REFUSED: &str = "The email address or password is incorrect.";
const THROTTLED: &str = "Too many sign-in attempts. Wait a few minutes, then try again.";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: PageCtx,
    email: String,
    next: String,
    error: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path on this site: `/x`, never `//host` or `/\host`.
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
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

/// The client's address: the connection's, or behind a trusted proxy the one it forwarded.
fn client_address(state: &AppState, req: &HttpRequest) -> Option<std::net::IpAddr> {
    if state.settings.trust_proxy {
        let info = req.connection_info();
        if let Some(ip) = info.realip_remote_addr().and_then(|a| a.parse().ok()) {
            return Some(ip);
        }
    }
    req.peer_addr().map(|a| a.ip())
}

pub async fn submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    previous: MaybeSession,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, WebError> {
    let next = local_next(form.next.as_deref());
    let refuse = |status, error| {
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
    if !state
        .throttle
        .admit(&form.email, client_address(&state, &req))
    {
        return refuse(StatusCode::TOO_MANY_REQUESTS, THROTTLED);
    }
    let (policy, dummy) = (state.login_policy(), state.dummy_hash.clone());
    let (email, password) = (form.email.clone(), form.password.clone());
    let previous = previous.0.map(|s| s.token_hash);
    let outcome = state
        .db(move |conn| {
            let outcome = login::attempt(conn, &email, &password, &policy, &dummy)?;
            // A new sign-in replaces whatever session this browser had.
            if let (LoginOutcome::SignedIn { .. }, Some(hash)) = (&outcome, previous) {
                session::end(conn, &hash).map_err(DbError::from)?;
            }
            Ok::<_, crate::auth::AuthError>(outcome)
        })
        .await?;
    match outcome {
        LoginOutcome::SignedIn { token, user } => {
            tracing::info!(user_id = user.id.0, "signed in");
            let mut response = flash::see_other(&next);
            response
                .add_cookie(&host_cookie(SESSION_COOKIE, token))
                .map_err(|e| WebError::Internal(e.into()))?;
            let _ = response.add_removal_cookie(&removal(PRE_COOKIE));
            Ok(response)
        }
        LoginOutcome::Refused => refuse(StatusCode::UNAUTHORIZED, REFUSED),
        LoginOutcome::Locked => refuse(StatusCode::TOO_MANY_REQUESTS, THROTTLED),
    }
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
    use super::local_next;

    #[test]
    fn next_is_local_only() {
        assert_eq!(local_next(Some("/users?x=1")), "/users?x=1");
        for bad in [
            "https://elsewhere.example",
            "//elsewhere.example",
            "/\\elsewhere.example",
            "users",
        ] {
            assert_eq!(local_next(Some(bad)), "/");
        }
        assert_eq!(local_next(None), "/");
    }
}
