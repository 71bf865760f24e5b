//! The export's use cases for the pages: start one (passwords only after the Administrator has
//! typed their own password again; an organization's only when the user may see it), list a
//! user's recent exports, and hand out a finished file to the user who asked for it, audited.

use std::path::{Path, PathBuf};

use diesel::prelude::*;

use super::export::Scope;
use super::export_job::{self, KIND};
use crate::audit;
use crate::auth::User;
use crate::db::schema::{jobs, users};
use crate::db::{DbConn, now, write};
use crate::jobs::{Job, JobId, State, queue};
use crate::orgs::{OrgId, access, store};

/// Why an export was not started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("The password is not yours; type the password you sign in with.")]
    WrongPassword,
    /// The organization does not exist or the user may not see it.
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Queues the export of `scope` for `actor`; `typed` is the password they typed again (needed
/// with passwords, checked with argon2 like sign-in).
pub fn start(
    conn: &mut DbConn,
    actor: &User,
    scope: Scope,
    typed: &str,
) -> Result<JobId, StartError> {
    if scope.with_passwords {
        let hash: String = users::table
            .find(actor.id.0)
            .select(users::password_hash)
            .first(conn)?;
        if typed.is_empty() || !crate::auth::password::verify(typed, &hash) {
            return Err(StartError::WrongPassword);
        }
    }
    if let Some(org) = scope.organization
        && store::find(conn, access::Scope::of(actor), OrgId(org))?.is_none()
    {
        return Err(StartError::NotFound);
    }
    Ok(write(conn, |conn| {
        export_job::enqueue(conn, scope, Some(actor.id.0))
    })?)
}

/// `actor`'s exports of the last day, newest first.
pub fn recent(conn: &mut DbConn, actor: &User) -> QueryResult<Vec<Job>> {
    let since = now() - chrono::Duration::from_std(export_job::KEEP).unwrap_or_default();
    let ids: Vec<i64> = jobs::table
        .filter(jobs::kind.eq(KIND))
        .filter(jobs::created_by.eq(actor.id.0))
        .filter(jobs::created_at.gt(since))
        .order(jobs::id.desc())
        .limit(20)
        .select(jobs::id)
        .load(conn)?;
    let mut out = Vec::new();
    for id in ids {
        out.extend(queue::find(conn, JobId(id))?);
    }
    Ok(out)
}

/// Export job `id` if `actor` asked for it (anyone else's, or another kind of job: `None`).
pub fn own_job(conn: &mut DbConn, actor: &User, id: i64) -> QueryResult<Option<(Job, Scope)>> {
    let Some(job) = queue::find(conn, JobId(id))? else {
        return Ok(None);
    };
    let Some(scope) = export_job::scope_of(&job) else {
        return Ok(None);
    };
    if job.created_by != Some(actor.id.0) {
        return Ok(None);
    }
    if let Some(org) = scope.organization
        && store::find(conn, access::Scope::of(actor), OrgId(org))?.is_none()
    {
        return Ok(None);
    }
    Ok(Some((job, scope)))
}

/// Whether a finished export can still be downloaded (a day after it finished, it cannot).
pub fn fresh(job: &Job) -> bool {
    let keep = chrono::Duration::from_std(export_job::KEEP).unwrap_or_default();
    job.state() == State::Done && job.finished_at.is_some_and(|at| now() - at < keep)
}

/// The file of `actor`'s finished export `id`, with the download written to the audit trail;
/// `None` when it is not theirs, not finished, or expired (its file is then removed).
pub fn download(
    conn: &mut DbConn,
    actor: &User,
    id: i64,
    data_dir: &Path,
) -> QueryResult<Option<PathBuf>> {
    let Some((job, scope)) = own_job(conn, actor, id)? else {
        return Ok(None);
    };
    let path = export_job::file(data_dir, id);
    if !fresh(&job) {
        let _ = std::fs::remove_file(&path);
        return Ok(None);
    }
    if !path.is_file() {
        return Ok(None);
    }
    let summary = format!(
        "Downloaded the export {id} ({}, {})",
        export_job::what(scope),
        if scope.with_passwords {
            "with passwords"
        } else {
            "without passwords"
        }
    );
    audit::record(conn, Some(actor), "export.downloaded", &summary)?;
    Ok(Some(path))
}
