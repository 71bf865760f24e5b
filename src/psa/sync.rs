//! The data load (B4, B9): every company of the PSA, page by page, then "the PSA always wins":
//! linked organizations take the PSA's name, short name, type and status; companies of a syncing
//! type and status are matched (by PSA id, else by exactly the same name) or created; linked
//! organizations whose company is gone, deleted or no longer syncing become orphans (and stop
//! being orphans when it comes back). Nothing is written until every page was read, so a load
//! that cannot read the PSA changes nothing; what is kept meanwhile is capped (`MAX_COMPANIES`,
//! `MAX_KEPT_BYTES`). The writes go in short transactions, each one "make it as the PSA says", so
//! a load stopped half-way is mended by the next. Runs as a job.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::mapping::Mapping;
use super::settings;
use super::{Company, Connection, Psa, PsaError, PsaKind};
use crate::audit;
use crate::auth::User;
use crate::db::schema::{jobs, organizations, psa_loads};
use crate::db::{DbConn, now, write};
use crate::jobs::{Context, Job, JobError, JobId, JobKind, NewJob, State, queue};
use crate::orgs::store::{self, OrgValues};
use crate::orgs::{OrgId, exclusions};

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

/// Reads every company, page by page (at most `MAX_PAGES`, `MAX_COMPANIES` and `MAX_KEPT_BYTES`),
/// calling `between_pages` after each (the job's sign of life). The outer error stops the job;
/// the inner one is the load's failure.
pub fn read_all(
    psa: &dyn Psa,
    mut between_pages: impl FnMut() -> Result<(), JobError>,
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
        between_pages()?;
    }
    Ok(Err(PsaError::Malformed(format!(
        "the PSA answered more than {MAX_PAGES} pages of companies"
    ))))
}

/// A linked organization as the load compares it.
#[derive(Debug, Clone, Queryable)]
struct Linked {
    id: i64,
    name: String,
    short_name: String,
    type_id: Option<i64>,
    status_id: Option<i64>,
    parent_id: Option<i64>,
    description: String,
    quick_notes: String,
    alert: String,
    company: Option<String>,
    orphaned_at: Option<NaiveDateTime>,
}

const LINKED: (
    organizations::id,
    organizations::name,
    organizations::short_name,
    organizations::type_id,
    organizations::status_id,
    organizations::parent_id,
    organizations::description,
    organizations::quick_notes,
    organizations::alert,
    organizations::psa_company_id,
    organizations::orphaned_at,
) = (
    organizations::id,
    organizations::name,
    organizations::short_name,
    organizations::type_id,
    organizations::status_id,
    organizations::parent_id,
    organizations::description,
    organizations::quick_notes,
    organizations::alert,
    organizations::psa_company_id,
    organizations::orphaned_at,
);

/// A company that syncs, with the Roster type and status it maps to.
struct Syncing<'a> {
    company: &'a Company,
    type_id: i64,
    status_id: i64,
}

fn syncing<'a>(company: &'a Company, mapping: &Mapping) -> Option<Syncing<'a>> {
    if company.deleted {
        return None;
    }
    let t = mapping.type_of(company.type_name.as_deref()?)?;
    let s = mapping.status_of(company.status_name.as_deref()?)?;
    (t.synced && s.synced).then_some(Syncing {
        company,
        type_id: t.id,
        status_id: s.id,
    })
}

/// Why a linked organization is an orphan now (its company is `company`, if the PSA still has it).
fn orphan_reason(company: Option<&Company>, psa: PsaKind) -> String {
    match company {
        None => format!("The company is no longer in {}.", psa.label()),
        Some(c) if c.deleted => format!("The company is marked deleted in {}.", psa.label()),
        Some(c) => format!(
            "Its type or status in {} ({} / {}) no longer syncs.",
            psa.label(),
            c.type_name.as_deref().unwrap_or("none"),
            c.status_name.as_deref().unwrap_or("none")
        ),
    }
}

