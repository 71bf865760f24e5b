//! The guard that every route in the table goes through: it loads the session, prepares the CSRF
//! token and the flash message, and enforces the route's rule with `auth::allowed` before the
//! handler runs. A route cannot be registered without a rule (see `routes`).

use actix_web::body::BoxBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};

use super::ctx::RequestCtx;
use super::error::WebError;
use super::flash::{self, Flash, host_cookie};
use super::signed::PendingSession;
use super::state::AppState;
use crate::auth::session::{self, Session};
use crate::auth::{Action, check, csrf, token};
use crate::db::DbError;

pub const SESSION_COOKIE: &str = "__Host-roster-session";
/// Binds the CSRF token of forms shown before sign-in (login, setup).
pub const PRE_COOKIE: &str = "__Host-roster-pre";

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// No session, no database: health checks and static files.
    Open,
    /// Anyone, signed in or not (login, setup).
    Public,
    /// Any signed-in user.
    SignedIn,
    /// A signed-in user whose role allows the action.
    Allow(Action),
    /// The same, checked by the handler inside its one database call (`web::signed`): the
    /// session lookup and the page's work share one trip to the blocking pool.
    Checked(Action),
}

/// Tokens are 43 URL-safe characters; anything else is not worth a query.
fn plausible_token(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn cookie_token(req: &ServiceRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|c| c.value().to_owned())
        .filter(|v| plausible_token(v))
}

async fn load_session(
    state: &web::Data<AppState>,
    req: &ServiceRequest,
) -> Result<Option<Session>, WebError> {
    let Some(token) = cookie_token(req, SESSION_COOKIE) else {
        return Ok(None);
    };
    let life = state.lifetimes();
    let state = state.clone().into_inner();
    state
        .db_repeatable(move |conn| session::lookup(conn, &token, life).map_err(DbError::from))
        .await
        .map_err(WebError::from)
}

fn sign_in_redirect(req: &HttpRequest) -> String {
    if req.method() == Method::GET {
        let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let query = serde_urlencoded::to_string([("next", target)]).unwrap_or_default();
        format!("/login?{query}")
    } else {
        "/login".to_owned()
    }
}

pub async fn authorize(
    rule: Rule,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if rule == Rule::Open {
        return next.call(req).await;
    }
    if let Rule::Checked(action) = rule {
        return checked_later(action, req, next).await;
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(WebError::Internal(anyhow::anyhow!("no state"))));
    };
    let session = match load_session(&state, &req).await {
        Ok(s) => s,
        Err(e) => return Ok(req.error_response(e)),
    };
    if let Some(s) = &session {
        state.observe(s.kinds_version.clone(), s.marks_version);
    }
    // A cookie whose session is gone (ended, expired, tampered with) is dropped from the browser.
    let stale_cookie = session.is_none() && req.cookie(SESSION_COOKIE).is_some();
    let pre = cookie_token(&req, PRE_COOKIE);
    let new_pre = (session.is_none() && pre.is_none()).then(token::generate);
    let binding = match (&session, pre.as_ref().or(new_pre.as_ref())) {
        (Some(s), _) => s.token_hash.clone(),
        (None, p) => format!("pre:{}", p.map_or("", String::as_str)),
    };
    let key = &state.settings.session_key;
    let flash = req
        .cookie(flash::COOKIE)
        .map(|c| Flash::decode(key, c.value()));
    let role = session
        .as_ref()
        .map(|s| (s.user.role, s.user.all_organizations));
    req.extensions_mut().insert(RequestCtx {
        session,
        csrf_token: csrf::token_for(key, &binding),
        flash: flash.clone().flatten(),
    });

    let decision = match (rule, role) {
        (Rule::Open | Rule::Public, _) => Ok(()),
        (_, None) => {
            let mut response = flash::see_other(&sign_in_redirect(req.request()));
            if stale_cookie {
                let _ = response.add_removal_cookie(&removal(SESSION_COOKIE));
            }
            return Ok(req.into_response(response));
        }
        (Rule::SignedIn, Some(_)) => Ok(()),
        (Rule::Allow(action) | Rule::Checked(action), Some((role, all))) => {
            check(role, all, action)
        }
    };
    if let Err(denied) = decision {
        return Ok(req.error_response(WebError::from(denied)));
    }

    let res = next.call(req).await?;
    Ok(finish(res, new_pre, stale_cookie, flash.is_some()))
}

/// A `Rule::Checked` route: the session is looked up by the handler (`web::signed`), in the same
/// trip to the blocking pool as its work; without a session cookie, straight to sign-in.
async fn checked_later(
    action: Action,
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(token) = cookie_token(&req, SESSION_COOKIE) else {
        let mut response = flash::see_other(&sign_in_redirect(req.request()));
        if req.cookie(SESSION_COOKIE).is_some() {
            let _ = response.add_removal_cookie(&removal(SESSION_COOKIE));
        }
        return Ok(req.into_response(response));
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(req.error_response(WebError::Internal(anyhow::anyhow!("no state"))));
    };
    let flash = req
        .cookie(flash::COOKIE)
        .map(|c| Flash::decode(&state.settings.session_key, c.value()));
    req.extensions_mut().insert(PendingSession {
        token,
        action,
        flash: flash.clone().flatten(),
    });
    let res = next.call(req).await?;
    let error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<WebError>());
    if matches!(error, Some(WebError::SignInFirst)) {
        // The session is gone (ended, expired, tampered with): drop the cookie, sign in again.
        let mut response = flash::see_other(&sign_in_redirect(res.request()));
        let _ = response.add_removal_cookie(&removal(SESSION_COOKIE));
        return Ok(res.into_response(response));
    }
    Ok(finish(res, None, false, flash.is_some()))
}

/// What every guarded response gets on its way out: the pre-session cookie when one was made,
/// the removal of a dead session cookie and of a shown flash, and `no-store` for pages.
fn finish(
    mut res: ServiceResponse<BoxBody>,
    new_pre: Option<String>,
    stale_cookie: bool,
    had_flash: bool,
) -> ServiceResponse<BoxBody> {
    let response = res.response_mut();
    if let Some(pre) = new_pre {
        let _ = response.add_cookie(&host_cookie(PRE_COOKIE, pre));
    }
    let sets_session = response.cookies().any(|c| c.name() == SESSION_COOKIE);
    if stale_cookie && !sets_session {
        let _ = response.add_removal_cookie(&removal(SESSION_COOKIE));
    }
    if had_flash && !response.status().is_redirection() {
        let _ = response.add_removal_cookie(&removal(flash::COOKIE));
    }
    // Pages carry user data: not cached, unless the handler chose otherwise (logos).
    if !response.headers().contains_key(CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// A cookie that, sent back with Max-Age=0, makes the browser drop `name`.
pub fn removal(name: &'static str) -> Cookie<'static> {
    host_cookie(name, String::new())
}
