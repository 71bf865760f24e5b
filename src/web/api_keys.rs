//! Settings > API keys (Administrators): the list with last use, a new key shown once, and
//! Revoke behind a confirmation page. The keys themselves live in `api::keys`.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::csrf_form::{CsrfForm, NoFields};
use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::flash::{self, Flash};
use super::render;
use super::state::AppState;
use crate::api::keys::{self, Listed, NewKey, Which};
use crate::auth::AuthError;
use crate::db::{DbError, now};
use crate::validation::FieldErrors;

const LIST: &str = "/settings/api-keys";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct KeyForm {
    name: String,
    user: String,
    expires: String,
    password_access: Option<String>,
}

/// A key as the list shows it.
struct KeyLine {
    id: i64,
    name: String,
    prefix: String,
    user: String,
    password_access: bool,
    expires: String,
    last_used: String,
    state: &'static str,
}

impl KeyLine {
    fn of(listed: Listed) -> Self {
        let at = now();
        let key = listed.key;
        let when = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M UTC").to_string();
        KeyLine {
            id: key.id,
            state: key.state(at),
            expires: key.expires_at.map_or_else(|| "never".to_owned(), when),
            last_used: key.last_used_at.map_or_else(
                || "never".to_owned(),
                |t| {
                    format!(
                        "{} from {}",
                        when(t),
                        key.last_used_from
                            .as_deref()
                            .unwrap_or("an unknown address")
                    )
                },
            ),
            name: key.name,
            prefix: key.prefix,
            user: listed.user_email,
            password_access: key.password_access,
        }
    }
}

#[derive(Template)]
#[template(path = "settings/api_keys.html")]
struct KeysPage {
    ctx: PageCtx,
    api_url: String,
    rows: Vec<KeyLine>,
    form: KeyForm,
    errors: FieldErrors,
    /// The key just made, shown this once.
    shown: Option<String>,
}

async fn page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    form: KeyForm,
    errors: FieldErrors,
    shown: Option<String>,
) -> Result<HttpResponse, WebError> {
    let rows = state
        .db(|conn| keys::list(conn).map_err(DbError::from))
        .await?;
    let has_errors = !errors.is_empty();
    let page = KeysPage {
        ctx,
        api_url: format!("{}/api", state.settings.base_url),
        rows: rows.into_iter().map(KeyLine::of).collect(),
        form,
        errors,
        shown,
    };
    let response = render::form(&page, has_errors)?;
    Ok(no_store(response))
}

/// The page that shows a key must not stay in a cache.
fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    response
}

pub async fn list(state: web::Data<AppState>, ctx: PageCtx) -> Result<HttpResponse, WebError> {
    page(
        &state,
        ctx,
        KeyForm::default(),
        FieldErrors::default(),
        None,
    )
    .await
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> Result<HttpResponse, WebError> {
    let new = match NewKey::parse(
        &form.name,
        &form.user,
        form.password_access.is_some(),
        &form.expires,
    ) {
        Ok(new) => new,
        Err(errors) => return page(&state, ctx, form, errors, None).await,
    };
    let secret = state.settings.session_key.clone();
    match state
        .db(move |conn| keys::create(conn, &secret, Some(&user), &new))
        .await
    {
        Ok((_, key)) => {
            page(
                &state,
                ctx,
                KeyForm::default(),
                FieldErrors::default(),
                Some(key),
            )
            .await
        }
        Err(AuthError::Invalid(errors)) => page(&state, ctx, form, errors, None).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "settings/api_key_revoke.html")]
struct RevokePage {
    ctx: PageCtx,
    id: i64,
    name: String,
    prefix: String,
    user: String,
}

pub async fn confirm_revoke(
    state: web::Data<AppState>,
    ctx: PageCtx,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let listed = state
        .db(|conn| keys::list(conn).map_err(DbError::from))
        .await?
        .into_iter()
        .find(|l| l.key.id == id && l.key.revoked_at.is_none())
        .ok_or(WebError::NotFound)?;
    render::page(&RevokePage {
        ctx,
        id,
        name: listed.key.name,
        prefix: listed.key.prefix,
        user: listed.user_email,
    })
}

pub async fn revoke(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let key = state
        .db(move |conn| keys::revoke(conn, Some(&user), Which::Id(id)))
        .await?;
    Ok(flash::see_other_with(
        LIST,
        &Flash::success(format!(
            "Revoked the API key {} ({}).",
            key.name, key.prefix
        )),
        &state.settings.session_key,
    ))
}
