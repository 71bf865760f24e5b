//! The one-time page that creates the first Administrator.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf_form::CsrfForm;
use super::ctx::PageCtx;
use super::error::WebError;
use super::flash::{self, Flash};
use super::render;
use super::state::AppState;
use crate::auth::accounts::NewUser;
use crate::auth::{AuthError, setup};
use crate::db::DbError;
use crate::validation::FieldErrors;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    ctx: PageCtx,
    token: String,
    form: SetupForm,
    errors: FieldErrors,
}

#[derive(Deserialize, Default, Clone)]
pub struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn ensure_open(state: &web::Data<AppState>, token: &str) -> Result<(), WebError> {
    let token = token.to_owned();
    let open = state
        .db(move |conn| setup::is_open(conn, &token).map_err(DbError::from))
        .await?;
    if open {
        Ok(())
    } else {
        Err(WebError::NotFound)
    }
}

pub async fn page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    ensure_open(&state, &token).await?;
    render::page(&SetupPage {
        ctx,
        token: token.into_inner(),
        form: SetupForm::default(),
        errors: FieldErrors::default(),
    })
}

pub async fn submit(
    state: web::Data<AppState>,
    ctx: PageCtx,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<SetupForm>,
) -> Result<HttpResponse, WebError> {
    ensure_open(&state, &token).await?;
    let token = token.into_inner();
    let parsed = NewUser::parse(
        &form.email,
        &form.display_name,
        "administrator",
        &form.password,
        &form.password_confirm,
    );
    let new = match parsed {
        Ok(new) => new,
        Err(errors) => {
            return render::invalid(&SetupPage {
                ctx,
                token,
                form: SetupForm {
                    password: String::new(),
                    password_confirm: String::new(),
                    ..form
                },
                errors,
            });
        }
    };
    let email = new.email.clone();
    let created = state
        .db(move |conn| setup::complete(conn, &token, &new))
        .await;
    match created {
        Ok(_) => Ok(flash::see_other_with(
            "/login",
            &Flash::success(format!(
                "The Administrator {email} is ready. Sign in with that account."
            )),
            &state.settings.session_key,
        )),
        Err(AuthError::NotFound) => Err(WebError::NotFound),
        Err(e) => Err(e.into()),
    }
}
