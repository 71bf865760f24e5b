//! One batch of a record file (contacts, configurations, passwords), applied: each row lands in
//! the organization its `organization` cell names (through what the organizations pass
//! imported), as the record an earlier import made, else the one record of that title, else a
//! new one. Secrets are sealed as they arrive (`records::bulk`); they never reach a note.

use std::collections::HashMap;

use diesel::prelude::*;

use super::apply::Batches;
use super::apply_documents::Body;
use super::cells;
use super::itglue::{self, RecordFile};
use super::known;
use super::merge::{self, Values};
use super::run::Tally;
use super::table::{Failure, Row};
use crate::db::DbConn;
use crate::db::schema::records as r;
use crate::jobs::JobError;
use crate::records::bulk::{self, NewBulk};
use crate::records::{Kind, RecordError};

/// A row ready to land: its IT Glue id, line, Roster organization, title and values.
pub struct Valid {
    pub id: String,
    pub line: u64,
    pub org: i64,
    pub title: String,
    pub values: Values,
}

fn job_error(e: RecordError) -> JobError {
    match e {
        RecordError::Db(e) => JobError::Db(e),
        other => JobError::Permanent(format!("a record could not be written: {other}")),
    }
}

/// Where the row's organization landed, or why it has none.
pub fn place(
    batches: &Batches<'_>,
    targets: &HashMap<String, i64>,
    name: &str,
) -> Result<i64, String> {
    match batches.orgs.by_name.get(name).map(Vec::as_slice) {
        None | Some([]) if name.is_empty() => Err("the organization cell is empty".to_owned()),
        None | Some([]) => Err(format!(
            "its organization \"{name}\" is not in organizations.csv"
        )),
        Some([(line, id)]) => targets.get(id).copied().ok_or_else(|| {
            format!("its organization \"{name}\" was not imported (organizations.csv, line {line})")
        }),
        Some(many) => Err(format!(
            "{} organizations of the export are named \"{name}\", so which one it belongs to \
             is unknown",
            many.len()
        )),
    }
}

fn judge(
    batches: &Batches<'_>,
    spec: &RecordFile,
    (targets, bodies): Lookups<'_>,
    row: &Row,
    tally: &mut Tally,
) -> Result<Valid, String> {
    let id = row.get("id");
    if id.is_empty() {
        return Err("the id cell is empty".to_owned());
    }
    let org = place(batches, targets, row.get("organization"))?;
    if let Some(reason) = itglue::bad_date(row) {
        return Err(reason);
    }
    let mut cells = cells::record_values(spec.kind, row)?;
    for dropped in cells.dropped {
        tally.note(row.line, dropped);
    }
    if let Some(body) = bodies.get(id) {
        if let Some(reason) = &body.refused {
            return Err(reason.clone());
        }
        for note in &body.notes {
            tally.note(row.line, note.clone());
        }
        cells
            .values
            .insert("body".to_owned(), body.markdown.clone());
    }
    let title = crate::records::fields::title_of(spec.kind, &cells.values);
    Ok(Valid {
        id: id.to_owned(),
        line: row.line,
        org,
        title,
        values: cells.values,
    })
}

/// Organizations' IT Glue ids -> Roster ids; documents' bodies by IT Glue id.
pub type Lookups<'a> = (&'a HashMap<String, i64>, &'a HashMap<String, Body>);

/// Applies a batch of one record file.
pub fn records(
    conn: &mut DbConn,
    batches: &Batches<'_>,
    spec: &RecordFile,
    lookups: Lookups<'_>,
    rows: Vec<Result<Row, Failure>>,
) -> Result<Tally, JobError> {
    let mut tally = Tally::default();
    let valid = tally.sort(rows, |row, tally| {
        if let Some(note) = batches.attachments.note(spec.file, row.get("id"), false) {
            tally.note(row.line, note);
        }
        judge(batches, spec, lookups, row, tally)
    });
    let target = Target {
        kind: spec.kind,
        source_kind: itglue::source_kind(spec.kind),
        asset_type: None,
    };
    land(conn, batches, &target, &valid, &mut tally)?;
    Ok(tally)
}

/// Where rows land: their kind, the key `import_sources` remembers them under, their type.
pub struct Target<'a> {
    pub kind: Kind,
    pub source_kind: &'a str,
    pub asset_type: Option<i64>,
}

