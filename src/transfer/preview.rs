//! The preview of an import: per file, how many rows will create, match (the IT Glue id
//! remembered from an earlier import, else exactly the same name) or fail, and why each failure
//! fails; the types and statuses that will be created; what needs a person's eye. Writes nothing.

use std::collections::{BTreeSet, HashMap};

use super::TransferError;
use super::itglue::{self, RecordFile};
use super::known;
use super::source::Source;
use super::table::{Failure, Row, Table};
use crate::db::DbConn;
use crate::orgs::kinds;

/// One file's numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCount {
    pub file: String,
    pub create: u64,
    pub matched: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Preview {
    pub files: Vec<FileCount>,
    pub failures: Vec<Failure>,
    pub new_types: Vec<String>,
    pub new_statuses: Vec<String>,
    /// Flexible asset types the import will make from a CSV's header (Roster has none of the name).
    pub new_flex_types: Vec<String>,
    pub needs_eye: Vec<String>,
}

/// What becomes of one organization row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgPlan {
    Create,
    Match(i64),
    Failed,
}

/// The organizations of the export by name (a record names its organization by name).
pub type OrgsByName = HashMap<String, Vec<(u64, OrgPlan)>>;

/// Reads the whole export and compares it with the database.
pub fn preview(conn: &mut DbConn, source: &mut Source) -> Result<Preview, TransferError> {
    let mut out = Preview::default();
    let orgs = preview_orgs(conn, source, &mut out)?;
    for file in itglue::RECORD_FILES {
        preview_records(conn, source, file, &orgs, &mut out)?;
    }
    list_not_imported(source, &mut out)?;
    out.new_flex_types = new_flex_types(conn, source)?;
    let (records, files) = super::attachments::Attachments::new(source.names()).count();
    if files > 0 {
        out.needs_eye.push(format!(
            "attachments/: {files} file(s) of {records} record(s) are not imported (Roster has \
             no attachment storage); the import's report names them at each record's line"
        ));
    }
    Ok(out)
}

/// Opens one CSV of the export; a file-level failure (missing column, unreadable header) is
/// recorded and gives `None`.
pub fn open_table<'s>(
    source: &'s mut Source,
    name: &str,
    required: &[&str],
    failures: &mut Vec<Failure>,
) -> Result<Option<Table<'s>>, TransferError> {
    let input = source.open_file(name)?;
    match Table::open(name, input, required) {
        Ok(table) => Ok(Some(table)),
        Err(failure) => {
            failures.push(failure);
            Ok(None)
        }
    }
}

/// Every row of a table, failures aside (they go to `out`), and whether it was Windows-1252.
fn rows_of(table: &mut Table<'_>, count: &mut FileCount, failures: &mut Vec<Failure>) -> Vec<Row> {
    let mut rows = Vec::new();
    while let Some(row) = table.next_row() {
        match row {
            Ok(row) => rows.push(row),
            Err(failure) => {
                count.failed += 1;
                failures.push(failure);
            }
        }
    }
    rows
}

fn fail(out: &mut Preview, count: &mut FileCount, file: &str, line: u64, reason: String) {
    count.failed += 1;
    out.failures.push(Failure {
        file: file.to_owned(),
        line,
        reason,
    });
}

fn preview_orgs(
    conn: &mut DbConn,
    source: &mut Source,
    out: &mut Preview,
) -> Result<OrgsByName, TransferError> {
    let name = source.find(itglue::ORGANIZATIONS).ok_or_else(|| {
        TransferError::Archive(
            "the export has no organizations.csv: is this an IT Glue export?".to_owned(),
        )
    })?;
    let mut count = FileCount {
        file: name.clone(),
        ..FileCount::default()
    };
    let Some(mut table) = open_table(source, &name, itglue::ORG_REQUIRED, &mut out.failures)?
    else {
        count.failed += 1;
        out.files.push(count);
        return Ok(OrgsByName::new());
    };
    let rows = rows_of(&mut table, &mut count, &mut out.failures);
    note_encoding(&table, out);
    drop(table);
    let plans = plan_orgs(conn, &rows, &name, &mut count, out)?;
    new_kinds(conn, &rows, out)?;
    let mut by_name = OrgsByName::new();
    for (row, plan) in rows.iter().zip(plans) {
        by_name
            .entry(row.get("name").to_owned())
            .or_default()
            .push((row.line, plan));
    }
    out.files.push(count);
    Ok(by_name)
}

