//! The merge itself, in one transaction: records, sub-organizations, access-list entries, the
//! logo, the joined texts and the PSA link move to the kept organization; the merged-away one is
//! deleted through the ordinary deletion (grace period, purge job); what moved is written to
//! `organization_merges` so that its Restore undoes the merge (`merge_undo.rs`).

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::access::Scope;
use super::merge::{PsaLink, access_gained, joined, moving_subs, pair, texts};
use super::{OrgError, OrgId, OrgRef, OrgRow, delete};
use crate::audit;
use crate::auth::User;
use crate::db::schema::{
    logos, organization_merges as m, organizations, records, user_organizations,
};
use crate::db::{DbConn, now, write};
use crate::jobs::JobId;

/// `eq_any` lists are cut to this size (SQLite limits the parameters of one statement).
pub(super) const CHUNK: usize = 500;

/// The kept organization's texts and both PSA links before the merge (`before_merge`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Before {
    pub(super) alert: String,
    pub(super) quick_notes: String,
    pub(super) description: String,
    pub(super) kept_psa: PsaLink,
    pub(super) merged_psa: PsaLink,
}

/// What a merge did, for the message after it.
#[derive(Debug, Clone)]
pub struct Merged {
    pub merged: OrgRef,
    pub kept: OrgRef,
    pub records: usize,
    pub subs: usize,
    pub job: JobId,
    pub purge_at: NaiveDateTime,
}

/// Merges the organization `merged` into `kept` (see the module comment). Refused as in
/// `merge::plan`; `grace` is the deletion's grace period.
pub fn merge(
    conn: &mut DbConn,
    actor: &User,
    merged: OrgId,
    kept: OrgId,
    grace: Duration,
) -> Result<Merged, OrgError> {
    let scope = Scope::of(actor);
    write(conn, |conn| {
        // Lock both rows in id order (PostgreSQL: a delete or merge of either waits, then finds
        // it changed), then check everything again on what is now stable.
        let mut ids = [merged.0, kept.0];
        ids.sort_unstable();
        for id in ids {
            diesel::update(organizations::table.find(id))
                .set(organizations::updated_at.eq(organizations::updated_at))
                .execute(conn)?;
        }
        let (from, to) = pair(conn, scope, merged, kept)?;
        let record_ids = move_records(conn, from.id, to.id)?;
        let subs = move_subs(conn, actor, from.id, to.id)?;
        let access = access_gained(conn, from.id, to.id)?;
        for user in &access {
            diesel::insert_into(user_organizations::table)
                .values((
                    user_organizations::user_id.eq(user),
                    user_organizations::organization_id.eq(to.id),
                ))
                .execute(conn)?;
        }
        let logo_moved = move_logo(conn, from.id, to.id)?;
        let before = Before {
            alert: to.alert.clone(),
            quick_notes: to.quick_notes.clone(),
            description: to.description.clone(),
            kept_psa: PsaLink::of(&to),
            merged_psa: PsaLink::of(&from),
        };
        let psa_moved = join_into(conn, &from, &to)?;
        let deleted = delete::request(conn, actor, merged, &from.name, grace)?;
        if deleted.already {
            return Err(OrgError::Conflict(format!(
                "{} is being deleted, so it cannot be merged.",
                from.name
            )));
        }
        diesel::insert_into(m::table)
            .values((
                m::merged_id.eq(from.id),
                m::kept_id.eq(to.id),
                m::deletion_job_id.eq(deleted.job.0),
                m::merged_by.eq(Some(actor.id.0)),
                m::merged_at.eq(now()),
                m::record_ids.eq(json(&record_ids)),
                m::sub_ids.eq(json(&subs.iter().map(|s| s.id).collect::<Vec<_>>())),
                m::access_user_ids.eq(json(&access)),
                m::logo_moved.eq(logo_moved),
                m::psa_moved.eq(psa_moved),
                m::before_merge.eq(json(&before)),
            ))
            .execute(conn)?;
        let what = moved_phrase(record_ids.len(), subs.len(), access.len(), logo_moved);
        audit::record_org(
            conn,
            Some(actor),
            (to.id, &to.name),
            MERGED_IN,
            &format!("Merged {} into this organization: {what}", from.name),
        )?;
        audit::record_org(
            conn,
            Some(actor),
            (from.id, &from.name),
            MERGED_AWAY,
            &format!(
                "Merged into {}: {what}; restoring this organization undoes the merge",
                to.name
            ),
        )?;
        Ok(Merged {
            merged: from.to_ref(),
            kept: to.to_ref(),
            records: record_ids.len(),
            subs: subs.len(),
            job: deleted.job,
            purge_at: deleted.purge_at,
        })
    })
}

