//! What Manage Data shows of the PSA link (B9): the synced organizations grouped by type and
//! status, and the orphans (linked organizations whose company the PSA no longer has); both
//! within what the reader may see.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{organization_statuses, organization_types, organizations};
use crate::orgs::Scope;
use crate::orgs::access::visible;
use crate::orgs::model::psa_label;

/// Synced organizations of one type and status.
#[derive(Debug, Clone)]
pub struct Group {
    pub type_name: String,
    pub status_name: String,
    pub count: i64,
}

#[derive(Debug, Clone)]
pub struct Orphan {
    pub id: i64,
    pub name: String,
    pub psa: &'static str,
    pub company: String,
    pub reason: String,
    pub since: NaiveDateTime,
}

/// Organizations linked to the PSA (not orphans), counted by type and status.
pub fn synced_groups(conn: &mut DbConn, scope: Scope) -> QueryResult<Vec<Group>> {
    let rows: Vec<(Option<i64>, Option<i64>, i64)> = organizations::table
        .filter(visible(scope))
        .filter(organizations::sync_enabled.eq(true))
        .filter(organizations::psa_company_id.is_not_null())
        .filter(organizations::orphaned_at.is_null())
        .group_by((organizations::type_id, organizations::status_id))
        .select((
            organizations::type_id,
            organizations::status_id,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let types: Vec<(i64, String)> = organization_types::table
        .select((organization_types::id, organization_types::name))
        .load(conn)?;
    let statuses: Vec<(i64, String)> = organization_statuses::table
        .select((organization_statuses::id, organization_statuses::name))
        .load(conn)?;
    let name = |list: &[(i64, String)], id: Option<i64>| {
        id.and_then(|id| list.iter().find(|(i, _)| *i == id))
            .map_or_else(|| "(none)".to_owned(), |(_, n)| n.clone())
    };
    let mut groups: Vec<Group> = rows
        .into_iter()
        .map(|(t, s, count)| Group {
            type_name: name(&types, t),
            status_name: name(&statuses, s),
            count,
        })
        .collect();
    groups.sort_by(|a, b| (&a.type_name, &a.status_name).cmp(&(&b.type_name, &b.status_name)));
    Ok(groups)
}

#[derive(Queryable)]
struct OrphanRow {
    id: i64,
    name: String,
    kind: Option<String>,
    company: Option<String>,
    reason: Option<String>,
    since: Option<NaiveDateTime>,
}

/// Every orphaned organization the scope may see, oldest first.
pub fn orphans(conn: &mut DbConn, scope: Scope) -> QueryResult<Vec<Orphan>> {
    let rows: Vec<OrphanRow> = organizations::table
        .filter(visible(scope))
        .filter(organizations::orphaned_at.is_not_null())
        .order_by((organizations::orphaned_at.asc(), organizations::id.asc()))
        .select((
            organizations::id,
            organizations::name,
            organizations::psa_kind,
            organizations::psa_company_id,
            organizations::orphan_reason,
            organizations::orphaned_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Orphan {
                id: r.id,
                name: r.name,
                psa: psa_label(r.kind.as_deref().unwrap_or_default()),
                company: r.company.unwrap_or_default(),
                reason: r.reason.unwrap_or_default(),
                since: r.since?,
            })
        })
        .collect())
}
