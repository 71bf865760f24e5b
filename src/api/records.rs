//! The records of organizations as the API reads and writes them: pages across the organizations
//! a key's user may see, and writes through the same use cases as the web pages (`records::store`,
//! checked by `records::values`), the API key named in the audit trail. IT Glue's attribute names
//! for Roster's fields are in `records_names.rs`.

use std::collections::HashMap;

use diesel::prelude::*;

use super::orgs::MAX_PAGE_SIZE;
use super::records_names::trait_key;
use crate::config::SecretKey;
use crate::db::DbConn;
use crate::db::schema::{organizations, records as r};
use crate::orgs::access::{Scope, on_list};
use crate::orgs::{OrgId, OrgRef, store as orgs};
use crate::records::fields::{self, Field};
use crate::records::flex::{self, AssetType};
use crate::records::store::{self, Author, NewRecord, Record};
use crate::records::values::{self, Checked};
use crate::records::{Kind, RecordError, RecordId};
use crate::validation::FieldErrors;

/// The field name under which a missing or unknown organization is reported.
pub const ORGANIZATION: &str = "organization_id";
/// The same for a flexible asset's type.
pub const ASSET_TYPE: &str = "flexible_asset_type_id";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Id,
    Name,
    CreatedAt,
    UpdatedAt,
}

impl SortKey {
    pub fn parse(text: &str) -> Option<SortKey> {
        Some(match text {
            "id" => SortKey::Id,
            "name" => SortKey::Name,
            "created_at" => SortKey::CreatedAt,
            "updated_at" => SortKey::UpdatedAt,
            _ => return None,
        })
    }
}

/// A page of one kind of record.
#[derive(Debug, Clone)]
pub struct RecordQuery {
    pub kind: Kind,
    pub organization: Option<i64>,
    pub ids: Option<Vec<i64>>,
    /// The record's name (its title), exactly.
    pub name: Option<String>,
    pub asset_type: Option<i64>,
    pub sort: SortKey,
    pub descending: bool,
    /// 1-based.
    pub page: i64,
    pub size: i64,
}

/// Records with the organizations (and, for flexible assets, the types) they name.
#[derive(Debug, Clone, Default)]
pub struct Listed {
    pub records: Vec<Record>,
    pub organizations: Vec<OrgRef>,
    pub asset_types: Vec<AssetType>,
}

impl Listed {
    pub fn organization(&self, id: i64) -> Option<&OrgRef> {
        self.organizations.iter().find(|o| o.id == id)
    }

    pub fn asset_type(&self, id: Option<i64>) -> Option<&AssetType> {
        id.and_then(|id| self.asset_types.iter().find(|t| t.id == id))
    }
}

type Boxed = diesel::dsl::IntoBoxed<
    'static,
    diesel::dsl::InnerJoin<r::table, organizations::table>,
    crate::db::MultiBackend,
>;

/// Records of the query's kind in organizations the scope sees (the rule of `access::visible`,
/// written for a join: the boxed filter does not go into a subquery through the connection enum).
fn filtered(scope: Scope, q: &RecordQuery) -> Boxed {
    let mut query = r::table
        .inner_join(organizations::table)
        .into_boxed()
        .filter(organizations::deleted_at.is_null())
        .filter(r::kind.eq(q.kind.slug()));
    if !scope.all {
        query = query.filter(r::organization_id.eq_any(on_list(scope)));
    }
    if let Some(org) = q.organization {
        query = query.filter(r::organization_id.eq(org));
    }
    if let Some(ids) = &q.ids {
        query = query.filter(r::id.eq_any(ids.clone()));
    }
    if let Some(name) = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        query = query.filter(r::title.eq(name.to_owned()));
    }
    if let Some(id) = q.asset_type {
        query = query.filter(r::asset_type_id.eq(id));
    }
    query
}

/// One page and the total; a fixed number of statements whatever the page's length.
pub fn list(conn: &mut DbConn, scope: Scope, q: &RecordQuery) -> QueryResult<(Listed, i64)> {
    let total: i64 = filtered(scope, q).count().get_result(conn)?;
    let size = q.size.clamp(1, MAX_PAGE_SIZE);
    let offset = (q.page.max(1) - 1).saturating_mul(size);
    if offset >= total {
        return Ok((Listed::default(), total));
    }
    let query = filtered(scope, q);
    let query = match (q.sort, q.descending) {
        (SortKey::Id, false) => query.order_by(r::id.asc()),
        (SortKey::Id, true) => query.order_by(r::id.desc()),
        (SortKey::Name, false) => query.order_by((r::title.asc(), r::id.asc())),
        (SortKey::Name, true) => query.order_by((r::title.desc(), r::id.desc())),
        (SortKey::CreatedAt, false) => query.order_by((r::created_at.asc(), r::id.asc())),
        (SortKey::CreatedAt, true) => query.order_by((r::created_at.desc(), r::id.desc())),
        (SortKey::UpdatedAt, false) => query.order_by((r::updated_at.asc(), r::id.asc())),
        (SortKey::UpdatedAt, true) => query.order_by((r::updated_at.desc(), r::id.desc())),
    };
    let rows: Vec<store::Row> = query
        .limit(size)
        .offset(offset)
        .select(crate::record_columns!())
        .load(conn)?;
    let records: Vec<Record> = rows.into_iter().filter_map(store::record).collect();
    Ok((named(conn, records)?, total))
}

