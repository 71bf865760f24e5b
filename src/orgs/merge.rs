//! Merging duplicate organizations (issue 16): what a merge of one organization into another
//! would move, for the confirmation page, and why it cannot go ahead. The merge itself is
//! `merge_apply.rs`; the Restore that undoes it, `merge_undo.rs`. Only organizations the user may
//! see are loaded: the other one of a pair outside his access is 404, never named.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::access::{Scope, reachable};
use super::{OrgError, OrgId, OrgRef, OrgRow, REF, tree};
use crate::db::DbConn;
use crate::db::schema::{logos, organizations, user_organizations};
use crate::records::Kind;

/// What happens to the logo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoOutcome {
    /// Neither has one.
    None,
    /// The kept organization keeps its own (the other one's goes with the deletion).
    Kept,
    /// The kept organization has none: the merged-away one's moves.
    Moved,
}

/// What happens to the PSA link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PsaOutcome {
    /// Neither is linked.
    None,
    /// The kept organization keeps its link (`label`: the PSA and company, for the page).
    Kept(String),
    /// The merged-away organization's link moves to the kept one.
    Moved(String),
}

/// What merging `merged` into `kept` moves, for the confirmation page.
#[derive(Debug, Clone)]
pub struct MergePlan {
    pub merged: OrgRow,
    pub kept: OrgRow,
    pub records: Vec<(Kind, i64)>,
    pub subs: Vec<OrgRef>,
    /// Users who see the merged-away organization and not the kept one (they will see it).
    pub access: i64,
    pub logo: LogoOutcome,
    /// The texts of the merged-away organization that are joined to the kept one's.
    pub texts: Vec<&'static str>,
    pub psa: PsaOutcome,
}

impl MergePlan {
    pub fn records_total(&self) -> i64 {
        self.records.iter().map(|(_, n)| n).sum()
    }
}

/// A PSA link as stored on an organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PsaLink {
    pub kind: Option<String>,
    pub company: Option<String>,
    pub sync_enabled: bool,
    #[serde(with = "stamp")]
    pub orphaned_at: Option<chrono::NaiveDateTime>,
    pub orphan_reason: Option<String>,
}

impl PsaLink {
    pub fn of(org: &OrgRow) -> Self {
        Self {
            kind: org.psa_kind.clone(),
            company: org.psa_company_id.clone(),
            sync_enabled: org.sync_enabled,
            orphaned_at: org.orphaned_at,
            orphan_reason: org.orphan_reason.clone(),
        }
    }

    pub fn linked(&self) -> bool {
        self.company.is_some()
    }

    /// "ConnectWise Manage company 12".
    pub fn label(&self) -> String {
        format!(
            "{} company {}",
            super::model::psa_label(self.kind.as_deref().unwrap_or_default()),
            self.company.as_deref().unwrap_or("?")
        )
    }

    pub(super) fn same_company(&self, other: &Self) -> bool {
        self.kind == other.kind && self.company == other.company
    }
}

/// A time in the JSON of `before_merge` (chrono's serde feature is not enabled).
mod stamp {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.f";

