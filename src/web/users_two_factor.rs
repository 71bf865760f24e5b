//! A user's two-factor sign-in on the Users page: Reset two-factor (a confirmation, then the
//! reset), for whoever may change the user (`accounts` rules: Managers not Administrators, a
//! restricted actor no one who sees more than he does).

use actix_web::{HttpResponse, web};
use askama::Template;

use super::csrf_form::{CsrfForm, NoFields};
use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::flash::Flash;
use super::render;
use super::state::AppState;
use super::users::{manageable, see_user};
use crate::auth::two_factor::reset;
use crate::auth::{User, UserId};

#[derive(Template)]
#[template(path = "users/reset_two_factor.html")]
struct ConfirmPage {
    ctx: PageCtx,
    user: User,
}

pub async fn confirm(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(actor): CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let managed = manageable(&state, &actor, UserId(*id)).await?;
    if !managed.can_act {
        return Err(WebError::Forbidden(format!(
            "{} sees organizations outside your access.",
            managed.user.email
        )));
    }
    render::page(&ConfirmPage {
        ctx,
        user: managed.user,
    })
}

pub async fn reset(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = UserId(*id);
    let user = state
        .db(move |conn| reset::reset(conn, Some(&actor), id))
        .await?;
    tracing::info!(user_id = id.0, "two-factor sign-in reset");
    let message = format!(
        "The two-factor sign-in of {} is reset and their sessions are signed out. They set it \
         up again at their next sign-in when it is required.",
        user.display_name
    );
    Ok(see_user(&state, id, &Flash::success(message)))
}
