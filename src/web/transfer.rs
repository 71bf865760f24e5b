//! Manage Data > Import (Administrators): the upload, streamed to the data folder and refused past
//! `ROSTER_IMPORT_MAX_BYTES` before it is all read; the preview; Apply (CSRF, confirmation), which
//! queues the import job; the job's progress bar and, at the end, its report.

use std::path::PathBuf;

use actix_multipart::{Field, Multipart};
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;
use serde::Deserialize;
use std::io::Write;

use super::csrf_form::{self, CsrfForm};
use super::ctx::{CurrentUser, PageCtx};
use super::error::WebError;
use super::render;
use super::state::AppState;
use crate::db::DbError;
use crate::jobs::queue;
use crate::transfer::apply::{self, Payload};
use crate::transfer::preview::Preview;
use crate::transfer::run::{self, Note, Run};
use crate::transfer::{TransferError, report};

fn uploads(state: &AppState) -> PathBuf {
    state.settings.data_dir.join("imports")
}

/// An upload's name is a token of ours: letters, digits, `-` and `_` only (never a path).
fn upload_path(state: &AppState, token: &str, ext: &str) -> Result<PathBuf, WebError> {
    if token.is_empty()
        || !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(WebError::NotFound);
    }
    Ok(uploads(state).join(format!("{token}.{ext}")))
}

fn internal(e: impl std::fmt::Display) -> WebError {
    WebError::Internal(anyhow::anyhow!("import upload: {e}"))
}

fn too_large(max: u64) -> WebError {
    WebError::TooLarge(format!(
        "The export is larger than {} MB, the most this Roster accepts \
         (ROSTER_IMPORT_MAX_BYTES); nothing was kept. Import it with `roster import itglue PATH \
         --apply` on the server, or raise the limit.",
        max >> 20
    ))
}

#[derive(Template)]
#[template(path = "transfer/import.html")]
struct ImportPage {
    ctx: PageCtx,
    runs: Vec<(Run, String)>,
    max_mb: u64,
    error: Option<String>,
}

pub async fn page(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(_user): CurrentUser,
) -> Result<HttpResponse, WebError> {
    import_page(&state, ctx, None).await
}

async fn import_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let runs = state
        .db(|conn| run::recent(conn, 20).map_err(DbError::from))
        .await?;
    let page = ImportPage {
        ctx,
        runs,
        max_mb: state.settings.jobs.import_max_bytes >> 20,
        error,
    };
    render::form(&page, page.error.is_some())
}

async fn read_text(mut field: Field, most: usize) -> Result<String, WebError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| WebError::BadRequest(e.to_string()))?;
        if bytes.len() + chunk.len() > most {
            return Err(WebError::BadRequest("a form field is too long".into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| WebError::BadRequest("a form field is not text".into()))
}

/// Streams the file to `path`, chunk by chunk on the blocking pool; stops past `max`.
async fn save(mut field: Field, path: PathBuf, max: u64) -> Result<(), WebError> {
    let file = std::fs::File::create(&path).map_err(internal)?;
    let mut file = Some(file);
    let mut written: u64 = 0;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| WebError::BadRequest(e.to_string()))?;
        written += chunk.len() as u64;
        if written > max {
            drop(file.take());
            let _ = std::fs::remove_file(&path);
            return Err(too_large(max));
        }
        let mut open = file.take().ok_or_else(|| internal("the file was lost"))?;
        let back = web::block(move || open.write_all(&chunk).map(|()| open))
            .await
            .map_err(internal)?
            .map_err(internal)?;
        file = Some(back);
    }
    Ok(())
}

pub async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    ctx: PageCtx,
    CurrentUser(_user): CurrentUser,
    mut form: Multipart,
) -> Result<HttpResponse, WebError> {
    let max = state.settings.jobs.import_max_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max.saturating_add(64 << 10)) {
        return Err(too_large(max));
    }
    std::fs::create_dir_all(uploads(&state)).map_err(internal)?;
    let dir = uploads(&state);
    state
        .db(move |conn| {
            crate::transfer::apply_uploads::sweep(conn, &dir, crate::transfer::apply_uploads::KEEP)
                .map_err(DbError::from)
        })
        .await?;
    let token = crate::auth::token::generate();
    let path = upload_path(&state, &token, "zip")?;
    let (mut checked, mut password, mut saved) = (false, String::new(), false);
    while let Some(field) = form.next().await {
        let field = field.map_err(|e| WebError::BadRequest(e.to_string()))?;
        match field.name() {
            Some("csrf_token") => {
                csrf_form::verify(&req, &read_text(field, 200).await?)?;
                checked = true;
            }
            Some("password") => password = read_text(field, 1000).await?,
            // The token comes first in the form: nothing is written for a forged request.
            Some("file") if checked => {
                save(field, path.clone(), max).await?;
                saved = true;
            }
            Some("file") => return Err(WebError::Csrf),
            _ => {
                read_text(field, 1000).await?;
            }
        }
    }
    if !checked {
        return Err(WebError::Csrf);
    }
    if !saved {
        return import_page(&state, ctx, Some("Choose the export's ZIP file.".into())).await;
    }
    let key = state.settings.data_key.clone();
    let password = Some(password).filter(|p| !p.is_empty());
    let sidecar = upload_path(&state, &token, "json")?;
    let zip = path.clone();
    let opened = web::block(move || -> Result<(), TransferError> {
        let payload = Payload::new(&key, &zip, password.as_deref(), true)?;
        payload.open(&key)?;
        let text =
            serde_json::to_string(&payload).map_err(|e| TransferError::Archive(e.to_string()))?;
        std::fs::write(&sidecar, text).map_err(|e| TransferError::Archive(e.to_string()))
    })
    .await
    .map_err(internal)?;
    match opened {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header(("Location", format!("/manage-data/import/{token}")))
            .finish()),
        Err(TransferError::Db(e)) => Err(internal(e)),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            import_page(&state, ctx, Some(e.to_string())).await
        }
    }
}

