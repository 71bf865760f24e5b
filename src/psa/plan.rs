//! The data load's decision, shared by the load and its dry run (Preview sync): from the companies
//! the PSA returned and what Roster holds (`Held`), a pure `Plan` of what happens to each company
//! and each linked organization. No writes here: `apply.rs` carries a plan out.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::mapping::Mapping;
use super::{Company, PsaKind};
use crate::db::DbConn;
use crate::db::schema::organizations;
use crate::orgs::access::alive_off_index;
use crate::orgs::exclusions;
use crate::orgs::kinds::Kind;
use crate::orgs::model::name_key;

/// What happens to one company (or one linked organization).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// A new organization is created for it.
    Create,
    /// The one unlinked organization of exactly its name is linked to it.
    Link,
    /// Its linked organization takes the PSA's values.
    Update,
    /// Its linked organization already says what the PSA says.
    Unchanged,
    /// A linked organization whose company is gone, deleted or no longer syncing.
    Orphan,
    /// Another company of the PSA has the same name: not brought over.
    SameName,
    /// Excluded (Disable sync, a delete): left alone.
    Excluded,
    /// Its type or status does not sync (or it is marked deleted): not brought over.
    NotSyncing,
}

impl Decision {
    pub const ALL: [Decision; 8] = [
        Decision::Create,
        Decision::Link,
        Decision::Update,
        Decision::Unchanged,
        Decision::Orphan,
        Decision::SameName,
        Decision::Excluded,
        Decision::NotSyncing,
    ];

    /// As stored and in the report page's filter.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Create => "create",
            Decision::Link => "link",
            Decision::Update => "update",
            Decision::Unchanged => "unchanged",
            Decision::Orphan => "orphan",
            Decision::SameName => "same_name",
            Decision::Excluded => "excluded",
            Decision::NotSyncing => "not_syncing",
        }
    }

    pub fn parse(value: &str) -> Option<Decision> {
        Decision::ALL.into_iter().find(|d| d.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Create => "Created",
            Decision::Link => "Linked by name",
            Decision::Update => "Updated",
            Decision::Unchanged => "Unchanged",
            Decision::Orphan => "Orphaned",
            Decision::SameName => "Same name as another company",
            Decision::Excluded => "Excluded",
            Decision::NotSyncing => "Does not sync",
        }
    }

    /// Whether applying it writes to Roster.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Decision::Create | Decision::Link | Decision::Update | Decision::Orphan
        )
    }
}

/// An organization as the load compares it: linked to a company, or a candidate by name.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct HeldOrg {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub description: String,
    pub quick_notes: String,
    pub alert: String,
    #[diesel(column_name = psa_company_id)]
    pub company: Option<String>,
    pub orphaned_at: Option<NaiveDateTime>,
}

/// What Roster holds that the decision reads.
#[derive(Debug, Default)]
pub struct Held {
    /// Organizations linked to this PSA with sync enabled (not deleted).
    pub linked: Vec<HeldOrg>,
    /// Unlinked live organizations named like a company read, by name.
    pub named: HashMap<String, Vec<HeldOrg>>,
    /// Excluded company ids of this PSA.
    pub excluded: HashSet<String>,
}

/// Names per statement when looking for organizations of a company's name.
const NAMES_PER_QUERY: usize = 500;

impl Held {
    pub fn load(conn: &mut DbConn, psa: PsaKind, companies: &[Company]) -> QueryResult<Self> {
        let linked: Vec<HeldOrg> = organizations::table
            .filter(organizations::psa_kind.eq(psa.as_str()))
            .filter(organizations::psa_company_id.is_not_null())
            .filter(organizations::sync_enabled.eq(true))
            .filter(organizations::deleted_at.is_null())
            .select(HeldOrg::as_select())
            .load(conn)?;
        let by_id: HashSet<&str> = linked.iter().filter_map(|o| o.company.as_deref()).collect();
        let mut names: Vec<&str> = companies
            .iter()
            .filter(|c| !by_id.contains(c.id.as_str()))
            .map(|c| c.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut named: HashMap<String, Vec<HeldOrg>> = HashMap::new();
        let backend = conn.backend();
        for chunk in names.chunks(NAMES_PER_QUERY) {
            // Through the index of `name_key` (the same name has the same key), `deleted_at`
            // kept off the indexes: with the statistics SQLite keeps (`db/sqlite_plans.rs`) the
            // planner read every organization through the index led by `deleted_at` for each
            // chunk (840 ms for 500 names at a million organizations).
            let mut keys: Vec<String> = chunk.iter().map(|n| name_key(n)).collect();
            keys.sort_unstable();
            keys.dedup();
            let rows: Vec<HeldOrg> = organizations::table
                .filter(organizations::name_key.eq_any(keys))
                .filter(organizations::name.eq_any(chunk))
                .filter(organizations::psa_company_id.is_null())
                .filter(alive_off_index(backend))
                .order_by(organizations::id)
                .select(HeldOrg::as_select())
                .load(conn)?;
            for row in rows {
                named.entry(row.name.clone()).or_default().push(row);
            }
        }
        let excluded = exclusions::excluded_companies(conn, psa.as_str())?;
        Ok(Self {
            linked,
            named,
            excluded,
        })
    }
}

/// The values an organization takes from its company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub short_name: String,
    pub type_id: i64,
    pub status_id: i64,
}

