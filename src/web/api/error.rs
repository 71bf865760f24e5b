//! The API's errors and the one place they become JSON:API responses
//! (`{"errors":[{"status","title","detail","source"}]}`), with the right status and, for 429,
//! `Retry-After`. Errors from actix (a body too large, a bad path) are mapped here too.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{Value, json};

use crate::db::DbError;

pub const MEDIA_TYPE: &str = "application/vnd.api+json; charset=utf-8";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no API key")]
    MissingKey,
    #[error("the API key is not accepted: {0}")]
    KeyRefused(&'static str),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("bad query parameter {parameter}: {detail}")]
    Parameter { parameter: String, detail: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Attributes that do not pass the use case's checks: (JSON pointer, message) each.
    #[error("invalid attributes")]
    Invalid(Vec<(String, String)>),
    #[error("too large")]
    TooLarge,
    /// A body with a `Content-Encoding` (gzip...): refused before it is read.
    #[error("encoded body: {0}")]
    Encoded(String),
    /// A resource of another type than the address holds.
    #[error("wrong type: {0}")]
    WrongType(String),
    #[error("method not allowed")]
    Method,
    #[error("rate limited")]
    RateLimited { retry_after: u64 },
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => ApiError::NotFound,
            other => ApiError::Internal(other.into()),
        }
    }
}

impl ApiError {
    pub fn parameter(parameter: &str, detail: impl Into<String>) -> Self {
        ApiError::Parameter {
            parameter: parameter.to_owned(),
            detail: detail.into(),
        }
    }

    fn title_detail_source(&self) -> (&'static str, String, Option<Value>) {
        match self {
            ApiError::MissingKey => (
                "Unauthorized",
                "Send an API key in the x-api-key header (Settings > API keys).".into(),
                None,
            ),
            ApiError::KeyRefused(why) => ("Forbidden", format!("The API key {why}."), None),
            ApiError::Forbidden(m) => ("Forbidden", m.clone(), None),
            ApiError::NotFound => (
                "Record not found",
                "There is nothing here, or the key's user does not have access to it.".into(),
                None,
            ),
            ApiError::Parameter { parameter, detail } => (
                "Invalid query parameter",
                detail.clone(),
                Some(json!({ "parameter": parameter })),
            ),
            ApiError::BadRequest(m) => ("Bad request", m.clone(), None),
            ApiError::Encoded(encoding) => (
                "Unsupported media type",
                format!(
                    "Roster does not accept request bodies with Content-Encoding \"{encoding}\"; send them uncompressed."
                ),
                None,
            ),
            ApiError::WrongType(m) => (
                "Conflict",
                m.clone(),
                Some(json!({ "pointer": "/data/type" })),
            ),
            ApiError::Invalid(list) => (
                "Unprocessable entity",
                list.first().map(|(_, m)| m.clone()).unwrap_or_default(),
                list.first().map(|(p, _)| json!({ "pointer": p })),
            ),
            ApiError::TooLarge => (
                "Payload too large",
                format!(
                    "The request body is larger than the API accepts ({} MB).",
                    super::BODY_LIMIT / (1024 * 1024)
                ),
                None,
            ),
            ApiError::Method => (
                "Method not allowed",
                "This address does not accept that method.".into(),
                None,
            ),
            ApiError::RateLimited { retry_after } => (
                "Too many requests",
                format!("This key has used its requests for now; try again in {retry_after} s."),
                None,
            ),
            ApiError::Internal(_) => (
                "Internal server error",
                "Roster could not complete this request; nothing was changed by the failed step."
                    .into(),
                None,
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::MissingKey => StatusCode::UNAUTHORIZED,
            ApiError::KeyRefused(_) | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Parameter { .. } | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Encoded(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::WrongType(_) => StatusCode::CONFLICT,
            ApiError::Method => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (title, detail, source) = self.title_detail_source();
        let one = |detail: String, source: Option<Value>| {
            let mut error = json!({
                "status": status.as_str(),
                "title": title,
                "detail": detail,
            });
            if let Some(source) = source {
                error["source"] = source;
            }
            error
        };
        let errors: Vec<Value> = match self {
            ApiError::Invalid(list) if !list.is_empty() => list
                .iter()
                .map(|(pointer, message)| one(message.clone(), Some(json!({ "pointer": pointer }))))
                .collect(),
            _ => vec![one(detail, source)],
        };
        let mut response = HttpResponse::build(status);
        response.insert_header((CONTENT_TYPE, MEDIA_TYPE));
        if let ApiError::RateLimited { retry_after } = self {
            response.insert_header((RETRY_AFTER, retry_after.to_string()));
        }
        response.body(json!({ "errors": errors }).to_string())
    }
}

/// An error that did not come from the API's own code (actix's extractors and router).
fn from_status(status: StatusCode) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::Method,
        s if s.is_client_error() => {
            ApiError::BadRequest("the request could not be understood".into())
        }
        _ => ApiError::Internal(anyhow::anyhow!("status {status}")),
    }
}

/// Turns every error response inside `/api` into a JSON:API one (without the error attached, so
/// the HTML error pages of the rest of Roster leave it alone); logs the cause of a 500.
pub async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(err) = res.response().error() else {
        return Ok(res);
    };
    let response = match err.as_error::<ApiError>() {
        Some(api) => {
            if let ApiError::Internal(cause) = api {
                tracing::error!(error = ?cause, "API request failed");
            }
            api.error_response()
        }
        None => {
            let status = res.status();
            if status.is_server_error() {
                tracing::error!(error = ?err, "API request failed");
            }
            from_status(status).error_response()
        }
    };
    let (req, _) = res.into_parts();
    Ok(ServiceResponse::new(req, response))
}

/// A JSON:API document with the API's media type.
pub fn document(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    document_in(status, body, 4096)
}

/// A document written straight into a body of `room` bytes to start with.
fn document_in(status: StatusCode, body: &impl Serialize, room: usize) -> HttpResponse {
    let mut bytes = Vec::with_capacity(room);
    written(
        status,
        serde_json::to_writer(&mut bytes, body).map(|()| bytes),
    )
}

/// A document already written (or why it could not be).
pub fn written(status: StatusCode, document: serde_json::Result<Vec<u8>>) -> HttpResponse {
    match document {
        Ok(bytes) => {
            let mut response = HttpResponse::build(status);
            response.insert_header((CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE)));
            response.body(bytes)
        }
        Err(e) => ApiError::Internal(e.into()).error_response(),
    }
}