#[derive(Template)]
#[template(path = "transfer/preview.html")]
struct PreviewPage {
    ctx: PageCtx,
    token: String,
    preview: Preview,
    error: Option<String>,
}

fn read_payload(path: &std::path::Path) -> Result<Payload, WebError> {
    let text = std::fs::read_to_string(path).map_err(|_| WebError::NotFound)?;
    serde_json::from_str(&text).map_err(|_| WebError::NotFound)
}

async fn preview_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    token: String,
    error: Option<String>,
) -> Result<HttpResponse, WebError> {
    let payload = read_payload(&upload_path(state, &token, "json")?)?;
    let key = state.settings.data_key.clone();
    let preview = state
        .db(move |conn| -> Result<Result<Preview, String>, DbError> {
            let opened = payload.open(&key).and_then(|mut source| {
                crate::transfer::lean_conn::without_map(conn, |conn| {
                    crate::transfer::preview::preview(conn, &mut source)
                })
            });
            match opened {
                Ok(p) => Ok(Ok(p)),
                Err(TransferError::Db(e)) => Err(e.into()),
                Err(other) => Ok(Err(other.to_string())),
            }
        })
        .await?
        .map_err(WebError::Conflict)?;
    let page = PreviewPage {
        ctx,
        token,
        preview,
        error,
    };
    render::form(&page, page.error.is_some())
}

pub async fn preview(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(_user): CurrentUser,
    token: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    preview_page(&state, ctx, token.into_inner(), None).await
}

#[derive(Deserialize)]
pub struct ApplyForm {
    confirm: Option<String>,
}

pub async fn start(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(user): CurrentUser,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<ApplyForm>,
) -> Result<HttpResponse, WebError> {
    let token = token.into_inner();
    let sidecar = upload_path(&state, &token, "json")?;
    let payload = read_payload(&sidecar)?;
    if form.confirm.is_none() {
        let message = "Tick \u{201c}I have read the preview\u{201d} to apply the import.";
        return preview_page(&state, ctx, token, Some(message.into())).await;
    }
    let by = user.id.0;
    let job = state
        .db(move |conn| {
            apply::enqueue(conn, &payload, Some(by)).map_err(|e| match e {
                TransferError::Db(e) => DbError::from(e),
                other => DbError::Query(diesel::result::Error::QueryBuilderError(
                    other.to_string().into(),
                )),
            })
        })
        .await?;
    let _ = std::fs::remove_file(&sidecar);
    state.jobs.wake();
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("/manage-data/import/jobs/{}", job.0)))
        .finish())
}

#[derive(Template)]
#[template(path = "transfer/job.html")]
struct JobPage {
    ctx: PageCtx,
    job: crate::jobs::Job,
    notes: Vec<Note>,
    total_notes: i64,
    /// Some notes are not shown.
    more: bool,
    summary: String,
    progress: String,
}

impl JobPage {
    fn running(&self) -> bool {
        matches!(
            self.job.state(),
            crate::jobs::State::Queued | crate::jobs::State::Running
        )
    }

    fn failed(&self) -> bool {
        self.job.state() == crate::jobs::State::Failed
    }
}

pub async fn job(
    state: web::Data<AppState>,
    ctx: PageCtx,
    CurrentUser(_user): CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let id = *id;
    let found = state
        .db(move |conn| -> Result<_, DbError> {
            let Some(run) = run::find(conn, id)? else {
                return Ok(None);
            };
            let Some(job) = queue::find(conn, crate::jobs::JobId(id))? else {
                return Ok(None);
            };
            let (notes, total) = run::notes(conn, id, report::SHOWN)?;
            Ok(Some((run, job, notes, total)))
        })
        .await?;
    let (run, job, notes, total_notes) = found.ok_or(WebError::NotFound)?;
    render::page(&JobPage {
        ctx,
        summary: report::summary(&run),
        progress: report::progress_line(&run),
        more: total_notes > report::SHOWN,
        job,
        notes,
        total_notes,
    })
}
