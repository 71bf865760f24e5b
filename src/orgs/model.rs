//! An organization as stored, and the form that creates or edits one, parsed once at the edge.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Deserialize;

use super::logo_size::{self, PACKED_LOGO_SIZE, PackedLogoSize};
use super::logos::LogoSize;
use crate::db::StoredTime;
use crate::db::schema::organizations;
use crate::validation::{self, FieldErrors};

pub const NAME_MAX: usize = 255;
pub const SHORT_NAME_MAX: usize = 100;
pub const TEXT_MAX: usize = 20_000;

/// What a row of the Organizations list shows: the list reads a page of these on every visit,
/// so it selects (and decodes) only these columns, not the whole `OrgRow`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct ListItem {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub psa_company_id: Option<String>,
    #[diesel(deserialize_as = StoredTime)]
    pub updated_at: NaiveDateTime,
    /// Its logo's size, read with the row (see `logo_size`).
    #[diesel(select_expression = PACKED_LOGO_SIZE, select_expression_type = PackedLogoSize)]
    pub packed_logo: Option<i64>,
}

impl ListItem {
    /// The size of its logo, if it has one.
    pub fn logo(&self) -> Option<LogoSize> {
        logo_size::unpack(self.id, self.packed_logo)
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct OrgRow {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub quick_notes: String,
    pub alert: String,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub psa_kind: Option<String>,
    pub psa_company_id: Option<String>,
    pub sync_enabled: bool,
    pub orphaned_at: Option<NaiveDateTime>,
    pub orphan_reason: Option<String>,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub updated_at: NaiveDateTime,
    /// Set when the organization is deleted: hidden from then on, purged by `deletion_job_id`.
    pub deleted_at: Option<NaiveDateTime>,
    pub deletion_job_id: Option<i64>,
    /// Its logo's size, read with the row (see `logo`): an organization's page needs no second
    /// statement for it.
    #[diesel(select_expression = PACKED_LOGO_SIZE, select_expression_type = PackedLogoSize)]
    pub packed_logo: Option<i64>,
}

impl OrgRow {
    /// The size of its logo, if it has one.
    pub fn logo(&self) -> Option<LogoSize> {
        logo_size::unpack(self.id, self.packed_logo)
    }

    /// The PSA this organization syncs with, by name, if it syncs.
    pub fn syncs_with(&self) -> Option<&'static str> {
        if !self.sync_enabled || self.orphaned_at.is_some() {
            return None;
        }
        Some(psa_label(self.psa_kind.as_deref().unwrap_or_default()))
    }

    /// The short reference to this organization (for links and titles).
    pub fn to_ref(&self) -> super::OrgRef {
        super::OrgRef {
            id: self.id,
            name: self.name.clone(),
            short_name: self.short_name.clone(),
        }
    }
}

/// The name of a PSA, from the `psa_kind` stored with a linked organization.
pub fn psa_label(kind: &str) -> &'static str {
    match kind {
        "connectwise" => "ConnectWise Manage",
        "autotask" => "Autotask",
        _ => "a PSA",
    }
}

/// Lower-cased letters and digits only: "ACME, Inc." and "acme inc" look alike.
pub fn name_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What search and sorting read: the lower-cased name, then the short name.
pub fn search_text(name: &str, short_name: &str) -> String {
    format!("{}\n{}", name.to_lowercase(), short_name.to_lowercase())
}

/// The form as the browser sends it; every field text, so that a wrong one comes back as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OrgForm {
    pub name: String,
    pub short_name: String,
    pub type_id: String,
    pub status_id: String,
    /// Set by the chooser (script) or by picking one of several organizations of the same name.
    pub parent_id: String,
    /// The Parent Organization as typed: resolved by name when no id is given.
    pub parent_name: String,
    pub description: String,
    pub quick_notes: String,
    pub alert: String,
    /// "Create anyway" after the warning about a similar name.
    pub confirm_similar: String,
}

/// How the parent was given: by the name typed in the Parent Organization field, and the id
/// the chooser (or a choice between several of that name) attached to it. The id counts only
/// while the typed name is still that organization's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParentChoice {
    None,
    Named {
        id: Option<i64>,
        name: String,
    },
    /// By id alone (the API): it must exist for the user and make no loop.
    Id(i64),
}

/// A valid form.
#[derive(Debug, Clone)]
pub struct OrgInput {
    pub name: String,
    pub short_name: String,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub parent: ParentChoice,
    pub description: String,
    pub quick_notes: String,
    pub alert: String,
    pub confirm_similar: bool,
}

fn optional_id(errors: &mut FieldErrors, field: &'static str, raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    raw.parse().map_or_else(
        |_| {
            errors.add(field, "Choose one of the listed values.");
            None
        },
        Some,
    )
}

fn optional_text(errors: &mut FieldErrors, field: &'static str, raw: &str, max: usize) -> String {
    let text = raw.trim().to_owned();
    if text.chars().count() > max {
        errors.add(
            field,
            format!(
                "Use at most {max} characters (this has {}).",
                text.chars().count()
            ),
        );
    }
    text
}

impl TryFrom<&OrgForm> for OrgInput {
    type Error = FieldErrors;

    fn try_from(form: &OrgForm) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = validation::required_text(&mut errors, "name", &form.name, NAME_MAX);
        let short_name = optional_text(&mut errors, "short_name", &form.short_name, SHORT_NAME_MAX);
        let type_id = optional_id(&mut errors, "type_id", &form.type_id);
        let status_id = optional_id(&mut errors, "status_id", &form.status_id);
        let id = optional_id(&mut errors, "parent_name", &form.parent_id);
        let parent = match form.parent_name.trim() {
            "" => ParentChoice::None,
            typed => ParentChoice::Named {
                id,
                name: typed.to_owned(),
            },
        };
        let input = OrgInput {
            name,
            short_name,
            type_id,
            status_id,
            parent,
            description: optional_text(&mut errors, "description", &form.description, TEXT_MAX),
            quick_notes: optional_text(&mut errors, "quick_notes", &form.quick_notes, TEXT_MAX),
            alert: optional_text(&mut errors, "alert", &form.alert, TEXT_MAX),
            confirm_similar: !form.confirm_similar.is_empty(),
        };
        errors.into_result(|| input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_look_alike_share_a_key() {
        assert_eq!(name_key("ACME, Inc."), name_key("acme inc"));
        assert_eq!(name_key("Ärzte Müller"), name_key("ärzte-müller"));
        assert_ne!(name_key("Acme"), name_key("Acne"));
    }

    #[test]
    fn forms_parse_or_say_why() {
        let form = OrgForm {
            name: "  Acme  ".into(),
            parent_name: "Parent Co".into(),
            ..OrgForm::default()
        };
        let input = OrgInput::try_from(&form).unwrap();
        assert_eq!(input.name, "Acme");
        assert_eq!(
            input.parent,
            ParentChoice::Named {
                id: None,
                name: "Parent Co".into()
            }
        );

        let bad = OrgForm {
            name: " ".into(),
            type_id: "x".into(),
            short_name: "s".repeat(101),
            ..OrgForm::default()
        };
        let errors = OrgInput::try_from(&bad).unwrap_err();
        assert!(errors.get("name").is_some());
        assert!(errors.get("type_id").is_some());
        assert!(errors.get("short_name").is_some());
    }
}
