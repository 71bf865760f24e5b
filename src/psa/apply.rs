//! Carries out a data load's plan (`plan.rs`): creates, links, updates and orphans organizations,
//! each write with its history line, in transactions of `CHUNK` steps. Every step is "make it as
//! the PSA says", so a load stopped half-way is mended by the next.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::PsaKind;
use super::plan::{Decision, HeldOrg, Plan, Step, Target};
use crate::audit;
use crate::db::schema::organizations;
use crate::db::{DbConn, now, write};
use crate::jobs::JobError;
use crate::orgs::OrgId;
use crate::orgs::store::{self, OrgValues};

/// Steps applied per transaction: other writers wait for one chunk at most.
const CHUNK: usize = 200;

/// Applies `plan`'s writes; `in_each_transaction` runs inside each transaction (the job's sign
/// of life).
pub fn execute(
    conn: &mut DbConn,
    psa: PsaKind,
    plan: &Plan,
    mut in_each_transaction: impl FnMut(&mut DbConn) -> Result<(), JobError>,
) -> Result<(), JobError> {
    let writes: Vec<&Step> = plan.steps.iter().filter(|s| s.decision.writes()).collect();
    for chunk in writes.chunks(CHUNK) {
        write(conn, |conn| {
            in_each_transaction(conn)?;
            for step in chunk {
                apply_step(conn, psa, step)?;
            }
            Ok::<_, JobError>(())
        })?;
    }
    Ok(())
}

fn apply_step(conn: &mut DbConn, psa: PsaKind, step: &Step) -> QueryResult<()> {
    match (step.decision, &step.org, &step.target) {
        (Decision::Create, _, Some(target)) => create(conn, psa, step, target),
        (Decision::Link, Some(org), Some(target)) => {
            link(conn, org.id, psa, &step.company_id)?;
            audit::record_org(
                conn,
                None,
                (org.id, &org.name),
                "psa.linked",
                &format!(
                    "Linked to {} company {} (same name)",
                    psa.label(),
                    step.company_id
                ),
            )?;
            let relinked = HeldOrg {
                orphaned_at: None,
                ..org.clone()
            };
            refresh(conn, psa, &relinked, &step.company_id, target)
        }
        (Decision::Update, Some(org), Some(target)) => {
            refresh(conn, psa, org, &step.company_id, target)
        }
        (Decision::Orphan, Some(org), _) => {
            diesel::update(organizations::table.find(org.id))
                .set((
                    organizations::orphaned_at.eq(Some(now())),
                    organizations::orphan_reason.eq(Some(&step.detail)),
                ))
                .execute(conn)?;
            audit::record_org(
                conn,
                None,
                (org.id, &org.name),
                "psa.orphaned",
                &format!("Orphaned: {}", step.detail),
            )
        }
        _ => Ok(()),
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

/// A linked organization: the PSA wins; an orphan whose company came back is one no more.
fn refresh(
    conn: &mut DbConn,
    psa: PsaKind,
    org: &HeldOrg,
    company: &str,
    t: &Target,
) -> QueryResult<()> {
    let same = org.name == t.name
        && org.short_name == t.short_name
        && org.type_id == Some(t.type_id)
        && org.status_id == Some(t.status_id)
        && org.orphaned_at.is_none();
    if same {
        return Ok(());
    }
    store::update(
        conn,
        OrgId(org.id),
        &OrgValues {
            name: &t.name,
            short_name: &t.short_name,
            type_id: Some(t.type_id),
            status_id: Some(t.status_id),
            parent_id: org.parent_id,
            description: &org.description,
            quick_notes: &org.quick_notes,
            alert: &org.alert,
        },
    )?;
    link(conn, org.id, psa, company)?;
    let what = if org.orphaned_at.is_some() {
        format!(
            "The company is back in {}: no longer an orphan",
            psa.label()
        )
    } else {
        format!("Updated from {} (the PSA wins)", psa.label())
    };
    audit::record_org(conn, None, (org.id, &t.name), "psa.updated", &what)
}

fn create(conn: &mut DbConn, psa: PsaKind, step: &Step, t: &Target) -> QueryResult<()> {
    let id = store::insert(
        conn,
        &OrgValues {
            name: &t.name,
            short_name: &t.short_name,
            type_id: Some(t.type_id),
            status_id: Some(t.status_id),
            parent_id: None,
            description: "",
            quick_notes: "",
            alert: "",
        },
        None,
    )?;
    link(conn, id.0, psa, &step.company_id)?;
    audit::record_org(conn, None, (id.0, &t.name), "psa.created", &step.detail)
}
