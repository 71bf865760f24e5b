//! Where a deletion stands, as one user may see it (the page of a deleted organization, Manage
//! Data), and Restore while its purge has not started: only for whom sees all that comes back.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::plan::load_root;
use crate::audit;
use crate::auth::User;
use crate::db::schema::{jobs, organizations};
use crate::db::{DbConn, now, write};
use crate::jobs::{Job, JobId, State, queue};
use crate::orgs::access::{Scope, reachable};
use crate::orgs::purge::{self, Payload};
use crate::orgs::{OrgError, OrgId, OrgRef};

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
        // A merged-away organization: its restore undoes the merge.
        crate::orgs::merge_undo::undo(conn, actor, job.id)?;
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
        .map(|job| {
            let whole = !hiding.contains(&job.id);
            let mut payload = payload_of(&job);
            if !whole {
                // Its sub-organizations include some the user does not see: not even counted.
                payload.subs = 0;
            }
            Deletion {
                payload,
                whole,
                job,
            }
        })
        .collect())
}
