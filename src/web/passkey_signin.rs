//! Passkeys inside a pending sign-in: **Use a passkey** on `/sign-in/verify` (options, the
//! browser signs, a verified answer completes the sign-in like a right code), and **Add a
//! passkey** on `/sign-in/enrol` under the policy. All need this browser's pending sign-in, never
//! a session, and finish through `second_step::complete`.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};

use super::csrf_form::{CsrfForm, CsrfJson, NoFields};
use super::error::WebError;
use super::flash::Flash;
use super::login::{THROTTLED, wait_message};
use super::passkeys::{NameForm, answer, relying};
use super::second_step::{self, guard_source};
use super::state::AppState;
use crate::auth::passkeys::{authentication, enrolment};
use crate::auth::two_factor::pending::{Pending, Purpose};
use crate::auth::two_factor::second_step::Verdict;

const SIGN_IN_AGAIN: &str = "Sign in again: the second step was not started in this browser, or \
     it took more than 5 minutes.";
const WRONG_PASSKEY: &str = "That passkey did not sign you in. Try again, or use a code or a \
     recovery code.";

/// This browser's pending sign-in for `purpose`, or the script's answer instead.
async fn pending(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    purpose: Purpose,
) -> Result<Pending, HttpResponse> {
    match second_step::current(state, req).await {
        Ok(Some(p)) if p.purpose == purpose => Ok(p),
        Ok(_) => Err(WebError::Forbidden(SIGN_IN_AGAIN.into()).into_json()),
        Err(e) => Err(e.into_json()),
    }
}

fn refused(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "error": message }))
}

/// A redirect made for a form, told to the script instead: 200 with `{"redirect": ...}` (and
/// new recovery codes, to show once), the cookies kept (fetch would follow a 303 itself and lose
/// where it went).
fn for_script(mut response: HttpResponse, codes: Option<Vec<String>>) -> HttpResponse {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("/")
        .to_owned();
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.remove(LOCATION);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = match codes {
        Some(codes) => serde_json::json!({ "redirect": location, "codes": codes }),
        None => serde_json::json!({ "redirect": location }),
    };
    let body = body.to_string();
    response.set_body(BoxBody::new(body))
}

/// Use a passkey, first step: the options for `navigator.credentials.get`.
pub async fn options(
    state: web::Data<AppState>,
    req: HttpRequest,
    CsrfForm(_): CsrfForm<NoFields>,
) -> HttpResponse {
    let pending = match pending(&state, &req, Purpose::Verify).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let shared = state.clone();
    let result = state
        .db(move |conn| authentication::start(conn, relying(&shared)?, &pending))
        .await;
    answer(result)
}

/// Use a passkey, second step: the signed answer. A refusal counts like a wrong code.
pub async fn finish(
    state: web::Data<AppState>,
    req: HttpRequest,
    CsrfJson(credential): CsrfJson<PublicKeyCredential>,
) -> HttpResponse {
    let pending = match pending(&state, &req, Purpose::Verify).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let source = guard_source(&state, &req, &pending.email);
    if !state
        .throttle
        .admit((source.email, source.address), source.address)
    {
        return refused(StatusCode::TOO_MANY_REQUESTS, THROTTLED);
    }
    let (shared, held, limits) = (
        state.clone(),
        pending.clone(),
        state.login_policy().limits(),
    );
    let verdict = state
        .db(move |conn| {
            let rp = relying(&shared)?;
            authentication::finish(conn, rp, &held, &credential, (&source, limits))
        })
        .await;
    match verdict {
        Ok(Verdict::Passed(())) => match second_step::complete(&state, &req, pending, None).await {
            Ok(response) => for_script(response, None),
            Err(e) => e.into_json(),
        },
        Ok(Verdict::Refused) => refused(StatusCode::UNAUTHORIZED, WRONG_PASSKEY),
        Ok(Verdict::Locked) => refused(StatusCode::TOO_MANY_REQUESTS, THROTTLED),
        Ok(Verdict::Wait(left)) => refused(StatusCode::TOO_MANY_REQUESTS, &wait_message(left)),
        Err(e) => answer::<()>(Err(e)),
    }
}

/// Add a passkey under the policy, first step: the options for `navigator.credentials.create`.
pub async fn enrol_options(
    state: web::Data<AppState>,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<NameForm>,
) -> HttpResponse {
    let pending = match pending(&state, &req, Purpose::Enrol).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let shared = state.clone();
    let result = state
        .db(move |conn| enrolment::start(conn, relying(&shared)?, &pending, form.name()))
        .await;
    answer(result)
}

/// Add a passkey under the policy, second step: the authenticator's answer; stored, it signs the
/// user in (after showing the recovery codes of a first factor).
pub async fn enrol(
    state: web::Data<AppState>,
    req: HttpRequest,
    CsrfJson(credential): CsrfJson<RegisterPublicKeyCredential>,
) -> HttpResponse {
    let pending = match pending(&state, &req, Purpose::Enrol).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let (shared, held) = (state.clone(), pending.clone());
    let result = state
        .db(move |conn| {
            let with = (relying(&shared)?, &shared.settings.data_key);
            enrolment::finish(conn, with, &held, &credential)
        })
        .await;
    let added = match result {
        Ok(added) => added,
        Err(e) => return answer::<()>(Err(e)),
    };
    let note = Flash::success(format!("The passkey {} is added.", added.name));
    match second_step::complete(&state, &req, pending, Some(note)).await {
        Ok(response) => for_script(response, added.codes),
        Err(e) => e.into_json(),
    }
}
