//! What every page knows about its request: who is signed in, the CSRF token, the flash message.
//! The guard middleware builds a `RequestCtx` once per request; templates get a `PageCtx`.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use super::error::WebError;
use super::flash::Flash;
use crate::auth::session::Session;
use crate::auth::{Action, Role, User, allowed, permitted};

/// Stored in the request extensions by `guard::authorize`.
#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub session: Option<Session>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
}

/// The navigation's view of the signed-in user.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub display_name: String,
    pub role: Role,
    pub manage_users: bool,
    pub manage_settings: bool,
    pub manage_psa: bool,
    pub manage_data: bool,
    pub manage_security: bool,
}

/// The part of every template that `base.html` reads.
#[derive(Debug, Clone, Default)]
pub struct PageCtx {
    pub user: Option<NavUser>,
    pub csrf_token: String,
    pub flash: Option<Flash>,
}

impl RequestCtx {
    pub fn page(&self) -> PageCtx {
        PageCtx {
            user: self.session.as_ref().map(|s| NavUser {
                display_name: s.user.display_name.clone(),
                role: s.user.role,
                manage_users: allowed(s.user.role, Action::ManageUsers),
                manage_settings: allowed(s.user.role, Action::ManageSettings),
                manage_psa: permitted(s.user.role, s.user.all_organizations, Action::ManagePsa),
                manage_data: allowed(s.user.role, Action::ManageData),
                manage_security: allowed(s.user.role, Action::ManageSecurity),
            }),
            csrf_token: self.csrf_token.clone(),
            flash: self.flash.clone(),
        }
    }
}

fn request_ctx(req: &HttpRequest) -> Result<RequestCtx, WebError> {
    req.extensions()
        .get::<RequestCtx>()
        .cloned()
        .ok_or_else(|| WebError::Internal(anyhow::anyhow!("route registered without the guard")))
}

impl FromRequest for PageCtx {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request_ctx(req).map(|c| c.page()))
    }
}

/// The signed-in user; only on routes whose rule requires one.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl FromRequest for CurrentUser {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request_ctx(req).and_then(|c| {
            c.session
                .map(|s| CurrentUser(s.user))
                .ok_or_else(|| WebError::Forbidden("Sign in first.".into()))
        }))
    }
}

/// The session, when there is one (the login page and logout use it).
#[derive(Debug, Clone)]
pub struct MaybeSession(pub Option<Session>);

impl FromRequest for MaybeSession {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(request_ctx(req).map(|c| MaybeSession(c.session)))
    }
}
