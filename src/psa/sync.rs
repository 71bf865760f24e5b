//! The data load (B4, B9): every company of the PSA, page by page, then "the PSA always wins":
//! linked organizations take the PSA's name, short name, type and status; companies of a syncing
//! type and status are matched (by PSA id, else by exactly the same name) or created; linked
//! organizations whose company is gone, deleted or no longer syncing become orphans (and stop
//! being orphans when it comes back). Nothing is written until every page was read, so a load
//! that cannot read the PSA changes nothing; what is kept meanwhile is capped (`MAX_COMPANIES`,
//! `MAX_KEPT_BYTES`). The decision is `plan.rs` (shared with Preview sync), the writes `apply.rs`.
//! Runs as a job; here: queueing, reading, and the record of each load.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::mapping::Mapping;
use super::plan::{self, Held, Plan};
use super::{Company, Psa, PsaError, PsaKind, apply, preview_job, settings};
use crate::audit;
use crate::auth::User;
use crate::db::schema::{jobs, psa_loads};
use crate::db::{DbConn, now, write};
use crate::jobs::{Context, Job, JobError, JobId, JobKind, NewJob, State, queue};

pub const KIND: &str = "psa_load";

/// More pages than this is not a PSA we can read in one load.
pub const MAX_PAGES: usize = 5_000;
/// The most companies one load keeps (the largest MSPs have tens of thousands).
pub const MAX_COMPANIES: usize = 100_000;
/// The most memory the companies kept by one load may take (their text and their records): a
/// PSA, or whatever answers at its address, that sends more ends the load, not the worker.
pub const MAX_KEPT_BYTES: usize = 64 * 1024 * 1024;

/// Roughly the memory a company read takes.
fn kept_bytes(c: &Company) -> usize {
    std::mem::size_of::<Company>()
        + c.id.len()
        + c.name.len()
        + c.short_name.len()
        + c.type_name.as_ref().map_or(0, String::len)
        + c.status_name.as_ref().map_or(0, String::len)
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    /// "schedule", or who clicked Sync now (shown with the load).
    trigger: String,
    /// The preview this load applies (Apply these changes), if any.
    #[serde(default)]
    preview: Option<i64>,
}

/// Queues a data load now (`actor` clicked Sync now; `None`: the schedule), unless one is already
/// waiting (one that is running may have read the PSA before the change the user wants to see:
/// another is queued after it).
pub fn queue_load(conn: &mut DbConn, actor: Option<&User>) -> QueryResult<JobId> {
    write(conn, |conn| {
        let waiting: Option<i64> = jobs::table
            .filter(jobs::kind.eq(KIND))
            .filter(jobs::state.eq(State::Queued.as_str()))
            .select(jobs::id)
            .first(conn)
            .optional()?;
        if let Some(id) = waiting {
            return Ok(JobId(id));
        }
        let payload = Payload {
            trigger: actor.map_or_else(|| "schedule".to_owned(), |u| u.email.clone()),
            preview: None,
        };
        queue::enqueue(
            conn,
            &NewJob {
                kind: KIND,
                payload: serde_json::to_string(&payload).unwrap_or_default(),
                organization_id: None,
                run_after: now(),
                created_by: actor.map(|u| u.id.0),
            },
        )
    })
}

/// Inside the caller's transaction: queues the data load that applies preview `preview` (a load
/// of its own, even when another is waiting: only this one checks the preview).
pub fn queue_apply(conn: &mut DbConn, actor: &User, preview: i64) -> QueryResult<JobId> {
    let payload = Payload {
        trigger: actor.email.clone(),
        preview: Some(preview),
    };
    queue::enqueue(
        conn,
        &NewJob {
            kind: KIND,
            payload: serde_json::to_string(&payload).unwrap_or_default(),
            organization_id: None,
            run_after: now(),
            created_by: Some(actor.id.0),
        },
    )
}

/// Called by the worker between jobs: queues the scheduled load when it is due.
pub fn schedule(conn: &mut DbConn) -> QueryResult<()> {
    if settings::load_due(conn)? && settings::take_due_load(conn)? {
        queue_load(conn, None)?;
    }
    Ok(())
}

/// One data load as the settings page shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = psa_loads)]
pub struct Load {
    pub id: i64,
    pub kind: String,
    pub trigger: String,
    pub state: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub companies: i32,
    pub created: i32,
    pub matched: i32,
    pub updated: i32,
    pub orphaned: i32,
    pub failed: i32,
    pub error: Option<String>,
    pub report: String,
}

