//! The columns of each file of an export, named as IT Glue names them and as this importer reads
//! them back (`itglue.rs`, `cells.rs`), and how a Roster record fills them: checkboxes and the
//! archived mark as Yes/No, the organization by name, a password only when asked for.

use std::collections::BTreeMap;

use crate::records::Kind;
use crate::records::fields::{self, Field, Input};

/// Where a column's cell comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// The record's id.
    Id,
    /// Its organization's name.
    Organization,
    /// One of its values (a checkbox as Yes/No).
    Value { field: String, checkbox: bool },
    /// The sealed secret, opened (only when passwords are exported).
    Secret,
    /// The sealed one-time-password secret, opened (only when passwords are exported).
    OtpSecret,
    /// Yes when the record is marked archived.
    Archived,
    /// A column IT Glue has and Roster does not fill.
    Empty,
}

/// A record's secrets as written: nothing unless passwords are exported.
#[derive(Debug, Clone, Copy, Default)]
pub struct Opened<'a> {
    pub password: Option<&'a str>,
    pub otp: Option<&'a str>,
}

/// A file of records: its name in the ZIP and its columns.
#[derive(Debug, Clone)]
pub struct Layout {
    pub file: String,
    pub columns: Vec<(String, Cell)>,
}

impl Layout {
    pub fn header(&self) -> Vec<&str> {
        self.columns.iter().map(|(c, _)| c.as_str()).collect()
    }

    pub fn has_secret(&self) -> bool {
        self.columns.iter().any(|(_, c)| *c == Cell::Secret)
    }

    /// One record's cells, in column order; `secrets` are the opened password and one-time-
    /// password secret, if any.
    pub fn row(
        &self,
        (id, organization): (i64, &str),
        values: &BTreeMap<String, String>,
        secrets: Opened<'_>,
    ) -> Vec<String> {
        let yes_no = |yes: bool| if yes { "Yes" } else { "No" }.to_owned();
        self.columns
            .iter()
            .map(|(_, cell)| match cell {
                Cell::Id => id.to_string(),
                Cell::Organization => organization.to_owned(),
                Cell::Value { field, checkbox } => {
                    let value = values.get(field).map_or("", String::as_str);
                    if *checkbox {
                        yes_no(!value.is_empty())
                    } else {
                        value.to_owned()
                    }
                }
                Cell::Secret => secrets.password.unwrap_or_default().to_owned(),
                Cell::OtpSecret => secrets.otp.unwrap_or_default().to_owned(),
                Cell::Archived => yes_no(values.get("archived").is_some_and(|v| !v.is_empty())),
                Cell::Empty => String::new(),
            })
            .collect()
    }
}

fn value(field: &Field) -> Cell {
    match field.input {
        Input::Secret => Cell::Secret,
        Input::Checkbox => Cell::Value {
            field: field.name.clone(),
            checkbox: true,
        },
        _ => Cell::Value {
            field: field.name.clone(),
            checkbox: false,
        },
    }
}

fn layout(file: &str, columns: Vec<(&str, Cell)>) -> Layout {
    Layout {
        file: file.to_owned(),
        columns: columns
            .into_iter()
            .map(|(c, cell)| (c.to_owned(), cell))
            .collect(),
    }
}

/// The IT Glue column a Roster field of `kind` is written under (what `cells.rs` reads first or
/// IT Glue's own name).
fn column(kind: Kind, field: &str) -> &str {
    match (kind, field) {
        (Kind::Contact, "emails") => "contact_emails",
        (Kind::Contact, "phones") => "contact_phones",
        (Kind::Contact, "primary") => "important",
        (Kind::Configuration, "kind") => "configuration_type",
        (Kind::Configuration, "ip_address") => "primary_ip",
        (Kind::Configuration, "status") => "configuration_status",
        (Kind::Password, "secret") => "password",
        (Kind::Document, "title") => "name",
        (_, other) => other,
    }
}

/// The layout of contacts.csv, configurations.csv or passwords.csv.
pub fn of_kind(kind: Kind) -> Layout {
    let mut columns = vec![("id", Cell::Id), ("organization", Cell::Organization)];
    let list = fields::of(kind);
    for field in &list {
        columns.push((column(kind, &field.name), value(field)));
    }
    if kind == Kind::Password {
        // IT Glue's columns that Roster does not fill (the importer ignores them empty).
        for empty in [
            "password_category",
            "resource_type",
            "resource_id",
            "one_time_password",
        ] {
            columns.push((empty, Cell::Empty));
        }
        columns.push((crate::transfer::cells::OTP, Cell::OtpSecret));
    }
    columns.push(("archived", Cell::Archived));
    layout(&format!("{}.csv", kind.slug()), columns)
}

