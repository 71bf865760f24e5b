//! What Manage Data shows of the PSA link (B9): the synced organizations grouped by type and
//! status, and the orphans (linked organizations whose company the PSA no longer has); both
//! within what the reader may see.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::db::schema::{organization_statuses, organization_types, organizations};
use crate::db::{DbConn, prepared};
use crate::orgs::Scope;
use crate::orgs::access::{alive_off_index, visible, visible_in_any_order};
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

/// A type and status (`None`: none) and how many organizations have them.
type Counted = (Option<i64>, Option<i64>, i64);

/// Organizations linked to the PSA and synced (not orphans, sync not turned off), counted by type
/// and status.
pub fn synced_groups(conn: &mut DbConn, scope: Scope) -> QueryResult<Vec<Group>> {
    let rows = if scope.all {
        synced_of_everyone(conn)?
    } else {
        synced_within(conn, scope)?
    };
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

/// The synced organizations a restricted scope sees, counted from its list.
fn synced_within(conn: &mut DbConn, scope: Scope) -> QueryResult<Vec<Counted>> {
    organizations::table
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
        .load(conn)
}

/// Every synced organization: the maintained counts of linked ones (`orgs::counts`) less the
/// linked ones that are not synced, orphans and those whose sync is off, each read through its
/// own partial index (migration 000280; the conditions written as there). With any test of
/// `deleted_at` on SQLite's indexes, its capped statistics would send both through an index led
/// by it, every organization (`access::alive_off_index`).
fn synced_of_everyone(conn: &mut DbConn) -> QueryResult<Vec<Counted>> {
    use crate::db::schema::organization_counts as c;
    let linked: Vec<(i64, i64, i64)> = c::table
        .filter(c::psa_linked.eq(true))
        .select((c::type_id, c::status_id, c::total))
        .load(conn)?;
    let backend = conn.backend();
    let orphaned: Vec<(Option<i64>, Option<i64>)> = organizations::table
        .filter(alive_off_index(backend))
        .filter(organizations::orphaned_at.is_not_null())
        .filter(organizations::psa_company_id.is_not_null())
        .select((organizations::type_id, organizations::status_id))
        .load(conn)?;
    let sync_off: Vec<(Option<i64>, Option<i64>)> = organizations::table
        .filter(alive_off_index(backend))
        .filter(organizations::psa_company_id.is_not_null())
        .filter(prepared::<Bool>("NOT organizations.sync_enabled"))
        .filter(organizations::orphaned_at.is_null())
        .select((organizations::type_id, organizations::status_id))
        .load(conn)?;
    let mut counts: BTreeMap<(i64, i64), i64> = linked
        .into_iter()
        .map(|(t, s, total)| ((t, s), total))
        .collect();
    for (t, s) in orphaned.into_iter().chain(sync_off) {
        // The counts' key: 0 for none.
        if let Some(n) = counts.get_mut(&(t.unwrap_or(0), s.unwrap_or(0))) {
            *n -= 1;
        }
    }
    let known = |id: i64| (id != 0).then_some(id);
    Ok(counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|((t, s), n)| (known(t), known(s), n))
        .collect())
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

/// Every orphaned organization the scope may see, oldest first (`organizations_orphans`, with
/// `deleted_at` kept off SQLite's indexes: see `synced_of_everyone`).
pub fn orphans(conn: &mut DbConn, scope: Scope) -> QueryResult<Vec<Orphan>> {
    let rows: Vec<OrphanRow> = organizations::table
        .filter(visible_in_any_order(conn.backend(), scope))
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

#[cfg(test)]
mod tests {
    use super::{orphans, synced_groups};
    use crate::db::sqlite_plans::{plan, skewed, statements_of};
    use crate::orgs::Scope;

    /// Manage Data of every organization reads the orphans and the linked organizations whose
    /// sync is off through their own indexes, never every organization, under the statistics
    /// of 100,000 organizations (`sqlite_plans`): the orphans were read through an index led by
    /// `deleted_at` and sorted, the synced ones counted from every organization.
    #[test]
    fn sqlite_reads_the_few_unsynced_organizations_by_their_indexes() {
        let mut conn = skewed();
        let all = Scope {
            user_id: 0,
            all: true,
        };
        let statements = statements_of(&mut conn, |c| {
            synced_groups(c, all).expect("groups");
            orphans(c, all).expect("orphans");
        });
        let of_organizations: Vec<Vec<String>> = statements
            .iter()
            .filter(|sql| sql.contains("FROM `organizations`"))
            .map(|sql| plan(&mut conn, sql))
            .collect();
        assert_eq!(of_organizations.len(), 3, "{statements:#?}");
        for (steps, index) in of_organizations.iter().zip([
            "organizations_orphans",
            "organizations_sync_off",
            "organizations_orphans",
        ]) {
            assert!(
                steps.iter().any(|s| s.contains(index)),
                "{index}: {steps:#?}"
            );
            assert!(
                !steps
                    .iter()
                    .any(|s| s.contains("alive_by") || s == "SCAN organizations"),
                "{steps:#?}"
            );
        }
    }
}
