//! Substring search over name and short name that does not read every row: SQLite's FTS5 trigram
//! index, PostgreSQL's pg_trgm index. Both compare lower-cased text (lower-cased in Rust, so `Ä`
//! and `ä` match on both backends); `%`, `_` and `\` in the search are matched literally.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::access::OrgFilter;
use crate::db::Backend;
use crate::db::schema::organizations;

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Organizations whose name or short name contains `term` (any case).
pub fn containing(backend: Backend, term: &str) -> OrgFilter {
    let needle = term.trim().to_lowercase();
    let pattern = format!("%{}%", escape_like(&needle));
    match backend {
        // PostgreSQL's default LIKE escape is the backslash; an explicit ESCAPE would hide the
        // pattern from the trigram index.
        Backend::Postgres => Box::new(organizations::search_text.like(pattern)),
        Backend::Sqlite => {
            let like = organizations::search_text.like(pattern).escape('\\');
            if needle.chars().count() < 3 {
                // Shorter than a trigram: the index cannot help.
                return Box::new(like);
            }
            let phrase = format!("\"{}\"", needle.replace('"', "\"\""));
            let indexed = sql::<Bool>("organizations.id IN (SELECT rowid FROM organizations_fts WHERE organizations_fts MATCH ")
                .bind::<Text, _>(phrase)
                .sql(")");
            Box::new(indexed.and(like))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(escape_like(r"50%_off\now"), r"50\%\_off\\now");
    }
}