/// The audit actions of a merge, on the kept and on the merged-away organization.
pub const MERGED_IN: &str = "organization.merged_in";
pub const MERGED_AWAY: &str = "organization.merged_away";

pub(super) fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

/// "3 records, 1 sub-organization, 2 access-list entries and the logo".
pub(super) fn moved_phrase(records: usize, subs: usize, access: usize, logo: bool) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = vec![
        plural(records, "record", "records"),
        plural(subs, "sub-organization", "sub-organizations"),
        plural(access, "access-list entry", "access-list entries"),
    ];
    if logo {
        parts.push("the logo".to_owned());
    }
    parts.join(", ")
}

fn move_records(conn: &mut DbConn, from: i64, to: i64) -> QueryResult<Vec<i64>> {
    let ids: Vec<i64> = records::table
        .filter(records::organization_id.eq(from))
        .order_by(records::id)
        .select(records::id)
        .load(conn)?;
    for chunk in ids.chunks(CHUNK) {
        diesel::update(records::table.filter(records::id.eq_any(chunk)))
            .set(records::organization_id.eq(to))
            .execute(conn)?;
        crate::search::index::records_moved(conn, chunk, to)?;
    }
    Ok(ids)
}

fn move_subs(conn: &mut DbConn, actor: &User, from: i64, to: i64) -> QueryResult<Vec<OrgRef>> {
    let subs = moving_subs(conn, from)?;
    for sub in &subs {
        diesel::update(organizations::table.find(sub.id))
            .set(organizations::parent_id.eq(Some(to)))
            .execute(conn)?;
        audit::record_parent(
            conn,
            Some(actor),
            (sub.id, &sub.name),
            (Some(from), Some(to)),
        )?;
    }
    Ok(subs)
}

/// The merged-away organization's logo moves when the kept one has none.
fn move_logo(conn: &mut DbConn, from: i64, to: i64) -> QueryResult<bool> {
    let kept_has: bool =
        diesel::select(diesel::dsl::exists(logos::table.find(to))).get_result(conn)?;
    if kept_has {
        return Ok(false);
    }
    let moved = diesel::update(logos::table.find(from))
        .set(logos::organization_id.eq(to))
        .execute(conn)?;
    Ok(moved == 1)
}

/// Joins the texts into the kept organization and takes over the PSA link (the merged-away one
/// loses its link either way, so that its deletion goes ahead and nothing syncs with it).
/// Says whether the link moved.
fn join_into(conn: &mut DbConn, from: &OrgRow, to: &OrgRow) -> QueryResult<bool> {
    let [alert, notes, description] =
        texts(to, from).map(|(_, kept, merged)| joined(&kept, &merged, &from.name));
    diesel::update(organizations::table.find(to.id))
        .set((
            organizations::alert.eq(alert),
            organizations::quick_notes.eq(notes),
            organizations::description.eq(description),
            organizations::updated_at.eq(now()),
        ))
        .execute(conn)?;
    let link = PsaLink::of(from);
    set_link(conn, from.id, &PsaLink::default())?;
    let moved = link.linked() && !PsaLink::of(to).linked();
    if moved {
        set_link(conn, to.id, &link)?;
    }
    Ok(moved)
}

pub(super) fn set_link(conn: &mut DbConn, id: i64, link: &PsaLink) -> QueryResult<usize> {
    diesel::update(organizations::table.find(id))
        .set((
            organizations::psa_kind.eq(link.kind.clone()),
            organizations::psa_company_id.eq(link.company.clone()),
            organizations::sync_enabled.eq(link.sync_enabled),
            organizations::orphaned_at.eq(link.orphaned_at),
            organizations::orphan_reason.eq(link.orphan_reason.clone()),
        ))
        .execute(conn)
}