/// The organizations and asset types of `records`, one statement each.
fn named(conn: &mut DbConn, records: Vec<Record>) -> QueryResult<Listed> {
    let mut org_ids: Vec<i64> = records.iter().map(|r| r.organization_id).collect();
    org_ids.sort_unstable();
    org_ids.dedup();
    let organizations: Vec<OrgRef> = organizations::table
        .filter(organizations::id.eq_any(&org_ids))
        .select(crate::orgs::REF)
        .load(conn)?;
    let asset_types = if records.iter().any(|r| r.asset_type_id.is_some()) {
        flex::all(conn)?
    } else {
        Vec::new()
    };
    Ok(Listed {
        records,
        organizations,
        asset_types,
    })
}

/// A record of `kind` in an organization the scope sees (and, given, in organization `within`);
/// anything else is not found.
pub fn find(
    conn: &mut DbConn,
    scope: Scope,
    kind: Kind,
    id: i64,
    within: Option<i64>,
) -> Result<Listed, RecordError> {
    let row: Option<store::Row> = r::table
        .filter(r::id.eq(id))
        .filter(r::kind.eq(kind.slug()))
        .select(crate::record_columns!())
        .first(conn)
        .optional()?;
    let record = row.and_then(store::record).ok_or(RecordError::NotFound)?;
    if within.is_some_and(|org| org != record.organization_id) {
        return Err(RecordError::NotFound);
    }
    orgs::find(conn, scope, OrgId(record.organization_id))?.ok_or(RecordError::NotFound)?;
    Ok(named(conn, vec![record])?)
}

/// A write's values, by Roster's field names; a field not given is left as it is (update) or
/// empty (create).
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub values: HashMap<String, String>,
    /// A flexible asset's fields, by trait key (`licence-key`) or field name (`f1`).
    pub traits: Vec<(String, String)>,
    pub organization: Option<i64>,
    pub asset_type: Option<i64>,
}

/// Where a field's problem is reported: a flexible asset type's fields under `traits/` and
/// their trait key, the others under their own name.
pub const TRAITS: &str = "traits/";

fn invalid(field: &'static str, message: impl Into<String>) -> RecordError {
    RecordError::Invalid(FieldErrors::single(field, message))
}

/// The fields of a flexible asset's type (after the kind's own), which `traits` names.
fn type_fields(kind: Kind, fields: &[Field]) -> &[Field] {
    fields.get(fields::of(kind).len()..).unwrap_or_default()
}

/// The values to check: `base`, then the changes over it (a trait by its key or field name).
fn merged(
    base: HashMap<String, String>,
    kind: Kind,
    fields: &[Field],
    changes: &Changes,
) -> Result<HashMap<String, String>, RecordError> {
    let mut values = base;
    for field in fields {
        if let Some(value) = changes.values.get(&field.name) {
            values.insert(field.name.clone(), value.clone());
        }
    }
    let traits = type_fields(kind, fields);
    let mut errors = FieldErrors::default();
    for (key, value) in &changes.traits {
        let key = key.replace('_', "-");
        match traits.iter().find(|f| trait_key(f) == key || f.name == key) {
            Some(field) => {
                values.insert(field.name.clone(), value.clone());
            }
            None => {
                let known: Vec<String> = traits.iter().map(trait_key).collect();
                errors.add(
                    &format!("{TRAITS}{key}"),
                    format!(
                        "The type has no field {key}; its fields are: {}.",
                        known.join(", ")
                    ),
                );
            }
        }
    }
    errors.into_result(|| values).map_err(RecordError::Invalid)
}

/// Checks values as the web form does; a type's fields are reported by their trait key.
fn check(
    kind: Kind,
    fields: &[Field],
    values: &HashMap<String, String>,
    editing: bool,
) -> Result<Checked, RecordError> {
    values::check(fields, values, editing).map_err(|errors| {
        let traits = type_fields(kind, fields);
        let mut named = FieldErrors::default();
        for (field, message) in errors.iter() {
            match traits.iter().find(|f| f.name == field) {
                Some(f) => named.add(&format!("{TRAITS}{}", trait_key(f)), message),
                None => named.add(field, message),
            }
        }
        RecordError::Invalid(named)
    })
}

