//! What deleting an organization removes (B7, B8): its subtree, the records and logos counted for
//! the confirmation pages, what syncs with a PSA, and why a plan cannot go ahead. Only what the
//! user may see is named; the rest is counted, and refused.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{logos, organizations, records};
use crate::orgs::access::{Scope, reachable};
use crate::orgs::{OrgError, OrgId, OrgRef, OrgRow};
use crate::records::Kind;

/// An organization of a subtree.
#[derive(Debug, Clone, Queryable)]
pub(super) struct Node {
    pub(super) id: i64,
    name: String,
    short_name: String,
    sync_enabled: bool,
    psa_kind: Option<String>,
    deleted: Option<NaiveDateTime>,
    orphaned: Option<NaiveDateTime>,
}

impl Node {
    pub(super) fn to_ref(&self) -> OrgRef {
        OrgRef {
            id: self.id,
            name: self.name.clone(),
            short_name: self.short_name.clone(),
        }
    }
}

/// `eq_any` lists are cut to this size (SQLite limits the parameters of one statement).
pub(super) const CHUNK: usize = 500;

/// The organization `root` and every organization below it, root first. Organizations that are
/// already waiting for a purge of their own are included: they join this deletion.
fn subtree(conn: &mut DbConn, root: i64) -> QueryResult<Vec<Node>> {
    let columns = (
        organizations::id,
        organizations::name,
        organizations::short_name,
        organizations::sync_enabled,
        organizations::psa_kind,
        organizations::deleted_at,
        organizations::orphaned_at,
    );
    let mut nodes: Vec<Node> = organizations::table.find(root).select(columns).load(conn)?;
    let mut seen: HashSet<i64> = nodes.iter().map(|n| n.id).collect();
    let mut level: Vec<i64> = seen.iter().copied().collect();
    while !level.is_empty() {
        let mut next = Vec::new();
        for chunk in level.chunks(CHUNK) {
            let parents: Vec<Option<i64>> = chunk.iter().map(|id| Some(*id)).collect();
            let children: Vec<Node> = organizations::table
                .filter(organizations::parent_id.eq_any(parents))
                .order_by(organizations::search_text)
                .select(columns)
                .load(conn)?;
            for child in children {
                if seen.insert(child.id) {
                    next.push(child.id);
                    nodes.push(child);
                }
            }
        }
        level = next;
    }
    Ok(nodes)
}

/// What deleting an organization removes, for the confirmation page.
#[derive(Debug, Clone)]
pub struct Plan {
    pub root: OrgRow,
    /// Sub-organizations at every depth that the user may see, by name (within a level).
    pub subs: Vec<OrgRef>,
    pub records: Vec<(Kind, i64)>,
    pub logos: i64,
    /// Organizations of the subtree that sync with a PSA: while there is one, nothing is deleted.
    pub syncing: Vec<(OrgRef, &'static str)>,
    /// Sub-organizations outside the user's access (then the user may not delete it).
    pub hidden: usize,
    /// The PSA companies (by name) that the subtree was linked to: the delete excludes them from
    /// data loads unless the user asks to bring them back.
    pub psa_companies: Vec<String>,
}

impl Plan {
    pub fn records_total(&self) -> i64 {
        self.records.iter().map(|(_, n)| n).sum()
    }
}

pub(super) fn load_root(conn: &mut DbConn, scope: Scope, id: OrgId) -> Result<OrgRow, OrgError> {
    organizations::table
        .filter(reachable(scope))
        .filter(organizations::id.eq(id.0))
        .select(OrgRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(OrgError::NotFound)
}

/// The ids of `nodes` that the scope may see.
fn seen_ids(conn: &mut DbConn, scope: Scope, nodes: &[Node]) -> QueryResult<HashSet<i64>> {
    if scope.all {
        return Ok(nodes.iter().map(|n| n.id).collect());
    }
    let mut seen = HashSet::new();
    for chunk in nodes.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|n| n.id).collect();
        let found: Vec<i64> = organizations::table
            .filter(reachable(scope))
            .filter(organizations::id.eq_any(ids))
            .select(organizations::id)
            .load(conn)?;
        seen.extend(found);
    }
    Ok(seen)
}

