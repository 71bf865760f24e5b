//! `/api/organizations` writes: POST, PATCH one, bulk PATCH and bulk DELETE. The document becomes
//! `OrgPatch`es here; `api::orgs_write` saves them as the key's user (the audit trail names the
//! key); two-way sync pushes as after the web form; the answer shows them as `GET` does.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::body::{Document, attributes, resource_id};
use super::document;
use super::error::{ApiError, document as respond};
use super::keyed::KeyHolder;
use super::orgs::list_query;
use super::query::Params;
use crate::api::orgs::{self as read, OrgView};
use crate::api::orgs_write::{self as write, AtItem, OrgPatch, Saved};
use crate::orgs::{OrgError, OrgId, OrgRef, Scope};
use crate::psa::push::{self, Pushed};
use crate::web::state::AppState;

const KIND: &str = "organizations";

/// The attribute (snake_case) a form field's message belongs to.
fn attribute_of(field: &str) -> &str {
    match field {
        "type_id" => "organization_type_id",
        "status_id" => "organization_status_id",
        "parent_name" => "parent_id",
        other => other,
    }
}

fn org_error(e: OrgError, pointer: &str) -> ApiError {
    match e {
        OrgError::Invalid(problem) => ApiError::Invalid(
            problem
                .errors
                .iter()
                .map(|(field, message)| {
                    (
                        format!("{pointer}/attributes/{}", attribute_of(field)),
                        message.to_owned(),
                    )
                })
                .collect(),
        ),
        OrgError::Conflict(m) => ApiError::Invalid(vec![(pointer.to_owned(), m)]),
        OrgError::LooksLike(_) => ApiError::Invalid(vec![(
            format!("{pointer}/attributes/name"),
            "Other organizations have a similar name.".into(),
        )]),
        OrgError::Forbidden(m) => ApiError::Forbidden(m),
        OrgError::NotFound => ApiError::NotFound,
        OrgError::Db(e) => e.into(),
    }
}

fn at_item(AtItem(i, e): AtItem, pointers: &[String]) -> ApiError {
    org_error(e, pointers.get(i).map_or("/data", String::as_str))
}

