//! The conditions a search puts on the index (`search_terms`): what matches (any part, a whole
//! value or its prefix, an IPv4 range), within the user's scope and the page's filters, and the
//! rank of each match (exact, prefix, anywhere). `find.rs` decides which to use.

use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Text};

use super::query::Query;
use crate::db::schema::{search_terms as st, search_values as sv};
use crate::db::{Backend, DbConn, MultiBackend, any_text, in_query, literal_limit, prepared};
use crate::orgs::Scope;

pub type Cond = Box<dyn BoxableExpression<st::table, MultiBackend, SqlType = Bool>>;
pub type Rank = Box<dyn BoxableExpression<st::table, MultiBackend, SqlType = Integer>>;

/// Narrowing chosen on the page: one group, one organization.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub group: Option<super::Group>,
    pub organization: Option<i64>,
}

fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `terms LIKE pattern` (PostgreSQL's default escape is the backslash; an explicit ESCAPE would
/// hide the pattern from its trigram index).
fn like(backend: Backend, pattern: String) -> Cond {
    match backend {
        Backend::Postgres => Box::new(st::terms.like(pattern)),
        Backend::Sqlite => Box::new(st::terms.like(pattern).escape('\\')),
    }
}

/// No row.
fn nothing() -> Cond {
    Box::new(prepared::<Bool>("1 = 0"))
}

fn any(conds: Vec<Cond>) -> Cond {
    conds
        .into_iter()
        .reduce(|a, b| Box::new(a.or(b)))
        .unwrap_or_else(nothing)
}

/// Terms holding one of the needles anywhere, tested row by row.
pub fn holding(backend: Backend, q: &Query) -> Cond {
    any(q
        .needles
        .iter()
        .map(|n| like(backend, format!("%{}%", escape_like(n))))
        .collect())
}

/// Three-character windows of `needle` that cover it without overlapping (and its last one),
/// among those `usable`: a row holding the needle holds each of them. A trigram index reads one
/// list per window it is given, and the windows of a word of digits are in many rows
/// ("t418668": two lists instead of five, an eighth of the time on SQLite, a third on
/// PostgreSQL).
fn cover(needle: &str, usable: fn(&[char]) -> bool) -> Vec<String> {
    let chars: Vec<char> = needle.chars().collect();
    let windows: Vec<(usize, &[char])> = chars
        .windows(3)
        .enumerate()
        .filter(|(_, w)| usable(w))
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut next = 0;
    for (i, w) in &windows {
        if *i >= next {
            out.push(w.iter().collect());
            next = i + 3;
        }
    }
    if let Some((_, last)) = windows.last() {
        let last: String = last.iter().collect();
        if !out.contains(&last) {
            out.push(last);
        }
    }
    // Windows of digits alone are in many more rows than those with a letter (ten symbols, not
    // thirty-six): beside a letter's window, the last of them is enough to rule out the rest.
    let digits = |w: &String| w.chars().all(|c| c.is_ascii_digit());
    if out.iter().any(|w| w.chars().any(char::is_alphabetic)) {
        let last_digits = out.iter().rposition(digits);
        let mut i = 0;
        out.retain(|w| {
            i += 1;
            !digits(w) || Some(i - 1) == last_digits
        });
    }
    out
}

/// A window PostgreSQL's trigram index looks up as itself: letters and digits only (around any
/// other character `pg_trgm` pads words, and a pattern yielding no trigram reads the whole index).
fn alphanumeric(window: &[char]) -> bool {
    window.iter().all(char::is_ascii_alphanumeric)
}

/// On PostgreSQL, `terms LIKE '%needle%'` through the trigram index by the windows of `cover`
/// alone (a word of letters and digits; others keep the pattern whole), the whole pattern
/// then tested on the rows they find (`terms || ''` is not the indexed column).
fn holding_by_cover(q: &Query) -> Cond {
    any(q
        .needles
        .iter()
        .map(|n| {
            let pattern = format!("%{}%", escape_like(n));
            // Shorter words have hardly fewer windows than all of them.
            if n.chars().count() < 6 || !n.chars().all(|c| c.is_ascii_alphanumeric()) {
                return like(Backend::Postgres, pattern);
            }
            cover(n, alphanumeric)
                .into_iter()
                .map(|w| like(Backend::Postgres, format!("%{w}%")))
                .fold(
                    Box::new(st::terms.concat(String::new()).like(pattern)) as Cond,
                    |all, w| Box::new(w.and(all)),
                )
        })
        .collect())
}

/// The needles as an FTS5 query: for each, the windows of `cover` (any character: the trigram
/// table holds them all), joined by OR; when all needles are three characters or more. It
/// finds the rows holding a needle and a few others: `holding` tests them after.
pub fn fts_query(q: &Query) -> Option<String> {
    let indexable = !q.needles.is_empty() && q.needles.iter().all(|n| n.chars().count() >= 3);
    indexable.then(|| {
        q.needles
            .iter()
            .map(|n| {
                let windows: Vec<String> = cover(n, |_| true)
                    .iter()
                    .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
                    .collect();
                format!("({})", windows.join(" AND "))
            })
            .collect::<Vec<_>>()
            .join(" OR ")
    })
}

/// Terms holding one of the needles anywhere; on SQLite through its trigram table first.
fn containing(backend: Backend, q: &Query) -> Cond {
    let phrases = match (backend, fts_query(q)) {
        (Backend::Sqlite, Some(phrases)) => phrases,
        (Backend::Sqlite, None) => return holding(backend, q),
        (Backend::Postgres, _) => return holding_by_cover(q),
    };
    let likes = holding(backend, q);
    let fts = prepared::<Bool>(
        "search_terms.id IN (SELECT rowid FROM search_terms_fts WHERE search_terms_fts MATCH ",
    )
    .text(phrases)
    .sql(")");
    Box::new(fts.and(likes))
}

/// Rows of organizations the scope sees (as `orgs::access::visible`: not being deleted, and on
/// the access list unless the user sees all). For a user who sees all, PostgreSQL tests it row
/// by row (`OFFSET 0` keeps the planner from making it a join): a search's statements are
/// planned for each call's text, and weighing a join with the organizations was half of that
/// planning (0.2 ms a statement). A restricted user's stays a join: the planner may start from
/// the few organizations on the access list.
fn in_scope(backend: Backend, scope: Scope) -> Cond {
    const ALIVE: &str = "EXISTS (SELECT 1 FROM organizations o WHERE o.id = search_terms.organization_id AND o.deleted_at IS NULL";
    match (scope.all, backend) {
        (true, Backend::Postgres) => Box::new(prepared::<Bool>(ALIVE).sql(" OFFSET 0)")),
        (true, Backend::Sqlite) => Box::new(prepared::<Bool>(ALIVE).sql(")")),
        (false, _) => Box::new(
            prepared::<Bool>(ALIVE)
                .sql(" AND o.id IN (SELECT u.organization_id FROM user_organizations u WHERE u.user_id = ")
                .big_int(scope.user_id)
                .sql("))"),
        ),
    }
}

/// Whether one of the needles is a whole value (an address typed is one too) of a row that
/// `scope` and `filter` let through, the needles bound as one list and the limit written in.
/// PostgreSQL reads from the values outwards (each value's rows until one passes): one plan it
/// keeps. From the rows inwards, with three values bound apart and a bound limit, it planned each
/// call anew (0.3 ms, ten times the statement's run). SQLite lists a subquery's rows before it
/// reads the others: the rows inwards, from the few ids of the values.
pub fn whole_value(
    conn: &mut DbConn,
    q: &Query,
    scope: Scope,
    filter: Filter,
) -> QueryResult<bool> {
    if q.needles.is_empty() {
        return Ok(false);
    }
    let values = sv::table
        .filter(any_text(sv::value, &q.needles))
        .select(sv::terms_id);
    let backend = conn.backend();
    let found: Vec<i64> = match backend {
        Backend::Sqlite => {
            let rows = st::table
                .filter(within(backend, scope, filter))
                .filter(in_query(st::id, values))
                .select(st::id);
            literal_limit(rows, 1).load(conn)?
        }
        Backend::Postgres => {
            let rows = st::table
                .into_boxed()
                .filter(within(backend, scope, filter))
                .select(st::id);
            literal_limit(values.filter(in_query(sv::terms_id, rows)), 1).load(conn)?
        }
    };
    Ok(!found.is_empty())
}

/// The highest character: values starting with `n` run from `n` to `n` followed by it.
const HIGHEST: char = '\u{10FFFF}';

type ValueCond = Box<dyn BoxableExpression<sv::table, MultiBackend, SqlType = Bool>>;

/// The needles, each once.
fn distinct_needles(q: &Query) -> Vec<&String> {
    let mut needles: Vec<&String> = Vec::new();
    for n in &q.needles {
        if !needles.contains(&n) {
            needles.push(n);
        }
    }
    needles
}

/// Values starting with one of the needles (itself included): a range of `search_values` for
/// each. With `hidden`, each bound is read through a subquery run once (`(SELECT $1)`): the plan
/// does not depend on the values, and PostgreSQL keeps one.
fn value_ranges(q: &Query, hidden: bool) -> Option<ValueCond> {
    let range = |n: &String| -> ValueCond {
        let end = format!("{n}{HIGHEST}");
        if hidden {
            let bound = |b: String| prepared::<Text>("(SELECT ").text(b).sql(")");
            Box::new(sv::value.ge(bound(n.clone())).and(sv::value.lt(bound(end))))
        } else {
            Box::new(sv::value.ge(n.clone()).and(sv::value.lt(end)))
        }
    };
    distinct_needles(q)
        .into_iter()
        .map(range)
        .reduce(|a, b| Box::new(a.or(b)))
}

/// Rows with a value starting with one of the needles (itself included; an address typed finds
/// the longer ones it starts, as its text would). A range for each different needle: three
/// ranges, the same one repeated, doubled PostgreSQL's planning (see `starting_ids` there).
fn starting(q: &Query) -> Cond {
    match value_ranges(q, false) {
        Some(ranges) => Box::new(in_query(
            st::id,
            sv::table.filter(ranges).select(sv::terms_id),
        )),
        None => nothing(),
    }
}

/// On PostgreSQL, up to `limit` distinct ids of rows that `scope` and `filter` let through with a
/// value starting with one of the needles, read from the values outwards in value order (each
/// value's row until `limit` are found), in a statement whose plan PostgreSQL keeps (its ranges'
/// bounds hidden from the planner, its limit written in). `starting` in one statement was planned
/// on every call (0.3 ms, ten times its run), and for a common value (75,000 rows) read them all
/// before its first hit (83 ms; 60 ms this way, stopping at the limit).
pub fn starting_ids(
    conn: &mut DbConn,
    q: &Query,
    scope: Scope,
    filter: Filter,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    let Some(ranges) = value_ranges(q, true) else {
        return Ok(Vec::new());
    };
    let rows = st::table
        .into_boxed()
        .filter(within(Backend::Postgres, scope, filter))
        .select(st::id);
    let values = sv::table
        .filter(ranges)
        .filter(in_query(sv::terms_id, rows))
        .select(sv::terms_id);
    let mut ids: Vec<i64> = literal_limit(values, limit).load(conn)?;
    // A row holding two values in the ranges is read twice.
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.retain(|id| seen.insert(*id));
    Ok(ids)
}

/// Rows with an address in `lo..=hi`, or a value starting with the text typed ("10.0.4."): two
/// B-tree ranges in one `IN` (never the trigrams, which at "10.0." read most of the index).
fn addressed(q: &Query, lo: i64, hi: i64) -> Cond {
    let text = q.needles.first().cloned().unwrap_or_default();
    let end = format!("{text}{HIGHEST}");
    Box::new(
        prepared::<Bool>(
            "search_terms.id IN (SELECT v.terms_id FROM search_values v WHERE v.value >= ",
        )
        .text(text)
        .sql(" AND v.value < ")
        .text(end)
        .sql(" UNION ALL SELECT a.id FROM search_terms a WHERE a.ipv4 BETWEEN ")
        .big_int(lo)
        .sql(" AND ")
        .big_int(hi)
        .sql(")"),
    )
}

/// What a search finds: with `whole_value` (the text typed is a value in scope), the values it
/// is or starts (PostgreSQL reads those through `starting_ids` instead); an address, a prefix of one ("10.0.4.") or a CIDR range by their numbers (and
/// the values they start); otherwise the values holding the text anywhere.
pub fn found(backend: Backend, q: &Query, whole_value: bool) -> Cond {
    match q.ipv4 {
        _ if whole_value => starting(q),
        None => containing(backend, q),
        // A CIDR range has no text to look for: the range alone, read from its index.
        Some(r) if q.needles.is_empty() => Box::new(st::ipv4.assume_not_null().between(r.lo, r.hi)),
        Some(r) => addressed(q, r.lo, r.hi),
    }
}

/// Rows the scope sees, by the page's filters.
fn within(backend: Backend, scope: Scope, filter: Filter) -> Cond {
    let mut cond = in_scope(backend, scope);
    if let Some(group) = filter.group {
        cond = Box::new(cond.and(st::kind.eq(group.slug())));
    }
    if let Some(org) = filter.organization {
        cond = Box::new(cond.and(st::organization_id.eq(org)));
    }
    cond
}

/// `found` within the scope and the page's filters.
pub fn narrowed(backend: Backend, found: Cond, scope: Scope, filter: Filter) -> Cond {
    Box::new(within(backend, scope, filter).and(found))
}

/// 0 exact, 1 prefix (of a value or of a word), 2 anywhere.
pub fn rank(backend: Backend, q: &Query) -> Rank {
    let mut exact: Vec<Cond> = Vec::new();
    let mut prefix: Vec<Cond> = Vec::new();
    for n in &q.needles {
        let n = escape_like(n);
        exact.push(like(backend, format!("%\n{n}\n%")));
        prefix.push(like(backend, format!("%\n{n}%")));
        prefix.push(like(backend, format!("% {n}%")));
    }
    if let Some(r) = q.ipv4 {
        if r.exact {
            exact.push(Box::new(st::ipv4.assume_not_null().eq(r.lo)));
        } else {
            prefix.push(Box::new(st::ipv4.assume_not_null().between(r.lo, r.hi)));
        }
    }
    Box::new(
        case_when::<_, _, Integer>(any(exact), 0)
            .when(any(prefix), 1)
            .otherwise(2),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cover_holds_every_character_in_fewer_windows() {
        assert_eq!(cover("t418668", |_| true), ["t41", "668"]);
        assert_eq!(cover("4186680", |_| true), ["418", "668", "680"]);
        assert_eq!(cover("abc", |_| true), ["abc"]);
        assert!(cover("ab", |_| true).is_empty());
        // PostgreSQL: windows of letters and digits only.
        assert_eq!(cover("fw-acme01", alphanumeric), ["acm", "e01"]);
        assert!(cover("10.0.4.", alphanumeric).is_empty());
    }

    #[test]
    fn the_fts_query_joins_each_needles_windows() {
        let q = Query::parse("1.697.229.2108").unwrap();
        assert_eq!(
            fts_query(&q).unwrap(),
            r#"("1.6" AND "97." AND "229" AND ".21" AND "108") OR ("169" AND "722" AND "921" AND "108")"#
        );
        assert_eq!(fts_query(&Query::parse("ab").unwrap()), None);
    }
}
