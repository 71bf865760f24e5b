//! Admission to `/api`: a body within the limit, a valid key (401 without one, 403 for a wrong,
//! revoked or expired one), the key's rate limit (429 with Retry-After), then per route the
//! action its user's role must allow. The checked key rides in the request's extensions.

use std::future::{Ready, ready};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;
use crate::api::keys::{self, Caller, Refused};
use crate::auth::{Action, allowed};
use crate::web::client_address::client_address;
use crate::web::state::AppState;

/// The window of `ROSTER_API_RATE_LIMIT`.
const WINDOW: Duration = Duration::from_secs(300);

/// Requests per key per five minutes; in process memory (as the sign-in limits), keyed by the
/// key's id, so it holds one entry per key in use.
#[derive(Clone)]
pub struct Limiter(Arc<DefaultKeyedRateLimiter<i64>>);

impl Limiter {
    pub fn new(per_window: u32) -> Self {
        let burst = NonZeroU32::new(per_window).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(WINDOW / burst.get())
            .unwrap_or_else(|| Quota::per_second(burst))
            .allow_burst(burst);
        Limiter(Arc::new(RateLimiter::keyed(quota)))
    }

    /// `Err(seconds to wait)` when the key has used its requests.
    fn check(&self, key: i64) -> Result<(), u64> {
        self.0.check_key(&key).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                + 1
        })
    }
}

/// The key that admitted this request.
pub struct KeyHolder(pub Caller);

impl FromRequest for KeyHolder {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .map(KeyHolder)
                .ok_or(ApiError::MissingKey),
        )
    }
}

fn too_large(req: &ServiceRequest) -> bool {
    req.headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > super::BODY_LIMIT as u64)
}

async fn check_key(req: &ServiceRequest) -> Result<Caller, ApiError> {
    if too_large(req) {
        return Err(ApiError::TooLarge);
    }
    let key = req
        .headers()
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(ApiError::MissingKey)?
        .to_owned();
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no application state")))?
        .clone()
        .into_inner();
    let from = client_address(&state.settings, req.request()).map(|a| a.to_string());
    let secret = state.settings.session_key.clone();
    let found = state
        .db(move |conn| {
            keys::authenticate(conn, &secret, &key, from.as_deref()).map_err(ApiError::from)
        })
        .await?;
    let caller = found.map_err(|refused| {
        ApiError::KeyRefused(match refused {
            Refused::Unknown => "is not known to this Roster",
            Refused::Revoked => "has been revoked",
            Refused::Expired => "has expired",
            Refused::UserInactive => "acts as a user who has been deactivated",
        })
    })?;
    state.observe(caller.kinds_version.clone(), caller.marks_version);
    let limiter = req
        .app_data::<web::Data<Limiter>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no API limiter")))?;
    limiter
        .check(caller.key.id)
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    Ok(caller)
}

/// Every `/api` request: admitted with its key, or answered with the reason.
pub async fn admit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    match check_key(&req).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Err(e) => Ok(req.error_response(e)),
    }
}

/// A route's rule: the key's user's role allows `action`.
pub async fn require(
    action: Action,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let role = req.extensions().get::<Caller>().map(|c| c.user.role);
    match role {
        Some(role) if allowed(role, action) => Ok(next.call(req).await?.map_into_boxed_body()),
        Some(role) => Ok(req.error_response(ApiError::Forbidden(format!(
            "The key acts as a {} user, whose role does not allow this.",
            role.label()
        )))),
        None => Ok(req.error_response(ApiError::MissingKey)),
    }
}
