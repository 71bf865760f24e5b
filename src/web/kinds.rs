//! Settings: organization types and statuses (one set of handlers for both).

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf_form::{CsrfForm, NoFields};
use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::flash::{self, Flash};
use super::render;
use super::state::AppState;
use crate::db::DbError;
use crate::orgs::OrgError;
use crate::orgs::kinds::{self, Kind, KindRow};
use crate::validation::FieldErrors;

fn kind_of(slug: &str) -> Result<Kind, WebError> {
    Kind::parse(slug).ok_or(WebError::NotFound)
}

#[derive(Template)]
#[template(path = "settings/kinds.html")]
struct KindsPage {
    ctx: PageCtx,
    kind: Kind,
    rows: Vec<KindRow>,
    new_name: String,
    errors: FieldErrors,
}

async fn page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    kind: Kind,
    new_name: String,
    errors: FieldErrors,
) -> Result<HttpResponse, WebError> {
    let rows = state
        .db(move |conn| kinds::list(conn, kind).map_err(DbError::from))
        .await?;
    let has_errors = !errors.is_empty();
    render::form(
        &KindsPage {
            ctx,
            kind,
            rows,
            new_name,
            errors,
        },
        has_errors,
    )
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    slug: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let kind = kind_of(&slug)?;
    page(&state, ctx, kind, String::new(), FieldErrors::default()).await
}

#[derive(Deserialize)]
pub struct KindForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    synced: Option<String>,
}

fn back(state: &AppState, kind: Kind, flash: &Flash) -> HttpResponse {
    flash::see_other_with(
        &format!("/settings/{}", kind.slug()),
        flash,
        &state.settings.session_key,
    )
}

/// Success, or a refusal the user can act on, as a flash on the list.
fn after(
    state: &AppState,
    kind: Kind,
    result: Result<String, OrgError>,
    done: impl FnOnce(String) -> String,
) -> Result<HttpResponse, WebError> {
    match result {
        Ok(name) => Ok(back(state, kind, &Flash::success(done(name)))),
        Err(OrgError::Conflict(message)) => Ok(back(state, kind, &Flash::error(message))),
        Err(OrgError::Invalid(problem)) => {
            let message = problem
                .errors
                .get("name")
                .unwrap_or("Check the name.")
                .to_owned();
            Ok(back(state, kind, &Flash::error(message)))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn add(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    slug: web::Path<String>,
    CsrfForm(form): CsrfForm<KindForm>,
) -> Result<HttpResponse, WebError> {
    let kind = kind_of(&slug)?;
    let (name, synced) = (form.name.clone(), form.synced.is_some());
    match state
        .db(move |conn| kinds::add(conn, &user, kind, &name, synced))
        .await
    {
        Ok(name) => Ok(back(
            &state,
            kind,
            &Flash::success(format!("Added {name}.")),
        )),
        Err(OrgError::Invalid(problem)) => page(&state, ctx, kind, form.name, problem.errors).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn change(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    path: web::Path<(String, i64)>,
    CsrfForm(form): CsrfForm<KindForm>,
) -> Result<HttpResponse, WebError> {
    let (slug, id) = path.into_inner();
    let kind = kind_of(&slug)?;
    let synced = form.synced.is_some();
    let result = state
        .db(move |conn| kinds::change(conn, &user, kind, id, &form.name, synced))
        .await;
    after(&state, kind, result, |name| format!("Saved {name}."))
}

pub async fn remove(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    path: web::Path<(String, i64)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let (slug, id) = path.into_inner();
    let kind = kind_of(&slug)?;
    let result = state
        .db(move |conn| kinds::remove(conn, &user, kind, id))
        .await;
    after(&state, kind, result, |name| format!("Removed {name}."))
}
