//! `CsrfForm<T>`: a URL-encoded form whose CSRF token has been checked (constant time) against the
//! one bound to this session. Requests that say they come from another site are refused outright.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::ctx::RequestCtx;
use super::error::WebError;
use crate::auth::csrf;

pub struct CsrfForm<T>(pub T);

/// A form whose only field is the CSRF token (a button that posts).
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
struct TokenOnly {
    csrf_token: Option<String>,
}

fn check_origin(req: &HttpRequest) -> Result<(), WebError> {
    let cross = req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    if cross { Err(WebError::Csrf) } else { Ok(()) }
}

fn check_token(req: &HttpRequest, body: &[u8]) -> Result<(), WebError> {
    let given = serde_urlencoded::from_bytes::<TokenOnly>(body)
        .ok()
        .and_then(|t| t.csrf_token)
        .ok_or(WebError::Csrf)?;
    same_token(req, &given)
}

/// For forms read another way (multipart): the origin and the token, as for `CsrfForm`.
pub fn verify(req: &HttpRequest, given: &str) -> Result<(), WebError> {
    check_origin(req)?;
    same_token(req, given)
}

fn same_token(req: &HttpRequest, given: &str) -> Result<(), WebError> {
    let extensions = req.extensions();
    let expected = extensions
        .get::<RequestCtx>()
        .map(|c| c.csrf_token.as_str())
        .ok_or(WebError::Csrf)?;
    if csrf::matches(expected, given) {
        Ok(())
    } else {
        Err(WebError::Csrf)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            check_origin(&req)?;
            if req.content_type() != "application/x-www-form-urlencoded" {
                return Err(WebError::BadRequest("expected a form".into()));
            }
            let body = body.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    WebError::TooLarge(
                        "Forms are limited to 64 KB. Shorten what you typed and try again.".into(),
                    )
                } else {
                    WebError::BadRequest("the form could not be read".into())
                }
            })?;
            check_token(&req, &body)?;
            serde_urlencoded::from_bytes::<T>(&body)
                .map(CsrfForm)
                .map_err(|e| WebError::BadRequest(e.to_string()))
        })
    }
}

/// The header that carries the CSRF token of a JSON request (the passkey script's).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON body whose CSRF token, sent in the `X-CSRF-Token` header, has been checked like a
/// form's. Only the passkey script sends JSON.
pub struct CsrfJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for CsrfJson<T> {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            let given = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .ok_or(WebError::Csrf)?;
            verify(&req, given)?;
            if req.content_type() != "application/json" {
                return Err(WebError::BadRequest("expected JSON".into()));
            }
            let body = body
                .await
                .map_err(|_| WebError::BadRequest("the request could not be read".into()))?;
            serde_json::from_slice::<T>(&body)
                .map(CsrfJson)
                .map_err(|e| {
                    WebError::BadRequest(format!("the passkey's answer is malformed: {e}"))
                })
        })
    }
}
