//! The export as a job of the queue: written to `<data>/exports/<job id>.zip` (through a `.part`
//! file, renamed once complete) with the job's progress, and forgotten a day later. Run by the
//! worker for the Export pages and in the foreground by `roster export PATH`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::export::{self, Scope};
use super::lean_conn::LeanConn;
use crate::audit;
use crate::config::SecretKey;
use crate::db::schema::jobs;
use crate::db::{DbConn, DbError, now, write};
use crate::jobs::queue::{self, NewJob};
use crate::jobs::{Context, Job, JobError, JobId, JobKind};

pub const KIND: &str = "roster-export";

/// How long a finished export can be downloaded before its file is removed.
pub const KEEP: Duration = Duration::from_secs(24 * 3600);

/// The folder of exports in the data folder.
pub fn folder(data_dir: &Path) -> PathBuf {
    data_dir.join("exports")
}

/// Where job `id`'s export is once complete.
pub fn file(data_dir: &Path, id: i64) -> PathBuf {
    folder(data_dir).join(format!("{id}.zip"))
}

/// What the job is given.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Payload {
    pub scope: Scope,
}

/// Queues an export for `by` (`None`: the command line).
pub fn enqueue(conn: &mut DbConn, scope: Scope, by: Option<i64>) -> QueryResult<JobId> {
    let payload = serde_json::to_string(&Payload { scope })
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    queue::enqueue(
        conn,
        &NewJob {
            kind: KIND,
            payload,
            organization_id: scope.organization,
            run_after: now(),
            created_by: by,
        },
    )
}

/// The scope of an export job, if `job` is one.
pub fn scope_of(job: &Job) -> Option<Scope> {
    (job.kind == KIND)
        .then(|| serde_json::from_str::<Payload>(&job.payload).ok())
        .flatten()
        .map(|p| p.scope)
}

/// The job kind, for the worker's registry.
pub struct RosterExport {
    pub key: SecretKey,
    pub data_dir: PathBuf,
}

impl JobKind for RosterExport {
    fn name(&self) -> &'static str {
        KIND
    }

    fn run(&self, context: &Context, job: &Job) -> Result<(), JobError> {
        run(context, job, (&self.key, &self.data_dir), &mut |_| {})
    }

    fn prune(&self, _conn: &mut DbConn) -> Result<(), DbError> {
        remove_expired(&self.data_dir);
        Ok(())
    }
}

/// Removes exports (and parts of stopped ones) older than a day.
pub fn remove_expired(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(folder(data_dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|at| at.elapsed().ok())
            .is_some_and(|age| age > KEEP);
        if old && let Err(e) = std::fs::remove_file(entry.path()) {
            tracing::warn!(error = %e, "could not remove an old export");
        }
    }
}

/// Writes (or writes again, after a stop) the export of `job`, then finishes the job; `heard`
/// hears of the rows written so far.
pub fn run(
    context: &Context,
    job: &Job,
    (key, data_dir): (&SecretKey, &Path),
    heard: &mut dyn FnMut(i64),
) -> Result<(), JobError> {
    let scope =
        scope_of(job).ok_or_else(|| JobError::Permanent("unreadable export job".to_owned()))?;
    std::fs::create_dir_all(folder(data_dir)).map_err(export::broken)?;
    let done = file(data_dir, job.id);
    let part = done.with_extension("zip.part");
    let mut conn = LeanConn::get(context)?;
    write(&mut conn, |conn| -> Result<(), JobError> {
        let total = export::count(conn, scope)?;
        queue::set_total(conn, job.id(), total)?;
        // A stopped attempt starts again from the beginning.
        diesel::update(jobs::table.find(job.id))
            .set(jobs::progress_done.eq(0))
            .execute(conn)?;
        Ok(())
    })?;
    let out = std::fs::File::create(&part).map_err(export::broken)?;
    let mut rows = 0;
    let mut progress = |conn: &mut DbConn, n: i64| -> Result<(), JobError> {
        context.pause(Duration::ZERO)?;
        rows += n;
        heard(rows);
        if queue::checkpoint(conn, job.id(), &context.owner, context.settings.lease, n)? {
            Ok(())
        } else {
            Err(JobError::LeaseLost)
        }
    };
    let written = export::write(&mut conn, key, scope, out, &mut progress);
    let out = match written {
        Ok(out) => out,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    out.sync_all().map_err(export::broken)?;
    drop(out);
    std::fs::rename(&part, &done).map_err(export::broken)?;
    write(&mut conn, |conn| {
        let actor = match job.created_by {
            Some(id) => crate::auth::users::find(conn, crate::auth::UserId(id))?.map(|u| u.user()),
            None => None,
        };
        let summary = format!(
            "Exported {} in IT Glue's layout, {}",
            what(scope),
            if scope.with_passwords {
                "with passwords"
            } else {
                "without passwords"
            }
        );
        audit::record(conn, actor.as_ref(), "export.created", &summary)?;
        if queue::finish(conn, job.id(), &context.owner)? {
            Ok(())
        } else {
            Err(JobError::LeaseLost)
        }
    })
}

/// What an export holds, in words.
pub fn what(scope: Scope) -> String {
    match scope.organization {
        Some(id) => format!("the organization {id}"),
        None => "everything".to_owned(),
    }
}

/// `roster export PATH`: the same job, run here; the ZIP is then moved to `path`.
pub fn foreground(
    pool: &crate::db::DbPool,
    settings: &crate::config::Settings,
    scope: Scope,
    path: &Path,
    heard: &mut dyn FnMut(i64),
) -> Result<(), super::foreground::ForegroundError> {
    use super::foreground::ForegroundError;
    let owner = format!(
        "cli-{}-{}",
        std::process::id(),
        &crate::auth::token::generate()[..8]
    );
    let lease = settings.jobs.lease;
    let mut conn = pool.get()?;
    // Queued and leased in one transaction: a server's worker cannot take it between.
    let (id, job) = write(&mut conn, |conn| -> Result<_, ForegroundError> {
        let id = enqueue(conn, scope, None)?;
        Ok((id, queue::claim_this(conn, id, &owner, lease)?))
    })?;
    let job = job.ok_or_else(|| ForegroundError::Failed("the export job was taken".into()))?;
    drop(conn);
    let context = Context::foreground(pool.clone(), owner.clone(), settings.jobs);
    let outcome = run(
        &context,
        &job,
        (&settings.data_key, &settings.data_dir),
        heard,
    );
    if let Err(e) = outcome {
        let mut conn = pool.get()?;
        queue::fail(&mut conn, id, &owner, &e.to_string())?;
        return Err(ForegroundError::Failed(format!("the export stopped: {e}")));
    }
    let done = file(&settings.data_dir, id.0);
    let moved = std::fs::rename(&done, path).or_else(|_| {
        std::fs::copy(&done, path)?;
        std::fs::remove_file(&done)
    });
    moved.map_err(|e| {
        ForegroundError::Failed(format!(
            "the export was written to {} but cannot be moved to {}: {e}",
            done.display(),
            path.display()
        ))
    })
}
