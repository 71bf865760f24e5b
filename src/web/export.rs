//! Manage Data > Export (Administrators) and an organization's own export (Managers and
//! Administrators who can see it): start the export job (passwords only after the password is
//! typed again), follow its progress, download the file (streamed, audited, only by its owner).

use std::io::Read;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::Stream;
use serde::Deserialize;

use super::client_address::client_address;
use super::csrf_form::{CsrfForm, NoFields};
use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::render;
use super::state::AppState;
use crate::auth::User;
use crate::auth::lockout::Source;
use crate::db::DbError;
use crate::jobs::{Job, State};
use crate::transfer::export::Scope;
use crate::transfer::export_job;
use crate::transfer::export_use::{self, StartError};
use crate::validation::FieldErrors;

#[derive(Template)]
#[template(path = "export/index.html")]
struct ExportPage {
    ctx: PageCtx,
    jobs: Vec<Job>,
    with_passwords: bool,
    errors: FieldErrors,
}

impl ExportPage {
    fn state(&self, job: &Job) -> &'static str {
        state_words(job)
    }
}

fn state_words(job: &Job) -> &'static str {
    match job.state() {
        State::Queued | State::Running => "Writing",
        State::Failed => "Failed",
        _ if export_use::fresh(job) => "Ready",
        _ => "Expired",
    }
}

async fn export_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    user: User,
    (with_passwords, errors): (bool, FieldErrors),
) -> Result<HttpResponse, WebError> {
    let data_dir = state.settings.data_dir.clone();
    let jobs = state
        .db(move |conn| {
            export_job::remove_expired(&data_dir);
            export_use::recent(conn, &user).map_err(DbError::from)
        })
        .await?;
    let page = ExportPage {
        ctx,
        jobs,
        with_passwords,
        errors,
    };
    render::form(&page, !page.errors.is_empty())
}

pub async fn page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
) -> Result<HttpResponse, WebError> {
    export_page(&state, ctx, user, (false, FieldErrors::default())).await
}

#[derive(Deserialize)]
pub struct ExportForm {
    include_passwords: Option<String>,
    #[serde(default)]
    password: String,
}

fn to_job(id: i64) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", format!("/manage-data/export/jobs/{id}")))
        .finish()
}

/// Queues `scope` for `user`: `Ok(Err(..))` when the typed password is wrong.
async fn queue_export(
    state: &web::Data<AppState>,
    user: User,
    scope: Scope,
    typed: String,
) -> Result<Result<i64, StartError>, WebError> {
    let started = state
        .db(
            move |conn| match export_use::start(conn, &user, scope, &typed) {
                Ok(id) => Ok(Ok(id.0)),
                Err(StartError::Db(e)) => Err(DbError::from(e)),
                Err(other) => Ok(Err(other)),
            },
        )
        .await?;
    if started.is_ok() {
        state.jobs.wake();
    }
    Ok(started)
}

pub async fn start(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    CsrfForm(form): CsrfForm<ExportForm>,
) -> Result<HttpResponse, WebError> {
    let scope = Scope {
        organization: None,
        with_passwords: form.include_passwords.is_some(),
    };
    // Typing the password again is throttled like changing it.
    let address = client_address(&state.settings, &req);
    let source = Source::signed_in(&user.email, address, &state.settings.session_key);
    if scope.with_passwords
        && !state
            .throttle
            .admit((source.email, source.address), source.address)
    {
        let errors = FieldErrors::single("password", super::account::THROTTLED);
        return export_page(&state, ctx, user, (true, errors)).await;
    }
    match queue_export(&state, user.clone(), scope, form.password).await? {
        Ok(id) => Ok(to_job(id)),
        Err(e @ StartError::WrongPassword) => {
            let errors = FieldErrors::single("password", e.to_string());
            export_page(&state, ctx, user, (true, errors)).await
        }
        Err(_) => Err(WebError::NotFound),
    }
}

/// An organization's own export (without passwords), from its page.
pub async fn start_org(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    org: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let scope = Scope {
        organization: Some(org.into_inner()),
        with_passwords: false,
    };
    match queue_export(&state, user, scope, String::new()).await? {
        Ok(id) => Ok(to_job(id)),
        Err(_) => Err(WebError::NotFound),
    }
}

#[derive(Template)]
#[template(path = "export/job.html")]
struct JobPage {
    ctx: PageCtx,
    job: Job,
    scope: Scope,
    what: String,
    state: &'static str,
}

pub async fn job(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let found = state
        .db(move |conn| export_use::own_job(conn, &user, id).map_err(DbError::from))
        .await?;
    let (job, scope) = found.ok_or(WebError::NotFound)?;
    render::page(&JobPage {
        ctx,
        what: export_job::what(scope),
        state: state_words(&job),
        job,
        scope,
    })
}

/// The file, read in chunks on the blocking pool (never all in memory).
fn chunks(file: std::fs::File) -> impl Stream<Item = Result<web::Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let read = web::block(move || {
            let mut buf = vec![0u8; 64 << 10];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(web::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    })
}

pub async fn download(
    state: web::Data<AppState>,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let data_dir = state.settings.data_dir.clone();
    let path = state
        .db(move |conn| export_use::download(conn, &user, id, &data_dir).map_err(DbError::from))
        .await?
        .ok_or(WebError::NotFound)?;
    let file = std::fs::File::open(&path).map_err(|_| WebError::NotFound)?;
    let len = file
        .metadata()
        .map_err(|e| WebError::Internal(e.into()))?
        .len();
    let name = format!(
        "roster-export-{id}-{}.zip",
        crate::db::now().format("%Y-%m-%d")
    );
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .no_chunking(len)
        .streaming(chunks(file)))
}
