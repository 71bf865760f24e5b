//! Deleting organizations (B7, B8): the request that hides an organization and everything below
//! it at once and queues the purge after a grace period, bulk delete, Disable sync. What a
//! deletion removes is `plan.rs`; Restore and where a deletion stands, `deletion.rs`; the purge
//! itself, `../purge.rs`.

mod deletion;
mod plan;

pub use deletion::{Deletion, recent, restore, status};
pub use plan::{Plan, plan, plans, refusal};

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::access::Scope;
use super::exclusions::{self, Excluded};
use super::purge::{self, Payload};
use super::{OrgError, OrgId, OrgRef, OrgRow};
use crate::audit;
use crate::auth::User;
use crate::db::schema::organizations;
use crate::db::{DbConn, now, write};
use crate::jobs::{JobId, NewJob, queue};
use plan::{CHUNK, Node, linked_companies, load_root, node_ids, plan_of, planned};

/// The result of a delete request.
#[derive(Debug, Clone)]
pub struct Requested {
    pub job: JobId,
    pub root: OrgRef,
    pub subs: usize,
    pub purge_at: NaiveDateTime,
    /// The organization was deleted already (the form was sent twice): nothing new was queued.
    pub already: bool,
}

/// What the user confirmed on the delete page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Confirmed<'a> {
    /// The organization's name as typed.
    pub typed: &'a str,
    /// "Bring it back at the next data load": the PSA companies it was linked to are not excluded.
    pub bring_back: bool,
}

/// Only the name: the companies stay excluded.
impl<'a> From<&'a str> for Confirmed<'a> {
    fn from(typed: &'a str) -> Self {
        Confirmed {
            typed,
            bring_back: false,
        }
    }
}

impl<'a> From<&'a String> for Confirmed<'a> {
    fn from(typed: &'a String) -> Self {
        Confirmed::from(typed.as_str())
    }
}

/// Deletes the organization `id` and everything below it, in one transaction: from now on they
/// are hidden everywhere, and a purge job starts after `grace`. The typed name must be its name.
/// The PSA companies they were linked to stay out of data loads unless `bring_back`.
pub fn request<'a>(
    conn: &mut DbConn,
    actor: &User,
    id: OrgId,
    confirmed: impl Into<Confirmed<'a>>,
    grace: Duration,
) -> Result<Requested, OrgError> {
    let Confirmed { typed, bring_back } = confirmed.into();
    let scope = Scope::of(actor);
    write(conn, |conn| {
        let root = load_root(conn, scope, id)?;
        if root.deleted_at.is_some() {
            return already(conn, &root);
        }
        if typed.trim() != root.name.trim() {
            return Err(OrgError::field(
                "confirm_name",
                format!("Type the name exactly as shown: {}", root.name),
            ));
        }
        let (plan, nodes) = plan_of(conn, scope, root, false)?;
        if let Some(refused) = refusal(&plan) {
            return Err(refused);
        }
        match queue_purge(conn, actor, (&plan, &nodes), bring_back, grace)? {
            Some(done) => Ok(done),
            // Deleted by a request that got there first (the form sent twice).
            None => {
                let root = load_root(conn, scope, id)?;
                already(conn, &root)
            }
        }
    })
}

/// The deletion that an organization is already part of.
fn already(conn: &mut DbConn, root: &OrgRow) -> Result<Requested, OrgError> {
    let job = root.deletion_job_id.ok_or(OrgError::NotFound)?;
    let job = queue::find(conn, JobId(job))?.ok_or(OrgError::NotFound)?;
    Ok(Requested {
        job: job.id(),
        root: root.to_ref(),
        subs: 0,
        purge_at: job.run_after,
        already: true,
    })
}

/// Locks the organization's row while it is not deleted (PostgreSQL: a concurrent delete of the
/// same organization waits here, then finds it deleted; SQLite: one writer at a time anyway).
fn lock_alive(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    let locked = diesel::update(
        organizations::table
            .find(id)
            .filter(organizations::deleted_at.is_null()),
    )
    .set(organizations::updated_at.eq(organizations::updated_at))
    .execute(conn)?;
    Ok(locked == 1)
}

/// Hides the planned organizations and queues their purge (inside the caller's transaction).
fn queue_purge(
    conn: &mut DbConn,
    actor: &User,
    (plan, nodes): (&Plan, &[Node]),
    bring_back: bool,
    grace: Duration,
) -> Result<Option<Requested>, OrgError> {
    let root = plan.root.to_ref();
    if !lock_alive(conn, root.id)? {
        return Ok(None);
    }
    let purge_at = queue::after(grace);
    let payload = Payload {
        root: root.id,
        name: root.name.clone(),
        by: actor.email.clone(),
        subs: plan.subs.len(),
    };
    let job = queue::enqueue(
        conn,
        &NewJob {
            kind: purge::KIND,
            payload: serde_json::to_string(&payload)
                .map_err(|e| OrgError::Conflict(format!("cannot queue the purge: {e}")))?,
            organization_id: Some(root.id),
            run_after: purge_at,
            created_by: Some(actor.id.0),
        },
    )?;
    mark(conn, nodes, job)?;
    keep_excluded(conn, actor, nodes, bring_back)?;
    // Counted, not named: whoever reads the root's history after a Restore may not see them all.
    let subs = match plan.subs.len() {
        0 => String::new(),
        n => format!(" and {n} sub-organization{}", if n == 1 { "" } else { "s" }),
    };
    audit::record_org(
        conn,
        Some(actor),
        (root.id, &root.name),
        "organization.deleted",
        &format!(
            "Deleted {}{subs} with all their data; purge from {} UTC",
            root.name,
            purge_at.format("%Y-%m-%d %H:%M")
        ),
    )?;
    Ok(Some(Requested {
        job,
        root,
        subs: plan.subs.len(),
        purge_at,
        already: false,
    }))
}

