//! The `jobs` table: enqueue, lease (exactly one worker per job, also across instances on
//! PostgreSQL through `FOR UPDATE SKIP LOCKED`), sign of life with progress, and the end states.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::jobs;
use crate::db::{DbConn, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting for `run_after`.
    Queued,
    /// Leased by a worker until `lease_until`.
    Running,
    Done,
    /// Gave up after an error that will not go away (see `last_error`).
    Failed,
    /// Withdrawn before it started (a restored deletion).
    Cancelled,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Done => "done",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }

    pub fn parse(value: &str) -> State {
        match value {
            "queued" => State::Queued,
            "running" => State::Running,
            "done" => State::Done,
            "cancelled" => State::Cancelled,
            _ => State::Failed,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub organization_id: Option<i64>,
    pub state: String,
    pub attempts: i32,
    pub run_after: NaiveDateTime,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub last_error: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

impl Job {
    pub fn id(&self) -> JobId {
        JobId(self.id)
    }

    pub fn state(&self) -> State {
        State::parse(&self.state)
    }

    /// Progress in whole percent (0 while the total is not known yet).
    pub fn percent(&self) -> i64 {
        if self.progress_total <= 0 {
            0
        } else {
            (self.progress_done.min(self.progress_total) * 100) / self.progress_total
        }
    }
}

pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: String,
    pub organization_id: Option<i64>,
    pub run_after: NaiveDateTime,
    pub created_by: Option<i64>,
}

/// The moment `d` from now (for `run_after` and leases).
pub fn after(d: Duration) -> NaiveDateTime {
    let at = now();
    chrono::Duration::from_std(d)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(NaiveDateTime::MAX)
}

pub fn enqueue(conn: &mut DbConn, job: &NewJob<'_>) -> QueryResult<JobId> {
    let at = now();
    diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(job.kind),
            jobs::payload.eq(&job.payload),
            jobs::organization_id.eq(job.organization_id),
            jobs::state.eq(State::Queued.as_str()),
            jobs::run_after.eq(job.run_after),
            jobs::created_by.eq(job.created_by),
            jobs::created_at.eq(at),
            jobs::updated_at.eq(at),
        ))
        .returning(jobs::id)
        .get_result(conn)
        .map(JobId)
}

pub fn find(conn: &mut DbConn, id: JobId) -> QueryResult<Option<Job>> {
    jobs::table
        .find(id.0)
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// Is any job due (a cheap read, so that an idle worker does not take write locks)?
pub fn any_due(conn: &mut DbConn) -> QueryResult<bool> {
    let at = now();
    diesel::select(diesel::dsl::exists(
        jobs::table.filter(due(at)).select(jobs::id),
    ))
    .get_result(conn)
}

type DueFilter = diesel::dsl::Or<
    diesel::dsl::And<
        diesel::dsl::Eq<jobs::state, &'static str>,
        diesel::dsl::LtEq<jobs::run_after, NaiveDateTime>,
    >,
    diesel::dsl::And<
        diesel::dsl::Eq<jobs::state, &'static str>,
        diesel::dsl::Lt<jobs::lease_until, NaiveDateTime>,
    >,
>;

/// Queued and due, or running under a lease that ran out (its worker died).
fn due(at: NaiveDateTime) -> DueFilter {
    jobs::state
        .eq(State::Queued.as_str())
        .and(jobs::run_after.le(at))
        .or(jobs::state
            .eq(State::Running.as_str())
            .and(jobs::lease_until.lt(at)))
}

/// Leases the next due job to `owner` for `lease`, or `None`. On PostgreSQL the candidate row is
/// locked with `SKIP LOCKED`, so that concurrent workers of several instances each get another job.
pub fn claim(conn: &mut DbConn, owner: &str, lease: Duration) -> QueryResult<Option<Job>> {
    crate::db::write(conn, |conn| {
        let at = now();
        let next = jobs::table
            .filter(due(at))
            .order_by((jobs::run_after.asc(), jobs::id.asc()))
            .select(jobs::id);
        let id: Option<i64> = match conn {
            DbConn::Pg(pg) => next.for_update().skip_locked().first(pg).optional()?,
            // One writer at a time on SQLite (`BEGIN IMMEDIATE`): nothing to skip.
            DbConn::Sqlite(lite) => next.first(lite).optional()?,
        };
        let Some(id) = id else { return Ok(None) };
        diesel::update(jobs::table.find(id))
            .set((
                jobs::state.eq(State::Running.as_str()),
                jobs::lease_owner.eq(owner),
                jobs::lease_until.eq(after(lease)),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::updated_at.eq(at),
            ))
            .execute(conn)?;
        find(conn, JobId(id))
    })
}

/// Leases the job `id` to `owner` if it is due (queued, or running under a lease that ran out):
/// the command line runs its own job this way. `None` when another worker holds it.
pub fn claim_this(
    conn: &mut DbConn,
    id: JobId,
    owner: &str,
    lease: Duration,
) -> QueryResult<Option<Job>> {
    crate::db::write(conn, |conn| {
        let at = now();
        let changed = diesel::update(jobs::table.find(id.0).filter(due(at)))
            .set((
                jobs::state.eq(State::Running.as_str()),
                jobs::lease_owner.eq(owner),
                jobs::lease_until.eq(after(lease)),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::updated_at.eq(at),
            ))
            .execute(conn)?;
        if changed == 0 {
            return Ok(None);
        }
        find(conn, id)
    })
}

type Held<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Find<jobs::table, i64>,
        diesel::dsl::Eq<jobs::state, &'static str>,
    >,
    diesel::dsl::Eq<jobs::lease_owner, &'a str>,
>;

/// The job `id` while it runs under `owner`'s lease.
fn held(id: JobId, owner: &str) -> Held<'_> {
    jobs::table
        .find(id.0)
        .filter(jobs::state.eq(State::Running.as_str()))
        .filter(jobs::lease_owner.eq(owner))
}

