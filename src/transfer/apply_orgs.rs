//! One batch of organizations.csv, applied: each row is the organization an earlier import made
//! (its IT Glue id), else the one Roster organization of exactly that name, else a new one
//! (inserted in bulk, so the counts and the search index stay right). Types and statuses are
//! found by name and created when missing. Parents come in a second pass, once every
//! organization of the export exists.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::apply::Batches;
use super::cells::{self, Parent};
use super::itglue::{ORG_SOURCE_KIND, ORGANIZATIONS};
use super::known;
use super::merge::{self, Values};
use super::run::Tally;
use super::table::{Failure, Row};
use crate::db::DbConn;
use crate::db::schema::organizations as o;
use crate::jobs::JobError;
use crate::orgs::kinds::{self, Kind};
use crate::orgs::model::OrgRow;
use crate::orgs::store::{self, OrgValues};
use crate::orgs::{OrgId, tree};

/// A row that can be applied: its IT Glue id, line and values.
struct Valid {
    id: String,
    line: u64,
    values: Values,
}

/// Rows read and judged on their own (empty cells, repeated ids); the rest fail into `tally`.
fn valid_rows(
    batches: &Batches<'_>,
    rows: Vec<Result<Row, Failure>>,
    tally: &mut Tally,
) -> Vec<(Valid, Row)> {
    let mut out = Vec::new();
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(f) => {
                tally.fail(f.line, f.reason);
                continue;
            }
        };
        let (id, name) = (row.get("id").to_owned(), row.get("name"));
        if let Some(note) = batches.attachments.note(ORGANIZATIONS, &id, false) {
            tally.note(row.line, note);
        }
        if id.is_empty() || name.is_empty() {
            tally.fail(row.line, "the id or name cell is empty".to_owned());
            continue;
        }
        if batches
            .orgs
            .first_line
            .get(&id)
            .is_some_and(|l| *l != row.line)
        {
            tally.fail(row.line, format!("the id {id} is on an earlier line too"));
            continue;
        }
        match cells::org_values(&row) {
            Ok(values) => out.push((
                Valid {
                    id,
                    line: row.line,
                    values,
                },
                row,
            )),
            Err(reason) => tally.fail(row.line, reason),
        }
    }
    out
}

/// Type and status names -> ids (creating the missing), and ids -> names (to compare).
struct KindIds {
    types: HashMap<String, i64>,
    statuses: HashMap<String, i64>,
}

impl KindIds {
    fn load(conn: &mut DbConn, rows: &[(Valid, Row)]) -> QueryResult<KindIds> {
        // Created with the export's spelling.
        let names = |column: &str| -> Vec<String> {
            rows.iter()
                .map(|(_, row)| row.get(column).to_owned())
                .filter(|n| !n.is_empty())
                .collect()
        };
        Ok(KindIds {
            types: kinds::ensure_named(conn, Kind::Type, &names("organization_type"))?,
            statuses: kinds::ensure_named(conn, Kind::Status, &names("organization_status"))?,
        })
    }

    fn id(map: &HashMap<String, i64>, name: &str) -> Option<i64> {
        map.get(&name.to_lowercase()).copied()
    }

    /// The (lower-cased) name of a type or status id.
    fn name(map: &HashMap<String, i64>, id: Option<i64>) -> String {
        id.and_then(|id| map.iter().find(|(_, v)| **v == id))
            .map(|(k, _)| k.clone())
            .unwrap_or_default()
    }
}

fn org_values<'a>(values: &'a Values, kinds: &KindIds, parent_id: Option<i64>) -> OrgValues<'a> {
    let get = |k: &str| values.get(k).map_or("", String::as_str);
    OrgValues {
        name: get("name"),
        short_name: get("short_name"),
        type_id: KindIds::id(&kinds.types, get("type")),
        status_id: KindIds::id(&kinds.statuses, get("status")),
        parent_id,
        description: get("description"),
        quick_notes: get("quick_notes"),
        alert: get("alert"),
    }
}