/// Forgets data loads that started more than `days` ago (their summaries stay in the audit log).
pub fn prune_loads(conn: &mut DbConn, days: i64) -> QueryResult<usize> {
    let before = now() - chrono::Duration::days(days);
    diesel::delete(psa_loads::table.filter(psa_loads::started_at.lt(before))).execute(conn)
}

pub fn find_load(conn: &mut DbConn, id: i64) -> QueryResult<Option<Load>> {
    psa_loads::table
        .find(id)
        .select(Load::as_select())
        .first(conn)
        .optional()
}

pub fn recent_loads(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Load>> {
    psa_loads::table
        .order_by(psa_loads::id.desc())
        .limit(limit)
        .select(Load::as_select())
        .load(conn)
}

/// What one load did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub companies: i32,
    pub created: i32,
    pub matched: i32,
    pub updated: i32,
    pub orphaned: i32,
    pub failed: i32,
    /// Companies left alone because they are excluded (Disable sync, a delete).
    pub excluded: i32,
    pub report: Vec<String>,
}

impl Outcome {
    /// What carrying out `plan` does, in the load's terms (linked and unchanged are "matched",
    /// companies of the same name "failed").
    pub fn of(plan: &Plan) -> Self {
        let c = plan.counts();
        Self {
            companies: i32::try_from(plan.companies).unwrap_or(i32::MAX),
            created: c.created,
            matched: c.linked + c.unchanged,
            updated: c.updated,
            orphaned: c.orphaned,
            failed: c.same_name,
            excluded: c.excluded,
            report: plan.report.clone(),
        }
    }
}

/// Reads every company, page by page (at most `MAX_PAGES`, `MAX_COMPANIES` and `MAX_KEPT_BYTES`),
/// calling `between_pages` with the number read so far after each (the job's sign of life). The outer error stops the job;
/// the inner one is the load's failure.
pub fn read_all(
    psa: &dyn Psa,
    mut between_pages: impl FnMut(usize) -> Result<(), JobError>,
) -> Result<Result<Vec<Company>, PsaError>, JobError> {
    let mut all = Vec::new();
    let mut kept = 0;
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = match psa.companies(cursor.as_deref()) {
            Ok(page) => page,
            Err(e) => return Ok(Err(e)),
        };
        kept += page.companies.iter().map(kept_bytes).sum::<usize>();
        all.extend(page.companies);
        if all.len() > MAX_COMPANIES || kept > MAX_KEPT_BYTES {
            return Ok(Err(PsaError::Malformed(format!(
                "the PSA sent more than a data load keeps (at most {MAX_COMPANIES} companies and {} MB of their names); nothing was changed",
                MAX_KEPT_BYTES / (1024 * 1024)
            ))));
        }
        match page.next {
            Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
            _ => return Ok(Ok(all)),
        }
        between_pages(all.len())?;
    }
    Ok(Err(PsaError::Malformed(format!(
        "the PSA answered more than {MAX_PAGES} pages of companies"
    ))))
}

/// Applies the companies read from the PSA: the decision (`plan.rs`) on what Roster holds now,
/// then its writes (`apply.rs`). `in_each_transaction` runs inside each write transaction (the
/// job's sign of life).
pub fn apply(
    conn: &mut DbConn,
    psa: PsaKind,
    companies: &[Company],
    in_each_transaction: impl FnMut(&mut DbConn) -> Result<(), JobError>,
) -> Result<Outcome, JobError> {
    let mapping = Mapping::load(conn)?;
    let held = Held::load(conn, psa, companies)?;
    let plan = plan::decide(psa, companies, &mapping, &held);
    apply::execute(conn, psa, &plan, in_each_transaction)?;
    Ok(Outcome::of(&plan))
}

fn start_load(conn: &mut DbConn, psa: PsaKind, trigger: &str) -> QueryResult<i64> {
    diesel::insert_into(psa_loads::table)
        .values((
            psa_loads::kind.eq(psa.as_str()),
            psa_loads::trigger.eq(trigger),
            psa_loads::state.eq("running"),
            psa_loads::started_at.eq(now()),
        ))
        .returning(psa_loads::id)
        .get_result(conn)
}

