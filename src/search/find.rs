//! Finding hits in the index within a user's organizations, ranked: exact matches first (a whole
//! value, or the one IP address typed), then prefixes, then any part; primary before ordinary
//! before archived; recent first. When the text typed is a whole value (a serial, an email, an
//! address), the hits are the values it is or starts, read from `search_values` in order, not
//! every value holding it somewhere. The matches are read once for every group, at most
//! `COUNTED` of them (past that the counts say "more than"), ranked here, and the hits shown read
//! by id: three statements whatever the results.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::Group;
use super::conds::{self, found, narrowed, rank};
use super::mark::{Marked, mark};
use super::query::Query;
use crate::db::schema::search_terms as st;
use crate::db::{Backend, DbConn, Fixed, FixedSql, any_of, literal_limit, prepared};
use crate::orgs::Scope;

pub use super::conds::Filter;

/// How many matches a search reads, ranks and counts; with more, each group's count is how many
/// of these it holds, shown as "1,000+" ("more than 1,000 results" in all). Also the deepest
/// result a page reaches (`web::search`: 40 pages of 25).
pub const COUNTED: usize = 1_000;

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
    /// More than `COUNTED` matches: the counts are those among the `COUNTED` read.
    pub capped: bool,
    pub hits: Vec<Hit>,
}

/// A match before it is shown: what ranks it.
#[derive(Debug, Queryable)]
struct Candidate {
    id: i64,
    kind: String,
    rank: i32,
    standing: i32,
    updated_at: NaiveDateTime,
}

fn limit() -> i64 {
    i64::try_from(COUNTED).unwrap_or(i64::MAX) + 1
}

/// The matches of `cond` with what ranks them, up to `COUNTED + 1`.
fn candidates(conn: &mut DbConn, cond: conds::Cond, q: &Query) -> QueryResult<Vec<Candidate>> {
    let backend = conn.backend();
    let rows = st::table.filter(cond).select((
        st::id,
        st::kind,
        rank(backend, q),
        st::standing,
        st::updated_at,
    ));
    literal_limit(rows, limit()).load(conn)
}

/// On SQLite for a user who sees every organization: the first `COUNTED + 1` rows of the
/// trigram table in its own order (it stops there, where testing each match would read all of a
/// common word's; `ORDER BY rowid DESC` would read its lists backwards, twice the time),
/// then those in scope. `None` when that does not settle it: rows out of scope (organizations
/// being deleted) among that many.
fn first_matches(
    conn: &mut DbConn,
    scope: Scope,
    q: &Query,
    filter: Filter,
) -> QueryResult<Option<Vec<Candidate>>> {
    let (DbConn::Sqlite(c), Some(phrases), true, None) = (
        &mut *conn,
        conds::fts_query(q),
        scope.all,
        filter.organization,
    ) else {
        return Ok(None);
    };
    let ids: Vec<i64> =
        prepared::<BigInt>("SELECT rowid FROM search_terms_fts WHERE search_terms_fts MATCH ")
            .text(phrases)
            .sql(" LIMIT ")
            .big_int(limit())
            .load(c)?;
    let read = ids.len();
    let backend = conn.backend();
    let among: conds::Cond = Box::new(any_of(st::id, &ids).and(conds::holding(backend, q)));
    let rows = candidates(conn, narrowed(backend, among, scope, filter), q)?;
    // Every match was read, or as many as asked for are in scope.
    Ok((read <= COUNTED || rows.len() > COUNTED).then_some(rows))
}

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
    let whole_value = conds::whole_value(conn, q, scope, every_group)?;
    let first = match (whole_value, q.ipv4) {
        (false, None) => first_matches(conn, scope, q, every_group)?,
        _ => None,
    };
    let mut rows = match (first, backend, whole_value) {
        (Some(rows), _, _) => rows,
        (None, Backend::Postgres, true) => {
            let ids = conds::starting_ids(conn, q, scope, every_group, self::limit())?;
            candidates(conn, Box::new(any_of(st::id, &ids)), q)?
        }
        (None, _, _) => candidates(
            conn,
            narrowed(backend, found(backend, q, whole_value), scope, every_group),
            q,
        )?,
    };
    let capped = rows.len() > COUNTED;
    // The first ones read when capped, then ranked.
    rows.sort_by_key(|c| c.id);
    rows.truncate(COUNTED);
    rows.sort_by(|a, b| {
        (a.rank, a.standing, b.updated_at, b.id).cmp(&(b.rank, b.standing, a.updated_at, a.id))
    });
    let counts: Vec<(Group, i64)> = Group::ALL
        .into_iter()
        .map(|g| (g, rows.iter().filter(|c| c.kind == g.slug()).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(g, n)| (g, i64::try_from(n).unwrap_or(i64::MAX)))
        .collect();
    let skip = usize::try_from(offset).unwrap_or(0);
    let take = usize::try_from(limit).unwrap_or(0);
    let shown: Vec<i64> = counts
        .iter()
        .filter(|(g, _)| filter.group.is_none_or(|f| f == *g))
        .flat_map(|(g, _)| {
            rows.iter()
                .filter(|c| c.kind == g.slug())
                .skip(skip)
                .take(take)
                .map(|c| c.id)
        })
        .collect();
    let hits = shown_hits(conn, &shown, q)?;
    Ok(Found {
        counts,
        capped,
        hits,
    })
}

/// The last: the organization's name, none when it was purged since the search read the row.
type HitRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    Option<String>,
);

/// A row's organization's name, read beside it: PostgreSQL took twice the time to plan a join of
/// the two tables (once per connection now that `any_of` keeps the plan, but still the dearer one).
#[derive(Debug, Clone, Copy, Default)]
struct OrganizationName;

impl FixedSql for OrganizationName {
    type SqlType = Nullable<Text>;
    type Beside = st::organization_id;
    const SQL: &'static str =
        "(SELECT o.name FROM organizations o WHERE o.id = search_terms.organization_id)";
}

/// The hits of `ids`, in that order, with their organization's name.
fn shown_hits(conn: &mut DbConn, ids: &[i64], q: &Query) -> QueryResult<Vec<Hit>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<HitRow> = st::table
        .filter(any_of(st::id, ids))
        .select((
            st::id,
            st::organization_id,
            st::record_id,
            st::kind,
            st::title,
            st::shown,
            Fixed(OrganizationName),
        ))
        .load(conn)?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|r| r.0 == *id))
        .filter_map(|row| hit(row, q))
        .collect())
}

fn hit((_, org, record, kind, title, shown, organization): &HitRow, q: &Query) -> Option<Hit> {
    let group = Group::parse(kind)?;
    let organization = organization.clone()?;
    let marked_title = mark(title, q);
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
        organization_id: *org,
        organization,
        record_id: *record,
        title: marked_title.unwrap_or_else(|| Marked::plain(title)),
        excerpt,
    })
}
