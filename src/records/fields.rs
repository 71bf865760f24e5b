//! What each kind of record holds: its fields, their labels and how each is entered and checked.

use super::Kind;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Input {
    Text,
    LongText,
    /// Several email addresses, one a line.
    Emails,
    /// An http or https address.
    Url,
    /// An IPv4 or IPv6 address.
    Ip,
    Number,
    Date,
    Checkbox,
    Choice(Vec<String>),
    /// Encrypted at rest, shown only on request.
    Secret,
    /// Markdown, shown as sanitized HTML.
    Markdown,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Field {
    pub name: String,
    pub label: String,
    pub input: Input,
    pub required: bool,
}

fn field(name: &str, label: &str, input: Input, required: bool) -> Field {
    Field {
        name: name.to_owned(),
        label: label.to_owned(),
        input,
        required,
    }
}

fn choices(list: &[&str]) -> Input {
    Input::Choice(list.iter().map(|s| (*s).to_owned()).collect())
}

/// The fields of a kind (flexible assets: the name; the rest comes from their type).
pub fn of(kind: Kind) -> Vec<Field> {
    use Input::*;
    match kind {
        Kind::Contact => vec![
            field("first_name", "First name", Text, true),
            field("last_name", "Last name", Text, false),
            field("title", "Title", Text, false),
            field("emails", "Email addresses (one a line)", Emails, false),
            field("phones", "Phone numbers (one a line)", LongText, false),
            field("primary", "Primary contact", Checkbox, false),
            field("notes", "Notes", LongText, false),
        ],
        Kind::Configuration => vec![
            field("name", "Name", Text, true),
            field(
                "kind",
                "Kind",
                choices(&[
                    "Server",
                    "Workstation",
                    "Network device",
                    "Printer",
                    "Other",
                ]),
                true,
            ),
            field("hostname", "Hostname", Text, false),
            field("ip_address", "IP address", Ip, false),
            field("serial_number", "Serial number", Text, false),
            field(
                "status",
                "Status",
                choices(&["Active", "Inactive", "Retired"]),
                true,
            ),
            field("notes", "Notes", LongText, false),
        ],
        Kind::Document => vec![
            field("title", "Title", Text, true),
            field("body", "Body (Markdown)", Markdown, false),
        ],
        Kind::Password => vec![
            field("name", "Name", Text, true),
            field("username", "Username", Text, false),
            field("secret", "Password", Secret, true),
            field("url", "URL", Url, false),
            field("notes", "Notes", LongText, false),
        ],
        Kind::FlexibleAsset => vec![field("name", "Name", Text, true)],
    }
}

/// The fields of a record of `kind`: a flexible asset's type adds its own after the name.
pub fn with_type(kind: Kind, asset_type: Option<&super::flex::AssetType>) -> Vec<Field> {
    let mut list = of(kind);
    if let Some(t) = asset_type {
        list.extend(t.fields.iter().cloned());
    }
    list
}

/// The field whose value names a record in lists and titles.
pub fn title_of(kind: Kind, values: &std::collections::BTreeMap<String, String>) -> String {
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or_default();
    match kind {
        Kind::Contact => format!("{} {}", get("first_name"), get("last_name"))
            .trim()
            .to_owned(),
        Kind::Document => get("title").to_owned(),
        _ => get("name").to_owned(),
    }
}
