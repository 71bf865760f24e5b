//! The layout of an IT Glue export as this importer reads it: which CSV files, which columns it
//! needs in each, and which Roster record kind a file becomes. Columns are named, never counted.

use crate::records::Kind;

pub const ORGANIZATIONS: &str = "organizations.csv";
/// Columns an organizations file must have.
pub const ORG_REQUIRED: &[&str] = &["id", "name"];
/// The parent column, as IT Glue id or as name, under the names exports have used.
pub const PARENT_ID_COLUMNS: &[&str] = &["parent_id", "parent_organization_id"];
pub const PARENT_NAME_COLUMNS: &[&str] = &["parent", "parent_organization", "parent_name"];

/// A CSV file of records that belong to an organization named in its `organization` column.
pub struct RecordFile {
    pub file: &'static str,
    pub kind: Kind,
    pub required: &'static [&'static str],
}

pub const RECORD_FILES: &[RecordFile] = &[
    RecordFile {
        file: "contacts.csv",
        kind: Kind::Contact,
        required: &["id", "organization", "first_name"],
    },
    RecordFile {
        file: "configurations.csv",
        kind: Kind::Configuration,
        required: &["id", "organization", "name"],
    },
    RecordFile {
        file: "passwords.csv",
        kind: Kind::Password,
        required: &["id", "organization", "name", "password"],
    },
    // Bodies are HTML files beside the CSV (`apply_documents`).
    RecordFile {
        file: "documents.csv",
        kind: Kind::Document,
        required: &["id", "organization", "name"],
    },
];

/// Files read for the report only: Roster has no kind for them yet (or this version does not
/// import them), so they are counted and listed as needing a person's eye.
pub const NOT_IMPORTED: &[(&str, &str)] = &[(
    "locations.csv",
    "Roster has no kind of record for locations; they are not imported",
)];

/// The key `import_sources` remembers a row of this kind under.
pub fn source_kind(kind: Kind) -> &'static str {
    kind.slug()
}

pub const ORG_SOURCE_KIND: &str = "organizations";

/// The title Roster will show for a row of a record file (what "exactly the same name" compares).
pub fn title(kind: Kind, row: &super::table::Row) -> String {
    match kind {
        Kind::Contact => format!("{} {}", row.get("first_name"), row.get("last_name"))
            .trim()
            .to_owned(),
        _ => row.get("name").to_owned(),
    }
}

/// A date cell (a column named `*_at`, `*_on`, `*_date`) that is not empty and not a date.
pub fn bad_date(row: &super::table::Row) -> Option<String> {
    row.others(&[]).into_iter().find_map(|(column, value)| {
        let is_date =
            column.ends_with("_at") || column.ends_with("_on") || column.ends_with("_date");
        let value = value.trim();
        (is_date && !value.is_empty() && !is_date_text(value))
            .then(|| format!("the {column} cell \"{value}\" is not a date (YYYY-MM-DD)"))
    })
}

fn is_date_text(value: &str) -> bool {
    let day = value.get(..10).unwrap_or(value);
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok()
}
