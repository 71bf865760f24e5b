//! The state of an import being applied (`import_runs`, `import_notes`): how far it got, file by
//! file, so that a job killed midway resumes at the next batch; what it did; its report. Written
//! in the same transaction as each batch, so the place and the rows cannot disagree.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{import_notes as n, import_runs as r};
use crate::db::{DbConn, now};
use crate::transfer::table::{Failure, Row};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = r)]
pub struct Run {
    pub job_id: i64,
    pub source: String,
    pub started_at: NaiveDateTime,
    /// The file being imported (see `apply::STAGES`).
    pub stage: i32,
    /// Rows of that file already done.
    pub stage_rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    /// Rows where a field changed in Roster was kept instead of the export's.
    pub kept: i64,
}

/// What one batch did, added to the run's numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub failed: i64,
    pub kept: i64,
    /// (line, text) for the report.
    pub notes: Vec<(u64, String)>,
}

impl Tally {
    pub fn note(&mut self, line: u64, text: String) {
        self.notes.push((line, text));
    }

    pub fn fail(&mut self, line: u64, text: String) {
        self.failed += 1;
        self.notes.push((line, text));
    }

    /// The rows of a batch that `judge` accepts; unreadable and refused rows count as failed here.
    pub fn sort<V>(
        &mut self,
        rows: Vec<Result<Row, Failure>>,
        mut judge: impl FnMut(&Row, &mut Tally) -> Result<V, String>,
    ) -> Vec<V> {
        let mut valid = Vec::new();
        for row in rows {
            match row {
                Err(f) => self.fail(f.line, f.reason),
                Ok(row) => match judge(&row, self) {
                    Ok(v) => valid.push(v),
                    Err(reason) => self.fail(row.line, reason),
                },
            }
        }
        valid
    }
}

/// The run of job `job`, started now if it has not started yet.
pub fn start(conn: &mut DbConn, job: i64, source: &str) -> QueryResult<Run> {
    if let Some(run) = find(conn, job)? {
        return Ok(run);
    }
    diesel::insert_into(r::table)
        .values((
            r::job_id.eq(job),
            r::source.eq(source),
            r::started_at.eq(now()),
            r::stage.eq(0),
            r::stage_rows.eq(0),
            r::created.eq(0),
            r::updated.eq(0),
            r::unchanged.eq(0),
            r::failed.eq(0),
            r::kept.eq(0),
        ))
        .execute(conn)?;
    find(conn, job)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConn, job: i64) -> QueryResult<Option<Run>> {
    r::table
        .find(job)
        .select(Run::as_select())
        .first(conn)
        .optional()
}

/// Inside the batch's transaction: `rows` more rows of `stage` done, and what they did.
pub fn advance(
    conn: &mut DbConn,
    job: i64,
    (stage, rows): (i32, i64),
    file: &str,
    tally: &Tally,
) -> QueryResult<()> {
    diesel::update(r::table.find(job))
        .set((
            r::stage.eq(stage),
            r::stage_rows.eq(rows),
            r::created.eq(r::created + tally.created),
            r::updated.eq(r::updated + tally.updated),
            r::unchanged.eq(r::unchanged + tally.unchanged),
            r::failed.eq(r::failed + tally.failed),
            r::kept.eq(r::kept + tally.kept),
        ))
        .execute(conn)?;
    let notes: Vec<_> = tally
        .notes
        .iter()
        .map(|(line, text)| {
            (
                n::job_id.eq(job),
                n::file.eq(file),
                n::line.eq(i64::try_from(*line).unwrap_or(i64::MAX)),
                n::note.eq(text),
            )
        })
        .collect();
    if !notes.is_empty() {
        // MultiBackend has no multi-row insert: each backend builds its own.
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(n::table).values(notes).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(n::table).values(notes).execute(c)?,
        };
    }
    Ok(())
}

/// A line of the report: (file, line, text).
pub type Note = (String, i64, String);

/// The report: the first `limit` notes in the order they were written, and how many there are.
pub fn notes(conn: &mut DbConn, job: i64, limit: i64) -> QueryResult<(Vec<Note>, i64)> {
    let total = n::table
        .filter(n::job_id.eq(job))
        .count()
        .get_result(conn)?;
    let rows = n::table
        .filter(n::job_id.eq(job))
        .order_by(n::id)
        .limit(limit)
        .select((n::file, n::line, n::note))
        .load(conn)?;
    Ok((rows, total))
}

/// An import of `source` that has not finished (to resume it rather than start another).
pub fn unfinished(conn: &mut DbConn, source: &str) -> QueryResult<Option<i64>> {
    use crate::db::schema::jobs as j;
    r::table
        .inner_join(j::table.on(j::id.eq(r::job_id)))
        .filter(r::source.eq(source))
        .filter(j::state.eq_any(["queued", "running"]))
        .order_by(r::job_id.desc())
        .select(r::job_id)
        .first(conn)
        .optional()
}

/// The latest imports with their job's state, newest first.
pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<(Run, String)>> {
    use crate::db::schema::jobs as j;
    r::table
        .inner_join(j::table.on(j::id.eq(r::job_id)))
        .order_by(r::job_id.desc())
        .limit(limit)
        .select((Run::as_select(), j::state))
        .load(conn)
}
