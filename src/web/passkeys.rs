//! Passkeys on My account (the list, Add a passkey, Remove) and, after the password, signing in
//! with one. `static/passkeys.js` makes the WebAuthn calls; the ceremony routes answer it in JSON
//! (`{"error": ...}` on failure), the rest are forms.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::RegisterPublicKeyCredential;

use super::csrf_form::{CsrfForm, CsrfJson, NoFields};
use super::ctx::{CurrentUser, MaybeSession};
use super::error::WebError;
use super::flash::{self, Flash};
use super::state::AppState;
use crate::auth::passkeys::registration::{self, NAME_FIELD};
use crate::auth::passkeys::{RelyingParty, removal, store};
use crate::auth::{AuthError, UserId};

const ACCOUNT: &str = "/account";

/// A passkey as its row on My account shows it.
pub struct PasskeyRow {
    pub id: i64,
    pub name: String,
    pub added: String,
    pub last_used: String,
}

/// My account's passkey section (`templates/account/passkeys.html`).
pub struct PasskeySection {
    /// Why passkeys are off on this server (`ROSTER_BASE_URL`), when they are.
    pub unavailable: Option<String>,
    pub list: Vec<PasskeyRow>,
}

pub async fn section(
    state: &web::Data<AppState>,
    user: UserId,
) -> Result<PasskeySection, WebError> {
    let lines = state
        .db(move |conn| Ok::<_, WebError>(store::list(conn, user)?))
        .await?;
    let when = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M UTC").to_string();
    Ok(PasskeySection {
        unavailable: state.passkeys.as_ref().err().map(|why| why.0.clone()),
        list: lines
            .into_iter()
            .map(|l| PasskeyRow {
                id: l.id,
                name: l.name,
                added: when(l.created_at),
                last_used: l.last_used_at.map_or_else(|| "never".to_owned(), when),
            })
            .collect(),
    })
}

pub(super) fn relying(state: &AppState) -> Result<&RelyingParty, AuthError> {
    state
        .passkeys
        .as_ref()
        .map_err(|why| AuthError::Conflict(why.0.clone()))
}

/// A ceremony step's answer to the script: the value, or the message to show.
pub(super) fn answer<T: Serialize>(result: Result<T, AuthError>) -> HttpResponse {
    match result {
        Ok(value) => HttpResponse::Ok().json(value),
        Err(AuthError::Invalid(errors)) => {
            let message = errors.get(NAME_FIELD).unwrap_or("Check the form.");
            HttpResponse::UnprocessableEntity()
                .json(serde_json::json!({ "error": message, "field": NAME_FIELD }))
        }
        Err(e) => WebError::from(e).into_json(),
    }
}

/// The hash of this request's session token (the route's rule guarantees a session).
fn this_session(session: MaybeSession) -> String {
    session.0.map(|s| s.token_hash).unwrap_or_default()
}

#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    passkey_name: String,
}

impl NameForm {
    pub fn name(&self) -> &str {
        &self.passkey_name
    }
}

/// Add a passkey, first step: the options for `navigator.credentials.create`.
pub async fn registration_options(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    session: MaybeSession,
    CsrfForm(form): CsrfForm<NameForm>,
) -> HttpResponse {
    let (shared, hash) = (state.clone(), this_session(session));
    let result = state
        .db(move |conn| {
            let rp = relying(&shared)?;
            registration::start(conn, rp, &actor, &hash, &form.passkey_name)
        })
        .await;
    answer(result)
}

#[derive(Serialize)]
struct Next {
    redirect: &'static str,
    /// Recovery codes made with a first factor, for the script to show once.
    #[serde(skip_serializing_if = "Option::is_none")]
    codes: Option<Vec<String>>,
}

/// Add a passkey, second step: the authenticator's answer; on success the script goes back to
/// My account, which shows the flash (after showing new recovery codes, when there are any).
pub async fn register(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    session: MaybeSession,
    CsrfJson(credential): CsrfJson<RegisterPublicKeyCredential>,
) -> HttpResponse {
    let (shared, hash) = (state.clone(), this_session(session));
    let result = state
        .db(move |conn| {
            let rp = relying(&shared)?;
            let key = &shared.settings.data_key;
            registration::finish(conn, (rp, key), &actor, &hash, &credential)
        })
        .await;
    match result {
        Ok(added) => {
            let message = format!("The passkey {} is added.", added.name);
            let cookie = flash::host_cookie(
                flash::COOKIE,
                Flash::success(message).encode(&state.settings.session_key),
            );
            let mut response = answer(Ok(Next {
                redirect: ACCOUNT,
                codes: added.codes,
            }));
            let _ = response.add_cookie(&cookie);
            response
        }
        Err(e) => answer::<()>(Err(e)),
    }
}

pub async fn remove(
    state: web::Data<AppState>,
    CurrentUser(actor): CurrentUser,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let name = state
        .db(move |conn| removal::remove(conn, &actor, id))
        .await?;
    let message = Flash::success(format!("The passkey {name} is removed."));
    Ok(flash::see_other_with(
        ACCOUNT,
        &message,
        &state.settings.session_key,
    ))
}
