//! The one place where errors become HTTP responses. Handlers return `WebError`; the
//! `render_errors` middleware turns every error response into a page in the layout, with the
//! request id, and logs the cause of a 500 (which the page never shows).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use askama::Template;
use tracing_actix_web::RequestId;

use super::ctx::{PageCtx, RequestCtx};
use crate::auth::AuthError;
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("the form has expired or did not come from this site")]
    Csrf,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("payload too large")]
    TooLarge(String),
    /// A request body in a `Content-Encoding` (refused unread: it could inflate without bound).
    #[error("unsupported content encoding: {0}")]
    Encoded(String),
    /// No live session on a `Rule::Checked` route (found inside the handler's database work):
    /// the guard turns it into the redirect to sign in.
    #[error("sign in first")]
    SignInFirst,
    /// The database cannot be reached (down, restarting, or the network to it is cut).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// What a 503 tells the browser: seconds before trying again.
const RETRY_AFTER_SECONDS: &str = "10";

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Encoded(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::SignInFirst => StatusCode::UNAUTHORIZED,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        // The body is written by `render_errors`, which has the request.
        let mut response = HttpResponse::build(self.status_code());
        if let WebError::Unavailable(_) = self {
            response.insert_header((RETRY_AFTER, RETRY_AFTER_SECONDS));
        }
        response.finish()
    }
}

impl From<crate::auth::Denied> for WebError {
    fn from(denied: crate::auth::Denied) -> Self {
        WebError::Forbidden(denied.reason().into())
    }
}

impl From<DbError> for WebError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(cause) => WebError::Unavailable(cause),
            other => WebError::Internal(other.into()),
        }
    }
}

impl From<diesel::result::Error> for WebError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<AuthError> for WebError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Invalid(_) => WebError::BadRequest("the form has errors".into()),
            AuthError::Forbidden(m) => WebError::Forbidden(m),
            AuthError::NotFound => WebError::NotFound,
            AuthError::Conflict(m) => WebError::Conflict(m),
            AuthError::Db(e) => e.into(),
            AuthError::Hash(e) => WebError::Internal(e.into()),
            AuthError::Secret(m) => WebError::Internal(anyhow::anyhow!(m)),
        }
    }
}

impl WebError {
    /// For requests made by the passkey script: the status with `{"error": message}`, which
    /// `render_errors` leaves alone (it renders only responses that carry an error).
    pub fn into_json(self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let message = match &self {
            WebError::Forbidden(m) | WebError::Conflict(m) if !m.is_empty() => m.clone(),
            other => describe(status, Some(other)).1,
        };
        HttpResponse::build(status).json(serde_json::json!({ "error": message }))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: PageCtx,
    title: &'static str,
    message: String,
    request_id: String,
}

fn describe(status: StatusCode, error: Option<&WebError>) -> (&'static str, String) {
    match (status, error) {
        (_, Some(WebError::Forbidden(m))) => ("Not allowed", format!("Your role does not allow this. {m}")),
        (_, Some(WebError::Csrf)) => (
            "Form expired",
            "This form has expired or did not come from Roster. Go back, reload the page and try again."
                .into(),
        ),
        (_, Some(WebError::Conflict(m))) => ("Cannot do that", m.clone()),
        (_, Some(WebError::TooLarge(m))) => ("Too large", m.clone()),
        (_, Some(WebError::Encoded(encoding))) => (
            "Compressed request refused",
            format!(
                "Roster does not accept requests with Content-Encoding: {encoding}. Send the request \
                 uncompressed (browsers always do)."
            ),
        ),
        (_, Some(WebError::Unavailable(_))) => (
            "Database unavailable",
            "Roster cannot reach its database at the moment, so this page cannot be shown. Nothing \
             was changed. Try again in a few seconds; if it lasts, tell your administrator."
                .into(),
        ),
        (_, Some(WebError::BadRequest(m))) => ("Bad request", format!("The request could not be understood: {m}.")),
        (StatusCode::NOT_FOUND, _) => ("Not found", "There is nothing here, or you do not have access to it.".into()),
        (StatusCode::FORBIDDEN, _) => ("Not allowed", "Your role does not allow this.".into()),
        (StatusCode::PAYLOAD_TOO_LARGE, _) => (
            "Too large",
            "What you sent is larger than Roster accepts (forms: 64 KB). Shorten it and try again.".into(),
        ),
        (StatusCode::METHOD_NOT_ALLOWED, _) => ("Not allowed", "This address does not accept that method.".into()),
        (s, _) if s.is_client_error() => ("Bad request", "The request could not be understood.".into()),
        _ => (
            "Something went wrong",
            "Roster could not complete this request. Nothing was changed by the failed step; try again, \
             and if it keeps happening give the request id below to your administrator."
                .into(),
        ),
    }
}

/// Renders every error response (from handlers, extractors or the router) as a page.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let Some(err) = res.response().error() else {
        return Ok(res);
    };
    let web_error = err.as_error::<WebError>();
    let request_id = res
        .request()
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    // An outage is logged once, when it starts and when it ends (`db::DbPool`), not per request.
    let outage = matches!(web_error, Some(WebError::Unavailable(_)));
    if status.is_server_error() && !outage {
        tracing::error!(request_id = %request_id, error = ?err, "request failed");
    }
    let (title, message) = describe(status, web_error);
    let ctx = res
        .request()
        .extensions()
        .get::<RequestCtx>()
        .map(RequestCtx::page)
        .unwrap_or_default();
    let page = ErrorPage {
        ctx,
        title,
        message,
        request_id,
    };
    let body = page
        .render()
        .unwrap_or_else(|_| format!("{title}: {}", page.message));
    let (req, mut response) = res.into_parts();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    let response = response.set_body(BoxBody::new(body));
    Ok(ServiceResponse::new(req, response))
}

/// The default service: anything not in the route table.
pub async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}