fn end_load(conn: &mut DbConn, load: i64, result: &Result<Outcome, String>) -> QueryResult<()> {
    let at = Some(now());
    let target = psa_loads::table.find(load);
    match result {
        Ok(o) => diesel::update(target)
            .set((
                psa_loads::state.eq("done"),
                psa_loads::finished_at.eq(at),
                psa_loads::companies.eq(o.companies),
                psa_loads::created.eq(o.created),
                psa_loads::matched.eq(o.matched),
                psa_loads::updated.eq(o.updated),
                psa_loads::orphaned.eq(o.orphaned),
                psa_loads::failed.eq(o.failed),
                psa_loads::report.eq(o.report.join("\n")),
            ))
            .execute(conn)?,
        Err(reason) => diesel::update(target)
            .set((
                psa_loads::state.eq("failed"),
                psa_loads::finished_at.eq(at),
                psa_loads::error.eq(Some(reason)),
            ))
            .execute(conn)?,
    };
    let summary = match result {
        Ok(o) => format!(
            "Data load: {} companies read; {} created, {} matched, {} updated, {} orphaned, {} failed",
            o.companies, o.created, o.matched, o.updated, o.orphaned, o.failed
        ),
        Err(reason) => format!("Data load failed: {reason}"),
    };
    audit::record(conn, None, "psa.load", &summary)
}

/// PSA data loads are listed this long.
const LOADS_KEPT_DAYS: i64 = 90;

/// Data loads as a kind of job (queued by hand or by the schedule), for the worker's registry.
pub struct DataLoad(pub super::PsaAccess);

impl JobKind for DataLoad {
    fn name(&self) -> &'static str {
        KIND
    }

    fn run(&self, context: &Context, job: &Job) -> Result<(), JobError> {
        run(context, job, &self.0)
    }

    fn schedule(&self, conn: &mut DbConn) -> Result<(), crate::db::DbError> {
        Ok(schedule(conn)?)
    }

    fn prune(&self, conn: &mut DbConn) -> Result<(), crate::db::DbError> {
        prune_loads(conn, LOADS_KEPT_DAYS)?;
        Ok(())
    }
}

/// The job: one data load, recorded in `psa_loads` whatever happens. A failed load (wrong
/// password, malformed answer, PSA down) ends the job; the next scheduled load tries again.
pub fn run(context: &Context, job: &Job, access: &super::PsaAccess) -> Result<(), JobError> {
    let payload = serde_json::from_str::<Payload>(&job.payload).unwrap_or(Payload {
        trigger: "schedule".to_owned(),
        preview: None,
    });
    let mut conn = context.conn()?;
    let Some(saved) = settings::load(&mut conn)? else {
        return Err(JobError::Permanent("the PSA is not set up".into()));
    };
    // One load at a time, across instances: a second waits for the first.
    let others: i64 = jobs::table
        .filter(jobs::kind.eq(KIND))
        .filter(jobs::state.eq(State::Running.as_str()))
        .filter(jobs::id.ne(job.id))
        .count()
        .get_result(&mut *conn)?;
    if others > 0 {
        return Err(JobError::Postpone(std::time::Duration::from_secs(5)));
    }
    let load = start_load(&mut conn, saved.kind, &payload.trigger)?;
    drop(conn);
    let keep_lease = |conn: &mut DbConn| context.keep_lease(conn, job.id());
    let read = preview_job::read(&saved, access, |_| keep_lease(&mut *context.conn()?))?;
    let mut conn = context.conn()?;
    let result = match (read, payload.preview) {
        (Ok(companies), None) => match apply(&mut conn, saved.kind, &companies, keep_lease) {
            Ok(outcome) => Ok(outcome),
            Err(JobError::Db(e)) => Err(e.to_string()),
            Err(stop) => return Err(stop),
        },
        (Ok(companies), Some(preview)) => {
            match preview_job::apply_previewed(
                &mut conn, saved.kind, &companies, preview, keep_lease,
            ) {
                Ok(result) => result,
                Err(JobError::Db(e)) => Err(e.to_string()),
                Err(stop) => return Err(stop),
            }
        }
        (Err(reason), _) => Err(reason),
    };
    if let Err(reason) = &result {
        tracing::warn!(%reason, "PSA data load failed");
        if let Some(preview) = payload.preview
            && let Some(found) = super::preview::find(&mut conn, preview)?
        {
            preview_job::stale(&mut conn, &found, reason)?;
        }
    }
    end_load(&mut conn, load, &result)?;
    if let Some(preview) = payload.preview {
        super::preview::record_load(&mut conn, preview, load)?;
    }
    if !queue::finish(&mut conn, job.id(), &context.owner)? {
        return Err(JobError::LeaseLost);
    }
    Ok(())
}
