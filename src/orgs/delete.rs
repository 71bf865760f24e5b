//! Deleting organizations (B7, B8): what a deletion will remove, the request that hides an
//! organization and everything below it at once and queues the purge after a grace period,
//! Restore until the purge starts, and where a deletion stands. The purge itself is `purge.rs`.

use std::collections::HashSet;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::access::{Scope, reachable};
use super::purge::{self, Payload};
use super::{OrgError, OrgId, OrgRef, OrgRow};
use crate::audit;
use crate::auth::User;
use crate::db::schema::{jobs, logos, organizations, records};
use crate::db::{DbConn, now, write};
use crate::jobs::{Job, JobId, NewJob, State, queue};
use crate::records::Kind;

/// An organization of a subtree.
#[derive(Debug, Clone, Queryable)]
struct Node {
    id: i64,
    name: String,
    short_name: String,
    sync_enabled: bool,
    psa_kind: Option<String>,
    deleted: Option<NaiveDateTime>,
    orphaned: Option<NaiveDateTime>,
}

impl Node {
    fn to_ref(&self) -> OrgRef {
        OrgRef {
            id: self.id,
            name: self.name.clone(),
            short_name: self.short_name.clone(),
        }
    }
}

/// `eq_any` lists are cut to this size (SQLite limits the parameters of one statement).
const CHUNK: usize = 500;

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
}

impl Plan {
    pub fn records_total(&self) -> i64 {
        self.records.iter().map(|(_, n)| n).sum()
    }
}

fn load_root(conn: &mut DbConn, scope: Scope, id: OrgId) -> Result<OrgRow, OrgError> {
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
fn plan_of(
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
            let psa = super::model::psa_label(n.psa_kind.as_deref().unwrap_or_default());
            (n.to_ref(), psa)
        })
        .collect();
    let plan = Plan {
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

/// Deletes the organization `id` and everything below it, in one transaction: from now on they
/// are hidden everywhere, and a purge job starts after `grace`. `typed` must be its name.
pub fn request(
    conn: &mut DbConn,
    actor: &User,
    id: OrgId,
    typed: &str,
    grace: Duration,
) -> Result<Requested, OrgError> {
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
        match queue_purge(conn, actor, &plan, &nodes, grace)? {
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
    plan: &Plan,
    nodes: &[Node],
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
    let subs = match plan.subs.len() {
        0 => String::new(),
        n => format!(
            " and {n} sub-organization{} ({})",
            if n == 1 { "" } else { "s" },
            names(&plan.subs)
        ),
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

/// The plans of a bulk delete, for its confirmation page (organizations that are gone or outside
/// the user's access are left out; one below another selected one is counted with it).
pub fn plans(conn: &mut DbConn, scope: Scope, ids: &[i64]) -> QueryResult<Vec<Plan>> {
    Ok(planned(conn, scope, ids, true)?
        .into_iter()
        .map(|(p, _)| p)
        .collect())
}

fn planned(
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
        let Some(root) = super::store::find(conn, scope, OrgId(*id))? else {
            continue;
        };
        let (plan, nodes) = plan_of(conn, scope, root, counted)?;
        plans.retain(|(p, _)| !nodes.iter().any(|n| n.id == p.root.id));
        plans.push((plan, nodes));
    }
    Ok(plans)
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
                    .extend(queue_purge(conn, actor, &plan, &nodes, grace)?),
            }
        }
        Ok(bulk)
    })
}