/// documents.csv (its bodies are files of their own).
pub fn documents() -> Layout {
    layout(
        "documents.csv",
        vec![
            ("id", Cell::Id),
            ("organization", Cell::Organization),
            (
                "name",
                Cell::Value {
                    field: "title".to_owned(),
                    checkbox: false,
                },
            ),
            ("expires_on", Cell::Empty),
            ("owner", Cell::Empty),
            ("publisher", Cell::Empty),
            ("locator", Cell::Empty),
            ("public", Cell::Empty),
            ("archived", Cell::Archived),
            ("help_center", Cell::Empty),
        ],
    )
}

/// The file of a flexible asset type: `id, organization, name, <its fields' labels>..., archived`.
pub fn flexible(file: &str, type_fields: &[Field]) -> Layout {
    let mut columns = vec![
        ("id".to_owned(), Cell::Id),
        ("organization".to_owned(), Cell::Organization),
        (
            "name".to_owned(),
            Cell::Value {
                field: "name".to_owned(),
                checkbox: false,
            },
        ),
    ];
    // Headed by their labels, as IT Glue heads them (Roster's names are f1, f2, ...).
    for field in type_fields {
        columns.push((field.label.clone(), value(field)));
    }
    columns.push(("archived".to_owned(), Cell::Archived));
    Layout {
        file: file.to_owned(),
        columns,
    }
}

/// Files of the export a flexible asset type's file must not take the name of.
const TAKEN: &[&str] = &[
    "organizations",
    "contacts",
    "configurations",
    "passwords",
    "documents",
    "locations",
];

/// A flexible asset type's file name: its slug (`SSL Certificates` -> `ssl-certificates.csv`),
/// with the type's id added when another file has that name already.
pub fn flexible_file(name: &str, id: i64, used: &mut Vec<String>) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    let slug = if slug.is_empty() || TAKEN.contains(&slug.as_str()) || used.contains(&slug) {
        format!(
            "{}-{id}",
            if slug.is_empty() { "asset-type" } else { &slug }
        )
    } else {
        slug
    };
    used.push(slug.clone());
    format!("{slug}.csv")
}

/// Where a document's body goes: `documents/DOC-{org id}-{doc id} {name}/{name}.html`, the name
/// made safe as a file name.
pub fn document_path(org: i64, id: i64, title: &str) -> String {
    let mut name: String = title
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(100)
        .collect();
    name = name.trim().trim_matches('.').trim().to_owned();
    if name.is_empty() {
        name = "document".to_owned();
    }
    format!("documents/DOC-{org}-{id} {name}/{name}.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_files_use_the_importers_columns() {
        let contacts = of_kind(Kind::Contact);
        assert_eq!(contacts.file, "contacts.csv");
        assert_eq!(
            contacts.header(),
            [
                "id",
                "organization",
                "first_name",
                "last_name",
                "title",
                "contact_emails",
                "contact_phones",
                "important",
                "notes",
                "archived"
            ]
        );
        let passwords = of_kind(Kind::Password);
        assert!(passwords.has_secret());
        assert_eq!(
            passwords.header()[..4],
            ["id", "organization", "name", "username"]
        );
        assert_eq!(passwords.header().last(), Some(&"archived"));
    }

    #[test]
    fn rows_say_yes_and_no() {
        let values: BTreeMap<String, String> = [
            ("first_name".to_owned(), "Ann".to_owned()),
            ("primary".to_owned(), "yes".to_owned()),
        ]
        .into();
        let row = of_kind(Kind::Contact).row((7, "Acme"), &values, Opened::default());
        assert_eq!(row[..3], ["7", "Acme", "Ann"]);
        assert_eq!(row[7], "Yes");
        assert_eq!(row[9], "No");
    }

    #[test]
    fn flexible_files_never_take_anothers_name() {
        let mut used = Vec::new();
        assert_eq!(
            flexible_file("SSL Certificates", 3, &mut used),
            "ssl-certificates.csv"
        );
        assert_eq!(
            flexible_file("ssl certificates!", 4, &mut used),
            "ssl-certificates-4.csv"
        );
        assert_eq!(flexible_file("Contacts", 5, &mut used), "contacts-5.csv");
        assert_eq!(flexible_file("***", 6, &mut used), "asset-type-6.csv");
    }

    #[test]
    fn document_paths_are_safe() {
        assert_eq!(
            document_path(1, 2, "../etc/passwd"),
            "documents/DOC-1-2 _etc_passwd/_etc_passwd.html"
        );
        assert_eq!(
            document_path(1, 3, "  "),
            "documents/DOC-1-3 document/document.html"
        );
    }
}
