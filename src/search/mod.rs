//! One search over organizations and every kind of record: what is searched is folded into an
//! index of its own (`index.rs`, table `search_terms`), queries are read once (`query.rs`), found
//! within the user's organizations and ranked (`find.rs`), and their matches marked (`mark.rs`).

pub mod bulk;
pub mod conds;
pub mod find;
pub mod fold;
pub mod index;
pub mod mark;
pub mod query;

use crate::records::Kind;

/// The groups of results, in the order the page shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    Organizations,
    Record(Kind),
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Organizations,
        Group::Record(Kind::Contact),
        Group::Record(Kind::Configuration),
        Group::Record(Kind::Document),
        Group::Record(Kind::Password),
        Group::Record(Kind::FlexibleAsset),
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Group::Organizations => "organizations",
            Group::Record(kind) => kind.slug(),
        }
    }

    pub fn parse(slug: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            Group::Organizations => "Organizations",
            Group::Record(kind) => kind.title(),
        }
    }
}
