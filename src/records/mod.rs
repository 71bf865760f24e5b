//! An organization's records: contacts, configurations, documents, passwords and flexible assets.
//! They share one lifecycle (list, show, new, edit, delete, audit, purge with their organization),
//! so they share one table and one set of use cases; each kind describes its fields (`fields.rs`)
//! and its values are checked by field (`values.rs`). Password secrets are stored apart, encrypted.

pub mod bulk;
pub mod crypto;
pub mod fields;
pub mod flex;
pub mod markdown;
pub mod store;
pub mod values;

use crate::validation::FieldErrors;

/// The kinds of record, in the order of the tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Contact,
    Configuration,
    Document,
    Password,
    FlexibleAsset,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Contact,
        Kind::Configuration,
        Kind::Document,
        Kind::Password,
        Kind::FlexibleAsset,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Kind::Contact => "contacts",
            Kind::Configuration => "configurations",
            Kind::Document => "documents",
            Kind::Password => "passwords",
            Kind::FlexibleAsset => "flexible-assets",
        }
    }

    pub fn parse(slug: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            Kind::Contact => "Contacts",
            Kind::Configuration => "Configurations",
            Kind::Document => "Documents",
            Kind::Password => "Passwords",
            Kind::FlexibleAsset => "Flexible assets",
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Configuration => "configuration",
            Kind::Document => "document",
            Kind::Password => "password",
            Kind::FlexibleAsset => "flexible asset",
        }
    }
}

/// A record's id; cannot be mixed up with other ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordId(pub i64);

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("the secret could not be decrypted")]
    Crypto,
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<diesel::result::Error> for RecordError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::NotFound,
            other => Self::Db(other.into()),
        }
    }
}
