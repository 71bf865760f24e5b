//! `/api/organizations`, `/api/organization_types`, `/api/organization_statuses`: read. Parse the
//! query, run one use case of `api::orgs` (scoped to the key's user), write the document.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::document::{self, Paging};
use super::error::{ApiError, document as respond, written};
use super::keyed::KeyHolder;
use super::query::Params;
use crate::api::orgs::{self, Exclude, OrgListQuery, Psa, SortKey};
use crate::orgs::access::Scope;
use crate::orgs::kinds::{self, Kind};
use crate::web::state::AppState;

/// About what one organization takes in a list (most carry no notes).
const ROOM_PER_ORGANIZATION: usize = 640;

pub(super) fn list_query(params: &Params) -> Result<OrgListQuery, ApiError> {
    let (page, size) = params.page()?;
    let (sort, descending) = match params.get("sort").map(str::trim).filter(|s| !s.is_empty()) {
        None => (SortKey::Name, false),
        Some(text) => {
            let (descending, key) = text.strip_prefix('-').map_or((false, text), |k| (true, k));
            let sort = SortKey::parse(key).ok_or_else(|| {
                ApiError::parameter(
                    "sort",
                    format!(
                        "sort takes one of name, id, updated_at, created_at, short_name, \
                         organization_type_name, organization_status_name (- before it for \
                         descending), not {text:?}."
                    ),
                )
            })?;
            (sort, descending)
        }
    };
    let psa_type = match params
        .get("filter[psa_integration_type]")
        .filter(|v| !v.trim().is_empty())
    {
        None => None,
        Some(text) => Some(Psa::parse(text).ok_or_else(|| {
            ApiError::parameter(
                "filter[psa_integration_type]",
                format!("filter[psa_integration_type] is manage or autotask, not {text:?}."),
            )
        })?),
    };
    let psa = params
        .get("filter[psa_id]")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|id| (psa_type, id.to_owned()));
    Ok(OrgListQuery {
        ids: params.filter_numbers("id")?,
        name: params.get("filter[name]").map(ToOwned::to_owned),
        type_id: params.filter_number("organization_type_id")?,
        status_id: params.filter_number("organization_status_id")?,
        created: params.filter_range("created_at")?,
        updated: params.filter_range("updated_at")?,
        psa,
        exclude: Exclude {
            ids: params.filter_numbers("exclude][id")?,
            name: params.get("filter[exclude][name]").map(ToOwned::to_owned),
            type_id: params.filter_number("exclude][organization_type_id")?,
            status_id: params.filter_number("exclude][organization_status_id")?,
        },
        sort,
        descending,
        page,
        size,
    })
}

pub async fn index(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string())?;
    let query = list_query(&params)?;
    let scope = Scope::of(&caller.user);
    let (page, size) = (query.page, query.size);
    let (kinds, lists) = (state.kinds.clone(), state.lists.clone());
    let (views, total) = state
        .db(move |conn| {
            orgs::list(conn, scope, &query, &kinds, &lists.marks).map_err(ApiError::from)
        })
        .await?;
    let paging = Paging {
        url: format!("{}/api/organizations", state.settings.base_url),
        params: &params,
        page,
        size,
        total,
    };
    let base = &state.settings.base_url;
    let mut body = Vec::with_capacity((views.len() + 1) * ROOM_PER_ORGANIZATION);
    let document = document::write_list(&mut body, &views, &paging, |out, view| {
        document::write_organization(out, base, view)
    });
    Ok(written(StatusCode::OK, document.map(|()| body)))
}

fn id_of(text: &str) -> Result<i64, ApiError> {
    // Not a number: no such organization (as IT Glue answers).
    text.trim().parse().map_err(|_| ApiError::NotFound)
}

pub async fn show(
    state: web::Data<AppState>,
    KeyHolder(caller): KeyHolder,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(&id)?;
    let scope = Scope::of(&caller.user);
    let view = state
        .db(move |conn| orgs::find(conn, scope, id).map_err(ApiError::from))
        .await?
        .ok_or(ApiError::NotFound)?;
    let document = document::one_organization(&state.settings.base_url, &view);
    Ok(written(StatusCode::OK, document))
}

fn kind_type(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Type => ("organization-types", "organization_types"),
        Kind::Status => ("organization-statuses", "organization_statuses"),
    }
}

async fn kind_list(
    state: &web::Data<AppState>,
    kind: Kind,
    req: &HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = Params::parse(req.query_string())?;
    let rows = state
        .db(move |conn| kinds::all(conn, kind).map_err(ApiError::from))
        .await?;
    let (resource, path) = kind_type(kind);
    let data: Vec<_> = rows
        .iter()
        .map(|(id, name, synced)| document::kind(resource, *id, name, *synced))
        .collect();
    let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let paging = Paging {
        url: format!("{}/api/{path}", state.settings.base_url),
        params: &params,
        page: 1,
        size: total.max(1),
        total,
    };
    Ok(respond(StatusCode::OK, &document::list(&data, &paging)))
}

async fn kind_show(
    state: &web::Data<AppState>,
    kind: Kind,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let id = id_of(id)?;
    let rows = state
        .db(move |conn| kinds::all(conn, kind).map_err(ApiError::from))
        .await?;
    let (id, name, synced) = rows
        .into_iter()
        .find(|(k, _, _)| *k == id)
        .ok_or(ApiError::NotFound)?;
    let data = document::kind(kind_type(kind).0, id, &name, synced);
    Ok(respond(
        StatusCode::OK,
        &serde_json::json!({ "data": data }),
    ))
}

pub async fn types(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    kind_list(&state, Kind::Type, &req).await
}

pub async fn statuses(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    kind_list(&state, Kind::Status, &req).await
}

pub async fn type_show(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    kind_show(&state, Kind::Type, &id).await
}

pub async fn status_show(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    kind_show(&state, Kind::Status, &id).await
}
