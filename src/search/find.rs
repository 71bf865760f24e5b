//! Finding hits in the index within a user's organizations, ranked: exact matches first (a whole
//! value, or the one IP address typed), then prefixes, then any part; primary before ordinary
//! before archived; recent first. When the text typed is a whole value (a serial, an email, an
//! address), the hits are the values it is or starts, read from `search_values` in order, not
//! every value holding it somewhere. A fixed number of statements whatever the results.

use diesel::dsl::{case_when, count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Text};

use super::Group;
use super::mark::{Marked, mark};
use super::query::Query;
use crate::db::schema::{organizations, search_terms as st, search_values as sv};
use crate::db::{Backend, DbConn, MultiBackend};
use crate::orgs::Scope;

type Cond = Box<dyn BoxableExpression<st::table, MultiBackend, SqlType = Bool>>;

/// Narrowing chosen on the page: one group, one organization.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub group: Option<Group>,
    pub organization: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Hit {
    pub group: Group,
    pub organization_id: i64,
    pub organization: String,
    pub record_id: Option<i64>,
    pub title: Marked,
    /// The matching value when it is not the title.
    pub excerpt: Option<Marked>,
}

impl Hit {
    pub fn path(&self) -> String {
        match (self.group, self.record_id) {
            (Group::Record(kind), Some(id)) => format!(
                "/organizations/{}/records/{}/{id}",
                self.organization_id,
                kind.slug()
            ),
            _ => format!("/organizations/{}", self.organization_id),
        }
    }
}

