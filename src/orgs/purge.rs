//! The purge of deleted organizations, run by the job worker (B7, DESIGN.md "deletes of large
//! subtrees run in bounded batches in the worker, leaves first"). Each batch is one short
//! transaction that also extends the job's lease and records its progress, so that other writers
//! wait at most one batch, a killed worker loses at most one batch, and the next worker goes on
//! where it stopped. The PSA is never called.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit;
use crate::db::schema::{logos, organizations, records};
use crate::db::{DbConn, write};
use crate::jobs::{Context, Job, JobError, JobId, JobKind, queue};

pub const KIND: &str = "purge_organizations";

/// What the deletion was, copied into the job so that the audit trail can name it afterwards.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payload {
    pub root: i64,
    pub name: String,
    pub by: String,
    pub subs: usize,
}

/// The organizations of a job, as a subquery.
fn in_job(
    job: JobId,
) -> diesel::dsl::Select<
    diesel::dsl::Filter<
        organizations::table,
        diesel::dsl::Eq<organizations::deletion_job_id, Option<i64>>,
    >,
    organizations::id,
> {
    organizations::table
        .filter(organizations::deletion_job_id.eq(Some(job.0)))
        .select(organizations::id)
}

/// Rows still to delete: records, logos and the organizations themselves.
pub fn remaining(conn: &mut DbConn, job: JobId) -> QueryResult<i64> {
    let records: i64 = records::table
        .filter(records::organization_id.eq_any(in_job(job)))
        .count()
        .get_result(conn)?;
    let logos: i64 = logos::table
        .filter(logos::organization_id.eq_any(in_job(job)))
        .count()
        .get_result(conn)?;
    let orgs: i64 = in_job(job).count().get_result(conn)?;
    Ok(records + logos + orgs)
}

/// Sub-organizations that joined a deleted organization after it was marked (saved under it by a
/// request that raced the delete) are deleted with it.
fn adopt(conn: &mut DbConn, job: JobId) -> QueryResult<usize> {
    let marked = crate::db::now();
    let mut adopted = 0;
    loop {
        let members = parent
            .filter(parent.field(organizations::deletion_job_id).eq(Some(job.0)))
            .select(parent.field(organizations::id).nullable());
        let strays: Vec<i64> = organizations::table
            .filter(organizations::parent_id.eq_any(members))
            .filter(
                organizations::deletion_job_id
                    .is_null()
                    .or(organizations::deletion_job_id.ne(Some(job.0))),
            )
            .select(organizations::id)
            .limit(PAGE)
            .load(conn)?;
        if strays.is_empty() {
            return Ok(adopted);
        }
        adopted += diesel::update(organizations::table.filter(organizations::id.eq_any(&strays)))
            .set((
                organizations::deletion_job_id.eq(Some(job.0)),
                organizations::deleted_at.eq(Some(marked)),
            ))
            .execute(conn)?;
    }
}

/// At most this many ids go into one statement (SQLite's limit on parameters is far above).
const PAGE: i64 = 1_000;

diesel::alias!(organizations as parent: ParentOrgs, organizations as child: ChildOrgs);

/// Organizations of the job without sub-organizations, at most `limit`.
fn leaves(conn: &mut DbConn, job: JobId, limit: i64) -> QueryResult<Vec<i64>> {
    let children = child
        .filter(
            child
                .field(organizations::parent_id)
                .eq(organizations::id.nullable()),
        )
        .select(child.field(organizations::id));
    in_job(job)
        .filter(diesel::dsl::not(diesel::dsl::exists(children)))
        .limit(limit.min(PAGE))
        .load(conn)
}

enum Step {
    /// A batch was committed; more may follow.
    Batch,
    Finished,
}