/// Applies a batch of organizations.csv.
pub fn organizations(
    conn: &mut DbConn,
    batches: &Batches<'_>,
    rows: Vec<Result<Row, Failure>>,
) -> Result<Tally, JobError> {
    let mut tally = Tally::default();
    let rows = valid_rows(batches, rows, &mut tally);
    let kinds = KindIds::load(conn, &rows)?;
    let ids: Vec<&str> = rows.iter().map(|(v, _)| v.id.as_str()).collect();
    let remembered = known::remembered_batch(conn, ORG_SOURCE_KIND, &ids)?;
    let by_name = named(conn, &rows, &remembered)?;
    let mut create: Vec<&Valid> = Vec::new();
    let mut existing: Vec<(&Valid, i64, Option<&str>)> = Vec::new();
    for (valid, _) in &rows {
        if let Some((target, fingerprint)) = remembered.get(&valid.id) {
            existing.push((valid, *target, Some(fingerprint)));
            continue;
        }
        let name = &valid.values["name"];
        let shared = batches.orgs.by_name.get(name).map_or(0, Vec::len) > 1;
        match by_name.get(name).map(Vec::as_slice) {
            _ if shared => create.push(valid),
            None | Some([]) => create.push(valid),
            Some([one]) => existing.push((valid, *one, None)),
            Some(many) => tally.fail(
                valid.line,
                format!(
                    "{} organizations in Roster are named \"{name}\"; rename one of them so the \
                     import knows which one this is",
                    many.len()
                ),
            ),
        }
    }
    let mut remember = Vec::new();
    let values: Vec<OrgValues<'_>> = create
        .iter()
        .map(|v| org_values(&v.values, &kinds, None))
        .collect();
    let created = if values.is_empty() {
        Vec::new()
    } else {
        store::insert_many(conn, &values, batches.by)?
    };
    for (valid, id) in create.iter().zip(created) {
        remember.push((
            valid.id.clone(),
            id.0,
            merge::fingerprint(batches.key, &valid.values),
        ));
        tally.created += 1;
    }
    update_existing(conn, batches, &kinds, &existing, &mut tally, &mut remember)?;
    known::remember(conn, ORG_SOURCE_KIND, &remember)?;
    Ok(tally)
}

/// Live Roster organizations having the names of rows not remembered: name -> ids.
fn named(
    conn: &mut DbConn,
    rows: &[(Valid, Row)],
    remembered: &HashMap<String, (i64, String)>,
) -> QueryResult<HashMap<String, Vec<i64>>> {
    let names: Vec<&str> = rows
        .iter()
        .filter(|(v, _)| !remembered.contains_key(&v.id))
        .map(|(v, _)| v.values["name"].as_str())
        .collect();
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    if names.is_empty() {
        return Ok(out);
    }
    let found: Vec<(i64, String)> = o::table
        .filter(o::deleted_at.is_null())
        .filter(o::name.eq_any(&names))
        .select((o::id, o::name))
        .load(conn)?;
    for (id, name) in found {
        out.entry(name).or_default().push(id);
    }
    Ok(out)
}