/// Writes valid rows: the record an earlier import made, else the one of that title, else new.
pub fn land(
    conn: &mut DbConn,
    batches: &Batches<'_>,
    target: &Target<'_>,
    valid: &[Valid],
    tally: &mut Tally,
) -> Result<(), JobError> {
    let kind = target.source_kind;
    let ids: Vec<&str> = valid.iter().map(|v| v.id.as_str()).collect();
    let remembered = known::remembered_batch(conn, kind, &ids)?;
    let titled = by_title(conn, target, valid, &remembered)?;
    let mut create = Vec::new();
    let mut existing = Vec::new();
    for v in valid {
        if let Some((id, fingerprint)) = remembered.get(&v.id) {
            existing.push((v, *id, Some(fingerprint.as_str())));
            continue;
        }
        match titled.get(&(v.org, v.title.clone())).map(Vec::as_slice) {
            None | Some([]) => create.push(v),
            Some([one]) => existing.push((v, *one, None)),
            Some(many) => tally.fail(
                v.line,
                format!(
                    "{} {} of its organization are named \"{}\"; rename one so the import knows \
                     which one this is",
                    many.len(),
                    target.kind.title().to_lowercase(),
                    v.title
                ),
            ),
        }
    }
    let mut remember = Vec::new();
    let new: Vec<NewBulk> = create
        .iter()
        .map(|v| {
            let (values, secret, otp) = stored(&v.values);
            NewBulk {
                organization_id: v.org,
                kind: target.kind,
                asset_type_id: target.asset_type,
                values,
                secret,
                otp,
            }
        })
        .collect();
    let created = bulk::insert_many(conn, batches.key, &new, batches.by).map_err(job_error)?;
    for (v, id) in create.iter().zip(created) {
        remember.push((v.id.clone(), id, merge::fingerprint(batches.key, &v.values)));
        tally.created += 1;
    }
    update_existing(conn, batches, target.kind, &existing, tally, &mut remember)?;
    known::remember(conn, kind, &remember)?;
    Ok(())
}

/// The values a record keeps (empty ones left out, as the forms do), and apart from them its
/// secret and its one-time-password secret (sealed, never among the values).
fn stored(values: &Values) -> (Values, Option<String>, Option<String>) {
    let secret = values.get("secret").cloned();
    let otp = values.get(cells::OTP).cloned();
    let kept = values
        .iter()
        .filter(|(k, v)| !matches!(k.as_str(), "secret" | cells::OTP) && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (kept, secret, otp)
}

/// Records of the batch's organizations with the titles of rows not remembered.
fn by_title(
    conn: &mut DbConn,
    target: &Target<'_>,
    valid: &[Valid],
    remembered: &HashMap<String, (i64, String)>,
) -> QueryResult<HashMap<(i64, String), Vec<i64>>> {
    let fresh: Vec<&Valid> = valid
        .iter()
        .filter(|v| !remembered.contains_key(&v.id))
        .collect();
    let mut out: HashMap<(i64, String), Vec<i64>> = HashMap::new();
    if fresh.is_empty() {
        return Ok(out);
    }
    let orgs: Vec<i64> = fresh.iter().map(|v| v.org).collect();
    let titles: Vec<&str> = fresh.iter().map(|v| v.title.as_str()).collect();
    let mut query = r::table
        .filter(r::kind.eq(target.kind.slug()))
        .filter(r::organization_id.eq_any(&orgs))
        .filter(r::title.eq_any(&titles))
        .select((r::id, r::organization_id, r::title))
        .into_boxed();
    if let Some(asset_type) = target.asset_type {
        query = query.filter(r::asset_type_id.eq(asset_type));
    }
    let rows: Vec<(i64, i64, String)> = query.load(conn)?;
    for (id, org, title) in rows {
        out.entry((org, title)).or_default().push(id);
    }
    Ok(out)
}

fn update_existing(
    conn: &mut DbConn,
    batches: &Batches<'_>,
    kind: Kind,
    existing: &[(&Valid, i64, Option<&str>)],
    tally: &mut Tally,
    remember: &mut Vec<(String, i64, String)>,
) -> Result<(), JobError> {
    let changing: Vec<i64> = existing
        .iter()
        .filter(|(v, _, last)| *last != Some(merge::fingerprint(batches.key, &v.values).as_str()))
        .map(|(_, t, _)| *t)
        .collect();
    let current = bulk::current(conn, batches.key, &changing).map_err(job_error)?;
    for (v, target, last) in existing {
        let fingerprint = merge::fingerprint(batches.key, &v.values);
        if *last == Some(fingerprint.as_str()) {
            tally.unchanged += 1;
            continue;
        }
        let Some(current) = current.get(target) else {
            continue;
        };
        let mut now = current.values.clone();
        if kind == Kind::Password {
            now.insert("secret".to_owned(), current.secret.clone());
            now.insert(cells::OTP.to_owned(), current.otp.clone());
        }
        let merged = merge::merge(batches.key, *last, &now, &v.values);
        if merged.changed {
            let (values, secret, otp) = stored(&merged.values);
            let secrets = bulk::NewSecrets {
                secret: secret.as_deref().filter(|s| *s != current.secret),
                otp: otp.as_deref().filter(|s| *s != current.otp),
            };
            bulk::rewrite(
                conn,
                batches.key,
                (current.org, *target),
                kind,
                &values,
                secrets,
            )
            .map_err(job_error)?;
            tally.updated += 1;
        } else {
            tally.unchanged += 1;
        }
        if !merged.kept.is_empty() {
            tally.kept += 1;
            let noun = kind.noun();
            tally.note(
                v.line,
                super::apply_orgs::kept_note(noun, &v.title, &merged.kept, batches),
            );
        }
        remember.push((v.id.clone(), *target, fingerprint));
    }
    Ok(())
}