/// One batch: records first, then logos, then organizations from the leaves up.
fn delete_batch(conn: &mut DbConn, job: JobId, limit: i64) -> QueryResult<Option<i64>> {
    let ids: Vec<i64> = records::table
        .filter(records::organization_id.eq_any(in_job(job)))
        .select(records::id)
        .limit(limit)
        .load(conn)?;
    if !ids.is_empty() {
        let n = diesel::delete(records::table.filter(records::id.eq_any(&ids))).execute(conn)?;
        return Ok(Some(count(n)));
    }
    let ids: Vec<i64> = logos::table
        .filter(logos::organization_id.eq_any(in_job(job)))
        .select(logos::organization_id)
        .limit(limit)
        .load(conn)?;
    if !ids.is_empty() {
        let n = diesel::delete(logos::table.filter(logos::organization_id.eq_any(&ids)))
            .execute(conn)?;
        return Ok(Some(count(n)));
    }
    if adopt(conn, job)? > 0 {
        // Their records go first, in the next batches.
        return Ok(Some(0));
    }
    let leaves = leaves(conn, job, limit)?;
    if leaves.is_empty() {
        let left: i64 = in_job(job).count().get_result(conn)?;
        if left == 0 {
            return Ok(None);
        }
        // Only a loop of parents can leave no leaf; cut it.
        diesel::update(organizations::table.filter(organizations::deletion_job_id.eq(Some(job.0))))
            .set(organizations::parent_id.eq(None::<i64>))
            .execute(conn)?;
        return Ok(Some(0));
    }
    let n = diesel::delete(organizations::table.filter(organizations::id.eq_any(&leaves)))
        .execute(conn)?;
    Ok(Some(count(n)))
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn step(
    conn: &mut DbConn,
    context: &Context,
    job: &Job,
    payload: &Payload,
) -> Result<Step, JobError> {
    let id = job.id();
    let (owner, lease) = (context.owner.as_str(), context.settings.lease);
    write(conn, |conn| {
        let Some(deleted) = delete_batch(conn, id, context.settings.purge_batch_rows)? else {
            let rows = queue::find(conn, id)?.map_or(0, |j| j.progress_done);
            if !queue::finish(conn, id, owner)? {
                return Err(JobError::LeaseLost);
            }
            let subs = match payload.subs {
                0 => String::new(),
                1 => " and its sub-organization".to_owned(),
                n => format!(" and its {n} sub-organizations"),
            };
            audit::record_org(
                conn,
                None,
                (payload.root, &payload.name),
                "organization.purged",
                &format!(
                    "Purged {}{subs}: {rows} rows deleted for good (deleted by {})",
                    payload.name, payload.by
                ),
            )?;
            return Ok(Step::Finished);
        };
        if !queue::checkpoint(conn, id, owner, lease, deleted)? {
            return Err(JobError::LeaseLost);
        }
        if deleted == 0 {
            // Organizations joined the job: count them in.
            let done = queue::find(conn, id)?.map_or(0, |j| j.progress_done);
            let left = remaining(conn, id)?;
            queue::set_total(conn, id, done + left)?;
        }
        Ok(Step::Batch)
    })
}

/// The purge as a kind of job, for the worker's registry.
pub struct Purge;

impl JobKind for Purge {
    fn name(&self) -> &'static str {
        KIND
    }

    fn run(&self, context: &Context, job: &Job) -> Result<(), JobError> {
        run(context, job)
    }
}

/// Runs (or resumes) a purge to the end.
pub fn run(context: &Context, job: &Job) -> Result<(), JobError> {
    let payload: Payload = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("unreadable purge job: {e}")))?;
    let id = job.id();
    {
        // Counted before taking the write lock (other writers are not kept waiting for it).
        let mut conn = context.conn()?;
        let left = remaining(&mut conn, id)?;
        write(&mut conn, |conn| {
            if !queue::checkpoint(conn, id, &context.owner, context.settings.lease, 0)? {
                return Err(JobError::LeaseLost);
            }
            queue::set_total(conn, id, job.progress_done + left)?;
            Ok(())
        })?;
    }
    loop {
        let mut conn = context.conn()?;
        match step(&mut conn, context, job, &payload)? {
            Step::Finished => return Ok(()),
            Step::Batch => {
                drop(conn);
                context.pause(context.settings.purge_pause)?;
            }
        }
    }
}