/// Up to ten names, then how many more.
fn names(orgs: &[OrgRef]) -> String {
    let mut text: Vec<&str> = orgs.iter().take(10).map(|o| o.name.as_str()).collect();
    let more = orgs.len().saturating_sub(10);
    let more = format!("{more} more");
    if orgs.len() > 10 {
        text.push(&more);
    }
    text.join(", ")
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

/// Brings back a deleted organization, with everything deleted with it, while its purge has not
/// started. `id` may be any organization of that deletion.
pub fn restore(conn: &mut DbConn, actor: &User, id: OrgId) -> Result<(OrgRef, usize), OrgError> {
    let scope = Scope::of(actor);
    write(conn, |conn| {
        let org = load_root(conn, scope, id)?;
        let (Some(_), Some(job)) = (org.deleted_at, org.deletion_job_id) else {
            return Err(OrgError::Conflict(format!("{} is not deleted.", org.name)));
        };
        let job = queue::find(conn, JobId(job))?.ok_or(OrgError::NotFound)?;
        if !hiding(conn, scope, &[job.id])?.is_empty() {
            return Err(OrgError::Forbidden(
                "This deletion includes organizations outside your access; an Administrator can \
                 restore it."
                    .into(),
            ));
        }
        let payload = payload_of(&job);
        if !queue::cancel_queued(conn, job.id())? {
            return Err(OrgError::Conflict(format!(
                "The purge of {} has started, so it can no longer be restored.",
                payload.name
            )));
        }
        let restored = diesel::update(
            organizations::table.filter(organizations::deletion_job_id.eq(Some(job.id))),
        )
        .set((
            organizations::deleted_at.eq(None::<NaiveDateTime>),
            organizations::deletion_job_id.eq(None::<i64>),
        ))
        .execute(conn)?;
        audit::record_org(
            conn,
            Some(actor),
            (payload.root, &payload.name),
            "organization.restored",
            &format!(
                "Restored {} ({restored} organization{} in all)",
                payload.name,
                if restored == 1 { "" } else { "s" }
            ),
        )?;
        let root = OrgRef {
            id: payload.root,
            name: payload.name,
            short_name: String::new(),
        };
        Ok((root, restored))
    })
}

fn payload_of(job: &Job) -> Payload {
    serde_json::from_str(&job.payload).unwrap_or_else(|_| Payload {
        root: job.organization_id.unwrap_or_default(),
        name: format!("organization {}", job.organization_id.unwrap_or_default()),
        by: String::new(),
        subs: 0,
    })
}

/// The deletion jobs among `jobs` that hold an organization outside the scope.
fn hiding(conn: &mut DbConn, scope: Scope, jobs: &[i64]) -> QueryResult<HashSet<i64>> {
    if scope.all || jobs.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<Option<i64>> = organizations::table
        .filter(organizations::deletion_job_id.eq_any(jobs.iter().map(|j| Some(*j))))
        .filter(diesel::dsl::not(reachable(scope)))
        .select(organizations::deletion_job_id)
        .distinct()
        .load(conn)?;
    Ok(found.into_iter().flatten().collect())
}

/// A deletion as the pages show it to one user.
#[derive(Debug, Clone)]
pub struct Deletion {
    pub job: Job,
    /// What was deleted and by whom; when the user does not see all of it, only the
    /// organization he asked about, with no deleter and no count.
    pub payload: Payload,
    /// The user sees every organization of the deletion (he may then restore it and read its
    /// history).
    pub whole: bool,
}

impl Deletion {
    pub fn state(&self) -> State {
        self.job.state()
    }

    /// Restore is possible until the purge starts, for whom sees all that comes back.
    pub fn restorable(&self) -> bool {
        self.whole && self.state() == State::Queued
    }
}

/// Where the deletion of organization `id` stands: while it waits or runs (the organization is
/// still there, hidden), and afterwards for users who see all organizations.
pub fn status(conn: &mut DbConn, scope: Scope, id: OrgId) -> QueryResult<Option<Deletion>> {
    let org: Option<(String, Option<NaiveDateTime>, Option<i64>)> = organizations::table
        .filter(reachable(scope))
        .filter(organizations::id.eq(id.0))
        .select((
            organizations::name,
            organizations::deleted_at,
            organizations::deletion_job_id,
        ))
        .first(conn)
        .optional()?;
    let name = org.as_ref().map(|(name, _, _)| name.clone());
    let job = match org {
        Some((_, Some(_), Some(job))) => queue::find(conn, JobId(job))?,
        Some(_) => None,
        None if scope.all => jobs::table
            .filter(jobs::kind.eq(purge::KIND))
            .filter(jobs::organization_id.eq(id.0))
            .filter(jobs::state.eq(State::Done.as_str()))
            .order_by(jobs::id.desc())
            .select(Job::as_select())
            .first(conn)
            .optional()?,
        None => None,
    };
    let Some(job) = job else {
        return Ok(None);
    };
    // Every organization of a deletion carries its job until purged, the root last.
    let whole = hiding(conn, scope, &[job.id])?.is_empty();
    let payload = if whole {
        payload_of(&job)
    } else {
        Payload {
            root: id.0,
            name: name.unwrap_or_default(),
            by: String::new(),
            subs: 0,
        }
    };
    Ok(Some(Deletion {
        job,
        payload,
        whole,
    }))
}

/// Deletions that wait, run, or ended in the last `days` days, newest first (Manage Data); for a
/// user restricted to a list, those of organizations on it.
pub fn recent(
    conn: &mut DbConn,
    scope: Scope,
    days: i64,
    limit: i64,
) -> QueryResult<Vec<Deletion>> {
    let since = now() - chrono::Duration::days(days);
    let mut query = jobs::table.into_boxed();
    if !scope.all {
        let listed = crate::auth::users::listed_ids(conn, crate::auth::UserId(scope.user_id))?;
        query = query.filter(jobs::organization_id.eq_any(listed.into_iter().map(Some)));
    }
    let jobs: Vec<Job> = query
        .filter(jobs::kind.eq(purge::KIND))
        .filter(
            jobs::state
                .eq_any([State::Queued.as_str(), State::Running.as_str()])
                .or(jobs::updated_at.ge(since)),
        )
        .order_by(jobs::id.desc())
        .limit(limit)
        .select(Job::as_select())
        .load(conn)?;
    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
    let hiding = hiding(conn, scope, &ids)?;
    Ok(jobs
        .into_iter()
        .map(|job| Deletion {
            payload: payload_of(&job),
            whole: !hiding.contains(&job.id),
            job,
        })
        .collect())
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
                "Disabled sync with {psa} (company {}); the PSA was not changed",
                org.psa_company_id.as_deref().unwrap_or("?")
            ),
        )?;
        super::store::find(conn, scope, id)?.ok_or(OrgError::NotFound)
    })
}