/// Decides each organization row: remembered id, else the one Roster organization of the same
/// name (unless the export itself repeats the name), else create.
pub fn plan_orgs(
    conn: &mut DbConn,
    rows: &[Row],
    file: &str,
    count: &mut FileCount,
    out: &mut Preview,
) -> Result<Vec<OrgPlan>, TransferError> {
    let remembered = known::remembered_orgs(conn)?;
    let roster = known::orgs_by_name(conn)?;
    let mut lines_of: HashMap<&str, Vec<u64>> = HashMap::new();
    for row in rows {
        lines_of.entry(row.get("name")).or_default().push(row.line);
    }
    for (name, lines) in lines_of.iter().filter(|(_, l)| l.len() > 1) {
        out.needs_eye.push(format!(
            "{file}: {} organizations are named \"{name}\" (lines {}); each is imported as its \
             own organization, none is matched by name, and records naming \"{name}\" cannot \
             be placed",
            lines.len(),
            join(lines)
        ));
    }
    out.needs_eye.sort();
    let mut seen_ids = BTreeSet::new();
    let mut plans = Vec::with_capacity(rows.len());
    for row in rows {
        let (id, name) = (row.get("id"), row.get("name"));
        let plan = if id.is_empty() || name.is_empty() {
            fail(
                out,
                count,
                file,
                row.line,
                "the id or name cell is empty".to_owned(),
            );
            OrgPlan::Failed
        } else if !seen_ids.insert(id.to_owned()) {
            let reason = format!("the id {id} is on an earlier line too");
            fail(out, count, file, row.line, reason);
            OrgPlan::Failed
        } else if let Some(&target) = remembered.get(id) {
            OrgPlan::Match(target)
        } else if lines_of.get(name).is_some_and(|l| l.len() > 1) {
            OrgPlan::Create
        } else {
            match roster.get(name).map(Vec::as_slice) {
                None | Some([]) => OrgPlan::Create,
                Some([one]) => OrgPlan::Match(*one),
                Some(many) => {
                    let reason = format!(
                        "{} organizations in Roster are named \"{name}\"; rename one of them so \
                         the import knows which one this is",
                        many.len()
                    );
                    fail(out, count, file, row.line, reason);
                    OrgPlan::Failed
                }
            }
        };
        match plan {
            OrgPlan::Create => count.create += 1,
            OrgPlan::Match(_) => count.matched += 1,
            OrgPlan::Failed => {}
        }
        plans.push(plan);
    }
    Ok(plans)
}