/// What is below `root`; with `counted`, also how many records and logos (for the confirmation
/// pages: the delete itself does not count them, so that it stays as quick as a Save whatever the
/// size of the subtree; the purge counts them when it starts).
pub(super) fn plan_of(
    conn: &mut DbConn,
    scope: Scope,
    root: OrgRow,
    counted: bool,
) -> QueryResult<(Plan, Vec<Node>)> {
    let nodes = subtree(conn, root.id)?;
    let ids: Vec<i64> = if counted {
        nodes.iter().map(|n| n.id).collect()
    } else {
        Vec::new()
    };
    let mut by_kind: Vec<(String, i64)> = Vec::new();
    let mut logo_count = 0;
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(String, i64)> = records::table
            .filter(records::organization_id.eq_any(chunk))
            .group_by(records::kind)
            .select((records::kind, diesel::dsl::count_star()))
            .load(conn)?;
        by_kind.extend(rows);
        logo_count += logos::table
            .filter(logos::organization_id.eq_any(chunk))
            .count()
            .get_result::<i64>(conn)?;
    }
    let records = Kind::ALL
        .into_iter()
        .map(|k| {
            let n = by_kind
                .iter()
                .filter(|(s, _)| s == k.slug())
                .map(|(_, n)| n)
                .sum();
            (k, n)
        })
        .collect();
    // Only what the user may see is named; the rest is counted (and then refused).
    let seen = seen_ids(conn, scope, &nodes)?;
    let syncing = nodes
        .iter()
        .filter(|n| seen.contains(&n.id))
        // An orphan's company is gone from the PSA: it can be deleted (from Manage Data).
        .filter(|n| n.sync_enabled && n.deleted.is_none() && n.orphaned.is_none())
        .map(|n| {
            let psa = crate::orgs::model::psa_label(n.psa_kind.as_deref().unwrap_or_default());
            (n.to_ref(), psa)
        })
        .collect();
    let psa_companies = linked_companies(conn, &nodes)?
        .into_iter()
        .map(|(_, _, name, _)| name)
        .chain(
            crate::orgs::exclusions::of_organizations(conn, &node_ids(&nodes))?
                .into_iter()
                .map(|e| e.name),
        )
        .collect();
    let plan = Plan {
        psa_companies,
        hidden: nodes.len() - seen.len(),
        subs: nodes
            .iter()
            .skip(1)
            .filter(|n| seen.contains(&n.id))
            .map(Node::to_ref)
            .collect(),
        records,
        logos: logo_count,
        syncing,
        root,
    };
    Ok((plan, nodes))
}

pub(super) fn node_ids(nodes: &[Node]) -> Vec<i64> {
    nodes.iter().map(|n| n.id).collect()
}

/// (PSA, company id, name, organization id) of the organizations of `nodes` that are still linked
/// to a PSA company (orphans: those that sync cannot be deleted).
pub(super) fn linked_companies(
    conn: &mut DbConn,
    nodes: &[Node],
) -> QueryResult<Vec<(String, String, String, i64)>> {
    let mut found = Vec::new();
    for chunk in nodes.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|n| n.id).collect();
        let rows: Vec<(Option<String>, Option<String>, String, i64)> = organizations::table
            .filter(organizations::id.eq_any(ids))
            .filter(organizations::psa_company_id.is_not_null())
            .filter(organizations::psa_kind.is_not_null())
            .select((
                organizations::psa_kind,
                organizations::psa_company_id,
                organizations::name,
                organizations::id,
            ))
            .load(conn)?;
        found.extend(
            rows.into_iter()
                .filter_map(|(kind, company, name, id)| Some((kind?, company?, name, id))),
        );
    }
    Ok(found)
}

/// What deleting the organization `id` would remove (it must not be deleted already).
pub fn plan(conn: &mut DbConn, scope: Scope, id: OrgId) -> Result<Plan, OrgError> {
    let root = load_root(conn, scope, id)?;
    if root.deleted_at.is_some() {
        return Err(OrgError::NotFound);
    }
    Ok(plan_of(conn, scope, root, true)?.0)
}

/// Why a plan cannot go ahead, in a sentence. Hidden sub-organizations are checked first: the
/// user learns only that there are some.
pub fn refusal(plan: &Plan) -> Option<OrgError> {
    if plan.hidden > 0 {
        return Some(OrgError::Forbidden(format!(
            "{} has sub-organizations outside your access; ask an Administrator to delete it.",
            plan.root.name
        )));
    }
    if let Some((first, psa)) = plan.syncing.first() {
        let message = if first.id == plan.root.id {
            format!(
                "{} syncs with {psa}. Click Disable sync on its Edit page first; the PSA keeps the company.",
                first.name
            )
        } else {
            let names: Vec<&str> = plan.syncing.iter().map(|(o, _)| o.name.as_str()).collect();
            format!(
                "These sub-organizations sync with a PSA: {}. Disable their sync first.",
                names.join(", ")
            )
        };
        return Some(OrgError::Conflict(message));
    }
    None
}

/// The plans of a bulk delete, for its confirmation page (organizations that are gone or outside
/// the user's access are left out; one below another selected one is counted with it).
pub fn plans(conn: &mut DbConn, scope: Scope, ids: &[i64]) -> QueryResult<Vec<Plan>> {
    Ok(planned(conn, scope, ids, true)?
        .into_iter()
        .map(|(p, _)| p)
        .collect())
}

pub(super) fn planned(
    conn: &mut DbConn,
    scope: Scope,
    ids: &[i64],
    counted: bool,
) -> QueryResult<Vec<(Plan, Vec<Node>)>> {
    let mut plans: Vec<(Plan, Vec<Node>)> = Vec::new();
    for id in ids {
        if plans
            .iter()
            .any(|(_, nodes)| nodes.iter().any(|n| n.id == *id))
        {
            continue;
        }
        let Some(root) = crate::orgs::store::find(conn, scope, OrgId(*id))? else {
            continue;
        };
        let (plan, nodes) = plan_of(conn, scope, root, counted)?;
        plans.retain(|(p, _)| !nodes.iter().any(|n| n.id == p.root.id));
        plans.push((plan, nodes));
    }
    Ok(plans)
}
