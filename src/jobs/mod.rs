//! The durable job queue: a `jobs` table that every server instance reads, and one worker thread
//! per instance that leases due jobs and runs them (DESIGN.md: "All state lives in the database").
//! No HTTP here.

pub mod kind;
pub mod queue;
pub mod worker;

pub use kind::{JobKind, Registry};
pub use queue::{Job, JobId, NewJob, State};
pub use worker::{Context, Waker, Worker};

/// What a job can end with, besides success.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Another worker holds the job now (our lease ran out): stop without touching it.
    #[error("the lease was lost")]
    LeaseLost,
    /// The server is stopping: give the job back for another worker.
    #[error("the worker is stopping")]
    Stopping,
    /// Cannot start yet (another data load runs): back to the queue for this long, without
    /// counting as an attempt.
    #[error("cannot start yet")]
    Postpone(std::time::Duration),
    /// Failed for a passing reason (the PSA is down): tried again later, with backoff.
    #[error("{0}")]
    Retry(String),
    /// Will not succeed however often it is tried.
    #[error("{0}")]
    Permanent(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for JobError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}
