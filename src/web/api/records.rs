//! `/api/{kind}` and `/api/organizations/{org}/relationships/{kind}` for configurations, contacts,
//! passwords and flexible assets, and `/api/flexible_asset_types`: parse, run one use case of
//! `api::records` as the key's user (the key named in the audit trail), write the document.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::document::{self, Paging};
use super::error::{ApiError, document as respond};
use super::keyed::KeyHolder;
use super::query::Params;
use super::records_json::{self as docs, failed, failed_at};
use crate::api::keys::Caller;
use crate::api::records::{self, Listed, RecordQuery, SortKey};
use crate::api::records_names::{kind_of, path_of};
use crate::orgs::access::Scope;
use crate::orgs::{OrgId, store as orgs};
use crate::records::store::Author;
use crate::records::{Kind, RecordError, flex};
use crate::web::state::AppState;

/// What the address names: the kind, and the organization (nested paths) and record, if any.
#[derive(Debug, Clone, Copy)]
struct At {
    kind: Kind,
    org: Option<i64>,
    id: Option<i64>,
}

fn at(req: &HttpRequest) -> Result<At, ApiError> {
    let info = req.match_info();
    let kind = info
        .get("kind")
        .and_then(kind_of)
        .ok_or(ApiError::NotFound)?;
    // Not a number: no such organization or record (as IT Glue answers).
    let number = |name: &str| {
        info.get(name)
            .map(|v| v.trim().parse::<i64>().map_err(|_| ApiError::NotFound))
            .transpose()
    };
    Ok(At {
        kind,
        org: number("org")?,
        id: number("id")?,
    })
}

/// The key's user, and the key as the audit trail names it.
fn author(caller: &Caller) -> Author<'_> {
    Author {
        user: &caller.user,
        key: Some((&caller.key.name, &caller.key.prefix)),
    }
}

/// The address of the list `at` names, absolute.
fn list_url(state: &AppState, at: At) -> String {
    let base = &state.settings.base_url;
    match at.org {
        Some(org) => format!(
            "{base}/api/organizations/{org}/relationships/{}",
            path_of(at.kind)
        ),
        None => format!("{base}/api/{}", path_of(at.kind)),
    }
}

fn list_query(params: &Params, at: At) -> Result<RecordQuery, ApiError> {
    let (page, size) = params.page()?;
    let (sort, descending) = match params.get("sort").map(str::trim).filter(|s| !s.is_empty()) {
        None => (SortKey::Id, false),
        Some(text) => {
            let (descending, key) = text.strip_prefix('-').map_or((false, text), |k| (true, k));
            let sort = SortKey::parse(key).ok_or_else(|| {
                ApiError::parameter(
                    "sort",
                    format!(
                        "sort takes one of id, name, created_at, updated_at (- before it for \
                         descending), not {text:?}."
                    ),
                )
            })?;
            (sort, descending)
        }
    };
    let organization = match (at.org, params.filter_number("organization_id")?) {
        // Nested and filtered on another organization: nothing.
        (Some(path), Some(filter)) if path != filter => Some(-1),
        (path, filter) => path.or(filter),
    };
    Ok(RecordQuery {
        kind: at.kind,
        organization,
        ids: params.filter_numbers("id")?,
        name: params.get("filter[name]").map(ToOwned::to_owned),
        asset_type: params.filter_number("flexible_asset_type_id")?,
        sort,
        descending,
        page,
        size,
    })
}

/// The organization of a nested address, which the scope must see.
fn nested_org(conn: &mut crate::db::DbConn, scope: Scope, at: At) -> Result<(), RecordError> {
    match at.org {
        Some(org) => orgs::find(conn, scope, OrgId(org))?
            .map(|_| ())
            .ok_or(RecordError::NotFound),
        None => Ok(()),
    }
}

pub async fn index(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let at = at(&req)?;
    let params = Params::parse(req.query_string())?;
    let query = list_query(&params, at)?;
    let scope = Scope::of(&caller.user);
    let (page, size) = (query.page, query.size);
    let (listed, total) = state
        .db(move |conn| {
            nested_org(conn, scope, at)?;
            Ok::<_, RecordError>(records::list(conn, scope, &query)?)
        })
        .await
        .map_err(|e| failed(at.kind, e))?;
    let paging = Paging {
        url: list_url(&state, at),
        params: &params,
        page,
        size,
        total,
    };
    Ok(respond(
        StatusCode::OK,
        &document::list(&docs::records(&listed), &paging),
    ))
}

fn one(listed: &Listed, password: Option<&str>) -> Result<Value, ApiError> {
    let record = listed.records.first().ok_or(ApiError::NotFound)?;
    Ok(json!({ "data": docs::record(listed, record, password) }))
}

/// Whether a show answers with the password's value: the key has Password access and the
/// request did not say `show_password=false`.
fn shows_password(caller: &Caller, kind: Kind, params: &Params) -> bool {
    kind == Kind::Password
        && caller.key.password_access
        && !params
            .get("show_password")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("false"))
}

