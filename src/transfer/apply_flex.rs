//! Flexible assets of an IT Glue export: one CSV per flexible asset type, named by its slug
//! (`ssl-certificates.csv`). The type is made from the header, each field's kind inferred from its
//! cells (number, date, checkbox for Yes/No, else text), and found again by name next time.

use std::collections::HashMap;

use diesel::prelude::*;

use super::TransferError;
use super::apply::Batches;
use super::apply_records::{self, Target, Valid};
use super::itglue;
use super::merge::Values;
use super::run::Tally;
use super::source::Source;
use super::table::{Failure, Row};
use crate::db::schema::flexible_asset_types as t;
use crate::db::{DbConn, now};
use crate::jobs::JobError;
use crate::records::Kind;
use crate::records::fields::{Field, Input};
use crate::records::flex::{self, AssetType};

/// Columns that are not fields of the type.
const NOT_FIELDS: &[&str] = &[
    "id",
    "organization",
    "organization_id",
    "archived",
    "created_at",
    "updated_at",
    "name",
];

/// The CSV files of the export that hold flexible assets: every CSV beside organizations.csv
/// that it does not otherwise know (a CSV among attachments is an attachment).
pub fn files(source: &Source) -> Vec<String> {
    let mut known: Vec<&str> = vec![itglue::ORGANIZATIONS];
    known.extend(itglue::RECORD_FILES.iter().map(|f| f.file));
    known.extend(itglue::NOT_IMPORTED.iter().map(|(f, _)| *f));
    let depth = |n: &str| n.matches('/').count();
    let Some(root) = source.find(itglue::ORGANIZATIONS).map(|n| depth(&n)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = source
        .names()
        .iter()
        .filter(|n| {
            let base = n.rsplit('/').next().unwrap_or(n).to_lowercase();
            depth(n) == root && base.ends_with(".csv") && !known.contains(&base.as_str())
        })
        .cloned()
        .collect();
    out.sort();
    out
}

/// The type's name, from the file's slug: `ssl-certificates.csv` is "Ssl Certificates".
pub fn type_name(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    let slug = base.strip_suffix(".csv").unwrap_or(base);
    let words: Vec<String> = slug
        .split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect();
    words.join(" ").chars().take(100).collect()
}

/// What a column's cells have all been so far.
#[derive(Debug, Clone, Copy)]
struct Guess {
    number: bool,
    date: bool,
    yes_no: bool,
    filled: bool,
}

impl Guess {
    fn new() -> Guess {
        Guess {
            number: true,
            date: true,
            yes_no: true,
            filled: false,
        }
    }

    fn see(&mut self, cell: &str) {
        if cell.is_empty() {
            return;
        }
        self.filled = true;
        self.number &= cell.parse::<f64>().is_ok_and(f64::is_finite);
        self.date &= date(cell).is_some();
        self.yes_no &= matches!(cell.to_lowercase().as_str(), "yes" | "no");
    }

    fn input(self) -> Input {
        match self {
            g if !g.filled => Input::Text,
            g if g.yes_no => Input::Checkbox,
            g if g.date => Input::Date,
            g if g.number => Input::Number,
            _ => Input::Text,
        }
    }
}

fn date(cell: &str) -> Option<String> {
    let day = cell.get(..10).unwrap_or(cell);
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// The fields a file's header and cells describe (reads the whole file once, row by row).
fn infer(source: &mut Source, file: &str) -> Result<Vec<Field>, TransferError> {
    let mut ignored = Vec::new();
    let required = ["id", "organization"];
    let Some(mut table) = super::preview::open_table(source, file, &required, &mut ignored)? else {
        return Ok(Vec::new());
    };
    let columns: Vec<String> = table
        .columns()
        .iter()
        .filter(|c| !NOT_FIELDS.contains(&c.to_lowercase().as_str()))
        .cloned()
        .collect();
    let mut guesses = vec![Guess::new(); columns.len()];
    while let Some(row) = table.next_row() {
        let Ok(row) = row else { continue };
        for (column, guess) in columns.iter().zip(guesses.iter_mut()) {
            guess.see(row.get(&column.to_lowercase()));
        }
    }
    Ok(columns
        .into_iter()
        .zip(guesses)
        .enumerate()
        .map(|(n, (column, guess))| Field {
            name: format!("f{}", n + 1),
            label: label_of(&column),
            input: guess.input(),
            required: false,
        })
        .collect())
}

/// A column as a field's label: `expires_on` is "Expires on".
fn label_of(column: &str) -> String {
    let words = column.replace('_', " ");
    let mut chars = words.trim().chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).take(100).collect())
        .unwrap_or_default()
}

/// The cell of the field labelled `label` (a column of that name, or of the name it came from).
fn cell<'r>(row: &'r Row, label: &str) -> &'r str {
    let lower = label.to_lowercase();
    match row.get(&lower) {
        "" => row.get(&lower.replace(' ', "_")),
        found => found,
    }
}

