//! One worker thread per server instance: it leases due jobs and runs them one at a time. A job
//! gives signs of life while it runs (its lease is extended with each checkpoint); a job whose
//! worker died is taken up by any instance once the lease runs out.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use super::queue::{self, Job};
use super::{JobError, Registry};
use crate::config::JobSettings;
use crate::db::{DbConn, DbError, DbPool};

/// Wakes the worker at once (after a job was queued to run now); a no-op without a worker.
#[derive(Clone, Default)]
pub struct Waker(Option<Thread>);

impl Waker {
    pub fn wake(&self) {
        if let Some(thread) = &self.0 {
            thread.unpark();
        }
    }
}

/// What a running job may ask of its worker.
pub struct Context {
    pub pool: DbPool,
    pub owner: String,
    pub settings: JobSettings,
    kinds: Registry,
    stop: Arc<AtomicBool>,
}

impl Context {
    /// A context for running one job in the foreground (the command line), outside any worker.
    pub fn foreground(pool: DbPool, owner: String, settings: JobSettings) -> Self {
        Context {
            pool,
            owner,
            settings,
            kinds: Registry::default(),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// A connection for the next step of the job.
    pub fn conn(&self) -> Result<crate::db::PooledConn, JobError> {
        self.pool.get().map_err(JobError::Db)
    }

    /// A sign of life from a long step, on `conn` (inside the step's transaction, if any):
    /// extends the job's lease; `Err(LeaseLost)` if another worker has it now, `Err(Stopping)`
    /// when the server is shutting down.
    pub fn keep_lease(&self, conn: &mut DbConn, job: super::JobId) -> Result<(), JobError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(JobError::Stopping);
        }
        if queue::checkpoint(conn, job, &self.owner, self.settings.lease, 0)? {
            Ok(())
        } else {
            Err(JobError::LeaseLost)
        }
    }

    /// Between two steps: `Err(Stopping)` when the server is shutting down.
    pub fn pause(&self, pause: Duration) -> Result<(), JobError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(JobError::Stopping);
        }
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        if self.stop.load(Ordering::Relaxed) {
            return Err(JobError::Stopping);
        }
        Ok(())
    }
}

/// How many times a job that fails for a passing reason (a lost connection) is tried.
const MAX_ATTEMPTS: i32 = 5;

pub struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker thread on its own small pool, running the jobs of the `kinds` given.
    pub fn start(pool: DbPool, settings: JobSettings, kinds: Registry) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let owner = format!(
            "{}-{}",
            std::process::id(),
            &crate::auth::token::generate()[..12]
        );
        let context = Context {
            pool,
            owner,
            settings,
            kinds,
            stop: stop.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("roster-jobs".into())
            .spawn(move || run(&context))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    pub fn waker(&self) -> Waker {
        Waker(self.thread.as_ref().map(|t| t.thread().clone()))
    }

    /// Stops after the current step (a running job goes back to the queue) and waits.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Ended jobs are kept this long (a deleted organization's page says "deleted" meanwhile).
const KEEP_ENDED: Duration = Duration::from_secs(30 * 24 * 3600);

/// How often the worker forgets old jobs.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

fn prune(context: &Context) {
    let pruned = context.pool.get().and_then(|mut conn| {
        let jobs = queue::prune(&mut conn, KEEP_ENDED)?;
        for kind in context.kinds.all() {
            kind.prune(&mut conn)?;
        }
        Ok(jobs)
    });
    match pruned {
        Ok(0) => {}
        Ok(n) => tracing::info!(jobs = n, "forgot old jobs"),
        Err(e) => tracing::warn!(error = %e, "could not forget old jobs"),
    }
}

fn run(context: &Context) {
    tracing::info!(owner = %context.owner, "job worker started");
    let mut pruned_at: Option<std::time::Instant> = None;
    while !context.stop.load(Ordering::Relaxed) {
        if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            prune(context);
            pruned_at = Some(std::time::Instant::now());
        }
        match next(context) {
            Ok(Some(job)) => execute(context, &job),
            // The pool logs an outage once, when it starts and when it ends.
            Ok(None) | Err(DbError::Unavailable(_)) => {
                std::thread::park_timeout(context.settings.poll);
            }
            Err(e) => {
                tracing::warn!(error = %e, "the job worker cannot read the queue");
                std::thread::park_timeout(context.settings.poll);
            }
        }
    }
    tracing::info!(owner = %context.owner, "job worker stopped");
}

fn next(context: &Context) -> Result<Option<Job>, DbError> {
    context.pool.run(|conn| {
        for kind in context.kinds.all() {
            kind.schedule(conn)?;
        }
        if !queue::any_due(conn)? {
            return Ok(None);
        }
        Ok(queue::claim(conn, &context.owner, context.settings.lease)?)
    })
}

/// The use case behind each kind of job.
fn dispatch(context: &Context, job: &Job) -> Result<(), JobError> {
    match context.kinds.find(&job.kind) {
        Some(kind) => kind.run(context, job),
        None => Err(JobError::Permanent(format!(
            "no worker knows jobs of kind {:?}",
            job.kind
        ))),
    }
}

fn execute(context: &Context, job: &Job) {
    let span = tracing::info_span!("job", id = job.id, kind = %job.kind, attempt = job.attempts);
    let _entered = span.enter();
    let outcome = dispatch(context, job);
    let settle = |conn: &mut DbConn| -> Result<(), DbError> {
        let (id, owner) = (job.id(), context.owner.as_str());
        match &outcome {
            Ok(()) => tracing::info!("job done"),
            Err(JobError::LeaseLost) => tracing::warn!("job taken over by another worker"),
            // Not failures: back to the queue without counting the attempt.
            Err(JobError::Stopping) => {
                queue::postpone(conn, id, owner, crate::db::now())?;
            }
            Err(JobError::Postpone(wait)) => {
                queue::postpone(conn, id, owner, queue::after(*wait))?;
            }
            Err(JobError::Permanent(reason)) => {
                tracing::error!(%reason, "job failed");
                queue::fail(conn, id, owner, reason)?;
            }
            Err(e @ (JobError::Db(_) | JobError::Retry(_))) if job.attempts < MAX_ATTEMPTS => {
                tracing::warn!(error = %e, "job will be tried again");
                let backoff = Duration::from_secs(2u64.pow(job.attempts.unsigned_abs().min(8)));
                queue::release(conn, id, owner, queue::after(backoff), Some(&e.to_string()))?;
            }
            Err(e @ (JobError::Db(_) | JobError::Retry(_))) => {
                tracing::error!(error = %e, "job failed after {MAX_ATTEMPTS} attempts");
                queue::fail(conn, id, owner, &e.to_string())?;
            }
        }
        Ok(())
    };
    let settled = context.pool.get().and_then(|mut conn| settle(&mut conn));
    if let Err(e) = settled {
        // The lease runs out and another attempt is made.
        tracing::warn!(error = %e, "could not record how the job ended");
    }
}