/// What a bulk delete did: the deletions queued, and the organizations left alone with why.
#[derive(Debug, Default)]
pub struct Bulk {
    pub deleted: Vec<Requested>,
    pub skipped: Vec<(OrgRef, String)>,
}

/// Bulk delete (B8): every selected organization as in `request`, in one transaction; those that
/// sync (or have sub-organizations outside the user's access) are skipped and named.
pub fn request_many(
    conn: &mut DbConn,
    actor: &User,
    ids: &[i64],
    grace: Duration,
) -> Result<Bulk, OrgError> {
    let scope = Scope::of(actor);
    write(conn, |conn| {
        let mut bulk = Bulk::default();
        for (plan, nodes) in planned(conn, scope, ids, false)? {
            match refusal(&plan) {
                Some(OrgError::Conflict(why) | OrgError::Forbidden(why)) => {
                    bulk.skipped.push((plan.root.to_ref(), why));
                }
                _ => bulk
                    .deleted
                    .extend(queue_purge(conn, actor, (&plan, &nodes), false, grace)?),
            }
        }
        Ok(bulk)
    })
}

/// Hides the organizations and hands them to the purge `job` (already hidden ones keep the time
/// they were deleted).
fn mark(conn: &mut DbConn, nodes: &[Node], job: JobId) -> QueryResult<()> {
    let at = now();
    for chunk in nodes.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|n| n.id).collect();
        diesel::update(
            organizations::table
                .filter(organizations::id.eq_any(&ids))
                .filter(organizations::deleted_at.is_null()),
        )
        .set((
            organizations::deleted_at.eq(Some(at)),
            organizations::deletion_job_id.eq(Some(job.0)),
        ))
        .execute(conn)?;
        diesel::update(
            organizations::table
                .filter(organizations::id.eq_any(&ids))
                .filter(organizations::deleted_at.is_not_null()),
        )
        .set(organizations::deletion_job_id.eq(Some(job.0)))
        .execute(conn)?;
    }
    Ok(())
}

/// The PSA companies of the deleted `nodes` stay out of data loads (those still linked are
/// excluded now; those excluded by Disable sync stay so), unless `bring_back`.
fn keep_excluded(
    conn: &mut DbConn,
    actor: &User,
    nodes: &[Node],
    bring_back: bool,
) -> QueryResult<()> {
    if bring_back {
        return exclusions::forget_for(conn, actor, &node_ids(nodes));
    }
    for (psa_kind, company, name, org) in linked_companies(conn, nodes)? {
        let what = Excluded {
            psa_kind: &psa_kind,
            company: &company,
            name: &name,
            org: Some(org),
        };
        exclusions::exclude(conn, &what, actor)?;
    }
    Ok(())
}

/// Disable sync: unlinks the organization from its PSA company so that it can be deleted. The
/// PSA is not changed.
pub fn disable_sync(conn: &mut DbConn, actor: &User, id: OrgId) -> Result<OrgRow, OrgError> {
    let scope = Scope::of(actor);
    write(conn, |conn| {
        let org = super::store::find(conn, scope, id)?.ok_or(OrgError::NotFound)?;
        let Some(psa) = org.syncs_with() else {
            return Ok(org);
        };
        if let (Some(psa_kind), Some(company)) = (&org.psa_kind, &org.psa_company_id) {
            let what = Excluded {
                psa_kind,
                company,
                name: &org.name,
                org: Some(org.id),
            };
            exclusions::exclude(conn, &what, actor)?;
        }
        diesel::update(organizations::table.find(id.0))
            .set((
                organizations::sync_enabled.eq(false),
                organizations::psa_kind.eq(None::<String>),
                organizations::psa_company_id.eq(None::<String>),
                organizations::orphaned_at.eq(None::<NaiveDateTime>),
                organizations::orphan_reason.eq(None::<String>),
                organizations::updated_at.eq(now()),
            ))
            .execute(conn)?;
        audit::record_org(
            conn,
            Some(actor),
            (org.id, &org.name),
            "organization.sync_disabled",
            &format!(
                "Disabled sync with {psa} (company {}); the PSA was not changed, and data loads leave the company alone until it is included again (PSA settings)",
                org.psa_company_id.as_deref().unwrap_or("?")
            ),
        )?;
        super::store::find(conn, scope, id)?.ok_or(OrgError::NotFound)
    })
}