    pub fn serialize<S: Serializer>(at: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_some(&at.format(FORMAT).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| NaiveDateTime::parse_from_str(&text, FORMAT))
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}

/// The texts that a merge joins: (label, kept's, merged's).
pub(super) fn texts(kept: &OrgRow, merged: &OrgRow) -> [(&'static str, String, String); 3] {
    [
        ("alert", kept.alert.clone(), merged.alert.clone()),
        (
            "quick notes",
            kept.quick_notes.clone(),
            merged.quick_notes.clone(),
        ),
        (
            "description",
            kept.description.clone(),
            merged.description.clone(),
        ),
    ]
}

/// The kept text with the merged-away one's after it, under a line naming where it came from.
pub fn joined(kept: &str, merged: &str, source: &str) -> String {
    match (kept.is_empty(), merged.is_empty()) {
        (_, true) => kept.to_owned(),
        (true, false) => format!("From {source} (merged):\n{merged}"),
        (false, false) => format!("{kept}\n\n--- From {source} (merged) ---\n{merged}"),
    }
}

/// An organization the scope may reach, deleted or not; 404 for one outside it.
fn load(conn: &mut DbConn, scope: Scope, id: OrgId) -> Result<OrgRow, OrgError> {
    organizations::table
        .filter(reachable(scope))
        .filter(organizations::id.eq(id.0))
        .select(OrgRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(OrgError::NotFound)
}

/// Both organizations of a merge, checked: each visible to the user (else 404), neither being
/// deleted, not the same one, no loop, no sub-organization outside the user's access, no two
/// PSA companies.
pub(super) fn pair(
    conn: &mut DbConn,
    scope: Scope,
    merged: OrgId,
    kept: OrgId,
) -> Result<(OrgRow, OrgRow), OrgError> {
    let merged = load(conn, scope, merged)?;
    let kept = load(conn, scope, kept)?;
    for org in [&merged, &kept] {
        if org.deleted_at.is_some() {
            return Err(OrgError::Conflict(format!(
                "{} is being deleted, so it cannot be merged. Restore it first, or choose another organization.",
                org.name
            )));
        }
    }
    if merged.id == kept.id {
        return Err(OrgError::Conflict(format!(
            "{} cannot be merged into itself: choose the other organization to keep.",
            merged.name
        )));
    }
    if tree::would_loop(conn, OrgId(merged.id), kept.id)? {
        return Err(OrgError::Conflict(format!(
            "{} is a sub-organization of {}: its sub-organizations would become their own parent. \
             Merge {} into {} instead.",
            kept.name, merged.name, merged.name, kept.name
        )));
    }
    let hidden: i64 = organizations::table
        .filter(organizations::parent_id.eq(merged.id))
        .filter(diesel::dsl::not(reachable(scope)))
        .count()
        .get_result(conn)?;
    if hidden > 0 {
        return Err(OrgError::Forbidden(format!(
            "{} has sub-organizations outside your access; ask an Administrator to merge it.",
            merged.name
        )));
    }
    let (from, to) = (PsaLink::of(&merged), PsaLink::of(&kept));
    if from.linked() && to.linked() && !from.same_company(&to) {
        return Err(OrgError::Conflict(format!(
            "{} is linked to {} and {} to {}: two different PSA companies cannot be merged. \
             Disable sync of one of them first (the PSA keeps its company).",
            merged.name,
            from.label(),
            kept.name,
            to.label()
        )));
    }
    Ok((merged, kept))
}

/// Users who see `merged` through their list and do not see `kept`.
pub(super) fn access_gained(conn: &mut DbConn, merged: i64, kept: i64) -> QueryResult<Vec<i64>> {
    let listed = |conn: &mut DbConn, org: i64| -> QueryResult<Vec<i64>> {
        user_organizations::table
            .filter(user_organizations::organization_id.eq(org))
            .select(user_organizations::user_id)
            .order_by(user_organizations::user_id)
            .load(conn)
    };
    let with_kept = listed(conn, kept)?;
    Ok(listed(conn, merged)?
        .into_iter()
        .filter(|u| with_kept.binary_search(u).is_err())
        .collect())
}

/// The sub-organizations that move (those not being deleted), by name.
pub(super) fn moving_subs(conn: &mut DbConn, merged: i64) -> QueryResult<Vec<OrgRef>> {
    organizations::table
        .filter(organizations::parent_id.eq(merged))
        .filter(organizations::deleted_at.is_null())
        .order_by(organizations::search_text)
        .select(REF)
        .load(conn)
}

fn has_logo(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(logos::table.find(id))).get_result(conn)
}

/// What merging `merged` into `kept` would move (or why it cannot).
pub fn plan(
    conn: &mut DbConn,
    scope: Scope,
    merged: OrgId,
    kept: OrgId,
) -> Result<MergePlan, OrgError> {
    let (merged, kept) = pair(conn, scope, merged, kept)?;
    let logo = match (has_logo(conn, kept.id)?, has_logo(conn, merged.id)?) {
        (true, _) => LogoOutcome::Kept,
        (false, true) => LogoOutcome::Moved,
        (false, false) => LogoOutcome::None,
    };
    let (from, to) = (PsaLink::of(&merged), PsaLink::of(&kept));
    let psa = if to.linked() {
        PsaOutcome::Kept(to.label())
    } else if from.linked() {
        PsaOutcome::Moved(from.label())
    } else {
        PsaOutcome::None
    };
    Ok(MergePlan {
        records: crate::records::store::counts(conn, merged.id)?,
        subs: moving_subs(conn, merged.id)?,
        access: i64::try_from(access_gained(conn, merged.id, kept.id)?.len()).unwrap_or(i64::MAX),
        logo,
        texts: texts(&kept, &merged)
            .into_iter()
            .filter(|(_, _, m)| !m.is_empty())
            .map(|(label, _, _)| label)
            .collect(),
        psa,
        merged,
        kept,
    })
}

/// The organizations `merged` may be merged into, for the chooser: those that look like it
/// first, then the others by name (at most `limit`).
pub fn candidates(
    conn: &mut DbConn,
    caches: &super::ListCaches,
    scope: Scope,
    merged: OrgId,
    limit: i64,
) -> Result<(OrgRow, Vec<OrgRef>, Vec<OrgRef>), OrgError> {
    let org = load(conn, scope, merged)?;
    if org.deleted_at.is_some() {
        return Err(OrgError::NotFound);
    }
    // Same letters and digits ("ACME, Inc." and "acme inc"), or the same first word ("Fabrikam"
    // and "Fabrikam Inc").
    let mut alike = super::store::looking_like(conn, scope, &org.name, Some(OrgId(org.id)))?;
    let first = org.name.split_whitespace().next().unwrap_or_default();
    if first.chars().count() >= 2 {
        for found in super::store::lookup(conn, caches, scope, first, 20)? {
            if found.id != org.id && !alike.iter().any(|a| a.id == found.id) {
                alike.push(found);
            }
        }
    }
    let others: Vec<OrgRef> = organizations::table
        .filter(super::access::visible(scope))
        .filter(organizations::id.ne(org.id))
        .order_by(organizations::search_text)
        .limit(limit)
        .select(REF)
        .load(conn)?;
    let others = others
        .into_iter()
        .filter(|o| !alike.iter().any(|a| a.id == o.id))
        .collect();
    Ok((org, alike, others))
}

#[cfg(test)]
mod tests {
    use super::joined;

    #[test]
    fn texts_are_joined_under_a_line_naming_the_source() {
        assert_eq!(joined("Ours", "", "Fabrikam Inc"), "Ours");
        assert_eq!(
            joined("", "Theirs", "Fabrikam Inc"),
            "From Fabrikam Inc (merged):\nTheirs"
        );
        assert_eq!(
            joined("Ours", "Theirs", "Fabrikam Inc"),
            "Ours\n\n--- From Fabrikam Inc (merged) ---\nTheirs"
        );
    }
}
