//! Two-way sync (B5): saving an organization whose type and status both sync creates its company
//! in the PSA within the request (one short attempt) and links it; edits of name, type and status
//! are pushed too. A PSA that cannot be reached leaves the organization saved and a push job that
//! retries with backoff; a refusal for invalid data is final and shown. The parent/child link is
//! never pushed.

use std::time::Duration;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::PsaAccess;
use super::mapping::Mapping;
use super::settings::{self, PsaSettings};
use super::{CompanyFields, PsaError};
use crate::audit;
use crate::db::schema::{jobs, organizations};
use crate::db::{DbConn, DbError, DbPool, write};
use crate::jobs::{Context, Job, JobError, JobKind, NewJob, State, queue};
use crate::orgs::{OrgId, OrgRow};

pub const KIND: &str = "psa_push";

/// The timeout of the attempt made within a request.
pub const IN_REQUEST: Duration = Duration::from_secs(5);

/// The first retry of a push that could not be made within the request.
const FIRST_RETRY: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    org: i64,
}

/// What happened to the PSA after a save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Nothing to do (one-way, not set up, or a type/status that does not sync).
    Nothing,
    /// Created in the PSA and linked.
    Created { psa: &'static str, company: String },
    /// The PSA's company was changed too.
    Updated { psa: &'static str },
    /// Could not reach the PSA: saved, and it will be pushed later.
    Waiting { psa: &'static str, reason: String },
    /// The PSA refused the data: not pushed.
    Refused { psa: &'static str, reason: String },
    /// One-way sync, and a new organization of a syncing type and status: it belongs in the PSA.
    AddInPsa { psa: &'static str },
}

/// What a save means for the PSA.
enum Plan {
    Nothing,
    /// One-way sync, and an organization whose type and status sync.
    AddInPsa(&'static str),
    /// Two-way sync: create (not linked yet) or change the company.
    Send(Box<(PsaSettings, OrgRow, CompanyFields)>),
}

/// What to do for organization `id` after a save (`created`: it is new).
fn plan(conn: &mut DbConn, id: OrgId, created: bool) -> QueryResult<Plan> {
    let Some(saved) = settings::load(conn)? else {
        return Ok(Plan::Nothing);
    };
    let Some(org) = organizations::table
        .find(id.0)
        .filter(organizations::deleted_at.is_null())
        .select(OrgRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(Plan::Nothing);
    };
    let mapping = Mapping::load(conn)?;
    if !mapping.syncs(org.type_id, org.status_id) {
        return Ok(Plan::Nothing);
    }
    if !saved.two_way() {
        return Ok(if created {
            Plan::AddInPsa(saved.kind.label())
        } else {
            Plan::Nothing
        });
    }
    // Linked: only while it syncs with this PSA (not after Disable sync, nor as an orphan).
    let ours = org.psa_company_id.is_none()
        || (org.syncs_with().is_some() && org.psa_kind.as_deref() == Some(saved.kind.as_str()));
    let (Some(t), Some(s)) = (org.type_id, org.status_id) else {
        return Ok(Plan::Nothing);
    };
    let (true, Some(type_name), Some(status_name)) =
        (ours, mapping.psa_type(t), mapping.psa_status(s))
    else {
        return Ok(Plan::Nothing);
    };
    let fields = CompanyFields {
        name: org.name.clone(),
        short_name: org.short_name.clone(),
        type_name,
        status_name,
    };
    Ok(Plan::Send(Box::new((saved, org, fields))))
}

/// Creates or changes the company: `Ok(Some(id))` of a created company, `Ok(None)` for a change.
fn send(
    saved: &PsaSettings,
    org: &OrgRow,
    fields: &CompanyFields,
    access: &PsaAccess,
    in_request: bool,
) -> Result<Option<String>, PsaError> {
    let mut connection = saved
        .connection(access)
        .map_err(|e| PsaError::Config(e.to_string()))?;
    if in_request {
        connection = connection.within_request(IN_REQUEST);
    }
    let psa = super::connect(&connection)?;
    match &org.psa_company_id {
        Some(company) => psa.update(company, fields).map(|()| None),
        None => psa.create(fields).map(|c| Some(c.id)),
    }
}

/// Links the organization to the company created for it.
fn link(conn: &mut DbConn, saved: &PsaSettings, org: &OrgRow, company: &str) -> QueryResult<()> {
    write(conn, |conn| {
        diesel::update(organizations::table.find(org.id))
            .set((
                organizations::psa_kind.eq(Some(saved.kind.as_str())),
                organizations::psa_company_id.eq(Some(company)),
                organizations::sync_enabled.eq(true),
            ))
            .execute(conn)?;
        audit::record_org(
            conn,
            None,
            (org.id, &org.name),
            "psa.pushed",
            &format!(
                "Created in {} as company {company} and linked",
                saved.kind.label()
            ),
        )
    })
}

fn enqueue(conn: &mut DbConn, org: i64, reason: &str) -> QueryResult<()> {
    write(conn, |conn| {
        let waiting: i64 = jobs::table
            .filter(jobs::kind.eq(KIND))
            .filter(jobs::organization_id.eq(org))
            .filter(jobs::state.eq_any([State::Queued.as_str(), State::Running.as_str()]))
            .count()
            .get_result(conn)?;
        if waiting > 0 {
            return Ok(());
        }
        let id = queue::enqueue(
            conn,
            &NewJob {
                kind: KIND,
                payload: serde_json::to_string(&Payload { org }).unwrap_or_default(),
                organization_id: Some(org),
                run_after: queue::after(FIRST_RETRY),
                created_by: None,
            },
        )?;
        diesel::update(jobs::table.find(id.0))
            .set(jobs::last_error.eq(Some(reason)))
            .execute(conn)
            .map(|_| ())
    })
}

/// After a save (create or edit): pushes to the PSA in two-way mode. The organization is saved
/// whatever the PSA answers.
pub fn after_save(
    pool: &DbPool,
    access: &PsaAccess,
    id: OrgId,
    created: bool,
) -> Result<Pushed, DbError> {
    let (saved, org, fields) = match plan(&mut *pool.get()?, id, created)? {
        Plan::Nothing => return Ok(Pushed::Nothing),
        Plan::AddInPsa(psa) => return Ok(Pushed::AddInPsa { psa }),
        Plan::Send(planned) => *planned,
    };
    let psa = saved.kind.label();
    let sent = send(&saved, &org, &fields, access, true);
    let mut conn = pool.get()?;
    Ok(match sent {
        Ok(Some(company)) => {
            link(&mut conn, &saved, &org, &company)?;
            Pushed::Created { psa, company }
        }
        Ok(None) => Pushed::Updated { psa },
        Err(e) if e.retryable() => {
            let reason = e.to_string();
            enqueue(&mut conn, org.id, &reason)?;
            Pushed::Waiting { psa, reason }
        }
        Err(e) => Pushed::Refused {
            psa,
            reason: e.to_string(),
        },
    })
}

/// Why the organization waits to be pushed, if it does.
pub fn waiting(conn: &mut DbConn, org: i64) -> QueryResult<Option<String>> {
    // Two `eq`s rather than `eq_any`: SQLite keeps the statement prepared (an `IN` list is
    // prepared anew on every call), and this runs on every organization's page.
    let job: Option<Option<String>> = crate::native!(conn, |c| jobs::table
        .filter(jobs::organization_id.eq(org))
        .filter(jobs::kind.eq(KIND))
        .filter(
            jobs::state
                .eq(State::Queued.as_str())
                .or(jobs::state.eq(State::Running.as_str())),
        )
        .select(jobs::last_error)
        .first(c)
        .optional())?;
    Ok(job.map(|e| e.unwrap_or_else(|| "queued".to_owned())))
}

/// Pushes that could not be made in the request, as a kind of job for the worker's registry.
pub struct PushRetry(pub PsaAccess);

impl JobKind for PushRetry {
    fn name(&self) -> &'static str {
        KIND
    }

    fn run(&self, context: &Context, job: &Job) -> Result<(), JobError> {
        run(context, job, &self.0)
    }
}

/// The push job: tries again; a refusal ends it (recorded in the organization's history).
pub fn run(context: &Context, job: &Job, access: &PsaAccess) -> Result<(), JobError> {
    let payload: Payload = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("unreadable push job: {e}")))?;
    let planned = plan(&mut *context.conn()?, OrgId(payload.org), false)?;
    let Plan::Send(planned) = planned else {
        return finish(context, job);
    };
    let (saved, org, fields) = *planned;
    match send(&saved, &org, &fields, access, false) {
        Ok(Some(company)) => link(&mut *context.conn()?, &saved, &org, &company)?,
        Ok(None) => {}
        Err(e) if e.retryable() => return Err(JobError::Retry(e.to_string())),
        Err(e) => {
            audit::record_org(
                &mut *context.conn()?,
                None,
                (org.id, &org.name),
                "psa.refused",
                &format!("{} refused the organization: {e}", saved.kind.label()),
            )?;
            return Err(JobError::Permanent(e.to_string()));
        }
    }
    finish(context, job)
}

fn finish(context: &Context, job: &Job) -> Result<(), JobError> {
    if queue::finish(&mut *context.conn()?, job.id(), &context.owner)? {
        Ok(())
    } else {
        Err(JobError::LeaseLost)
    }
}
