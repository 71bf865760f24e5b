//! Organizations as the API reads them: IT Glue's filters and sorts on top of the same scope
//! (`access::visible`) and name search (`search::containing`) as the Organizations page. A page
//! is read in a fixed number of statements: its ids, its rows with the names of their types and
//! statuses and whether they have a logo, and every ancestor of the page at once.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::dsl::{exists, sql};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable};

use crate::db::StoredTime;
use crate::db::schema::{logos, organization_statuses, organization_types, organizations};
use crate::db::{Backend, DbConn, MultiBackend, limit_bucket, literal_limit, prepared};
use crate::orgs::access::{Scope, visible, visible_in_any_order};
use crate::orgs::counts::{self, CountFilter};
use crate::orgs::kinds::{self, Kind, KindLists, KindsCache};
use crate::orgs::list_sql;
use crate::orgs::marks::{self, MarksCache};
use crate::orgs::model::name_key;
use crate::orgs::paging::Walk;
use crate::orgs::search;
use crate::orgs::store::{ListQuery, Sort};

/// The most organizations one page may hold (IT Glue's limit, which clients rely on).
pub const MAX_PAGE_SIZE: i64 = 1000;
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// Deeper than any real tree; stops an ancestor walk on data that loops.
const MAX_DEPTH: usize = 64;

/// A time range; either end may be open (`*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub start: Option<NaiveDateTime>,
    pub end: Option<NaiveDateTime>,
}

/// The PSAs as IT Glue names them in `filter[psa_integration_type]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Psa {
    Manage,
    Autotask,
}

impl Psa {
    pub fn parse(text: &str) -> Option<Psa> {
        match text.trim().to_ascii_lowercase().as_str() {
            "manage" => Some(Psa::Manage),
            "autotask" => Some(Psa::Autotask),
            _ => None,
        }
    }