/// The hits of each group asked for (in `Group::ALL` order) and how many each group has (all
/// groups, whichever were asked for).
#[derive(Debug, Default)]
pub struct Found {
    pub counts: Vec<(Group, i64)>,
    pub hits: Vec<Hit>,
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

fn any(conds: Vec<Cond>) -> Cond {
    conds
        .into_iter()
        .reduce(|a, b| Box::new(a.or(b)))
        .unwrap_or_else(|| Box::new(sql::<Bool>("1 = 0")))
}

/// Terms holding one of the needles anywhere; on SQLite through its trigram table first.
fn containing(backend: Backend, q: &Query) -> Cond {
    let likes = any(q
        .needles
        .iter()
        .map(|n| like(backend, format!("%{}%", escape_like(n))))
        .collect());
    let indexable = !q.needles.is_empty() && q.needles.iter().all(|n| n.chars().count() >= 3);
    if backend == Backend::Postgres || !indexable {
        return likes;
    }
    let phrases: Vec<String> = q
        .needles
        .iter()
        .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
        .collect();
    let fts = sql::<Bool>(
        "search_terms.id IN (SELECT rowid FROM search_terms_fts WHERE search_terms_fts MATCH ",
    )
    .bind::<Text, _>(phrases.join(" OR "))
    .sql(")");
    Box::new(fts.and(likes))
}

/// Rows of organizations the scope sees (as `orgs::access::visible`: not being deleted, and on
/// the access list unless the user sees all).
fn in_scope(scope: Scope) -> Cond {
    const ALIVE: &str = "EXISTS (SELECT 1 FROM organizations o WHERE o.id = search_terms.organization_id AND o.deleted_at IS NULL";
    if scope.all {
        Box::new(sql::<Bool>(ALIVE).sql(")"))
    } else {
        Box::new(
            sql::<Bool>(ALIVE)
                .sql(" AND o.id IN (SELECT u.organization_id FROM user_organizations u WHERE u.user_id = ")
                .bind::<BigInt, _>(scope.user_id)
                .sql("))"),
        )
    }
}

/// Rows holding one of the needles as a whole value (an address typed is one too). One `IN`:
/// an `OR` beside it would make PostgreSQL read the whole table.
fn whole(q: &Query) -> Cond {
    let values = sv::table
        .filter(sv::value.eq_any(q.needles.clone()))
        .select(sv::terms_id);
    Box::new(st::id.eq_any(values))
}

/// The highest character: values starting with `n` run from `n` to `n` followed by it.
const HIGHEST: char = '\u{10FFFF}';

/// Rows with a value starting with one of the needles (itself included): ranges of
/// `search_values` (an address typed finds the longer ones it starts, as its text would).
fn starting(q: &Query) -> Cond {
    if q.needles.is_empty() {
        return Box::new(sql::<Bool>("1 = 0"));
    }
    // A query has at most three needles (the text, a phone's digits, a MAC's hex).
    let [a, b, c] = [0, 1, 2].map(|i| {
        q.needles
            .get(i)
            .or(q.needles.first())
            .cloned()
            .unwrap_or_default()
    });
    let range = |n: String| {
        let end = format!("{n}{HIGHEST}");
        sv::value.ge(n).and(sv::value.lt(end))
    };
    let values = sv::table
        .filter(range(a).or(range(b)).or(range(c)))
        .select(sv::terms_id);
    Box::new(st::id.eq_any(values))
}

/// What a search finds: with `whole_value` (the text typed is a value in scope), the values it
/// is or starts; otherwise the values holding it anywhere.
fn found(backend: Backend, q: &Query, whole_value: bool) -> Cond {
    match q.ipv4 {
        _ if whole_value => starting(q),
        None => containing(backend, q),
        // A CIDR range has no text to look for: the range alone, read from its index.
        Some(r) if q.needles.is_empty() => Box::new(st::ipv4.assume_not_null().between(r.lo, r.hi)),
        Some(r) => {
            Box::new(containing(backend, q).or(st::ipv4.assume_not_null().between(r.lo, r.hi)))
        }
    }
}

/// `found` within the scope and the page's filters.
fn narrowed(found: Cond, scope: Scope, filter: Filter) -> Cond {
    let mut cond: Cond = Box::new(in_scope(scope).and(found));
    if let Some(group) = filter.group {
        cond = Box::new(cond.and(st::kind.eq(group.slug())));
    }
    if let Some(org) = filter.organization {
        cond = Box::new(cond.and(st::organization_id.eq(org)));
    }
    cond
}

/// 0 exact, 1 prefix (of a value or of a word), 2 anywhere.
fn rank(
    backend: Backend,
    q: &Query,
) -> Box<dyn BoxableExpression<st::table, MultiBackend, SqlType = Integer>> {
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

type HitRow = (i64, Option<i64>, String, String, String);

/// Up to `limit` hits per group (after skipping `offset`), and each group's count.
pub fn search(
    conn: &mut DbConn,
    scope: Scope,
    q: &Query,
    filter: Filter,
    limit: i64,
    offset: i64,
) -> QueryResult<Found> {
    let backend = conn.backend();
    // Counts of every group (the page's filters), whichever group is shown.
    let every_group = Filter {
        group: None,
        ..filter
    };
    // Whether the text is a whole value, asked of every group: counts and pages agree.
    let whole_value = !q.needles.is_empty()
        && st::table
            .filter(narrowed(whole(q), scope, every_group))
            .select(st::id)
            .first::<i64>(conn)
            .optional()?
            .is_some();
    let rows: Vec<(String, i64)> = st::table
        .filter(narrowed(found(backend, q, whole_value), scope, every_group))
        .group_by(st::kind)
        .select((st::kind, count_star()))
        .load(conn)?;
    let counts: Vec<(Group, i64)> = Group::ALL
        .into_iter()
        .filter_map(|g| {
            rows.iter()
                .find(|(k, _)| k == g.slug())
                .map(|(_, n)| (g, *n))
        })
        .collect();
    let mut raw: Vec<HitRow> = Vec::new();
    let shown = counts
        .iter()
        .filter(|(g, _)| filter.group.is_none_or(|f| f == *g));
    for (group, _) in shown {
        let one = Filter {
            group: Some(*group),
            ..filter
        };
        raw.extend(
            st::table
                .filter(narrowed(found(backend, q, whole_value), scope, one))
                .order_by((
                    rank(backend, q),
                    st::standing,
                    st::updated_at.desc(),
                    st::id.desc(),
                ))
                .limit(limit)
                .offset(offset)
                .select((
                    st::organization_id,
                    st::record_id,
                    st::kind,
                    st::title,
                    st::shown,
                ))
                .load::<HitRow>(conn)?,
        );
    }
    let ids: Vec<i64> = raw.iter().map(|r| r.0).collect();
    let names: Vec<(i64, String)> = if ids.is_empty() {
        Vec::new()
    } else {
        organizations::table
            .filter(organizations::id.eq_any(&ids))
            .select((organizations::id, organizations::name))
            .load(conn)?
    };
    let hits = raw
        .into_iter()
        .filter_map(|row| hit(row, q, &names))
        .collect();
    Ok(Found { counts, hits })
}

fn hit(
    (org, record, kind, title, shown): HitRow,
    q: &Query,
    names: &[(i64, String)],
) -> Option<Hit> {
    let group = Group::parse(&kind)?;
    let organization = names.iter().find(|(id, _)| *id == org)?.1.clone();
    let marked_title = mark(&title, q);
    let excerpt = if marked_title.is_some() {
        None
    } else {
        shown
            .lines()
            .skip(1)
            .find_map(|line| mark(line, q))
            .or_else(|| {
                // A range of addresses matches no text: show the address.
                q.ipv4?;
                shown
                    .lines()
                    .find(|l| l.parse::<std::net::Ipv4Addr>().is_ok())
                    .map(Marked::plain)
            })
    };
    Some(Hit {
        group,
        organization_id: org,
        organization,
        record_id: record,
        title: marked_title.unwrap_or_else(|| Marked::plain(&title)),
        excerpt,
    })
}
