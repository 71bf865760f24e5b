//! JSON:API documents as IT Glue writes them: resources with kebab-case attributes and string
//! ids, lists with `meta` (pages and counts) and `links` (absolute, carrying every parameter;
//! `next` and `prev` only where they exist).

use chrono::{NaiveDateTime, SecondsFormat};
use serde_json::{Map, Value, json};

use super::query::Params;
use crate::api::orgs::OrgView;

/// RFC 3339 in UTC, to the millisecond, as IT Glue writes times.
pub fn time(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Text, or null when empty (clients test for null, not for "").
fn text(value: &str) -> Value {
    if value.is_empty() {
        Value::Null
    } else {
        Value::String(value.to_owned())
    }
}

pub fn organization(base_url: &str, view: &OrgView) -> Value {
    let row = &view.row;
    let logo = if view.has_logo {
        format!("{base_url}/organizations/{}/logo", row.id)
    } else {
        String::new()
    };
    let ancestors: Vec<String> = view.ancestor_ids.iter().map(ToString::to_string).collect();
    json!({
        "id": row.id.to_string(),
        "type": "organizations",
        "attributes": {
            "name": row.name,
            "alert": text(&row.alert),
            "description": text(&row.description),
            "organization-type-id": row.type_id,
            "organization-type-name": view.type_name,
            "organization-status-id": row.status_id,
            "organization-status-name": view.status_name,
            "primary": false,
            "logo": logo,
            "quick-notes": text(&row.quick_notes),
            "short-name": text(&row.short_name),
            "created-at": time(row.created_at),
            "updated-at": time(row.updated_at),
            "parent-id": row.parent_id,
            "ancestor-ids": if ancestors.is_empty() { Value::Null } else { Value::String(ancestors.join(",")) },
            "psa-integration": row.psa_kind.as_deref().map(|k| if k == "connectwise" { "manage" } else { k }),
            "psa-id": row.psa_company_id,
        },
    })
}

/// An organization type or status.
pub fn kind(kind_type: &str, id: i64, name: &str, synced: bool) -> Value {
    json!({
        "id": id.to_string(),
        "type": kind_type,
        "attributes": { "name": name, "synced": synced },
    })
}

/// Where a list is and which page of how many.
pub struct Paging<'a> {
    /// Absolute URL of the list, without the query.
    pub url: String,
    pub params: &'a Params,
    pub page: i64,
    pub size: i64,
    pub total: i64,
}

pub fn list(data: &[Value], paging: &Paging<'_>) -> Value {
    let total_pages = ((paging.total + paging.size - 1) / paging.size).max(1);
    let next = (paging.page < total_pages).then_some(paging.page + 1);
    let prev = (paging.page > 1).then(|| (paging.page - 1).min(total_pages));
    let link = |page: i64| format!("{}?{}", paging.url, paging.params.with_page(page));
    let mut links = Map::new();
    links.insert("self".into(), link(paging.page).into());
    links.insert("first".into(), link(1).into());
    if let Some(page) = next {
        links.insert("next".into(), link(page).into());
    }
    if let Some(page) = prev {
        links.insert("prev".into(), link(page).into());
    }
    links.insert("last".into(), link(total_pages).into());
    let filters: Map<String, Value> = paging
        .params
        .filters()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
    json!({
        "data": data,
        "meta": {
            "current-page": paging.page,
            "next-page": next,
            "prev-page": prev,
            "total-pages": total_pages,
            "total-count": paging.total,
            "filters": filters,
        },
        "links": links,
    })
}
