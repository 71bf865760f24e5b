//! The jobs' side of Preview sync: the job that makes a preview (reads every page of the PSA with
//! progress, decides, stores the plan, writes nothing else), and what the data load does when it
//! applies one (the same decision again, carried out only if nothing changed since).

use std::cell::Cell;
use std::time::Duration;

use super::plan::{self, Held};
use super::preview::{self, Payload, Preview, state};
use super::sync::{self, Outcome};
use super::{Company, Connection, PsaAccess, PsaKind, apply, settings};
use crate::db::{DbConn, write};
use crate::jobs::{Context, Job, JobError, JobKind, queue};

/// Previews are kept this long.
const PREVIEWS_KEPT_DAYS: i64 = 14;

/// Previews as a kind of job, for the worker's registry.
pub struct PreviewSync(pub PsaAccess);

impl JobKind for PreviewSync {
    fn name(&self) -> &'static str {
        preview::KIND
    }

    fn run(&self, context: &Context, job: &Job) -> Result<(), JobError> {
        run(context, job, &self.0)
    }

    fn prune(&self, conn: &mut DbConn) -> Result<(), crate::db::DbError> {
        preview::prune(conn, PREVIEWS_KEPT_DAYS)?;
        Ok(())
    }
}

fn finish(context: &Context, conn: &mut DbConn, job: &Job) -> Result<(), JobError> {
    if queue::finish(conn, job.id(), &context.owner)? {
        Ok(())
    } else {
        Err(JobError::LeaseLost)
    }
}

/// The job: one preview. Whatever the PSA answers, the preview records it (done, incomplete or
/// failed) and the job ends.
pub fn run(context: &Context, job: &Job, access: &PsaAccess) -> Result<(), JobError> {
    let payload: Payload = serde_json::from_str(&job.payload)
        .map_err(|_| JobError::Permanent("not a preview's job".into()))?;
    let id = payload.preview;
    let mut conn = context.conn()?;
    let Some(found) = preview::find(&mut conn, id)? else {
        return finish(context, &mut conn, job);
    };
    // One preview at a time, across instances: a second waits for the first.
    if preview::another_runs(&mut conn, job.id())? {
        return Err(JobError::Postpone(Duration::from_secs(2)));
    }
    let saved = settings::load(&mut conn)?.filter(|s| s.kind.as_str() == found.psa_kind);
    let Some(saved) = saved else {
        write(&mut conn, |c| {
            preview::set_state(
                c,
                id,
                &[state::QUEUED, state::RUNNING],
                state::FAILED,
                Some("The PSA settings changed (or were removed) before the preview started."),
            )
        })?;
        return finish(context, &mut conn, job);
    };
    write(&mut conn, |c| {
        preview::set_state(
            c,
            id,
            &[state::QUEUED, state::RUNNING],
            state::RUNNING,
            None,
        )
    })?;
    drop(conn);
    let read_so_far = Cell::new(0usize);
    let between_pages = |read: usize| {
        context.pause(Duration::ZERO)?;
        let mut conn = context.conn()?;
        let done = i64::try_from(read.saturating_sub(read_so_far.replace(read))).unwrap_or(0);
        let lease = context.settings.lease;
        if queue::checkpoint(&mut conn, job.id(), &context.owner, lease, done)? {
            Ok(())
        } else {
            Err(JobError::LeaseLost)
        }
    };
    let read = read(&saved, access, between_pages)?;
    let mut conn = context.conn()?;
    match read {
        Ok(companies) => {
            let mapping = preview::mapping_of(&mut conn, &found)?;
            let held = Held::load(&mut conn, saved.kind, &companies)?;
            let plan = plan::decide(saved.kind, &companies, &mapping, &held);
            preview::store_plan(&mut conn, id, &companies, &plan)?;
        }
        Err(reason) => preview::store_incomplete(&mut conn, id, read_so_far.get(), &reason)?,
    }
    finish(context, &mut conn, job)
}

/// Every company of the PSA, as the data load reads them (the inner error: why not).
pub fn read(
    saved: &settings::PsaSettings,
    access: &PsaAccess,
    between_pages: impl FnMut(usize) -> Result<(), JobError>,
) -> Result<Result<Vec<Company>, String>, JobError> {
    let connection = match saved.connection(access) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e.to_string())),
    };
    // Shown on the settings page: the status, never what was answered.
    let psa = match super::connect(&Connection {
        quote_answers: false,
        ..connection
    }) {
        Ok(psa) => psa,
        Err(e) => return Ok(Err(e.to_string())),
    };
    Ok(sync::read_all(psa.as_ref(), between_pages)?.map_err(|e| e.to_string()))
}

/// The data load of Apply: the decision on the companies just read, carried out only if the PSA
/// returned what was previewed and the plan is the same; else the preview is stale and nothing
/// is written. The inner error is the load's failure.
pub fn apply_previewed(
    conn: &mut DbConn,
    psa: PsaKind,
    companies: &[Company],
    id: i64,
    in_each_transaction: impl FnMut(&mut DbConn) -> Result<(), JobError>,
) -> Result<Result<Outcome, String>, JobError> {
    let Some(found) = preview::find(conn, id)? else {
        return Ok(Err(
            "The preview to apply is gone: nothing was applied.".into()
        ));
    };
    let mapping = preview::mapping_of(conn, &found)?;
    let held = Held::load(conn, psa, companies)?;
    let plan = plan::decide(psa, companies, &mapping, &held);
    if let Some(why) = preview::differs(&found, companies, &plan) {
        stale(conn, &found, &why)?;
        return Ok(Err(why));
    }
    write(conn, |c| preview::save_its_mapping(c, &found))?;
    apply::execute(conn, psa, &plan, in_each_transaction)?;
    write(conn, |c| {
        preview::set_state(c, id, &[state::APPLYING], state::APPLIED, None)
    })?;
    Ok(Ok(Outcome::of(&plan)))
}

/// The preview cannot be applied any more, for `why`.
pub fn stale(conn: &mut DbConn, found: &Preview, why: &str) -> Result<(), JobError> {
    write(conn, |c| {
        preview::set_state(c, found.id, &[state::APPLYING], state::STALE, Some(why))
    })?;
    Ok(())
}