/// An id as clients send it: a number or a string of digits.
fn id_value(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The writable attributes, kebab-case or snake_case; read-only ones (names of the type and
/// status, times, logo, ancestors...) that clients echo back are ignored.
fn patch(attrs: Option<&Map<String, Value>>, pointer: &str) -> Result<OrgPatch, ApiError> {
    let mut patch = OrgPatch::default();
    let mut errors = Vec::new();
    for (key, value) in attrs.into_iter().flatten() {
        let name = key.replace('-', "_");
        let at = format!("{pointer}/attributes/{name}");
        let text = || match value {
            Value::String(s) => Some(s.clone()),
            Value::Null => Some(String::new()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let id = || match value {
            Value::Null => Some(None),
            Value::String(s) if s.trim().is_empty() => Some(None),
            other => id_value(other).map(Some),
        };
        let slot = match name.as_str() {
            "name" => text().map(|t| patch.name = Some(t)),
            "short_name" => text().map(|t| patch.short_name = Some(t)),
            "description" => text().map(|t| patch.description = Some(t)),
            "quick_notes" => text().map(|t| patch.quick_notes = Some(t)),
            "alert" => text().map(|t| patch.alert = Some(t)),
            "organization_type_id" => id().map(|i| patch.type_id = Some(i)),
            "organization_status_id" => id().map(|i| patch.status_id = Some(i)),
            "parent_id" => id().map(|i| patch.parent_id = Some(i)),
            _ => Some(()),
        };
        if slot.is_none() {
            let wanted = if name.ends_with("_id") {
                "an id (a number, or digits in a string) or null"
            } else {
                "text or null"
            };
            errors.push((at, format!("{name} takes {wanted}, not {value}.")));
        }
    }
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// Two-way sync: the PSA gets the change, as after the web form; what happened, for `meta`.
async fn push(
    state: &web::Data<AppState>,
    id: OrgId,
    created: bool,
) -> Result<Option<String>, ApiError> {
    let pool = state.pool.clone();
    let access = crate::psa::PsaAccess::of(&state.settings);
    let pushed = web::block(move || push::after_save(&pool, &access, id, created))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))??;
    Ok(match pushed {
        Pushed::Nothing => None,
        Pushed::Created { psa, company } => Some(format!("Added to {psa} (company {company}).")),
        Pushed::Updated { psa } => Some(format!("{psa} has the change too.")),
        Pushed::Waiting { psa, reason } => {
            state.jobs.wake();
            Some(format!(
                "Waiting to sync: {reason}. It will be sent to {psa} as soon as it answers."
            ))
        }
        Pushed::Refused { psa, reason } => Some(format!("{psa} refused it: {reason}.")),
        Pushed::AddInPsa { psa } => Some(format!(
            "With one-way sync, add it in {psa} too (with exactly this name): the next data load links them."
        )),
    })
}

fn similar_warning(pointer: &str, similar: &[OrgRef]) -> Value {
    let names: Vec<String> = similar
        .iter()
        .map(|o| format!("{} (id {})", o.name, o.id))
        .collect();
    json!({
        "title": "Similar name",
        "detail": format!("Saved; other organizations have a similar name: {}.", names.join(", ")),
        "source": { "pointer": format!("{pointer}/attributes/name") },
        "organizations": similar.iter().map(|o| json!({"id": o.id.to_string(), "name": o.name})).collect::<Vec<_>>(),
    })
}

/// The saved organizations as `GET` shows them, with warnings and the PSA's answers in `meta`.
async fn answer(
    state: &web::Data<AppState>,
    scope: Scope,
    saved: Vec<(String, Saved)>,
    created: bool,
    single: bool,
) -> Result<HttpResponse, ApiError> {
    let mut warnings = Vec::new();
    let mut psa = Vec::new();
    for (pointer, s) in &saved {
        if !s.similar.is_empty() {
            warnings.push(similar_warning(pointer, &s.similar));
        }
        psa.extend(
            push(state, s.id, created)
                .await?
                .map(|m| json!({ "id": s.id.0.to_string(), "detail": m })),
        );
    }
    let ids: Vec<i64> = saved.iter().map(|(_, s)| s.id.0).collect();
    let views = state
        .db(move |conn| read::views_of(conn, scope, &ids).map_err(ApiError::from))
        .await?;
    let base = &state.settings.base_url;
    let data: Vec<Value> = views
        .iter()
        .map(|v| document::organization(base, v))
        .collect();
    let mut doc = if single {
        json!({ "data": data.into_iter().next().unwrap_or(Value::Null) })
    } else {
        json!({ "data": data })
    };
    if !warnings.is_empty() || !psa.is_empty() {
        doc["meta"] = json!({ "warnings": warnings, "psa": psa });
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(respond(status, &doc))
}

pub async fn create(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let doc = Document::parse(&body)?;
    let mut items = Vec::new();
    for (pointer, resource) in doc.resources(KIND)? {
        items.push((patch(attributes(resource), &pointer)?, pointer));
    }
    let single = items.len() == 1 && doc.is_single();
    let actor = caller.actor();
    let pointers: Vec<String> = items.iter().map(|(_, p)| p.clone()).collect();
    let saved = state
        .db(move |conn| {
            crate::db::write(conn, |conn| {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, (patch, pointer))| {
                        write::create(conn, &actor, patch)
                            .map(|s| (pointer.clone(), s))
                            .map_err(|e| AtItem(i, e))
                    })
                    .collect::<Result<Vec<_>, AtItem>>()
            })
            .map_err(|e| at_item(e, &pointers))
        })
        .await?;
    answer(&state, Scope::of(&caller.user), saved, true, single).await
}

fn path_id(text: &str) -> Result<i64, ApiError> {
    text.trim().parse().map_err(|_| ApiError::NotFound)
}

pub async fn update(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id)?;
    let doc = Document::parse(&body)?;
    let resources = doc.resources(KIND)?;
    let [(pointer, resource)] = resources.as_slice() else {
        return Err(ApiError::Invalid(vec![(
            "/data".into(),
            "PATCH of one organization takes one resource in data.".into(),
        )]));
    };
    if let Some(given) = resource_id(resource)
        && id_value(given) != Some(id)
    {
        return Err(ApiError::Invalid(vec![(
            format!("{pointer}/id"),
            format!("The id in the document ({given}) is not the one in the address ({id})."),
        )]));
    }
    let (pointer, patch) = (pointer.clone(), patch(attributes(resource), pointer)?);
    let actor = caller.actor();
    let at = pointer.clone();
    let saved = state
        .db(move |conn| {
            write::update(
                conn,
                &actor,
                OrgId(id),
                &patch,
                &crate::psa::settings::OneWay,
            )
            .map_err(|e| org_error(e, &at))
        })
        .await?;
    answer(
        &state,
        Scope::of(&caller.user),
        vec![(pointer, saved)],
        false,
        true,
    )
    .await
}

/// One organization of a bulk request: its pointer, id and attributes.
type BulkItem<'a> = (String, i64, Option<&'a Map<String, Value>>);

