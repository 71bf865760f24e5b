//! The organization form as multipart (it carries the Logo file): its fields, its CSRF check, the
//! logo pipeline run on the blocking pool within a memory budget, and the route that serves logos.

use actix_multipart::MultipartError;
use actix_multipart::form::MultipartForm;
use actix_multipart::form::MultipartFormConfig;
use actix_multipart::form::bytes::Bytes as FileBytes;
use actix_multipart::form::text::Text;
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use super::csrf_form;
use super::ctx::CurrentUser;
use super::error::WebError;
use super::state::AppState;
use crate::db::DbError;
use crate::logo::{self, MAX_BYTES};
use crate::orgs::logos::{self, LogoChange};
use crate::orgs::{OrgForm, OrgId, Scope};

/// The form's text fields, then the file. Missing fields are empty.
#[derive(MultipartForm)]
pub struct OrgUpload {
    csrf_token: Option<Text<String>>,
    name: Option<Text<String>>,
    short_name: Option<Text<String>>,
    type_id: Option<Text<String>>,
    status_id: Option<Text<String>>,
    parent_id: Option<Text<String>>,
    parent_name: Option<Text<String>>,
    description: Option<Text<String>>,
    quick_notes: Option<Text<String>>,
    alert: Option<Text<String>>,
    confirm_similar: Option<Text<String>>,
    remove_logo: Option<Text<String>>,
    #[multipart(limit = "10MB")]
    logo: Option<FileBytes>,
}

fn text(field: Option<Text<String>>) -> String {
    field.map(|t| t.0).unwrap_or_default()
}

/// What the user asked for the logo, before the file is checked.
pub enum LogoRequest {
    Keep,
    Remove,
    Upload(web::Bytes),
}

impl OrgUpload {
    /// The form and the logo request, once the CSRF token is verified (the file name and the
    /// content type the browser claims are never used).
    pub fn accept(self, req: &HttpRequest) -> Result<(OrgForm, LogoRequest), WebError> {
        csrf_form::verify(req, &text(self.csrf_token))?;
        let logo = match self.logo.filter(|f| !f.data.is_empty()) {
            Some(file) => LogoRequest::Upload(file.data),
            None if self.remove_logo.is_some() => LogoRequest::Remove,
            None => LogoRequest::Keep,
        };
        let form = OrgForm {
            name: text(self.name),
            short_name: text(self.short_name),
            type_id: text(self.type_id),
            status_id: text(self.status_id),
            parent_id: text(self.parent_id),
            parent_name: text(self.parent_name),
            description: text(self.description),
            quick_notes: text(self.quick_notes),
            alert: text(self.alert),
            confirm_similar: text(self.confirm_similar),
        };
        Ok((form, logo))
    }
}

/// Uploads: 10 MB for the logo, a little more for the whole form; beyond that a 413 that says so.
pub fn config() -> MultipartFormConfig {
    MultipartFormConfig::default()
        .total_limit(MAX_BYTES + 256 * 1024)
        .memory_limit(MAX_BYTES + 256 * 1024)
        .error_handler(|err: MultipartError, _req| {
            let too_large = err.status_code() == StatusCode::PAYLOAD_TOO_LARGE
                || matches!(err, MultipartError::Payload(PayloadError::Overflow));
            if too_large {
                WebError::TooLarge("The logo is larger than 10 MB, the most Roster accepts. Use a smaller image (260 px wide is enough).".into()).into()
            } else {
                WebError::BadRequest("the form could not be read".into()).into()
            }
        })
}

/// Checks and scales an uploaded logo on the blocking pool, once the memory its decoding takes is
/// reserved from the shared budget: many small logos decode at once, a few large ones wait their
/// turn, and pages are never held up. `Err` carries the message for the form.
pub async fn prepare(
    state: &web::Data<AppState>,
    request: LogoRequest,
) -> Result<Result<LogoChange, String>, WebError> {
    match request {
        LogoRequest::Keep => Ok(Ok(LogoChange::Keep)),
        LogoRequest::Remove => Ok(Ok(LogoChange::Remove)),
        LogoRequest::Upload(bytes) => {
            // The header alone: cheap enough for this thread.
            let plan = match logo::inspect(&bytes) {
                Ok(plan) => plan,
                Err(e) => return Ok(Err(e.to_string())),
            };
            let _reserved = state
                .logo_memory
                .acquire_many(plan.memory_mib())
                .await
                .map_err(|e| WebError::Internal(e.into()))?;
            let processed = web::block(move || logo::process_planned(&bytes, &plan))
                .await
                .map_err(|e| WebError::Internal(anyhow::anyhow!("logo task: {e}")))?;
            Ok(processed
                .map(LogoChange::Replace)
                .map_err(|e| e.to_string()))
        }
    }
}

/// GET /organizations/{org}/logo: only to users who may see the organization.
pub async fn serve(
    state: web::Data<AppState>,
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, WebError> {
    let scope = Scope::of(&user);
    let org = OrgId(*id);
    let stored = state
        .db(move |conn| logos::get(conn, scope, org).map_err(DbError::from))
        .await?
        .ok_or(WebError::NotFound)?;
    let etag = format!("\"{}\"", stored.sha256);
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((
            header::CACHE_CONTROL,
            "private, max-age=3600, must-revalidate",
        ))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("inline"),
        ));
    if cached {
        return Ok(response.finish());
    }
    Ok(response
        .content_type(stored.content_type)
        .body(stored.bytes))
}