/// One line of the plan.
#[derive(Debug, Clone)]
pub struct Step {
    pub decision: Decision,
    pub company_id: String,
    /// The company's name (an orphan whose company is gone: the organization's).
    pub company_name: String,
    /// The organization concerned (none for a creation or a company left alone).
    pub org: Option<HeldOrg>,
    /// What the organization becomes (create, link, update).
    pub target: Option<Target>,
    /// What happens, in words (which fields change, why an orphan, ...).
    pub detail: String,
}

/// What a load would do, in order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Companies read.
    pub companies: usize,
    pub steps: Vec<Step>,
    /// The lines of the load's report (exclusions, same names, ambiguous names).
    pub report: Vec<String>,
}

/// How many steps of each decision.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub created: i32,
    pub linked: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub orphaned: i32,
    pub same_name: i32,
    pub excluded: i32,
    pub not_syncing: i32,
}

impl Counts {
    pub fn add(&mut self, decision: Decision) {
        let n = match decision {
            Decision::Create => &mut self.created,
            Decision::Link => &mut self.linked,
            Decision::Update => &mut self.updated,
            Decision::Unchanged => &mut self.unchanged,
            Decision::Orphan => &mut self.orphaned,
            Decision::SameName => &mut self.same_name,
            Decision::Excluded => &mut self.excluded,
            Decision::NotSyncing => &mut self.not_syncing,
        };
        *n += 1;
    }

    pub fn of(&self, decision: Decision) -> i32 {
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
}

impl Plan {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for step in &self.steps {
            counts.add(step.decision);
        }
        counts
    }