/// The ids of a bulk request, each with its pointer; a missing or bad id is a 422.
fn bulk_ids(doc: &Document) -> Result<Vec<BulkItem<'_>>, ApiError> {
    doc.resources(KIND)?
        .into_iter()
        .map(|(pointer, resource)| {
            let id = resource_id(resource).and_then(id_value).ok_or_else(|| {
                ApiError::Invalid(vec![(
                    format!("{pointer}/attributes/id"),
                    "Each organization of a bulk request needs its id.".into(),
                )])
            })?;
            Ok((pointer, id, attributes(resource)))
        })
        .collect()
}

/// Filters given in the body or the address narrow a bulk request: an id outside them is not
/// found (and nothing changes).
async fn within_filters(
    state: &web::Data<AppState>,
    scope: Scope,
    filters: &Params,
    ids: &[i64],
) -> Result<(), ApiError> {
    if filters.filters().is_empty() {
        return Ok(());
    }
    let mut query = list_query(filters)?;
    query.ids = Some(match query.ids.take() {
        Some(listed) => ids.iter().copied().filter(|i| listed.contains(i)).collect(),
        None => ids.to_vec(),
    });
    let found = state
        .db(move |conn| read::matching_ids(conn, scope, &query).map_err(ApiError::from))
        .await?;
    if ids.iter().all(|id| found.contains(id)) {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

pub async fn update_many(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let doc = Document::parse(&body)?;
    let mut items = Vec::new();
    let mut pointers = Vec::new();
    for (pointer, id, attrs) in bulk_ids(&doc)? {
        items.push((id, patch(attrs, &pointer)?));
        pointers.push(pointer);
    }
    let scope = Scope::of(&caller.user);
    let ids: Vec<i64> = items.iter().map(|(id, _)| *id).collect();
    let filters = doc.filters(&Params::parse(req.query_string())?);
    within_filters(&state, scope, &filters, &ids).await?;
    let actor = caller.actor();
    let at = pointers.clone();
    let saved = state
        .db(move |conn| {
            write::update_many(conn, &actor, &items, &crate::psa::settings::OneWay)
                .map_err(|e| at_item(e, &at))
        })
        .await?;
    let saved = pointers.into_iter().zip(saved).collect();
    answer(&state, scope, saved, false, false).await
}

pub async fn delete_many(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let doc = Document::parse(&body)?;
    let listed = bulk_ids(&doc)?;
    let pointers: Vec<String> = listed.iter().map(|(p, _, _)| p.clone()).collect();
    let ids: Vec<i64> = listed.iter().map(|(_, id, _)| *id).collect();
    let scope = Scope::of(&caller.user);
    let filters = doc.filters(&Params::parse(req.query_string())?);
    within_filters(&state, scope, &filters, &ids).await?;
    let (actor, grace) = (caller.actor(), state.settings.jobs.delete_grace);
    let (views, bulk) = state
        .db(move |conn| {
            let views: Vec<OrgView> = read::views_of(conn, scope, &ids)?;
            let bulk =
                write::delete_many(conn, &actor, &ids, grace).map_err(|e| at_item(e, &pointers))?;
            Ok::<_, ApiError>((views, bulk))
        })
        .await?;
    if grace.is_zero() {
        state.jobs.wake();
    }
    let base = &state.settings.base_url;
    let data: Vec<Value> = views
        .iter()
        .map(|v| document::organization(base, v))
        .collect();
    let with_subs: usize = bulk.deleted.iter().map(|d| d.subs + 1).sum();
    Ok(respond(
        StatusCode::OK,
        &json!({ "data": data, "meta": { "deleted-count": with_subs } }),
    ))
}
