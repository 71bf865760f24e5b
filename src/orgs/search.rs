//! Substring search over name and short name: through SQLite's FTS5 trigram index or
//! PostgreSQL's pg_trgm index (few matches), or row by row along an index in the list's order
//! (many). Both compare lower-cased text (lower-cased in Rust, so `Ä` and `ä` match on both
//! backends); `%`, `_` and `\` in the search are matched literally.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use super::access::OrgFilter;
use super::search_estimate::{Reach, SearchStats};
use crate::db::schema::organizations;
use crate::db::{Backend, DbConn, prepared};

/// The search text as stored: lower-cased, without surrounding spaces.
pub fn needle(term: &str) -> String {
    term.trim().to_lowercase()
}

/// Whether the trigram indexes can find this term (three characters or more).
pub fn indexable(term: &str) -> bool {
    needle(term).chars().count() >= 3
}

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
    let needle = needle(term);
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
            let indexed = prepared::<Bool>("organizations.id IN (SELECT rowid FROM organizations_fts WHERE organizations_fts MATCH ")
                .text(phrase(&needle))
                .sql(")");
            Box::new(indexed.and(like))
        }
    }
}

/// The same matches as `containing`, tested row by row without the trigram index: for a walk
/// along an index in the list's order that stops after a page (PostgreSQL's `strpos` keeps the
/// planner on that walk; a `LIKE` there would send it through the trigram index for every match).
pub fn scanning(backend: Backend, term: &str) -> OrgFilter {
    let needle = needle(term);
    match backend {
        Backend::Postgres => Box::new(
            prepared::<Bool>("strpos(organizations.search_text, ")
                .text(needle)
                .sql(") > 0"),
        ),
        Backend::Sqlite => Box::new(
            organizations::search_text
                .like(format!("%{}%", escape_like(&needle)))
                .escape('\\'),
        ),
    }
}

/// What the trigram index says of a term: the ids of the organizations (deleted ones too) whose
/// search text contains it, or that they are far more than asked for.
pub enum Probe {
    /// At most `limit` ids; fewer than `limit` means these are all of them.
    Ids(Vec<i64>),
    /// PostgreSQL's statistics expect more than `ESTIMATE_FACTOR` times the limit
    /// (`search_estimate`): a GIN index reads every match before it returns the first, so they
    /// are not read.
    Many,
}

/// How far above the limit PostgreSQL's estimate must be to skip reading the matches. With the
/// histogram of 1,001 values (migration 000260) the estimates of 14 terms at 100,000
/// organizations were 0.55x to 1.15x their real counts (with the default 101 values, 0.003x to
/// 1.3x, and the factor was 4), and an estimate is only made from 8 values or more
/// (`search_estimate`). A term skipped wrongly is shown as "more than" with its pages walked;
/// one whose matches lie deep in the name order is not walked (`search_pages::gathered`).
pub const ESTIMATE_FACTOR: i64 = 2;

/// Where the organizations holding `term` lie in name order, by the sample of their names
/// (`search_estimate`; None without one).
pub fn reach(conn: &mut DbConn, stats: &SearchStats, term: &str) -> QueryResult<Option<Reach>> {
    stats.reach(conn, &needle(term))
}

/// Whether the sample of names (`search_estimate`) expects more than `ESTIMATE_FACTOR` times
/// `limit` organizations to hold `term`.
pub fn common(conn: &mut DbConn, stats: &SearchStats, term: &str, limit: i64) -> QueryResult<bool> {
    let estimate = stats.estimate(conn, &needle(term))?;
    Ok(estimate.is_some_and(|rows| rows > (limit.saturating_mul(ESTIMATE_FACTOR)) as f64))
}

/// Matches `ordered_matches` reads at most (one more tells that there are more).
pub const GATHERED: i64 = 50_000;

/// The rest of `ordered_matches`'s statement, each way. The limit is written in: with a bound
/// one, PostgreSQL's kept plan assumed it cut the matches short and walked the name index (a
/// deep term: 40 ms instead of 2).
const ASCENDING: &str =
    " AS TEXT)) AND deleted_at IS NULL ORDER BY search_text ASC, id ASC LIMIT 50001";
const DESCENDING: &str =
    " AS TEXT)) AND deleted_at IS NULL ORDER BY search_text DESC, id DESC LIMIT 50001";
/// SQLite's, which leaves the sorting and the test of each name to Rust.
const MATCHED: &str = ") AND +deleted_at IS NULL LIMIT 50001";