    /// A digest of what the plan does: two plans with the same digest make the same writes.
    pub fn digest(&self) -> String {
        let mut hash = Sha256::new();
        for s in &self.steps {
            let org = s.org.as_ref().map_or(0, |o| o.id);
            hash.update(format!(
                "{}\u{1f}{}\u{1f}{org}\u{1f}{}\u{1e}",
                s.decision.as_str(),
                s.company_id,
                s.detail
            ));
        }
        hex(&hash.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A fingerprint of what the PSA returned (whatever the order of its pages).
pub fn fingerprint(companies: &[Company]) -> String {
    let mut lines: Vec<String> = companies
        .iter()
        .map(|c| {
            format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
                c.id,
                c.name,
                c.short_name,
                c.type_name.as_deref().unwrap_or("\u{0}"),
                c.status_name.as_deref().unwrap_or("\u{0}"),
                c.deleted
            )
        })
        .collect();
    lines.sort_unstable();
    let mut hash = Sha256::new();
    for line in &lines {
        hash.update(line.as_bytes());
        hash.update(b"\x1e");
    }
    hex(&hash.finalize())
}

/// The Roster type and status a company maps to, when both sync and it is not deleted.
fn syncing(company: &Company, mapping: &Mapping) -> Option<(i64, i64)> {
    if company.deleted {
        return None;
    }
    let t = mapping.type_of(company.type_name.as_deref()?)?;
    let s = mapping.status_of(company.status_name.as_deref()?)?;
    (t.synced && s.synced).then_some((t.id, s.id))
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

/// What changes when `org` takes `target` (empty: nothing).
fn changes(org: &HeldOrg, target: &Target, mapping: &Mapping) -> Vec<String> {
    let name_of = |kind: Kind, id: Option<i64>| {
        id.and_then(|id| mapping.values(kind).iter().find(|v| v.id == id))
            .map_or_else(|| "none".to_owned(), |v| v.name.clone())
    };
    let mut out = Vec::new();
    if org.name != target.name {
        out.push(format!(
            "name \u{201c}{}\u{201d} \u{2192} \u{201c}{}\u{201d}",
            org.name, target.name
        ));
    }
    if org.short_name != target.short_name {
        out.push(format!(
            "short name \u{201c}{}\u{201d} \u{2192} \u{201c}{}\u{201d}",
            org.short_name, target.short_name
        ));
    }
    if org.type_id != Some(target.type_id) {
        out.push(format!(
            "type {} \u{2192} {}",
            name_of(Kind::Type, org.type_id),
            name_of(Kind::Type, Some(target.type_id))
        ));
    }
    if org.status_id != Some(target.status_id) {
        out.push(format!(
            "status {} \u{2192} {}",
            name_of(Kind::Status, org.status_id),
            name_of(Kind::Status, Some(target.status_id))
        ));
    }
    if org.orphaned_at.is_some() {
        out.push("no longer an orphan (the company is back)".to_owned());
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The decision: matched by PSA id, else by exactly the same name (one organization of that
/// name), else created; the PSA wins; same names in the PSA are reported; linked organizations
/// whose company no longer syncs become orphans; excluded companies are left alone.
pub fn decide(psa: PsaKind, companies: &[Company], mapping: &Mapping, held: &Held) -> Plan {
    let mut plan = Plan {
        companies: companies.len(),
        ..Plan::default()
    };
    let by_company: HashMap<&str, &HeldOrg> = held
        .linked
        .iter()
        .filter_map(|o| o.company.as_deref().map(|c| (c, o)))
        .collect();
    let mut sorted: Vec<&Company> = companies.iter().collect();
    sorted.sort_by_key(|c| (c.id.parse::<i64>().unwrap_or(i64::MAX), c.id.clone()));
    let excluded = sorted
        .iter()
        .filter(|c| held.excluded.contains(&c.id))
        .count();
    if excluded > 0 {
        plan.report.push(format!(
            "{} left alone (Disable sync or a delete; PSA settings list them, with Include again).",
            plural(excluded, "excluded company", "excluded companies")
        ));
    }
    let mut names: HashMap<&str, &str> = HashMap::new();
    let mut present: HashSet<&str> = HashSet::new();
    for company in sorted {
        let step = |decision, org: Option<&HeldOrg>, target, detail| Step {
            decision,
            company_id: company.id.clone(),
            company_name: company.name.clone(),
            org: org.cloned(),
            target,
            detail,
        };
        if held.excluded.contains(&company.id) {
            plan.steps.push(step(
                Decision::Excluded,
                None,
                None,
                "Excluded (Disable sync or a delete): left alone.".to_owned(),
            ));
            continue;
        }
        let Some((type_id, status_id)) = syncing(company, mapping) else {
            let why = if company.deleted {
                format!("Marked deleted in {}.", psa.label())
            } else {
                format!(
                    "Its type or status ({} / {}) does not sync.",
                    company.type_name.as_deref().unwrap_or("none"),
                    company.status_name.as_deref().unwrap_or("none")
                )
            };
            plan.steps.push(step(Decision::NotSyncing, None, None, why));
            continue;
        };
        present.insert(company.id.as_str());
        let org = by_company.get(company.id.as_str()).copied();
        if let Some(first) = names.get(company.name.as_str())
            && org.is_none()
        {
            let line = format!(
                "Company {} \u{201c}{}\u{201d} has the same name as company {first}: not brought over. Rename one of them in {}.",
                company.id,
                company.name,
                psa.label()
            );
            plan.report.push(line.clone());
            plan.steps.push(step(Decision::SameName, None, None, line));
            continue;
        }
        names.insert(company.name.as_str(), company.id.as_str());
        let target = Target {
            name: company.name.clone(),
            short_name: company.short_name.clone(),
            type_id,
            status_id,
        };
        let candidates = held.named.get(&company.name).map_or(&[][..], Vec::as_slice);
        plan.steps.push(match (org, candidates) {
            (Some(org), _) => {
                let changed = changes(org, &target, mapping);
                if changed.is_empty() {
                    step(
                        Decision::Unchanged,
                        Some(org),
                        Some(target),
                        "Already as the PSA says.".to_owned(),
                    )
                } else {
                    step(
                        Decision::Update,
                        Some(org),
                        Some(target),
                        changed.join("; "),
                    )
                }
            }
            (None, [org]) => {
                let relinked = HeldOrg {
                    orphaned_at: None,
                    ..org.clone()
                };
                let changed = changes(&relinked, &target, mapping);
                let mut detail = format!(
                    "Linked to {} company {} (same name)",
                    psa.label(),
                    company.id
                );
                if !changed.is_empty() {
                    let _ = write!(detail, "; then {}", changed.join("; "));
                }
                step(Decision::Link, Some(org), Some(target), detail)
            }
            (None, several) => {
                let mut detail = format!(
                    "Brought over from {} (company {}).",
                    psa.label(),
                    company.id
                );
                if several.len() > 1 {
                    let note = format!(
                        "{} organizations are named \u{201c}{}\u{201d}: created a new one for {} company {}; merge or rename them.",
                        several.len(),
                        company.name,
                        psa.label(),
                        company.id
                    );
                    plan.report.push(note.clone());
                    let _ = write!(detail, " {note}");
                }
                step(Decision::Create, None, Some(target), detail)
            }
        });
    }
    let all: HashMap<&str, &Company> = companies.iter().map(|c| (c.id.as_str(), c)).collect();
    for org in &held.linked {
        let Some(company) = org.company.as_deref() else {
            continue;
        };
        if present.contains(company) || held.excluded.contains(company) || org.orphaned_at.is_some()
        {
            continue;
        }
        let found = all.get(company).copied();
        plan.steps.push(Step {
            decision: Decision::Orphan,
            company_id: company.to_owned(),
            company_name: found.map_or_else(|| org.name.clone(), |c| c.name.clone()),
            org: Some(org.clone()),
            target: None,
            detail: orphan_reason(found, psa),
        });
    }
    plan
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