fn link(conn: &mut DbConn, id: i64, psa: PsaKind, company: &str) -> QueryResult<()> {
    diesel::update(organizations::table.find(id))
        .set((
            organizations::psa_kind.eq(Some(psa.as_str())),
            organizations::psa_company_id.eq(Some(company)),
            organizations::sync_enabled.eq(true),
            organizations::orphaned_at.eq(None::<NaiveDateTime>),
            organizations::orphan_reason.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Companies applied per transaction: other writers wait for one chunk at most.
const CHUNK: usize = 200;

/// Applies the companies read from the PSA, in transactions of `CHUNK` companies (a load that
/// stops half-way is mended by the next: every step is "make it as the PSA says").
/// `in_each_transaction` runs inside each of them (the job's sign of life).
pub fn apply(
    conn: &mut DbConn,
    psa: PsaKind,
    companies: &[Company],
    mut in_each_transaction: impl FnMut(&mut DbConn) -> Result<(), JobError>,
) -> Result<Outcome, JobError> {
    let mapping = Mapping::load(conn)?;
    let mut out = Outcome {
        companies: i32::try_from(companies.len()).unwrap_or(i32::MAX),
        ..Outcome::default()
    };
    let linked: Vec<Linked> = organizations::table
        .filter(organizations::psa_kind.eq(psa.as_str()))
        .filter(organizations::psa_company_id.is_not_null())
        .filter(organizations::sync_enabled.eq(true))
        .filter(organizations::deleted_at.is_null())
        .select(LINKED)
        .load(conn)?;
    let by_company: HashMap<&str, &Linked> = linked
        .iter()
        .filter_map(|o| o.company.as_deref().map(|c| (c, o)))
        .collect();
    let excluded = exclusions::excluded_companies(conn, psa.as_str())?;
    let mut sorted: Vec<&Company> = companies
        .iter()
        .filter(|c| !excluded.contains(&c.id))
        .collect();
    out.excluded = i32::try_from(companies.len() - sorted.len()).unwrap_or(i32::MAX);
    if out.excluded > 0 {
        out.report.push(format!(
            "{} excluded compan{} left alone (Disable sync or a delete; PSA settings list them, with Include again).",
            out.excluded,
            if out.excluded == 1 { "y" } else { "ies" }
        ));
    }
    sorted.sort_by_key(|c| (c.id.parse::<i64>().unwrap_or(i64::MAX), c.id.clone()));
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut present: HashSet<&str> = HashSet::new();
    let mut work: Vec<(Syncing<'_>, Option<&Linked>)> = Vec::new();
    for company in sorted {
        let Some(s) = syncing(company, &mapping) else {
            continue;
        };
        present.insert(company.id.as_str());
        let org = by_company.get(company.id.as_str()).copied();
        if let Some(first) = names.get(company.name.as_str())
            && org.is_none()
        {
            out.failed += 1;
            out.report.push(format!(
                "Company {} \u{201c}{}\u{201d} has the same name as company {first}: not brought over. Rename one of them in {}.",
                company.id,
                company.name,
                psa.label()
            ));
            continue;
        }
        names.insert(company.name.as_str(), company.id.as_str());
        work.push((s, org));
    }
    for chunk in work.chunks(CHUNK) {
        write(conn, |conn| {
            in_each_transaction(conn)?;
            let new: Vec<&str> = chunk
                .iter()
                .filter(|(_, org)| org.is_none())
                .map(|(s, _)| s.company.name.as_str())
                .collect();
            let mut unlinked = unlinked_named(conn, &new)?;
            for (s, org) in chunk {
                match org {
                    Some(org) if refresh(conn, psa, org, s)? => out.updated += 1,
                    Some(_) => out.matched += 1,
                    None => {
                        let named = unlinked.remove(&s.company.name).unwrap_or_default();
                        match_or_create(conn, psa, s, &named, &mut out)?;
                    }
                }
            }
            Ok::<_, JobError>(())
        })?;
    }
    let all: HashMap<&str, &Company> = companies.iter().map(|c| (c.id.as_str(), c)).collect();
    let orphans: Vec<&Linked> = linked
        .iter()
        .filter(|o| {
            o.company.as_deref().is_some_and(|c| {
                !present.contains(c) && !excluded.contains(c) && o.orphaned_at.is_none()
            })
        })
        .collect();
    write(conn, |conn| {
        in_each_transaction(conn)?;
        for org in &orphans {
            let company = org.company.as_deref().unwrap_or_default();
            let reason = orphan_reason(all.get(company).copied(), psa);
            diesel::update(organizations::table.find(org.id))
                .set((
                    organizations::orphaned_at.eq(Some(now())),
                    organizations::orphan_reason.eq(Some(&reason)),
                ))
                .execute(conn)?;
            audit::record_org(
                conn,
                None,
                (org.id, &org.name),
                "psa.orphaned",
                &format!("Orphaned: {reason}"),
            )?;
            out.orphaned += 1;
        }
        Ok::<_, JobError>(())
    })?;
    Ok(out)
}

/// Organizations not linked to a PSA with exactly one of `names`, by name (one statement for a
/// chunk of companies instead of one each).
fn unlinked_named(conn: &mut DbConn, names: &[&str]) -> QueryResult<HashMap<String, Vec<Linked>>> {
    let mut found: HashMap<String, Vec<Linked>> = HashMap::new();
    if names.is_empty() {
        return Ok(found);
    }
    let rows: Vec<Linked> = organizations::table
        .filter(organizations::name.eq_any(names))
        .filter(organizations::psa_company_id.is_null())
        .filter(organizations::deleted_at.is_null())
        .select(LINKED)
        .load(conn)?;
    for row in rows {
        found.entry(row.name.clone()).or_default().push(row);
    }
    Ok(found)
}

/// A linked organization: the PSA wins; an orphan whose company came back is one no more.
/// `true` when something changed.
fn refresh(conn: &mut DbConn, psa: PsaKind, org: &Linked, s: &Syncing<'_>) -> QueryResult<bool> {
    let c = s.company;
    let same = org.name == c.name
        && org.short_name == c.short_name
        && org.type_id == Some(s.type_id)
        && org.status_id == Some(s.status_id)
        && org.orphaned_at.is_none();
    if same {
        return Ok(false);
    }
    store::update(
        conn,
        OrgId(org.id),
        &OrgValues {
            name: &c.name,
            short_name: &c.short_name,
            type_id: Some(s.type_id),
            status_id: Some(s.status_id),
            parent_id: org.parent_id,
            description: &org.description,
            quick_notes: &org.quick_notes,
            alert: &org.alert,
        },
    )?;
    link(conn, org.id, psa, &c.id)?;
    let what = if org.orphaned_at.is_some() {
        format!(
            "The company is back in {}: no longer an orphan",
            psa.label()
        )
    } else {
        format!("Updated from {} (the PSA wins)", psa.label())
    };
    audit::record_org(conn, None, (org.id, &c.name), "psa.updated", &what)?;
    Ok(true)
}

/// A company no organization is linked to: the one organization of exactly that name, else a new one.
fn match_or_create(
    conn: &mut DbConn,
    psa: PsaKind,
    s: &Syncing<'_>,
    candidates: &[Linked],
    out: &mut Outcome,
) -> QueryResult<()> {
    let c = s.company;
    if let [org] = candidates {
        link(conn, org.id, psa, &c.id)?;
        let linked = Linked {
            orphaned_at: None,
            ..org.clone()
        };
        audit::record_org(
            conn,
            None,
            (org.id, &org.name),
            "psa.linked",
            &format!("Linked to {} company {} (same name)", psa.label(), c.id),
        )?;
        refresh(conn, psa, &linked, s)?;
        out.matched += 1;
        return Ok(());
    }
    let id = store::insert(
        conn,
        &OrgValues {
            name: &c.name,
            short_name: &c.short_name,
            type_id: Some(s.type_id),
            status_id: Some(s.status_id),
            parent_id: None,
            description: "",
            quick_notes: "",
            alert: "",
        },
        None,
    )?;
    link(conn, id.0, psa, &c.id)?;
    let flag = if candidates.len() > 1 {
        let note = format!(
            "{} organizations are named \u{201c}{}\u{201d}: created a new one for {} company {}; merge or rename them.",
            candidates.len(),
            c.name,
            psa.label(),
            c.id
        );
        out.report.push(note.clone());
        format!(" {note}")
    } else {
        String::new()
    };
    audit::record_org(
        conn,
        None,
        (id.0, &c.name),
        "psa.created",
        &format!(
            "Brought over from {} (company {}).{flag}",
            psa.label(),
            c.id
        ),
    )?;
    out.created += 1;
    Ok(())
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
    let trigger = serde_json::from_str::<Payload>(&job.payload)
        .map_or_else(|_| "schedule".to_owned(), |p| p.trigger);
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
    let load = start_load(&mut conn, saved.kind, &trigger)?;
    drop(conn);
    let keep_lease = |conn: &mut DbConn| context.keep_lease(conn, job.id());
    let read = match saved.connection(access) {
        Err(e) => Err(e.to_string()),
        // The load's error is shown on the settings page: the status, never what was answered.
        Ok(connection) => match super::connect(&Connection {
            quote_answers: false,
            ..connection
        }) {
            Err(e) => Err(e.to_string()),
            Ok(psa) => read_all(psa.as_ref(), || keep_lease(&mut *context.conn()?))?
                .map_err(|e| e.to_string()),
        },
    };
    let mut conn = context.conn()?;
    let result = match read {
        Ok(companies) => match apply(&mut conn, saved.kind, &companies, keep_lease) {
            Ok(outcome) => Ok(outcome),
            Err(JobError::Db(e)) => Err(e.to_string()),
            Err(stop) => return Err(stop),
        },
        Err(reason) => Err(reason),
    };
    if let Err(reason) = &result {
        tracing::warn!(%reason, "PSA data load failed");
    }
    end_load(&mut conn, load, &result)?;
    if !queue::finish(&mut conn, job.id(), &context.owner)? {
        return Err(JobError::LeaseLost);
    }
    Ok(())
}