/// The type of `file`: the one of its name, else a new one from its header.
pub fn prepare(
    conn: &mut DbConn,
    source: &mut Source,
    file: &str,
) -> Result<Option<AssetType>, JobError> {
    let name = type_name(file);
    if name.is_empty() {
        return Ok(None);
    }
    let fields = infer(source, file).map_err(|e| JobError::Permanent(e.to_string()))?;
    let json = serde_json::to_string(&fields).unwrap_or_default();
    let id = crate::db::write(conn, |conn| {
        let found: Option<i64> = t::table
            .filter(t::name.eq(&name))
            .select(t::id)
            .first(conn)
            .optional()?;
        match found {
            Some(id) => Ok::<_, diesel::result::Error>(id),
            None => diesel::insert_into(t::table)
                .values((
                    t::name.eq(&name),
                    t::fields.eq(&json),
                    t::created_at.eq(now()),
                ))
                .returning(t::id)
                .get_result(conn),
        }
    })?;
    Ok(flex::find(conn, id)?)
}

/// The key `import_sources` remembers a file's assets under.
pub fn source_kind(asset_type: &AssetType) -> String {
    format!("{}/{}", Kind::FlexibleAsset.slug(), asset_type.id)
}

/// One row as an asset's values: its name, each field by its label, its archived mark.
fn judge(
    batches: &Batches<'_>,
    targets: &HashMap<String, i64>,
    asset_type: &AssetType,
    row: &Row,
    tally: &mut Tally,
) -> Result<Valid, String> {
    let id = row.get("id");
    if id.is_empty() {
        return Err("the id cell is empty".to_owned());
    }
    let org = apply_records::place(batches, targets, row.get("organization"))?;
    let mut values = Values::new();
    let mut first = String::new();
    for field in &asset_type.fields {
        let cell = cell(row, &field.label);
        let value = match field.input {
            Input::Checkbox if cell.eq_ignore_ascii_case("yes") => "yes".to_owned(),
            Input::Checkbox => String::new(),
            Input::Date if !cell.is_empty() => date(cell).unwrap_or_default(),
            Input::Number if cell.parse::<f64>().is_err() => String::new(),
            _ => cell
                .chars()
                .take(crate::records::values::TEXT_MAX)
                .collect(),
        };
        if value.is_empty() && !cell.is_empty() && field.input != Input::Checkbox {
            let what = match field.input {
                Input::Date => "date (YYYY-MM-DD)",
                _ => "number",
            };
            tally.note(
                row.line,
                format!(
                    "the {} \"{cell}\" was left empty: it is not a {what}",
                    field.label
                ),
            );
        }
        if first.is_empty() {
            first.clone_from(&value);
        }
        values.insert(field.name.clone(), value);
    }
    let name = match row.get("name") {
        "" => first,
        name => name.to_owned(),
    };
    if name.is_empty() {
        return Err("the asset has no name (no name column, and its first field is empty)".into());
    }
    let name: String = name
        .chars()
        .take(crate::records::values::TEXT_MAX)
        .collect();
    values.insert("name".to_owned(), name.clone());
    let archived = row.get("archived").eq_ignore_ascii_case("yes");
    values.insert(
        "archived".to_owned(),
        if archived { "yes" } else { "" }.to_owned(),
    );
    Ok(Valid {
        id: id.to_owned(),
        line: row.line,
        org,
        title: name,
        values,
    })
}

/// Applies a batch of one flexible asset file.
pub fn assets(
    conn: &mut DbConn,
    batches: &Batches<'_>,
    targets: &HashMap<String, i64>,
    (file, asset_type): (&str, &AssetType),
    rows: Vec<Result<Row, Failure>>,
) -> Result<Tally, JobError> {
    let mut tally = Tally::default();
    let valid = tally.sort(rows, |row, tally| {
        if let Some(note) = batches.attachments.note(file, row.get("id"), true) {
            tally.note(row.line, note);
        }
        judge(batches, targets, asset_type, row, tally)
    });
    let kind = source_kind(asset_type);
    let target = Target {
        kind: Kind::FlexibleAsset,
        source_kind: &kind,
        asset_type: Some(asset_type.id),
    };
    apply_records::land(conn, batches, &target, &valid, &mut tally)?;
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_kinds() {
        assert_eq!(
            type_name("exports/ssl-certificates.csv"),
            "Ssl Certificates"
        );
        let kinds: Vec<Input> = [
            vec!["12", "3.5", ""],
            vec!["2024-01-02", ""],
            vec!["Yes", "no"],
            vec!["12", "abc"],
            vec![""],
        ]
        .into_iter()
        .map(|cells| {
            let mut g = Guess::new();
            cells.into_iter().for_each(|c| g.see(c));
            g.input()
        })
        .collect();
        assert_eq!(
            kinds,
            vec![
                Input::Number,
                Input::Date,
                Input::Checkbox,
                Input::Text,
                Input::Text
            ]
        );
    }
}