pub async fn show(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let at = at(&req)?;
    let params = Params::parse(req.query_string())?;
    let reveal = shows_password(&caller, at.kind, &params);
    let key = state.settings.data_key.clone();
    let id = at.id.ok_or(ApiError::NotFound)?;
    let (listed, password) = state
        .db(move |conn| {
            let scope = Scope::of(&caller.user);
            let listed = records::find(conn, scope, at.kind, id, at.org)?;
            let password = match listed.organizations.first() {
                Some(org) if reveal => Some(records::reveal(conn, author(&caller), &key, org, id)?),
                _ => None,
            };
            Ok::<_, RecordError>((listed, password))
        })
        .await
        .map_err(|e| failed(at.kind, e))?;
    Ok(respond(StatusCode::OK, &one(&listed, password.as_deref())?))
}

pub async fn create(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let at = at(&req)?;
    let mut changes = docs::changes(at.kind, &docs::body(&body)?)?;
    if at.org.is_some() {
        changes.organization = at.org;
    }
    let key = state.settings.data_key.clone();
    let listed = state
        .db(move |conn| {
            let scope = Scope::of(&caller.user);
            nested_org(conn, scope, at)?;
            records::create(conn, author(&caller), &key, scope, at.kind, &changes)
        })
        .await
        .map_err(|e| failed(at.kind, e))?;
    Ok(respond(StatusCode::CREATED, &one(&listed, None)?))
}

pub async fn update(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let at = at(&req)?;
    let id = at.id.ok_or(ApiError::NotFound)?;
    let changes = docs::changes(at.kind, &docs::body(&body)?)?;
    let key = state.settings.data_key.clone();
    let listed = state
        .db(move |conn| {
            let scope = Scope::of(&caller.user);
            let place = (at.kind, id, at.org);
            records::update(conn, author(&caller), &key, scope, place, &changes)
        })
        .await
        .map_err(|e| failed(at.kind, e))?;
    Ok(respond(StatusCode::OK, &one(&listed, None)?))
}

/// `PATCH /{kind}` with a list in `data` (IT Glue's bulk update): every record is found and
/// checked before any is written, so one not found (404) or invalid (422) changes nothing.
pub async fn update_many(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let at = at(&req)?;
    let all = docs::many_changes(at.kind, &docs::body(&body)?)?;
    let key = state.settings.data_key.clone();
    let listed = state
        .db(move |conn| {
            let scope = Scope::of(&caller.user);
            let mut ready = Vec::new();
            for (i, (id, changes)) in all.iter().enumerate() {
                let (org, checked) = records::prepare(conn, scope, (at.kind, *id, at.org), changes)
                    .map_err(|e| failed_at(at.kind, &format!("/data/{i}"), e))?;
                ready.push((*id, org, checked));
            }
            records::update_prepared(
                conn,
                author(&caller),
                &key,
                scope,
                (at.kind, at.org),
                &ready,
            )
            .map_err(|e| failed(at.kind, e))
        })
        .await?;
    Ok(respond(
        StatusCode::OK,
        &json!({ "data": docs::records(&listed) }),
    ))
}

/// `DELETE /{kind}/{id}` (one) or `DELETE /{kind}` with the ids in `data` (bulk, as IT Glue):
/// all of them or, when one is not found, none. Answers 200 with what was deleted.
pub async fn delete(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let at = at(&req)?;
    let ids = match at.id {
        Some(id) => vec![id],
        None => docs::ids(at.kind, &docs::body(&body)?)?,
    };
    let listed = state
        .db(move |conn| {
            let scope = Scope::of(&caller.user);
            nested_org(conn, scope, at)?;
            records::delete(conn, author(&caller), scope, at.kind, (&ids, at.org))
        })
        .await
        .map_err(|e| failed(at.kind, e))?;
    let data = docs::records(&listed);
    let doc = match (at.id, data.first()) {
        (Some(_), Some(one)) => json!({ "data": one }),
        _ => json!({ "data": data }),
    };
    Ok(respond(StatusCode::OK, &doc))
}

pub async fn asset_types(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string())?;
    let types = state
        .db(|conn| flex::all(conn).map_err(ApiError::from))
        .await?;
    let data: Vec<Value> = types.iter().map(docs::asset_type).collect();
    let total = i64::try_from(data.len()).unwrap_or(i64::MAX);
    let paging = Paging {
        url: format!("{}/api/flexible_asset_types", state.settings.base_url),
        params: &params,
        page: 1,
        size: total.max(1),
        total,
    };
    Ok(respond(StatusCode::OK, &document::list(&data, &paging)))
}

pub async fn asset_type(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: i64 = id.trim().parse().map_err(|_| ApiError::NotFound)?;
    let found = state
        .db(move |conn| flex::find(conn, id).map_err(ApiError::from))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(respond(
        StatusCode::OK,
        &json!({ "data": docs::asset_type(&found) }),
    ))
}
