//! Settings > Security (Administrators): "Require two-factor sign-in for every user". Users
//! without a factor are sent to enrolment at their next sign-in (`auth::login`).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf_form::CsrfForm;
use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::flash::{self, Flash};
use super::render;
use super::state::AppState;
use crate::auth::AuthError;
use crate::auth::two_factor::policy;

#[derive(Template)]
#[template(path = "settings/security.html")]
struct SecurityPage {
    ctx: PageCtx,
    required: bool,
}

pub async fn show(state: web::Data<AppState>, ctx: PageCtx) -> Result<HttpResponse, WebError> {
    let required = state
        .db(|conn| policy::required(conn).map_err(AuthError::from))
        .await?;
    render::page(&SecurityPage { ctx, required })
}

#[derive(Deserialize)]
pub struct SecurityForm {
    /// A checkbox: present when ticked.
    require_two_factor: Option<String>,
}

pub async fn save(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    CsrfForm(form): CsrfForm<SecurityForm>,
) -> Result<HttpResponse, WebError> {
    let require = form.require_two_factor.is_some();
    state
        .db(move |conn| policy::set(conn, &actor, require).map_err(AuthError::from))
        .await?;
    let message = if require {
        "Two-factor sign-in is now required: users without it set it up at their next sign-in."
    } else {
        "Two-factor sign-in is now optional."
    };
    Ok(flash::see_other_with(
        "/settings/security",
        &Flash::success(message),
        &state.settings.session_key,
    ))
}
