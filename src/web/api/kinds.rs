//! `/api/organization_types` and `/api/organization_statuses` writes (POST, PATCH one), through
//! `orgs::kinds` as the Settings pages (same name rules, audit, and the version bump that tells
//! every instance's cache of the lists).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::body::{Document, attributes, resource_id};
use super::document;
use super::error::{ApiError, document as respond};
use super::keyed::KeyHolder;
use crate::orgs::OrgError;
use crate::orgs::kinds::{self, Kind};
use crate::web::state::AppState;

fn resource_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Type => "organization-types",
        Kind::Status => "organization-statuses",
    }
}

/// The name and the sync flag sent (`None`: not sent, kept).
fn fields(attrs: Option<&Map<String, Value>>) -> Result<(Option<String>, Option<bool>), ApiError> {
    let attrs = attrs.cloned().unwrap_or_default();
    let bad = |name: &str, wanted: &str| {
        ApiError::Invalid(vec![(
            format!("/data/attributes/{name}"),
            format!("{name} takes {wanted}."),
        )])
    };
    let name = match attrs.get("name") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) => Some(String::new()),
        Some(_) => return Err(bad("name", "text")),
    };
    let synced = match attrs.get("synced") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Some(s == "true"),
        Some(_) => return Err(bad("synced", "true or false")),
    };
    Ok((name, synced))
}

fn kind_error(e: OrgError) -> ApiError {
    match e {
        OrgError::Invalid(problem) => ApiError::Invalid(
            problem
                .errors
                .iter()
                .map(|(field, message)| (format!("/data/attributes/{field}"), message.to_owned()))
                .collect(),
        ),
        OrgError::Conflict(m) => ApiError::Invalid(vec![("/data".into(), m)]),
        OrgError::LooksLike(_) => ApiError::Invalid(vec![(
            "/data/attributes/name".into(),
            "A similar name exists.".into(),
        )]),
        OrgError::Forbidden(m) => ApiError::Forbidden(m),
        OrgError::NotFound => ApiError::NotFound,
        OrgError::Db(e) => e.into(),
    }
}

/// What a POST or PATCH sent: the id in the document, the name and the sync flag.
type Sent = (Option<i64>, Option<String>, Option<bool>);

/// The one resource of a POST or PATCH, of the right type.
fn one(doc: &Document, kind: Kind) -> Result<Sent, ApiError> {
    let resources = doc.resources(resource_type(kind))?;
    let [(_, resource)] = resources.as_slice() else {
        return Err(ApiError::Invalid(vec![(
            "/data".into(),
            "Send one resource in data.".into(),
        )]));
    };
    let id = resource_id(resource).and_then(|v| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    let (name, synced) = fields(attributes(resource))?;
    Ok((id, name, synced))
}

async fn save(
    state: &web::Data<AppState>,
    caller: &crate::api::keys::Caller,
    kind: Kind,
    id: Option<i64>,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let doc = Document::parse(body)?;
    let (given, name, synced) = one(&doc, kind)?;
    if let (Some(id), Some(given)) = (id, given)
        && id != given
    {
        return Err(ApiError::Invalid(vec![(
            "/data/id".into(),
            format!("The id in the document ({given}) is not the one in the address ({id})."),
        )]));
    }
    let actor = caller.actor();
    let created = id.is_none();
    let (id, name, synced) = state
        .db(move |conn| {
            let all = kinds::all(conn, kind)?;
            let saved = match id {
                None => kinds::add(
                    conn,
                    &actor,
                    kind,
                    &name.unwrap_or_default(),
                    synced.unwrap_or(false),
                ),
                Some(id) => {
                    let (_, old_name, old_synced) = all
                        .into_iter()
                        .find(|(k, _, _)| *k == id)
                        .ok_or(OrgError::NotFound)?;
                    kinds::change(
                        conn,
                        &actor,
                        kind,
                        id,
                        &name.unwrap_or(old_name),
                        synced.unwrap_or(old_synced),
                    )
                }
            }?;
            kinds::all(conn, kind)?
                .into_iter()
                .find(|(_, n, _)| *n == saved)
                .ok_or(OrgError::NotFound)
        })
        .await
        .map_err(kind_error)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let data = document::kind(resource_type(kind), id, &name, synced);
    Ok(respond(status, &json!({ "data": data })))
}

fn path_id(text: &str) -> Result<i64, ApiError> {
    text.trim().parse().map_err(|_| ApiError::NotFound)
}

pub async fn type_create(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    save(&state, &caller, Kind::Type, None, &body).await
}

pub async fn status_create(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    save(&state, &caller, Kind::Status, None, &body).await
}

pub async fn type_update(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    save(&state, &caller, Kind::Type, Some(path_id(&id)?), &body).await
}

pub async fn status_update(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    save(&state, &caller, Kind::Status, Some(path_id(&id)?), &body).await
}
