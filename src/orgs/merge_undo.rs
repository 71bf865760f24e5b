//! Undoing a merge when the merged-away organization is restored (within the deletion's grace
//! period): what `organization_merges` says moved goes back, as far as it is still where the
//! merge put it (a record deleted since stays deleted; a text edited since keeps the edit).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::merge::{PsaLink, joined, texts};
use super::merge_apply::{Before, CHUNK, moved_phrase, set_link};
use super::{OrgRow, REF};
use crate::audit;
use crate::auth::User;
use crate::db::schema::{
    logos, organization_merges as m, organizations, records, user_organizations,
};
use crate::db::{DbConn, now};

type MergeRow = (i64, i64, i64, String, String, String, bool, bool, String);

/// Undoes the merges whose merged-away organization was deleted by the deletion `job` (inside the
/// caller's transaction, once that deletion is restored). Returns how many it undid.
pub fn undo(conn: &mut DbConn, actor: &User, job: i64) -> QueryResult<usize> {
    let rows: Vec<MergeRow> = m::table
        .filter(m::deletion_job_id.eq(job))
        .filter(m::undone_at.is_null())
        .order_by(m::id.desc())
        .select((
            m::id,
            m::merged_id,
            m::kept_id,
            m::record_ids,
            m::sub_ids,
            m::access_user_ids,
            m::logo_moved,
            m::psa_moved,
            m::before_merge,
        ))
        .load(conn)?;
    for row in &rows {
        undo_one(conn, actor, row)?;
    }
    Ok(rows.len())
}

fn ids(text: &str) -> Vec<i64> {
    serde_json::from_str(text).unwrap_or_default()
}

fn org(conn: &mut DbConn, id: i64) -> QueryResult<OrgRow> {
    organizations::table
        .find(id)
        .select(OrgRow::as_select())
        .first(conn)
}

fn undo_one(conn: &mut DbConn, actor: &User, row: &MergeRow) -> QueryResult<()> {
    let (id, merged_id, kept_id, record_ids, sub_ids, access, logo_moved, psa_moved, before) = row;
    let (merged_id, kept_id) = (*merged_id, *kept_id);
    let mut records_back = 0;
    for chunk in ids(record_ids).chunks(CHUNK) {
        records_back += diesel::update(
            records::table
                .filter(records::id.eq_any(chunk))
                .filter(records::organization_id.eq(kept_id)),
        )
        .set(records::organization_id.eq(merged_id))
        .execute(conn)?;
        let back: Vec<i64> = records::table
            .filter(records::id.eq_any(chunk))
            .filter(records::organization_id.eq(merged_id))
            .select(records::id)
            .load(conn)?;
        crate::search::index::records_moved(conn, &back, merged_id)?;
    }
    let subs = ids(sub_ids);
    let back: Vec<super::OrgRef> = organizations::table
        .filter(organizations::id.eq_any(&subs))
        .filter(organizations::parent_id.eq(kept_id))
        .select(REF)
        .load(conn)?;
    for sub in &back {
        diesel::update(organizations::table.find(sub.id))
            .set(organizations::parent_id.eq(Some(merged_id)))
            .execute(conn)?;
        audit::record_parent(
            conn,
            Some(actor),
            (sub.id, &sub.name),
            (Some(kept_id), Some(merged_id)),
        )?;
    }
    let users = ids(access);
    for chunk in users.chunks(CHUNK) {
        diesel::delete(
            user_organizations::table
                .filter(user_organizations::organization_id.eq(kept_id))
                .filter(user_organizations::user_id.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    let merged_has: bool =
        diesel::select(diesel::dsl::exists(logos::table.find(merged_id))).get_result(conn)?;
    let logo_back = *logo_moved
        && !merged_has
        && diesel::update(logos::table.find(kept_id))
            .set(logos::organization_id.eq(merged_id))
            .execute(conn)?
            == 1;
    let before: Before = serde_json::from_str(before).unwrap_or_default();
    let (merged, kept) = (org(conn, merged_id)?, org(conn, kept_id)?);
    restore_texts(conn, &merged, &kept, &before)?;
    // The merged-away organization gets its link back; the kept one loses a link it took over.
    if *psa_moved && PsaLink::of(&kept).same_company(&before.merged_psa) {
        set_link(conn, kept_id, &before.kept_psa)?;
    }
    set_link(conn, merged_id, &before.merged_psa)?;
    diesel::update(m::table.find(id))
        .set(m::undone_at.eq(Some(now())))
        .execute(conn)?;
    let what = moved_phrase(records_back, back.len(), users.len(), logo_back);
    audit::record_org(
        conn,
        Some(actor),
        (kept.id, &kept.name),
        UNDONE,
        &format!(
            "Restore of {} undid its merge into this organization: {what} went back",
            merged.name
        ),
    )?;
    audit::record_org(
        conn,
        Some(actor),
        (merged.id, &merged.name),
        UNDONE,
        &format!(
            "Restore undid the merge into {}: {what} came back",
            kept.name
        ),
    )
}

/// The audit action of an undone merge.
pub const UNDONE: &str = "organization.merge_undone";

/// Each joined text goes back to what the kept organization had, unless it was edited since.
fn restore_texts(
    conn: &mut DbConn,
    merged: &OrgRow,
    kept: &OrgRow,
    before: &Before,
) -> QueryResult<()> {
    let back = |(_, current, merged_text): (&str, String, String), old: &String| {
        if current == joined(old, &merged_text, &merged.name) {
            old.clone()
        } else {
            current
        }
    };
    let [a, n, d] = texts(kept, merged);
    let alert = back(a, &before.alert);
    let notes = back(n, &before.quick_notes);
    let description = back(d, &before.description);
    diesel::update(organizations::table.find(kept.id))
        .set((
            organizations::alert.eq(alert),
            organizations::quick_notes.eq(notes),
            organizations::description.eq(description),
            organizations::updated_at.eq::<NaiveDateTime>(now()),
        ))
        .execute(conn)?;
    Ok(())
}
