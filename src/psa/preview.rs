//! Preview sync: what a data load would do, stored as a report (`psa_previews` and one
//! `psa_preview_items` row per company or organization) without writing anything else. Apply
//! queues a data load that carries out the same plan only if the PSA still returns what was
//! previewed (its fingerprint) and the decision on today's Roster is the same (the plan's digest).
//! The job that makes a preview is in `preview_job.rs`.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::mapping::{self, Mapping};
use super::plan::{self, Decision, Plan};
use super::{Company, PsaKind};
use crate::audit;
use crate::auth::User;
use crate::db::schema::{jobs, psa_preview_items, psa_previews};
use crate::db::{DbConn, now, write};
use crate::jobs::{JobId, NewJob, State, queue};
use crate::validation::FieldErrors;

pub const KIND: &str = "psa_preview";

/// The states of a preview, as stored.
pub mod state {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    /// The PSA stopped answering before the last page: nothing can be applied.
    pub const INCOMPLETE: &str = "incomplete";
    pub const FAILED: &str = "failed";
    pub const APPLYING: &str = "applying";
    pub const APPLIED: &str = "applied";
    /// The PSA (or Roster) changed before Apply: a new preview is needed.
    pub const STALE: &str = "stale";
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = psa_previews)]
pub struct Preview {
    pub id: i64,
    pub psa_kind: String,
    pub state: String,
    pub requested_by: String,
    pub requested_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub job_id: Option<i64>,
    pub mapping: Option<String>,
    pub companies: i32,
    pub fingerprint: String,
    pub plan_digest: String,
    pub created: i32,
    pub linked: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub orphaned: i32,
    pub same_name: i32,
    pub excluded: i32,
    pub not_syncing: i32,
    pub report: String,
    pub error: Option<String>,
    pub load_id: Option<i64>,
}

impl Preview {
    /// Still being made (the report page refreshes itself).
    pub fn in_progress(&self) -> bool {
        matches!(self.state.as_str(), state::QUEUED | state::RUNNING)
    }

    /// Apply is offered.
    pub fn can_apply(&self) -> bool {
        self.state == state::DONE
    }

    pub fn count(&self, decision: Decision) -> i32 {
        match decision {
            Decision::Create => self.created,
            Decision::Link => self.linked,
            Decision::Update => self.updated,
            Decision::Unchanged => self.unchanged,
            Decision::Orphan => self.orphaned,
            Decision::SameName => self.same_name,
            Decision::Excluded => self.excluded,
            Decision::NotSyncing => self.not_syncing,
        }
    }

    /// Made with a mapping that was typed but not saved.
    pub fn unsaved_mapping(&self) -> bool {
        self.mapping.is_some()
    }
}

/// One line of the report.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = psa_preview_items)]
pub struct Item {
    pub decision: String,
    pub company_id: String,
    pub company_name: String,
    pub organization_id: Option<i64>,
    pub organization_name: Option<String>,
    pub detail: String,
}

impl Item {
    pub fn label(&self) -> &'static str {
        Decision::parse(&self.decision).map_or("", Decision::label)
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub preview: i64,
}

/// Why a preview was not queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Another preview is queued or running (its id).
    #[error("another preview is being made")]
    Busy(i64),
    /// The unsaved mapping has errors.
    #[error("the mapping has errors")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Queues a preview of the next data load, with the saved mapping or with `typed` (the mapping
/// form's fields, not saved). One at a time: while one is queued or running, another is refused.
pub fn queue_preview(
    conn: &mut DbConn,
    actor: &User,
    psa: PsaKind,
    typed: Option<&HashMap<String, String>>,
) -> Result<i64, QueueError> {
    write(conn, |conn| {
        if let Some(busy) = busy(conn)? {
            return Err(QueueError::Busy(busy));
        }
        let mapping = match typed {
            Some(fields) => {
                let saved = Mapping::load(conn)?;
                mapping::parse_fields(&saved, fields).map_err(QueueError::Invalid)?;
                Some(serde_json::to_string(fields).unwrap_or_default())
            }
            None => None,
        };
        let at = now();
        let id: i64 = diesel::insert_into(psa_previews::table)
            .values((
                psa_previews::psa_kind.eq(psa.as_str()),
                psa_previews::state.eq(state::QUEUED),
                psa_previews::requested_by.eq(&actor.email),
                psa_previews::requested_at.eq(at),
                psa_previews::mapping.eq(mapping),
            ))
            .returning(psa_previews::id)
            .get_result(conn)?;
        let job = queue::enqueue(
            conn,
            &NewJob {
                kind: KIND,
                payload: serde_json::to_string(&Payload { preview: id }).unwrap_or_default(),
                organization_id: None,
                run_after: at,
                created_by: Some(actor.id.0),
            },
        )?;
        diesel::update(psa_previews::table.find(id))
            .set(psa_previews::job_id.eq(Some(job.0)))
            .execute(conn)?;
        Ok(id)
    })
}