fn update_existing(
    conn: &mut DbConn,
    batches: &Batches<'_>,
    kinds: &KindIds,
    existing: &[(&Valid, i64, Option<&str>)],
    tally: &mut Tally,
    remember: &mut Vec<(String, i64, String)>,
) -> Result<(), JobError> {
    let targets: Vec<i64> = existing.iter().map(|(_, t, _)| *t).collect();
    let current: HashMap<i64, OrgRow> = o::table
        .filter(o::id.eq_any(&targets))
        .select(OrgRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    for (valid, target, last) in existing {
        let fingerprint = merge::fingerprint(batches.key, &valid.values);
        let Some(row) = current.get(target) else {
            continue;
        };
        if *last == Some(fingerprint.as_str()) {
            tally.unchanged += 1;
            continue;
        }
        let now = current_values(row, kinds);
        let merged = merge::merge(batches.key, *last, &now, &valid.values);
        if merged.changed {
            store::update(
                conn,
                OrgId(*target),
                &org_values(&merged.values, kinds, row.parent_id),
            )?;
            tally.updated += 1;
        } else {
            tally.unchanged += 1;
        }
        if !merged.kept.is_empty() {
            tally.kept += 1;
            tally.note(
                valid.line,
                kept_note("organization", &row.name, &merged.kept, batches),
            );
        }
        remember.push((valid.id.clone(), *target, fingerprint));
    }
    Ok(())
}

/// The report's line for fields a person changed in Roster that the export changes too.
pub fn kept_note(noun: &str, title: &str, fields: &[String], batches: &Batches<'_>) -> String {
    format!(
        "the {noun} \"{title}\" was changed in Roster (since the last import or since this one \
         started at {}) and in the export: Roster's {} kept; compare them by hand",
        batches.started_at.format("%Y-%m-%d %H:%M UTC"),
        fields.join(", ")
    )
}

fn current_values(row: &OrgRow, kinds: &KindIds) -> Values {
    [
        ("name", row.name.clone()),
        ("short_name", row.short_name.clone()),
        ("description", row.description.clone()),
        ("quick_notes", row.quick_notes.clone()),
        ("alert", row.alert.clone()),
        ("type", KindIds::name(&kinds.types, row.type_id)),
        ("status", KindIds::name(&kinds.statuses, row.status_id)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The second pass over organizations.csv: each row's parent, once all organizations exist. A
/// parent is set where Roster has none; a different one in Roster is kept and reported.
pub fn parents(
    conn: &mut DbConn,
    batches: &Batches<'_>,
    rows: Vec<Result<Row, Failure>>,
) -> Result<Tally, JobError> {
    let mut tally = Tally::default();
    let wanted: Vec<(u64, String, Parent)> = rows
        .into_iter()
        .filter_map(Result::ok)
        .filter(|row| batches.orgs.first_line.get(row.get("id")) == Some(&row.line))
        .map(|row| (row.line, row.get("id").to_owned(), cells::parent_of(&row)))
        .filter(|(_, _, parent)| *parent != Parent::None)
        .collect();
    if wanted.is_empty() {
        return Ok(tally);
    }
    let mut ids: HashSet<&str> = HashSet::new();
    for (_, id, parent) in &wanted {
        ids.insert(id);
        if let Parent::Id(p) = parent {
            ids.insert(p);
        }
    }
    let mut ids: Vec<&str> = ids.into_iter().collect();
    let parent_names: Vec<String> = wanted
        .iter()
        .filter_map(|(_, _, p)| match p {
            Parent::Name(n) => batches
                .orgs
                .by_name
                .get(n)
                .and_then(|l| match l.as_slice() {
                    [(_, id)] => Some(id.clone()),
                    _ => None,
                }),
            _ => None,
        })
        .collect();
    ids.extend(parent_names.iter().map(String::as_str));
    let targets = known::remembered_batch(conn, ORG_SOURCE_KIND, &ids)?;
    for (line, id, parent) in &wanted {
        let Some((child, _)) = targets.get(id) else {
            continue;
        };
        let parent_id = match parent {
            Parent::Id(p) => Ok(p.clone()),
            Parent::Name(n) => match batches.orgs.by_name.get(n).map(Vec::as_slice) {
                Some([(_, p)]) => Ok(p.clone()),
                Some([]) | None => Err(format!("its parent \"{n}\" is not in organizations.csv")),
                Some(_) => Err(format!(
                    "several organizations of the export are named \"{n}\", so its parent is unknown"
                )),
            },
            Parent::None => continue,
        };
        let target = parent_id.and_then(|p| {
            targets.get(&p).map(|(t, _)| *t).ok_or_else(|| {
                format!(
                    "its parent (IT Glue id {p}) was not imported, so it has no parent in Roster"
                )
            })
        });
        match target {
            Ok(target) => set_parent(conn, *line, (*child, target), &mut tally)?,
            Err(reason) => tally.note(*line, reason),
        }
    }
    Ok(tally)
}

fn set_parent(
    conn: &mut DbConn,
    line: u64,
    (child, parent): (i64, i64),
    tally: &mut Tally,
) -> Result<(), JobError> {
    let current: Option<i64> = o::table.find(child).select(o::parent_id).first(conn)?;
    match current {
        Some(p) if p == parent => Ok(()),
        Some(_) => {
            tally.note(
                line,
                "its parent in Roster differs from the export's: Roster's kept".to_owned(),
            );
            Ok(())
        }
        None if child == parent || tree::would_loop(conn, OrgId(child), parent)? => {
            tally.note(
                line,
                "its parent would make a loop of sub-organizations: left without a parent"
                    .to_owned(),
            );
            Ok(())
        }
        None => {
            diesel::update(o::table.find(child))
                .set((
                    o::parent_id.eq(Some(parent)),
                    o::updated_at.eq(crate::db::now()),
                ))
                .execute(conn)?;
            Ok(())
        }
    }
}
