//! IT Glue's names for what Roster's records hold: the resource of each kind (path and JSON:API
//! type) and its attributes, each with the Roster field it reads and writes and its shape. The
//! API documents, its input and the OpenAPI document all read this one table.

use crate::records::Kind;
use crate::records::fields::Field;

/// How an attribute's value is written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A string, or null when empty.
    Text,
    /// true or false (a checkbox).
    Flag,
    /// A list of `{"value": ...}` objects (Roster keeps one a line).
    List,
}

/// One attribute: IT Glue's name (kebab-case) and the Roster field it holds.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    pub name: &'static str,
    pub field: &'static str,
    pub shape: Shape,
}

const fn text(name: &'static str, field: &'static str) -> Attribute {
    Attribute {
        name,
        field,
        shape: Shape::Text,
    }
}

/// The record kinds the API serves, in the order of the OpenAPI document.
pub const KINDS: [Kind; 4] = [
    Kind::Configuration,
    Kind::Contact,
    Kind::Password,
    Kind::FlexibleAsset,
];

/// The path segment of a kind (`/api/configurations`).
pub fn path_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Configuration => "configurations",
        Kind::Contact => "contacts",
        Kind::Password => "passwords",
        Kind::FlexibleAsset => "flexible_assets",
        Kind::Document => "documents",
    }
}

/// The kind of a path segment the API serves (documents are not served).
pub fn kind_of(path: &str) -> Option<Kind> {
    KINDS.into_iter().find(|k| path_of(*k) == path)
}

/// The JSON:API `type` of a kind's resources.
pub fn type_of(kind: Kind) -> &'static str {
    match kind {
        Kind::FlexibleAsset => "flexible-assets",
        other => path_of(other),
    }
}

/// The attributes a kind's resources carry, beyond the organization, times and, for flexible
/// assets, the type and `traits`.
pub fn attributes(kind: Kind) -> &'static [Attribute] {
    const CONFIGURATION: &[Attribute] = &[
        text("name", "name"),
        text("configuration-type-name", "kind"),
        text("configuration-status-name", "status"),
        text("hostname", "hostname"),
        text("primary-ip", "ip_address"),
        text("serial-number", "serial_number"),
        text("notes", "notes"),
    ];
    const CONTACT: &[Attribute] = &[
        text("first-name", "first_name"),
        text("last-name", "last_name"),
        text("title", "title"),
        Attribute {
            name: "contact-emails",
            field: "emails",
            shape: Shape::List,
        },
        Attribute {
            name: "contact-phones",
            field: "phones",
            shape: Shape::List,
        },
        Attribute {
            name: "primary",
            field: "primary",
            shape: Shape::Flag,
        },
        text("notes", "notes"),
    ];
    const PASSWORD: &[Attribute] = &[
        text("name", "name"),
        text("username", "username"),
        text("url", "url"),
        text("notes", "notes"),
    ];
    const FLEXIBLE_ASSET: &[Attribute] = &[text("name", "name")];
    match kind {
        Kind::Configuration => CONFIGURATION,
        Kind::Contact => CONTACT,
        Kind::Password => PASSWORD,
        Kind::FlexibleAsset | Kind::Document => FLEXIBLE_ASSET,
    }
}

/// A password's value: written with `password`, read only with Password access.
pub const PASSWORD: Attribute = text("password", "secret");

/// The attribute of a Roster field of `kind`, the password's included.
pub fn attribute_of(kind: Kind, field: &str) -> Option<Attribute> {
    attributes(kind)
        .iter()
        .copied()
        .chain((kind == Kind::Password).then_some(PASSWORD))
        .find(|a| a.field == field)
}

/// The attribute named `name` (kebab-case or snake_case) of `kind`.
pub fn attribute_named(kind: Kind, name: &str) -> Option<Attribute> {
    let name = name.replace('_', "-");
    attributes(kind)
        .iter()
        .copied()
        .chain((kind == Kind::Password).then_some(PASSWORD))
        .find(|a| a.name == name)
}

/// A flexible asset field's key in `traits`: its label in kebab-case, as IT Glue names traits.
pub fn trait_key(field: &Field) -> String {
    let mut key = String::new();
    for c in field.label.chars() {
        if c.is_alphanumeric() {
            key.extend(c.to_lowercase());
        } else if !key.is_empty() && !key.ends_with('-') {
            key.push('-');
        }
    }
    key.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::fields;

    #[test]
    fn every_attribute_names_a_field_of_its_kind() {
        for kind in KINDS {
            let all = fields::of(kind);
            for a in attributes(kind) {
                assert!(all.iter().any(|f| f.name == a.field), "{kind:?} {}", a.name);
            }
        }
        assert_eq!(
            attribute_named(Kind::Configuration, "primary_ip").map(|a| a.field),
            Some("ip_address")
        );
        assert_eq!(kind_of("flexible_assets"), Some(Kind::FlexibleAsset));
        assert_eq!(kind_of("documents"), None);
    }

    #[test]
    fn trait_keys_are_kebab_labels() {
        let field = fields::Field {
            name: "f1".into(),
            label: "Licence key (main)".into(),
            input: fields::Input::Text,
            required: false,
        };
        assert_eq!(trait_key(&field), "licence-key-main");
    }
}