/// The preview being made now, if any.
pub fn busy(conn: &mut DbConn) -> QueryResult<Option<i64>> {
    psa_previews::table
        .filter(psa_previews::state.eq_any([state::QUEUED, state::RUNNING]))
        .select(psa_previews::id)
        .first(conn)
        .optional()
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Preview>> {
    psa_previews::table
        .find(id)
        .select(Preview::as_select())
        .first(conn)
        .optional()
}

pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<Preview>> {
    psa_previews::table
        .order_by(psa_previews::id.desc())
        .limit(limit)
        .select(Preview::as_select())
        .load(conn)
}

/// The report's lines, in the plan's order, of one decision or all; at most `limit`.
pub fn items(
    conn: &mut DbConn,
    id: i64,
    decision: Option<Decision>,
    limit: i64,
) -> QueryResult<Vec<Item>> {
    let mut query = psa_preview_items::table
        .filter(psa_preview_items::preview_id.eq(id))
        .order_by(psa_preview_items::position)
        .limit(limit)
        .select(Item::as_select())
        .into_boxed();
    if let Some(d) = decision {
        query = query.filter(psa_preview_items::decision.eq(d.as_str()));
    }
    query.load(conn)
}

/// The mapping a preview was made with: the unsaved one it carries, else the saved one.
pub fn mapping_of(conn: &mut DbConn, preview: &Preview) -> QueryResult<Mapping> {
    let saved = Mapping::load(conn)?;
    Ok(match typed_rows(&saved, preview) {
        Some(rows) => saved.with_rows(&rows),
        None => saved,
    })
}

fn typed_rows(saved: &Mapping, preview: &Preview) -> Option<Vec<mapping::MapRow>> {
    let fields: HashMap<String, String> = serde_json::from_str(preview.mapping.as_deref()?).ok()?;
    mapping::parse_fields(saved, &fields).ok()
}

/// Moves a preview from `from` to `to` (with `error`); `false` if it was not in `from`.
pub fn set_state(
    conn: &mut DbConn,
    id: i64,
    from: &[&str],
    to: &str,
    error: Option<&str>,
) -> QueryResult<bool> {
    let finished = matches!(
        to,
        state::DONE | state::INCOMPLETE | state::FAILED | state::APPLIED | state::STALE
    );
    let n = diesel::update(
        psa_previews::table
            .find(id)
            .filter(psa_previews::state.eq_any(from)),
    )
    .set((
        psa_previews::state.eq(to),
        psa_previews::error.eq(error),
        psa_previews::finished_at.eq(finished.then(now)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Items written per statement.
const ITEMS_PER_INSERT: usize = 500;

#[derive(Insertable)]
#[diesel(table_name = psa_preview_items)]
struct NewItem<'a> {
    preview_id: i64,
    position: i32,
    decision: &'a str,
    company_id: &'a str,
    company_name: &'a str,
    organization_id: Option<i64>,
    organization_name: Option<&'a str>,
    detail: &'a str,
}

/// Records the plan of preview `id` (each batch of lines in its own transaction), then its
/// counts and fingerprints, and marks it done.
pub fn store_plan(
    conn: &mut DbConn,
    id: i64,
    companies: &[Company],
    plan: &Plan,
) -> QueryResult<()> {
    for (n, chunk) in plan.steps.chunks(ITEMS_PER_INSERT).enumerate() {
        let rows: Vec<NewItem<'_>> = chunk
            .iter()
            .enumerate()
            .map(|(i, s)| NewItem {
                preview_id: id,
                position: i32::try_from(n * ITEMS_PER_INSERT + i).unwrap_or(i32::MAX),
                decision: s.decision.as_str(),
                company_id: &s.company_id,
                company_name: &s.company_name,
                organization_id: s.org.as_ref().map(|o| o.id),
                organization_name: s.org.as_ref().map(|o| o.name.as_str()),
                detail: &s.detail,
            })
            .collect();
        write(conn, |conn| match conn {
            DbConn::Sqlite(c) => diesel::insert_into(psa_preview_items::table)
                .values(rows)
                .execute(c),
            DbConn::Pg(c) => diesel::insert_into(psa_preview_items::table)
                .values(rows)
                .execute(c),
        })?;
    }
    let c = plan.counts();
    write(conn, |conn| {
        diesel::update(psa_previews::table.find(id))
            .set((
                psa_previews::companies.eq(i32::try_from(plan.companies).unwrap_or(i32::MAX)),
                psa_previews::fingerprint.eq(plan::fingerprint(companies)),
                psa_previews::plan_digest.eq(plan.digest()),
                psa_previews::created.eq(c.created),
                psa_previews::linked.eq(c.linked),
                psa_previews::updated.eq(c.updated),
                psa_previews::unchanged.eq(c.unchanged),
                psa_previews::orphaned.eq(c.orphaned),
                psa_previews::same_name.eq(c.same_name),
                psa_previews::excluded.eq(c.excluded),
                psa_previews::not_syncing.eq(c.not_syncing),
                psa_previews::report.eq(plan.report.join("\n")),
            ))
            .execute(conn)?;
        set_state(conn, id, &[state::RUNNING], state::DONE, None).map(|_| ())
    })
}

/// Records that the PSA could not be read to the end: `read` companies came before the failure.
pub fn store_incomplete(conn: &mut DbConn, id: i64, read: usize, reason: &str) -> QueryResult<()> {
    write(conn, |conn| {
        diesel::update(psa_previews::table.find(id))
            .set(psa_previews::companies.eq(i32::try_from(read).unwrap_or(i32::MAX)))
            .execute(conn)?;
        let why = format!(
            "The preview is incomplete: {read} companies were read, then {reason}. Nothing can be applied from it; preview again when the PSA answers."
        );
        set_state(conn, id, &[state::RUNNING], state::INCOMPLETE, Some(&why)).map(|_| ())
    })
}

/// Why the plan decided now is not the one previewed (`None`: the same).
pub fn differs(preview: &Preview, companies: &[Company], plan: &Plan) -> Option<String> {
    if plan::fingerprint(companies) != preview.fingerprint {
        return Some(
            "The PSA changed since the preview (a company was added, removed or changed): nothing was applied. Preview again to see what a data load would do now.".to_owned(),
        );
    }
    if plan.digest() != preview.plan_digest {
        return Some(
            "Roster changed since the preview (an organization, an exclusion or the mapping): nothing was applied. Preview again to see what a data load would do now.".to_owned(),
        );
    }
    None
}

/// Apply: queues the data load that carries out preview `id`'s plan. `Ok(false)` when the
/// preview cannot be applied (not done, applied already, stale).
pub fn queue_apply(conn: &mut DbConn, actor: &User, id: i64) -> QueryResult<bool> {
    write(conn, |conn| {
        if !set_state(conn, id, &[state::DONE], state::APPLYING, None)? {
            return Ok(false);
        }
        let job = super::sync::queue_apply(conn, actor, id)?;
        diesel::update(psa_previews::table.find(id))
            .set(psa_previews::job_id.eq(Some(job.0)))
            .execute(conn)?;
        audit::record(
            conn,
            Some(actor),
            "psa.preview_applied",
            &format!("Applied the changes of PSA preview {id}"),
        )?;
        Ok(true)
    })
}

/// Inside the load's transaction: the unsaved mapping a preview was made with becomes the saved
/// one (the next loads would undo the applied changes otherwise).
pub fn save_its_mapping(conn: &mut DbConn, preview: &Preview) -> QueryResult<()> {
    let saved = Mapping::load(conn)?;
    if let Some(rows) = typed_rows(&saved, preview) {
        mapping::replace(conn, &rows)?;
        audit::record(
            conn,
            None,
            "psa.mapping",
            &format!(
                "Changed how PSA types and statuses map to Roster's (previewed by {}, then applied)",
                preview.requested_by
            ),
        )?;
    }
    Ok(())
}

/// The load that applied preview `id` (or found it stale) ended.
pub fn record_load(conn: &mut DbConn, id: i64, load: i64) -> QueryResult<()> {
    diesel::update(psa_previews::table.find(id))
        .set(psa_previews::load_id.eq(Some(load)))
        .execute(conn)
        .map(|_| ())
}

/// The job of preview `job`, for its progress.
pub fn job_of(conn: &mut DbConn, preview: &Preview) -> QueryResult<Option<queue::Job>> {
    match preview.job_id {
        Some(id) => queue::find(conn, JobId(id)),
        None => Ok(None),
    }
}

/// Whether another preview job than `job` runs now (across instances).
pub fn another_runs(conn: &mut DbConn, job: JobId) -> QueryResult<bool> {
    let n: i64 = jobs::table
        .filter(jobs::kind.eq(KIND))
        .filter(jobs::state.eq(State::Running.as_str()))
        .filter(jobs::id.ne(job.0))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Forgets previews made more than `days` ago (their lines with them).
pub fn prune(conn: &mut DbConn, days: i64) -> QueryResult<usize> {
    let before = now() - chrono::Duration::days(days);
    let old: Vec<i64> = psa_previews::table
        .filter(psa_previews::requested_at.lt(before))
        .filter(psa_previews::state.ne_all([state::QUEUED, state::RUNNING, state::APPLYING]))
        .select(psa_previews::id)
        .limit(100)
        .load(conn)?;
    if old.is_empty() {
        return Ok(0);
    }
    diesel::delete(psa_preview_items::table.filter(psa_preview_items::preview_id.eq_any(&old)))
        .execute(conn)?;
    diesel::delete(psa_previews::table.filter(psa_previews::id.eq_any(&old))).execute(conn)
}