/// The type of a new flexible asset, which must be named and exist.
fn asset_type_for(
    conn: &mut DbConn,
    kind: Kind,
    id: Option<i64>,
) -> Result<Option<AssetType>, RecordError> {
    if kind != Kind::FlexibleAsset {
        return Ok(None);
    }
    let id = id.ok_or_else(|| {
        invalid(
            ASSET_TYPE,
            "Name the flexible asset type (flexible-asset-type-id).",
        )
    })?;
    let found = flex::find(conn, id)?
        .ok_or_else(|| invalid(ASSET_TYPE, format!("There is no flexible asset type {id}.")))?;
    Ok(Some(found))
}

/// Adds a record to an organization the scope sees; returns it as stored.
pub fn create(
    conn: &mut DbConn,
    author: Author<'_>,
    key: &SecretKey,
    scope: Scope,
    kind: Kind,
    changes: &Changes,
) -> Result<Listed, RecordError> {
    let org_id = changes.organization.ok_or_else(|| {
        invalid(
            ORGANIZATION,
            "Name the organization (organization-id), or post to /organizations/{id}/relationships/….",
        )
    })?;
    let org = orgs::find(conn, scope, OrgId(org_id))?
        .ok_or_else(|| {
            invalid(
                ORGANIZATION,
                format!("There is no organization {org_id}, or the key's user cannot see it."),
            )
        })?
        .to_ref();
    let asset_type = asset_type_for(conn, kind, changes.asset_type)?;
    let fields = fields::with_type(kind, asset_type.as_ref());
    let values = merged(HashMap::new(), kind, &fields, changes)?;
    let checked = check(kind, &fields, &values, false)?;
    let new = NewRecord {
        org: &org,
        kind,
        asset_type_id: asset_type.as_ref().map(|t| t.id),
        checked: &checked,
    };
    let id = store::create(conn, author, key, &new)?;
    find(conn, scope, kind, id.0, None)
}

/// Changes the fields given of a record the scope sees; the others keep their values.
pub fn update(
    conn: &mut DbConn,
    author: Author<'_>,
    key: &SecretKey,
    scope: Scope,
    (kind, id, within): (Kind, i64, Option<i64>),
    changes: &Changes,
) -> Result<Listed, RecordError> {
    let (org, checked) = prepare(conn, scope, (kind, id, within), changes)?;
    store::update(conn, author, key, &org, kind, RecordId(id), &checked)?;
    find(conn, scope, kind, id, within)
}

/// A record's values once `changes` are applied, checked; nothing is written.
pub fn prepare(
    conn: &mut DbConn,
    scope: Scope,
    (kind, id, within): (Kind, i64, Option<i64>),
    changes: &Changes,
) -> Result<(OrgRef, Checked), RecordError> {
    let found = find(conn, scope, kind, id, within)?;
    let (Some(record), Some(org)) = (found.records.first(), found.organizations.first()) else {
        return Err(RecordError::NotFound);
    };
    let asset_type = found.asset_type(record.asset_type_id);
    let fields = fields::with_type(kind, asset_type);
    let base = record
        .values
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let values = merged(base, kind, &fields, changes)?;
    Ok((org.clone(), check(kind, &fields, &values, true)?))
}

/// Writes records prepared by `prepare` (IT Glue's bulk update: the caller prepares every one
/// first, so one not found or invalid changes nothing); returns them as stored.
pub fn update_prepared(
    conn: &mut DbConn,
    author: Author<'_>,
    key: &SecretKey,
    scope: Scope,
    (kind, within): (Kind, Option<i64>),
    ready: &[(i64, OrgRef, Checked)],
) -> Result<Listed, RecordError> {
    for (id, org, checked) in ready {
        store::update(conn, author, key, org, kind, RecordId(*id), checked)?;
    }
    let mut out = Listed::default();
    for (id, _, _) in ready {
        let found = find(conn, scope, kind, *id, within)?;
        out.records.extend(found.records);
        out.organizations.extend(found.organizations);
        out.asset_types = found.asset_types;
    }
    Ok(out)
}

/// Deletes records the scope sees: all of them, or none when one is not found.
pub fn delete(
    conn: &mut DbConn,
    author: Author<'_>,
    scope: Scope,
    kind: Kind,
    (ids, within): (&[i64], Option<i64>),
) -> Result<Listed, RecordError> {
    let mut gone = Listed::default();
    for id in ids {
        let found = find(conn, scope, kind, *id, within)?;
        gone.records.extend(found.records);
        gone.organizations.extend(found.organizations);
        gone.asset_types = found.asset_types;
    }
    for record in &gone.records {
        let org = gone
            .organization(record.organization_id)
            .ok_or(RecordError::NotFound)?;
        store::delete(conn, author, org, kind, RecordId(record.id))?;
    }
    Ok(gone)
}

/// A password's value, audited as the web's Reveal.
pub fn reveal(
    conn: &mut DbConn,
    author: Author<'_>,
    key: &SecretKey,
    org: &OrgRef,
    id: i64,
) -> Result<String, RecordError> {
    store::reveal(conn, author, key, org, RecordId(id))
}