    /// The `psa_kind` stored with a linked organization.
    fn kind(self) -> &'static str {
        match self {
            Psa::Manage => "connectwise",
            Psa::Autotask => "autotask",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    Id,
    UpdatedAt,
    CreatedAt,
    ShortName,
    TypeName,
    StatusName,
}

impl SortKey {
    pub fn parse(text: &str) -> Option<SortKey> {
        Some(match text {
            "name" => SortKey::Name,
            "id" => SortKey::Id,
            "updated_at" => SortKey::UpdatedAt,
            "created_at" => SortKey::CreatedAt,
            "short_name" => SortKey::ShortName,
            "organization_type_name" => SortKey::TypeName,
            "organization_status_name" => SortKey::StatusName,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct OrgListQuery {
    pub ids: Option<Vec<i64>>,
    pub name: Option<String>,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub created: Option<Range>,
    pub updated: Option<Range>,
    pub psa: Option<(Option<Psa>, String)>,
    /// `filter[exclude][...]`: organizations to leave out.
    pub exclude: Exclude,
    pub sort: SortKey,
    pub descending: bool,
    /// 1-based.
    pub page: i64,
    pub size: i64,
}

/// What `filter[exclude][id|name|organization_type_id|organization_status_id]` leaves out.
#[derive(Debug, Clone, Default)]
pub struct Exclude {
    pub ids: Option<Vec<i64>>,
    pub name: Option<String>,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
}

/// The columns of an organization that the API writes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct OrgColumns {
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
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub updated_at: NaiveDateTime,
}

/// An organization with what the API shows beside its columns.
#[derive(Debug, Clone)]
pub struct OrgView {
    pub row: OrgColumns,
    pub type_name: Option<String>,
    pub status_name: Option<String>,
    pub has_logo: bool,
    /// Root first.
    pub ancestor_ids: Vec<i64>,
}

type Boxed = organizations::BoxedQuery<'static, MultiBackend>;

fn filtered(conn: &DbConn, scope: Scope, q: &OrgListQuery) -> Boxed {
    let alive = match q.sort {
        SortKey::Name | SortKey::UpdatedAt => visible(scope),
        _ => visible_in_any_order(conn.backend(), scope),
    };
    let mut query = organizations::table.into_boxed().filter(alive);
    if let Some(ids) = &q.ids {
        query = query.filter(organizations::id.eq_any(ids.clone()));
    }
    if let Some(name) = q.name.as_deref().filter(|n| !n.trim().is_empty()) {
        // The name, as the search box finds it, and no other name (case and punctuation aside):
        // read by its key (`organizations_name_key`), the text tested row by row. Through the
        // trigram index it read every organization holding the name's trigrams (31 ms for an
        // integration's lookup of one name at a million on SQLite).
        query = query
            .filter(organizations::name_key.eq(name_key(name)))
            .filter(search::scanning(conn.backend(), name));
    }
    if let Some(id) = q.type_id {
        query = query.filter(organizations::type_id.eq(id));
    }
    if let Some(id) = q.status_id {
        query = query.filter(organizations::status_id.eq(id));
    }
    if let Some(range) = q.created {
        if let Some(start) = range.start {
            query = query.filter(organizations::created_at.ge(start));
        }
        if let Some(end) = range.end {
            query = query.filter(organizations::created_at.le(end));
        }
    }
    if let Some(range) = q.updated {
        if let Some(start) = range.start {
            query = query.filter(organizations::updated_at.ge(start));
        }
        if let Some(end) = range.end {
            query = query.filter(organizations::updated_at.le(end));
        }
    }
    query = excluded(query, &q.exclude);
    if let Some((psa, company)) = &q.psa {
        query = query.filter(organizations::psa_company_id.eq(company.clone()));
        if let Some(psa) = psa {
            query = query.filter(organizations::psa_kind.eq(psa.kind()));
        }
    }
    query
}

fn excluded(mut query: Boxed, exclude: &Exclude) -> Boxed {
    if let Some(ids) = &exclude.ids {
        query = query.filter(organizations::id.ne_all(ids.clone()));
    }
    if let Some(name) = exclude.name.as_deref().filter(|n| !n.trim().is_empty()) {
        query = query.filter(organizations::name_key.ne(name_key(name)));
    }
    // No type (or status) is not that type: kept.
    if let Some(id) = exclude.type_id {
        query = query.filter(
            organizations::type_id
                .ne(id)
                .or(organizations::type_id.is_null()),
        );
    }
    if let Some(id) = exclude.status_id {
        query = query.filter(
            organizations::status_id
                .ne(id)
                .or(organizations::status_id.is_null()),
        );
    }
    query
}

/// `CASE column WHEN id THEN rank ... END`: the rank of each type (or status) by name, so that
/// the list sorts by the name without a join (ids are numbers from the database, never input).
fn rank_by_name(conn: &mut DbConn, kind: Kind) -> QueryResult<String> {
    let mut named = kinds::all(conn, kind)?;
    named.sort_by_key(|(id, name, _)| (name.to_lowercase(), *id));
    let column = match kind {
        Kind::Type => "organizations.type_id",
        Kind::Status => "organizations.status_id",
    };
    let mut case = format!("CASE {column}");
    for (rank, (id, _, _)) in named.iter().enumerate() {
        case.push_str(&format!(" WHEN {id} THEN {rank}"));
    }
    // No type (or status) sorts last.
    case.push_str(&format!(" ELSE {} END", named.len()));
    if named.is_empty() {
        return Ok("0".to_owned());
    }
    Ok(case)
}

fn sorted(conn: &mut DbConn, scope: Scope, q: &OrgListQuery) -> QueryResult<Boxed> {
    use organizations as o;
    let query = filtered(conn, scope, q);
    let rank = match q.sort {
        SortKey::TypeName => Some(rank_by_name(conn, Kind::Type)?),
        SortKey::StatusName => Some(rank_by_name(conn, Kind::Status)?),
        _ => None,
    };
    Ok(match (q.sort, q.descending) {
        (SortKey::Name, false) => query.order_by((o::search_text.asc(), o::id.asc())),
        (SortKey::Name, true) => query.order_by((o::search_text.desc(), o::id.desc())),
        (SortKey::Id, false) => query.order_by(o::id.asc()),
        (SortKey::Id, true) => query.order_by(o::id.desc()),
        (SortKey::UpdatedAt, false) => query.order_by((o::updated_at.asc(), o::id.asc())),
        (SortKey::UpdatedAt, true) => query.order_by((o::updated_at.desc(), o::id.desc())),
        (SortKey::CreatedAt, false) => query.order_by((o::created_at.asc(), o::id.asc())),
        (SortKey::CreatedAt, true) => query.order_by((o::created_at.desc(), o::id.desc())),
        (SortKey::ShortName, false) => query.order_by((o::short_name.asc(), o::id.asc())),
        (SortKey::ShortName, true) => query.order_by((o::short_name.desc(), o::id.desc())),
        (SortKey::TypeName | SortKey::StatusName, descending) => {
            let rank = sql::<BigInt>(&rank.unwrap_or_else(|| "0".to_owned()));
            if descending {
                query.order_by((rank.desc(), o::search_text.desc(), o::id.desc()))
            } else {
                query.order_by((rank.asc(), o::search_text.asc(), o::id.asc()))
            }
        }
    })
}

/// Whether nothing but the type and status narrows `q`: then the maintained counts
/// (`orgs::counts`) hold its total, without counting the rows.
fn counted(q: &OrgListQuery) -> bool {
    let e = &q.exclude;
    q.ids.is_none()
        && q.name.is_none()
        && q.created.is_none()
        && q.updated.is_none()
        && q.psa.is_none()
        && e.ids.is_none()
        && e.name.is_none()
        && e.type_id.is_none()
        && e.status_id.is_none()
}

/// Whether one statement reads the page's rows in order: the order follows an index
/// (`organizations_alive_by_name`, `organizations_alive_by_update`, the primary key), and the
/// rows before the page cost an index step each. SQLite reads a row's columns only past the
/// offset; PostgreSQL fetches every skipped row from the table (900 ms for the last page of
/// 100,000), so there only the first page is read that way.
fn in_one_statement(conn: &DbConn, sort: SortKey, offset: i64) -> bool {
    let indexed = matches!(sort, SortKey::Name | SortKey::Id | SortKey::UpdatedAt);
    indexed && (offset == 0 || conn.backend() == Backend::Sqlite)
}

/// One page and the total count; a fixed number of statements whatever the page's length: the
/// total (none when the maintained counts hold it), the page's rows (two statements for an order
/// without an index), their ancestors (none when no row has a parent). The names of types and
/// statuses come from `kinds` (no statement unless they changed); a page far from both ends is
/// found in the marks kept in `kept_marks` (`orgs::marks`).
pub fn list(
    conn: &mut DbConn,
    scope: Scope,
    q: &OrgListQuery,
    kinds: &KindsCache,
    kept_marks: &MarksCache,
) -> QueryResult<(Vec<OrgView>, i64)> {
    let size = q.size.clamp(1, MAX_PAGE_SIZE);
    let sort = marked(scope, q);
    let (total, from_mark) = match sort {
        // The marks' counts are the total too.
        Some(sort) => marks::typed_page(conn, kept_marks, sort, q.page, size)?,
        None => (count(conn, scope, q)?, None),
    };
    let offset = (q.page.max(1) - 1).saturating_mul(size);
    if offset >= total {
        return Ok((Vec::new(), total));
    }
    let rows = match (sort, from_mark) {
        (Some(sort), Some(walk)) => marked_rows(conn, scope, q, sort, &walk)?,
        _ => page_rows(conn, scope, q, size, offset)?,
    };
    let lists = names_for(conn, kinds, &rows)?;
    let links = parent_links(conn, rows.iter().filter_map(|(row, _)| row.parent_id))?;
    let name = |names: &[(i64, String, bool)], id: Option<i64>| {
        let id = id?;
        names
            .iter()
            .find(|(k, _, _)| *k == id)
            .map(|(_, n, _)| n.clone())
    };
    let views = rows
        .into_iter()
        .map(|(row, has_logo)| OrgView {
            type_name: name(&lists.types, row.type_id),
            status_name: name(&lists.statuses, row.status_id),
            ancestor_ids: ancestors(&links, row.parent_id),
            has_logo,
            row,
        })
        .collect();
    Ok((views, total))
}

/// How many organizations match `q`: the maintained counts when nothing else narrows it.
fn count(conn: &mut DbConn, scope: Scope, q: &OrgListQuery) -> QueryResult<i64> {
    if scope.all && counted(q) {
        return counts::visible(
            conn,
            CountFilter {
                type_id: q.type_id,
                status_id: q.status_id,
                psa_linked: None,
            },
        );
    }
    filtered(conn, scope, q).count().get_result(conn)
}

/// The order of a page past the first of every organization (no filter) read from a mark
/// (`orgs::marks`), not past every row in front of it (half a million rows a page on average
/// for an integration reading a million organizations a thousand at a time).
fn marked(scope: Scope, q: &OrgListQuery) -> Option<Sort> {
    if !(scope.all && counted(q) && q.type_id.is_none() && q.status_id.is_none() && q.page > 1) {
        return None;
    }
    match (q.sort, q.descending) {
        (SortKey::Name, false) => Some(Sort::Name),
        (SortKey::Name, true) => Some(Sort::NameDesc),
        (SortKey::UpdatedAt, false) => Some(Sort::Updated),
        (SortKey::UpdatedAt, true) => Some(Sort::UpdatedDesc),
        _ => None,
    }
}

/// The rows of a walk from a mark, in order, each with whether it has a logo.
fn marked_rows(
    conn: &mut DbConn,
    scope: Scope,
    q: &OrgListQuery,
    sort: Sort,
    walk: &Walk,
) -> QueryResult<Vec<(OrgColumns, bool)>> {
    let order = ListQuery {
        sort,
        ..ListQuery::default()
    };
    // A limit of a few sizes in the text and the OFFSET out of the planner's sight: PostgreSQL
    // keeps one plan (`literal_limit`); bound, it planned the statement at every call.
    let q = list_sql::multi::walk_query(filtered(conn, scope, q), &order, walk)
        .select(organizations::id);
    let mut ids: Vec<i64> = literal_limit(q, limit_bucket(walk.limit))
        .with_offset(walk.skip)
        .load(conn)?;
    ids.truncate(usize::try_from(walk.limit).unwrap_or(0));
    rows_in_order(conn, &ids)
}

/// The page's rows in order, each with whether it has a logo.
fn page_rows(
    conn: &mut DbConn,
    scope: Scope,
    q: &OrgListQuery,
    size: i64,
    offset: i64,
) -> QueryResult<Vec<(OrgColumns, bool)>> {
    // A limit of a few sizes in the text and the OFFSET out of the planner's sight, as for
    // `marked_rows`: bound, PostgreSQL planned page 1 at every call (204 us against 2.1 ms of
    // execution, 1,000 rows at a million organizations).
    let page = sorted(conn, scope, q)?;
    let (limit, keep) = (limit_bucket(size), usize::try_from(size).unwrap_or(0));
    if in_one_statement(conn, q.sort, offset) {
        let mut rows: Vec<(OrgColumns, bool)> =
            literal_limit(page.select((OrgColumns::as_select(), has_logo())), limit)
                .with_offset(offset)
                .load(conn)?;
        rows.truncate(keep);
        return Ok(rows);
    }
    // The ids first: sorting (or skipping) narrow rows, then reading only the page's (a sort
    // without an index would otherwise carry every row's columns and logo through the sorter).
    // Those ids passed the scope just now: no second look at it.
    let mut ids: Vec<i64> = literal_limit(page.select(organizations::id), limit)
        .with_offset(offset)
        .load(conn)?;
    ids.truncate(keep);
    rows_in_order(conn, &ids)
}

/// The rows of these ids in their order, each with whether it has a logo.
fn rows_in_order(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(OrgColumns, bool)>> {
    let rows = organizations::table
        .filter(organizations::id.eq_any(ids))
        .select((OrgColumns::as_select(), has_logo()))
        .load(conn)?;
    Ok(in_order(ids, rows, |(row, _)| row.id))
}

/// The types and statuses that name `rows`: the cached lists, or (when a row has one newer
/// than them, added while the page was read) the lists as they are now.
fn names_for(
    conn: &mut DbConn,
    kinds: &KindsCache,
    rows: &[(OrgColumns, bool)],
) -> QueryResult<Arc<KindLists>> {
    let lists = kinds.lists(conn)?;
    let known = |names: &[(i64, String, bool)], id: Option<i64>| {
        id.is_none_or(|id| names.iter().any(|(k, _, _)| *k == id))
    };
    if rows
        .iter()
        .all(|(row, _)| known(&lists.types, row.type_id) && known(&lists.statuses, row.status_id))
    {
        return Ok(lists);
    }
    Ok(Arc::new(KindLists {
        types: kinds::all(conn, Kind::Type)?,
        statuses: kinds::all(conn, Kind::Status)?,
    }))
}

/// Whether the organization has a logo.
fn has_logo() -> diesel::dsl::exists<
    diesel::dsl::Filter<logos::table, diesel::dsl::Eq<logos::organization_id, organizations::id>>,
> {
    exists(logos::table.filter(logos::organization_id.eq(organizations::id)))
}

/// `items` put in the order of `ids` (each at most once; those not in `ids` left out).
fn in_order<T>(ids: &[i64], items: Vec<T>, id: impl Fn(&T) -> i64) -> Vec<T> {
    let place: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut slots: Vec<Option<T>> = std::iter::repeat_with(|| None).take(ids.len()).collect();
    for item in items {
        if let Some(&i) = place.get(&id(&item)) {
            slots[i] = Some(item);
        }
    }
    slots.into_iter().flatten().collect()
}

/// Those of `q.ids` (or all) that match its filters and the scope.
pub fn matching_ids(conn: &mut DbConn, scope: Scope, q: &OrgListQuery) -> QueryResult<Vec<i64>> {
    filtered(conn, scope, q)
        .select(organizations::id)
        .load(conn)
}

/// The organizations of `ids` the scope may see, in that order.
pub fn views_of(conn: &mut DbConn, scope: Scope, ids: &[i64]) -> QueryResult<Vec<OrgView>> {
    views(conn, Some(visible(scope)), ids)
}

/// One organization the scope may see.
pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> QueryResult<Option<OrgView>> {
    Ok(views_of(conn, scope, &[id])?.pop())
}

/// The organizations of `ids` that `filter` (if any) keeps, in the order of `ids`, each with its type's
/// and status's names, whether it has a logo (one statement) and its ancestors (one more).
fn views(
    conn: &mut DbConn,
    filter: Option<crate::orgs::access::OrgFilter>,
    ids: &[i64],
) -> QueryResult<Vec<OrgView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    use organization_statuses as s;
    use organization_types as t;
    let type_name = t::table
        .filter(t::id.nullable().eq(organizations::type_id))
        .select(t::name)
        .single_value();
    let status_name = s::table
        .filter(s::id.nullable().eq(organizations::status_id))
        .select(s::name)
        .single_value();
    let mut query = organizations::table
        .filter(organizations::id.eq_any(ids))
        .into_boxed();
    if let Some(filter) = filter {
        query = query.filter(filter);
    }
    let rows: Vec<(OrgColumns, Option<String>, Option<String>, bool)> = query
        .select((OrgColumns::as_select(), type_name, status_name, has_logo()))
        .load(conn)?;
    let links = parent_links(conn, rows.iter().filter_map(|r| r.0.parent_id))?;
    let views = rows
        .into_iter()
        .map(|(row, type_name, status_name, has_logo)| OrgView {
            ancestor_ids: ancestors(&links, row.parent_id),
            row,
            type_name,
            status_name,
            has_logo,
        })
        .collect();
    Ok(in_order(ids, views, |v| v.row.id))
}

/// Each ancestor of these parents (the parents included), with its own parent: one statement
/// that climbs every chain at once (`UNION` stops at a loop). An organization being deleted
/// ends its chain, as a missing one does.
fn parent_links(
    conn: &mut DbConn,
    parents: impl Iterator<Item = i64>,
) -> QueryResult<HashMap<i64, Option<i64>>> {
    let mut parents: Vec<i64> = parents.collect();
    if parents.is_empty() {
        return Ok(HashMap::new());
    }
    parents.sort_unstable();
    parents.dedup();
    let listed: Vec<String> = parents.iter().map(i64::to_string).collect();
    let listed = listed.join(",");
    // Kept prepared (`prepared`: diesel prepares a `sql_query` anew at every call).
    let links: Vec<(i64, Option<i64>)> = match conn {
        // Each step looks its rows' parents up by key (the subquery's OFFSET keeps PostgreSQL
        // from turning the step into a join, which it hashed over every organization: 60 ms at
        // 100,000 for a page of 1,000). The ids are read through a subquery run once, as in
        // `any_of`, so that their number does not enter the plan.
        DbConn::Pg(pg) => prepared::<(BigInt, Nullable<BigInt>)>(
            "WITH RECURSIVE up(id, parent_id) AS (\
             SELECT id, parent_id FROM organizations \
             WHERE id = ANY(ARRAY(SELECT unnest(CAST(",
        )
        .text(format!("{{{listed}}}"))
        .sql(
            " AS BIGINT[])))) AND deleted_at IS NULL \
             UNION SELECT p.id, p.parent_id FROM up CROSS JOIN LATERAL (\
             SELECT o.id, o.parent_id FROM organizations o \
             WHERE o.id = up.parent_id AND o.deleted_at IS NULL OFFSET 0) AS p) \
             SELECT id, parent_id FROM up",
        )
        .load(pg)?,
        // SQLite steps through the join by key already.
        DbConn::Sqlite(sqlite) => prepared::<(BigInt, Nullable<BigInt>)>(
            "WITH RECURSIVE up(id, parent_id) AS (\
             SELECT id, parent_id FROM organizations \
             WHERE id IN (SELECT value FROM json_each(",
        )
        .text(format!("[{listed}]"))
        .sql(
            ")) AND deleted_at IS NULL \
             UNION SELECT o.id, o.parent_id FROM organizations o JOIN up ON o.id = up.parent_id \
             WHERE o.deleted_at IS NULL) SELECT id, parent_id FROM up",
        )
        .load(sqlite)?,
    };
    Ok(links.into_iter().collect())
}

fn ancestors(links: &HashMap<i64, Option<i64>>, parent: Option<i64>) -> Vec<i64> {
    let mut chain = Vec::new();
    let mut next = parent;
    while let Some(id) = next {
        if chain.len() >= MAX_DEPTH || chain.contains(&id) {
            break;
        }
        chain.push(id);
        next = links.get(&id).copied().flatten();
    }
    chain.reverse();
    chain
}

#[cfg(test)]
#[path = "orgs_tests.rs"]
mod tests;