fn join(lines: &[u64]) -> String {
    lines
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Types and statuses named in the export that Roster does not have (compared ignoring case).
fn new_kinds(conn: &mut DbConn, rows: &[Row], out: &mut Preview) -> Result<(), TransferError> {
    for (kind, column) in [
        (kinds::Kind::Type, "organization_type"),
        (kinds::Kind::Status, "organization_status"),
    ] {
        let have: BTreeSet<String> = kinds::all(conn, kind)?
            .into_iter()
            .map(|(_, name, _)| name.to_lowercase())
            .collect();
        let mut new = BTreeSet::new();
        for row in rows {
            let name = row.get(column);
            if !name.is_empty() && !have.contains(&name.to_lowercase()) {
                new.insert(name.to_owned());
            }
        }
        let list = match kind {
            kinds::Kind::Type => &mut out.new_types,
            kinds::Kind::Status => &mut out.new_statuses,
        };
        *list = new.into_iter().collect();
    }
    Ok(())
}

/// The flexible asset types of the export's flexible CSVs that Roster does not have (by name, as
/// the import looks them up).
fn new_flex_types(conn: &mut DbConn, source: &Source) -> Result<Vec<String>, TransferError> {
    let have: BTreeSet<String> = crate::records::flex::all(conn)?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let new: BTreeSet<String> = super::apply_flex::files(source)
        .iter()
        .map(|file| super::apply_flex::type_name(file))
        .filter(|name| !name.is_empty() && !have.contains(name))
        .collect();
    Ok(new.into_iter().collect())
}

/// Where a record row's organization lands, or why it cannot be placed.
pub fn place(orgs: &OrgsByName, name: &str) -> Result<OrgPlan, String> {
    match orgs.get(name).map(Vec::as_slice) {
        None | Some([]) if name.is_empty() => Err("the organization cell is empty".to_owned()),
        None | Some([]) => Err(format!(
            "its organization \"{name}\" is not in organizations.csv"
        )),
        Some([(line, OrgPlan::Failed)]) => Err(format!(
            "its organization \"{name}\" cannot be imported (organizations.csv, line {line})"
        )),
        Some([(_, plan)]) => Ok(*plan),
        Some(many) => Err(format!(
            "{} organizations of the export are named \"{name}\", so which one it belongs to \
             is unknown",
            many.len()
        )),
    }
}

/// What Roster holds for one record file: remembered IT Glue ids, titles in matched organizations.
struct KnownRecords {
    remembered: HashMap<String, i64>,
    titles: HashMap<(i64, String), Vec<i64>>,
}

/// Reads a record file row by row (never the whole file in memory) and judges each row.
fn preview_records(
    conn: &mut DbConn,
    source: &mut Source,
    spec: &RecordFile,
    orgs: &OrgsByName,
    out: &mut Preview,
) -> Result<(), TransferError> {
    let Some(name) = source.find(spec.file) else {
        return Ok(());
    };
    let mut count = FileCount {
        file: name.clone(),
        ..FileCount::default()
    };
    let Some(mut table) = open_table(source, &name, spec.required, &mut out.failures)? else {
        count.failed += 1;
        out.files.push(count);
        return Ok(());
    };
    loop {
        // What Roster holds is read for a batch of rows at a time: memory stays flat however
        // many records an earlier import brought in.
        let rows: Vec<Result<Row, Failure>> = std::iter::from_fn(|| table.next_row())
            .take(BATCH)
            .collect();
        if rows.is_empty() {
            break;
        }
        let known = known_for(conn, spec, orgs, &rows)?;
        for row in rows {
            match row.map_err(|f| (f.line, f.reason)).and_then(|row| {
                judge_record(spec, orgs, &known, &row).map_err(|reason| (row.line, reason))
            }) {
                Ok(true) => count.matched += 1,
                Ok(false) => count.create += 1,
                Err((line, reason)) => fail(out, &mut count, &name, line, reason),
            }
        }
    }
    note_encoding(&table, out);
    out.files.push(count);
    Ok(())
}

/// Rows of a record file judged together.
const BATCH: usize = 500;

/// The records of Roster that a batch of rows may match: by IT Glue id, by organization and title.
fn known_for(
    conn: &mut DbConn,
    spec: &RecordFile,
    orgs: &OrgsByName,
    rows: &[Result<Row, Failure>],
) -> diesel::QueryResult<KnownRecords> {
    let kind = itglue::source_kind(spec.kind);
    let rows: Vec<&Row> = rows.iter().flatten().collect();
    let ids: Vec<&str> = rows.iter().map(|r| r.get("id")).collect();
    let remembered = known::remembered_batch(conn, kind, &ids)?
        .into_iter()
        .map(|(source, (target, _))| (source, target))
        .collect();
    let titled: Vec<(i64, String)> = rows
        .iter()
        .filter_map(|row| match place(orgs, row.get("organization")) {
            Ok(OrgPlan::Match(org)) => Some((org, itglue::title(spec.kind, row))),
            _ => None,
        })
        .collect();
    Ok(KnownRecords {
        remembered,
        titles: known::records_titled(conn, kind, &titled)?,
    })
}

/// Whether a record row matches an existing record (`true`) or creates one, or why it fails.
fn judge_record(
    spec: &RecordFile,
    orgs: &OrgsByName,
    known: &KnownRecords,
    row: &Row,
) -> Result<bool, String> {
    let plan = place(orgs, row.get("organization"))?;
    if let Some(reason) = itglue::bad_date(row) {
        return Err(reason);
    }
    if known.remembered.contains_key(row.get("id")) {
        return Ok(true);
    }
    let OrgPlan::Match(org) = plan else {
        return Ok(false);
    };
    match known
        .titles
        .get(&(org, itglue::title(spec.kind, row)))
        .map_or(0, Vec::len)
    {
        0 => Ok(false),
        1 => Ok(true),
        n => Err(format!(
            "{n} {} of its organization have the same name; rename one so the import knows \
             which one this is",
            spec.kind.title().to_lowercase()
        )),
    }
}

fn note_encoding(table: &Table<'_>, out: &mut Preview) {
    if table.windows_1252 {
        out.needs_eye.push(format!(
            "{} is not UTF-8: it was read as Windows-1252 (check accented letters)",
            table.file
        ));
    }
}

/// Files this version reads for the report only, and CSV files it does not know.
fn list_not_imported(source: &mut Source, out: &mut Preview) -> Result<(), TransferError> {
    let known: Vec<&str> = std::iter::once(itglue::ORGANIZATIONS)
        .chain(itglue::RECORD_FILES.iter().map(|f| f.file))
        .collect();
    let names: Vec<String> = source
        .names()
        .iter()
        .filter(|n| n.to_lowercase().ends_with(".csv"))
        .cloned()
        .collect();
    for name in names {
        let base = name.rsplit('/').next().unwrap_or(&name).to_lowercase();
        if known.contains(&base.as_str()) && source.find(&base).as_deref() == Some(&name) {
            continue;
        }
        let flexible = super::apply_flex::files(source).contains(&name);
        let why = match itglue::NOT_IMPORTED.iter().find(|(file, _)| *file == base) {
            Some((_, why)) => (*why).to_owned(),
            None if flexible => format!(
                "flexible assets of the type \"{}\" (made from the file's header if Roster has \
                 no type of that name)",
                super::apply_flex::type_name(&name)
            ),
            None => "this file is not imported".to_owned(),
        };
        let rows = count_rows(source, &name)?;
        out.needs_eye.push(format!("{name}: {rows} rows: {why}"));
    }
    Ok(())
}

fn count_rows(source: &mut Source, name: &str) -> Result<u64, TransferError> {
    let mut ignored = Vec::new();
    let Some(mut table) = open_table(source, name, &[], &mut ignored)? else {
        return Ok(0);
    };
    let mut rows = 0;
    while table.next_row().is_some() {
        rows += 1;
    }
    Ok(rows)
}

impl std::fmt::Display for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{:<40} {:>8} {:>8} {:>8}",
            "file", "create", "match", "fail"
        )?;
        for c in &self.files {
            writeln!(
                f,
                "{:<40} {:>8} {:>8} {:>8}",
                c.file, c.create, c.matched, c.failed
            )?;
        }
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_owned()
            } else {
                items.join(", ")
            }
        };
        writeln!(
            f,
            "\nOrganization types to create: {}",
            list(&self.new_types)
        )?;
        writeln!(
            f,
            "Organization statuses to create: {}",
            list(&self.new_statuses)
        )?;
        writeln!(
            f,
            "Flexible asset types to create: {}",
            list(&self.new_flex_types)
        )?;
        if !self.failures.is_empty() {
            writeln!(f, "\nFailures ({}):", self.failures.len())?;
            for failure in &self.failures {
                writeln!(f, "  {failure}")?;
            }
        }
        if !self.needs_eye.is_empty() {
            writeln!(f, "\nNeeds a person's eye:")?;
            for line in &self.needs_eye {
                writeln!(f, "  {line}")?;
            }
        }
        Ok(())
    }
}