/// Inside the caller's transaction: extends the lease and adds `done` to the progress, if the job
/// is still leased to `owner`. `false` means another worker has it now: the caller must roll back.
pub fn checkpoint(
    conn: &mut DbConn,
    id: JobId,
    owner: &str,
    lease: Duration,
    done: i64,
) -> QueryResult<bool> {
    let changed = diesel::update(held(id, owner))
        .set((
            jobs::lease_until.eq(after(lease)),
            jobs::progress_done.eq(jobs::progress_done + done),
            jobs::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Inside the caller's transaction: the number of rows the job will have handled in all.
pub fn set_total(conn: &mut DbConn, id: JobId, total: i64) -> QueryResult<()> {
    diesel::update(jobs::table.find(id.0))
        .set(jobs::progress_total.eq(total))
        .execute(conn)
        .map(|_| ())
}

fn end(
    conn: &mut DbConn,
    id: JobId,
    owner: &str,
    state: State,
    error: Option<&str>,
) -> QueryResult<bool> {
    let at = now();
    let changed = diesel::update(held(id, owner))
        .set((
            jobs::state.eq(state.as_str()),
            jobs::lease_owner.eq(None::<String>),
            jobs::lease_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq(error),
            jobs::updated_at.eq(at),
            jobs::finished_at.eq(Some(at)),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Inside the caller's transaction (with the job's last writes): the job is done.
pub fn finish(conn: &mut DbConn, id: JobId, owner: &str) -> QueryResult<bool> {
    end(conn, id, owner, State::Done, None)
}

/// The job failed for good.
pub fn fail(conn: &mut DbConn, id: JobId, owner: &str, error: &str) -> QueryResult<bool> {
    end(conn, id, owner, State::Failed, Some(error))
}

/// Back to the queue at `run_after`; `refund` takes the attempt back (it was not a failure).
fn requeue(
    conn: &mut DbConn,
    id: JobId,
    owner: &str,
    run_after: NaiveDateTime,
    error: Option<&str>,
    refund: bool,
) -> QueryResult<bool> {
    let changed = diesel::update(held(id, owner))
        .set((
            jobs::state.eq(State::Queued.as_str()),
            jobs::lease_owner.eq(None::<String>),
            jobs::lease_until.eq(None::<NaiveDateTime>),
            jobs::run_after.eq(run_after),
            jobs::last_error.eq(error),
            jobs::attempts.eq(jobs::attempts - i32::from(refund)),
            jobs::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Gives a failed job back to the queue, to run again at `run_after` (a retry).
pub fn release(
    conn: &mut DbConn,
    id: JobId,
    owner: &str,
    run_after: NaiveDateTime,
    error: Option<&str>,
) -> QueryResult<bool> {
    requeue(conn, id, owner, run_after, error, false)
}

/// Gives a job that could not start yet (or whose server is stopping) back to the queue,
/// without counting the attempt.
pub fn postpone(
    conn: &mut DbConn,
    id: JobId,
    owner: &str,
    run_after: NaiveDateTime,
) -> QueryResult<bool> {
    requeue(conn, id, owner, run_after, None, true)
}

/// Withdraws a job that has not started. `false` when it has started (or ended) already. One
/// `UPDATE ... WHERE state = 'queued'`: a worker's claim and this cannot both win.
pub fn cancel_queued(conn: &mut DbConn, id: JobId) -> QueryResult<bool> {
    let at = now();
    let changed = diesel::update(
        jobs::table
            .find(id.0)
            .filter(jobs::state.eq(State::Queued.as_str())),
    )
    .set((
        jobs::state.eq(State::Cancelled.as_str()),
        jobs::updated_at.eq(at),
        jobs::finished_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Forgets jobs that ended more than `age` ago (their outcome is in the audit trail), in one
/// bounded statement; returns how many went.
pub fn prune(conn: &mut DbConn, age: Duration) -> QueryResult<usize> {
    let before = now() - chrono::Duration::from_std(age).unwrap_or(chrono::Duration::MAX);
    let ids: Vec<i64> = jobs::table
        .filter(jobs::state.eq_any([
            State::Done.as_str(),
            State::Failed.as_str(),
            State::Cancelled.as_str(),
        ]))
        .filter(jobs::finished_at.lt(before))
        .select(jobs::id)
        .limit(1000)
        .load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::delete(jobs::table.filter(jobs::id.eq_any(&ids))).execute(conn)
}
