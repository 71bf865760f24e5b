//! Organizations: the model, the queries (scoped to what a user may see), search, the tree of
//! sub-organizations, types and statuses, and the use cases create and update. No HTTP here.

pub mod access;
pub mod bulk;
pub mod counts;
pub mod create;
pub mod delete;
pub mod demo;
pub mod demo_records;
pub mod exclusions;
pub mod kinds;
pub mod list_sql;
pub mod logo_size;
pub mod logos;
pub mod marks;
pub mod merge;
pub mod merge_apply;
pub mod merge_undo;
pub mod model;
pub mod name_blocks;
pub mod paging;
pub mod purge;
pub mod search;
pub mod search_estimate;
pub mod search_matches;
pub mod search_pages;
pub mod search_stretches;
pub mod store;
pub mod tree;

pub use access::Scope;
pub use model::{ListItem, OrgForm, OrgRow, ParentChoice};

use crate::validation::FieldErrors;

/// What the Organizations list keeps in the process between requests (one per instance, in
/// `AppState`).
#[derive(Default)]
pub struct ListCaches {
    /// PostgreSQL's statistics of organization names, for a search (`search_estimate`).
    pub search: search_estimate::SearchStats,
    /// The marks of the list's two orders, for a page number typed far from both ends (`marks`).
    pub marks: marks::MarksCache,
    /// Which stretches of the name order may hold a search's text (`name_blocks`).
    pub blocks: name_blocks::NameBlocks,
    /// What recent searches found: their ordered matches, their pages (`search_matches`).
    pub matches: search_matches::SearchMatches,
}

impl ListCaches {
    /// The name blocks, when they are of the newest version this process has seen.
    pub fn name_blocks(&self) -> Option<std::sync::Arc<name_blocks::Blocks>> {
        self.blocks.current(self.marks.newest())
    }
}

/// An organization's id; cannot be mixed up with other ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(pub i64);

/// A short reference to an organization, for links and warnings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, diesel::Queryable)]
pub struct OrgRef {
    pub id: i64,
    pub name: String,
    pub short_name: String,
}

/// What is wrong with a form: messages by field, and when a typed Parent Organization names
/// several organizations, those to choose from.
#[derive(Debug, Default)]
pub struct FormProblem {
    pub errors: FieldErrors,
    pub parent_candidates: Vec<OrgRef>,
}

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("invalid input")]
    Invalid(FormProblem),
    #[error("{0}")]
    Conflict(String),
    /// Names that look like the one given; saving needs an explicit "Create anyway".
    #[error("similar names exist")]
    LooksLike(Vec<OrgRef>),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

/// The columns of an `OrgRef`, for `.select(REF)`.
pub const REF: (
    crate::db::schema::organizations::id,
    crate::db::schema::organizations::name,
    crate::db::schema::organizations::short_name,
) = (
    crate::db::schema::organizations::id,
    crate::db::schema::organizations::name,
    crate::db::schema::organizations::short_name,
);

impl OrgError {
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid(FormProblem {
            errors: FieldErrors::single(field, message),
            parent_candidates: Vec::new(),
        })
    }
}

impl From<diesel::result::Error> for OrgError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Self::NotFound,
            other => Self::Db(other.into()),
        }
    }
}
