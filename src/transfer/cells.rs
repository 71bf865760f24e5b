//! IT Glue rows as Roster values: which column feeds which field (under the names exports have
//! used), Yes/No as checkboxes, values Roster would refuse left empty and reported, and other
//! columns kept at the end of the notes. Secrets stay in their own field, never in the notes.

use std::collections::HashMap;

use super::merge::Values;
use super::table::Row;
use crate::records::{Kind, fields, values};

/// The organization fields an import writes, by the names the merge keeps them under.
pub const ORG_FIELDS: [&str; 7] = [
    "name",
    "short_name",
    "description",
    "quick_notes",
    "alert",
    "type",
    "status",
];

/// An organizations row's values (type and status by name).
pub fn org_values(row: &Row) -> Result<Values, String> {
    let mut out = Values::new();
    for field in ORG_FIELDS {
        let column = match field {
            "type" => "organization_type",
            "status" => "organization_status",
            other => other,
        };
        // Types and statuses are found ignoring case, so they are compared so too.
        let value = match field {
            "type" | "status" => row.get(column).to_lowercase(),
            _ => row.get(column).to_owned(),
        };
        out.insert(field.to_owned(), value);
    }
    let name = &out["name"];
    if name.chars().count() > crate::orgs::model::NAME_MAX {
        return Err(format!(
            "the name has {} characters; the most Roster keeps is {}",
            name.chars().count(),
            crate::orgs::model::NAME_MAX
        ));
    }
    Ok(out)
}

/// How a row names its parent organization, if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    None,
    /// The parent's IT Glue id.
    Id(String),
    /// The parent's name.
    Name(String),
}

pub fn parent_of(row: &Row) -> Parent {
    let first = |columns: &[&str]| {
        columns
            .iter()
            .map(|c| row.get(c))
            .find(|v| !v.is_empty())
            .map(str::to_owned)
    };
    if let Some(id) = first(super::itglue::PARENT_ID_COLUMNS) {
        Parent::Id(id)
    } else if let Some(name) = first(super::itglue::PARENT_NAME_COLUMNS) {
        Parent::Name(name)
    } else {
        Parent::None
    }
}

/// Where a password row's one-time-password secret is kept among its values (sealed apart when
/// stored, like the password under `secret`).
pub const OTP: &str = "otp_secret";

/// Columns that are read for what they are, or deliberately not kept (secrets, bookkeeping).
const NOT_EXTRA: &[&str] = &[
    "id",
    "organization",
    "organization_id",
    "archived",
    "created_at",
    "updated_at",
    "password",
    "otp_secret",
    "one_time_password",
    "resource_type",
    "resource_id",
];

/// (Roster field, IT Glue columns in order of preference) for each kind.
fn sources(kind: Kind) -> &'static [(&'static str, &'static [&'static str])] {
    match kind {
        Kind::Contact => &[
            ("first_name", &["first_name"]),
            ("last_name", &["last_name"]),
            ("title", &["title"]),
            (
                "emails",
                &["emails", "contact_emails", "email", "primary_email"],
            ),
            (
                "phones",
                &["phones", "contact_phones", "phone", "primary_phone"],
            ),
            ("primary", &["primary", "important"]),
            ("notes", &["notes"]),
        ],
        Kind::Configuration => &[
            ("name", &["name"]),
            ("kind", &["configuration_type", "kind"]),
            ("hostname", &["hostname"]),
            ("ip_address", &["ip_address", "primary_ip"]),
            ("serial_number", &["serial_number", "serial"]),
            ("status", &["configuration_status", "status"]),
            ("notes", &["notes"]),
        ],
        Kind::Password => &[
            ("name", &["name"]),
            ("username", &["username"]),
            ("secret", &["password"]),
            ("url", &["url"]),
            ("notes", &["notes"]),
        ],
        Kind::Document => &[("title", &["name"])],
        Kind::FlexibleAsset => &[("name", &["name"])],
    }
}

/// A record row as Roster values (a password's secret under `secret`), and what was left out.
#[derive(Debug, Default)]
pub struct RecordCells {
    pub values: Values,
    /// Values Roster refuses (an IP address that is not one): left empty, for the report.
    pub dropped: Vec<String>,
}

/// A choice cell matched to one of the field's options ignoring case, else `fallback`.
fn choose(options: &[String], cell: &str, fallback: &str) -> String {
    options
        .iter()
        .find(|o| o.eq_ignore_ascii_case(cell.trim()))
        .cloned()
        .unwrap_or_else(|| fallback.to_owned())
}

/// The row's values, checked as the form would check them; `Err` when the row cannot be a record.
pub fn record_values(kind: Kind, row: &Row) -> Result<RecordCells, String> {
    let list = fields::of(kind);
    let mut form: HashMap<String, String> = HashMap::new();
    let mut used: Vec<&str> = NOT_EXTRA.to_vec();
    for (field, columns) in sources(kind) {
        used.extend_from_slice(columns);
        let cell = columns
            .iter()
            .map(|c| row.get(c))
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        let value = match list.iter().find(|f| f.name == *field).map(|f| &f.input) {
            Some(fields::Input::Checkbox) if is_yes(cell) => "yes".to_owned(),
            Some(fields::Input::Checkbox) => String::new(),
            // An unknown configuration kind becomes "Other", an unknown status the first one.
            Some(fields::Input::Choice(options)) if *field == "kind" => {
                choose(options, cell, "Other")
            }
            Some(fields::Input::Choice(options)) => {
                choose(options, cell, options.first().map_or("", String::as_str))
            }
            _ => cell.to_owned(),
        };
        form.insert((*field).to_owned(), value);
    }
    let extra: Vec<String> = row
        .others(&used)
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(column, value)| format!("{column}: {}", value.trim()))
        .collect();
    if !extra.is_empty() {
        let notes = form.entry("notes".to_owned()).or_default();
        let joined = extra.join("\n");
        *notes = if notes.is_empty() {
            joined
        } else {
            format!("{notes}\n\n{joined}")
        };
    }
    let mut dropped = Vec::new();
    let checked = match values::check(&list, &form, true) {
        Ok(checked) => checked,
        Err(errors) => {
            for field in &list {
                if let Some(message) = errors.get(&field.name)
                    && !field.required
                {
                    let value = form.remove(&field.name).unwrap_or_default();
                    dropped.push(format!(
                        "the {} \"{value}\" was left empty: {message}",
                        field.label
                    ));
                }
            }
            values::check(&list, &form, true).map_err(|errors| {
                list.iter()
                    .find_map(|f| {
                        errors
                            .get(&f.name)
                            .map(|m| format!("the {} cannot be imported: {m}", f.label))
                    })
                    .unwrap_or_else(|| "the row cannot be imported".to_owned())
            })?
        }
    };
    let mut out = Values::new();
    for field in &list {
        let value = if field.input == fields::Input::Secret {
            checked.secret.clone().unwrap_or_default()
        } else {
            checked.values.get(&field.name).cloned().unwrap_or_default()
        };
        out.insert(field.name.clone(), value);
    }
    if kind == Kind::Password {
        out.insert(OTP.to_owned(), row.get(OTP).to_owned());
    }
    out.insert(
        "archived".to_owned(),
        if is_yes(row.get("archived")) {
            "yes".to_owned()
        } else {
            String::new()
        },
    );
    Ok(RecordCells {
        values: out,
        dropped,
    })
}

fn is_yes(cell: &str) -> bool {
    matches!(
        cell.trim().to_lowercase().as_str(),
        "yes" | "true" | "1" | "y"
    )
}