/// The ids of the organizations not being deleted whose search text contains `term`, in name
/// order (backwards when `descending`), or None when they are more than `GATHERED`: every match
/// read through the trigram index and sorted. PostgreSQL sorts them (the pattern hidden from the
/// planner, which would otherwise walk the name index). SQLite reads every hit of its FTS5
/// index (a term is only gathered when the sample calls it rare, or deep and at most
/// `GATHERED`: `search_pages::gathered`), for the rarest trigrams of the term rather than the
/// whole phrase; its sorter and its `LIKE` took longer than reading the hits, so they are tested
/// and sorted here. More than `GATHERED` hits are taken as more than `GATHERED` matches.
pub fn ordered_matches(
    conn: &mut DbConn,
    stats: &SearchStats,
    term: &str,
    descending: bool,
) -> QueryResult<Option<Vec<i64>>> {
    let needle = needle(term);
    let within = |found: usize| i64::try_from(found).is_ok_and(|n| n <= GATHERED);
    if let DbConn::Pg(pg) = conn {
        let ids: Vec<i64> =
            prepared::<BigInt>("SELECT id FROM organizations WHERE search_text LIKE (SELECT CAST(")
                .text(format!("%{}%", escape_like(&needle)))
                .sql(if descending { DESCENDING } else { ASCENDING })
                .load(pg)?;
        return Ok(within(ids.len()).then_some(ids));
    }
    // The two trigrams of the term the fewest sampled names hold find a superset of its matches
    // (the whole phrase without a sample); Rust keeps the names that hold the term.
    let fts = match stats.rarest(conn, &needle, 2)? {
        Some(grams) => grams
            .iter()
            .map(|g| phrase(g))
            .collect::<Vec<_>>()
            .join(" AND "),
        None => phrase(&needle),
    };
    let DbConn::Sqlite(c) = conn else {
        return Ok(None);
    };
    let read: Vec<(i64, String)> = prepared::<(BigInt, Text)>(
        "SELECT id, search_text FROM organizations WHERE id IN \
         (SELECT rowid FROM organizations_fts WHERE organizations_fts MATCH ",
    )
    .text(fts)
    .sql(MATCHED)
    .load(c)?;
    if !within(read.len()) {
        return Ok(None);
    }
    let mut found: Vec<(String, i64)> = read
        .into_iter()
        .filter(|(_, text)| text.contains(&needle))
        .map(|(id, text)| (text, id))
        .collect();
    found.sort_unstable();
    if descending {
        found.reverse();
    }
    Ok(Some(found.into_iter().map(|(_, id)| id).collect()))
}

/// An FTS5 query for the text as one phrase.
fn phrase(needle: &str) -> String {
    format!("\"{}\"", needle.replace('"', "\"\""))
}

/// Up to `limit` ids of organizations whose search text contains `term`, in no particular order,
/// from the trigram index (see `Probe`): on SQLite deleted ones too (its FTS table holds them),
/// on PostgreSQL only those not being deleted (tested on the rows the index finds, so that no
/// second statement looks them up); the term must be `indexable`.
pub fn indexed(
    conn: &mut DbConn,
    stats: &SearchStats,
    term: &str,
    limit: i64,
) -> QueryResult<Probe> {
    if common(conn, stats, term, limit)? {
        return Ok(Probe::Many);
    }
    let needle = needle(term);
    match conn {
        DbConn::Sqlite(c) => {
            prepared::<BigInt>("SELECT rowid FROM organizations_fts WHERE organizations_fts MATCH ")
                .text(phrase(&needle))
                .sql(" LIMIT ")
                .big_int(limit)
                .load(c)
                .map(Probe::Ids)
        }
        DbConn::Pg(c) => {
            // The pattern behind a subquery: planned once for every term (the trigram index,
            // whatever the pattern), not against the statistics' 1,001 values at each call.
            prepared::<BigInt>(
                "SELECT id FROM organizations \
                 WHERE search_text LIKE (SELECT CAST(",
            )
            .text(format!("%{}%", escape_like(&needle)))
            .sql(" AS TEXT)) AND deleted_at IS NULL LIMIT ")
            .big_int(limit)
            .load(c)
            .map(Probe::Ids)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn the_ordered_matches_stop_one_past_the_gathered() {
        let limit = format!("LIMIT {}", super::GATHERED + 1);
        assert!(super::ASCENDING.ends_with(&limit));
        assert!(super::DESCENDING.ends_with(&limit));
        assert!(super::MATCHED.ends_with(&limit));
    }

    #[test]
    fn like_wildcards_are_literal() {
        assert_eq!(escape_like(r"50%_off\now"), r"50\%\_off\\now");
    }
}
