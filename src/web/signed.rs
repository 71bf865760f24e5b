//! One trip to the blocking pool for a signed-in page: on routes whose rule is `Rule::Checked`,
//! the guard does not look the session up; the handler's one database call does it first, on
//! the same connection, checks the role, then runs the page's work (`AppState::db_signed_in`).

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use super::ctx::{PageCtx, RequestCtx};
use super::error::WebError;
use super::flash::Flash;
use super::state::AppState;
use crate::auth::session::{self, Session};
use crate::auth::{Action, User, check, csrf};
use crate::db::{DbConn, DbError};

/// What the guard leaves for the handler on a `Rule::Checked` route.
#[derive(Debug, Clone)]
pub struct PendingSession {
    pub token: String,
    pub action: Action,
    pub flash: Option<Flash>,
}

/// The request's session, to be checked inside the handler's database work.
pub struct Pending {
    request: HttpRequest,
    pending: PendingSession,
}

impl FromRequest for Pending {
    type Error = WebError;
    type Future = Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let pending = req.extensions().get::<PendingSession>().cloned();
        ready(
            pending
                .map(|pending| Pending {
                    request: req.clone(),
                    pending,
                })
                .ok_or_else(|| {
                    WebError::Internal(anyhow::anyhow!("route not registered as Rule::Checked"))
                }),
        )
    }
}

fn checked(
    conn: &mut DbConn,
    state: &AppState,
    pending: &PendingSession,
) -> Result<Session, WebError> {
    let found = session::lookup(conn, &pending.token, state.lifetimes()).map_err(DbError::from)?;
    let session = found.ok_or(WebError::SignInFirst)?;
    state.observe(session.kinds_version.clone(), session.marks_version);
    check(
        session.user.role,
        session.user.all_organizations,
        pending.action,
    )?;
    Ok(session)
}

impl AppState {
    /// Looks the session up, checks the route's action, then runs `work` as that user: one
    /// closure on one pooled connection. Returns the page context with the work's result. The
    /// work may run twice (see `db_repeatable`).
    pub async fn db_signed_in<T, F>(
        self: &Arc<Self>,
        pending: Pending,
        mut work: F,
    ) -> Result<(PageCtx, User, T), WebError>
    where
        F: FnMut(&mut DbConn, &User) -> Result<T, WebError> + Send + 'static,
        T: Send + 'static,
    {
        let Pending { request, pending } = pending;
        let state = self.clone();
        let flash = pending.flash.clone();
        let (session, outcome) = self
            .db_repeatable(move |conn| {
                let session = checked(conn, &state, &pending)?;
                let outcome = work(conn, &session.user);
                Ok::<_, WebError>((session, outcome))
            })
            .await?;
        let user = session.user.clone();
        let ctx = RequestCtx {
            csrf_token: csrf::token_for(&self.settings.session_key, &session.token_hash),
            session: Some(session),
            flash,
        };
        let page = ctx.page();
        // Error pages of this request are drawn in the layout, with the user's navigation.
        request.extensions_mut().insert(ctx);
        Ok((page, user, outcome?))
    }
}
