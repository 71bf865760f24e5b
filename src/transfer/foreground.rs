//! `roster import itglue PATH --apply`: the same job as the Import page's, run here in the
//! foreground. An unfinished import of the same export (the command was stopped, the machine
//! restarted) is resumed rather than started again.

use std::path::Path;

use super::TransferError;
use super::apply::{self, Payload};
use super::run::{self, Run};
use crate::config::Settings;
use crate::db::DbPool;
use crate::jobs::queue;
use crate::jobs::{Context, JobError, JobId};

/// How a foreground import ended, when it did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ForegroundError {
    #[error(transparent)]
    Transfer(#[from] TransferError),
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for ForegroundError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Transfer(e.into())
    }
}

/// Applies the export at `path` (opened already once with `password`, so both are right) and
/// returns the finished run; `progress` hears of each batch.
pub fn apply(
    pool: &DbPool,
    settings: &Settings,
    path: &Path,
    password: Option<&str>,
    progress: &mut dyn FnMut(&Run),
) -> Result<(JobId, Run), ForegroundError> {
    let path = std::fs::canonicalize(path)
        .map_err(|e| TransferError::Archive(format!("{} cannot be opened: {e}", path.display())))?;
    let owner = format!(
        "cli-{}-{}",
        std::process::id(),
        &crate::auth::token::generate()[..8]
    );
    let lease = settings.jobs.lease;
    let mut conn = pool.get()?;
    let claimed = match run::unfinished(&mut conn, &path.display().to_string())? {
        Some(id) => (
            JobId(id),
            queue::claim_this(&mut conn, JobId(id), &owner, lease)?,
        ),
        None => {
            let payload = Payload::new(&settings.data_key, &path, password, false)?;
            // Queued and leased in one transaction: a server's worker cannot take it between.
            crate::db::write(&mut conn, |conn| -> Result<_, ForegroundError> {
                let id = apply::enqueue(conn, &payload, None)?;
                Ok((id, queue::claim_this(conn, id, &owner, lease)?))
            })?
        }
    };
    let (id, claimed) = claimed;
    let Some(job) = claimed else {
        return Err(ForegroundError::Busy(format!(
            "an import of this export is running already (job {}), in a server or another \
             command; follow it on the Import page, or run this again once it has stopped for \
             {} seconds",
            id.0,
            lease.as_secs()
        )));
    };
    drop(conn);
    let context = Context::foreground(pool.clone(), owner.clone(), settings.jobs);
    let outcome = apply::run(&context, &job, &settings.data_key, progress);
    let mut conn = pool.get()?;
    match outcome {
        Ok(()) => {}
        Err(JobError::Permanent(reason)) => {
            queue::fail(&mut conn, id, &owner, &reason)?;
            return Err(ForegroundError::Failed(reason));
        }
        Err(e) => {
            // Back to the queue: a server's worker, or this command run again, resumes it.
            queue::postpone(&mut conn, id, &owner, crate::db::now())?;
            return Err(ForegroundError::Failed(format!(
                "the import stopped ({e}); run the command again to resume it"
            )));
        }
    }
    let run = run::find(&mut conn, id.0)?.ok_or(diesel::result::Error::NotFound)?;
    Ok((id, run))
}
