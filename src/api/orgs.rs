//! Organizations as the API reads them: IT Glue's filters and sorts on top of the same scope
//! (`access::visible`) and name search (`search::containing`) as the Organizations page, with the
//! names of types and statuses, logos and ancestors loaded per page, never per row.

use chrono::NaiveDateTime;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::schema::organizations;
use crate::db::{DbConn, MultiBackend};
use crate::orgs::access::{Scope, visible};
use crate::orgs::counts::{self, CountFilter};
use crate::orgs::kinds::{self, Kind};
use crate::orgs::model::{OrgRow, name_key};
use crate::orgs::{logos, search};

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

/// An organization with what the API shows beside its columns.
#[derive(Debug, Clone)]
pub struct OrgView {
    pub row: OrgRow,
    pub type_name: Option<String>,
    pub status_name: Option<String>,
    pub has_logo: bool,
    /// Root first.
    pub ancestor_ids: Vec<i64>,
}

type Boxed = organizations::BoxedQuery<'static, MultiBackend>;

fn filtered(conn: &DbConn, scope: Scope, q: &OrgListQuery) -> Boxed {
    let mut query = organizations::table.into_boxed().filter(visible(scope));
    if let Some(ids) = &q.ids {
        query = query.filter(organizations::id.eq_any(ids.clone()));
    }
    if let Some(name) = q.name.as_deref().filter(|n| !n.trim().is_empty()) {
        // The name, as the search box finds it, and no other name (case and punctuation aside).
        query = query
            .filter(search::containing(conn.backend(), name))
            .filter(organizations::name_key.eq(name_key(name)));
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

/// `rows` in the order of `ids` (each id once).
fn in_order_of(ids: &[i64], mut rows: Vec<OrgRow>) -> Vec<OrgRow> {
    let rank: std::collections::HashMap<i64, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    rows.sort_by_key(|row| rank.get(&row.id).copied().unwrap_or(usize::MAX));
    rows
}

/// One page and the total count; a fixed number of statements whatever the page's length.
pub fn list(conn: &mut DbConn, scope: Scope, q: &OrgListQuery) -> QueryResult<(Vec<OrgView>, i64)> {
    let total: i64 = if scope.all && counted(q) {
        counts::visible(
            conn,
            CountFilter {
                type_id: q.type_id,
                status_id: q.status_id,
                psa_linked: None,
            },
        )?
    } else {
        filtered(conn, scope, q).count().get_result(conn)?
    };
    let size = q.size.clamp(1, MAX_PAGE_SIZE);
    let offset = (q.page.max(1) - 1).saturating_mul(size);
    if offset >= total {
        return Ok((Vec::new(), total));
    }
    let ids: Vec<i64> = sorted(conn, scope, q)?
        .limit(size)
        .offset(offset)
        .select(organizations::id)
        .load(conn)?;
    let rows: Vec<OrgRow> = organizations::table
        .filter(organizations::id.eq_any(&ids))
        .select(OrgRow::as_select())
        .load(conn)?;
    Ok((views(conn, in_order_of(&ids, rows))?, total))
}

/// Those of `q.ids` (or all) that match its filters and the scope.
pub fn matching_ids(conn: &mut DbConn, scope: Scope, q: &OrgListQuery) -> QueryResult<Vec<i64>> {
    filtered(conn, scope, q)
        .select(organizations::id)
        .load(conn)
}

/// The organizations of `ids` the scope may see, in that order.
pub fn views_of(conn: &mut DbConn, scope: Scope, ids: &[i64]) -> QueryResult<Vec<OrgView>> {
    let rows: Vec<OrgRow> = organizations::table
        .filter(visible(scope))
        .filter(organizations::id.eq_any(ids))
        .select(OrgRow::as_select())
        .load(conn)?;
    views(conn, in_order_of(ids, rows))
}

/// One organization the scope may see.
pub fn find(conn: &mut DbConn, scope: Scope, id: i64) -> QueryResult<Option<OrgView>> {
    let row = crate::orgs::store::find(conn, scope, crate::orgs::OrgId(id))?;
    Ok(views(conn, row.into_iter().collect())?.pop())
}

/// Type and status names, logos and ancestors of a page of organizations.
fn views(conn: &mut DbConn, rows: Vec<OrgRow>) -> QueryResult<Vec<OrgView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let types = kinds::all(conn, Kind::Type)?;
    let statuses = kinds::all(conn, Kind::Status)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let with_logo: Vec<i64> = logos::sizes(conn, &ids)?
        .into_iter()
        .map(|l| l.organization_id)
        .collect();
    let parents = parent_links(conn, &rows)?;
    let name_of = |all: &[(i64, String, bool)], id: Option<i64>| {
        id.and_then(|id| {
            all.iter()
                .find(|(k, _, _)| *k == id)
                .map(|(_, n, _)| n.clone())
        })
    };
    Ok(rows
        .into_iter()
        .map(|row| OrgView {
            type_name: name_of(&types, row.type_id),
            status_name: name_of(&statuses, row.status_id),
            has_logo: with_logo.contains(&row.id),
            ancestor_ids: ancestors(&parents, row.parent_id),
            row,
        })
        .collect())
}

/// (id, parent) of every ancestor of these rows: one statement per level of depth.
fn parent_links(conn: &mut DbConn, rows: &[OrgRow]) -> QueryResult<Vec<(i64, Option<i64>)>> {
    let mut known: Vec<(i64, Option<i64>)> = Vec::new();
    let mut wanted: Vec<i64> = rows.iter().filter_map(|r| r.parent_id).collect();
    for _ in 0..MAX_DEPTH {
        wanted.retain(|id| !known.iter().any(|(k, _)| k == id));
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            break;
        }
        let found: Vec<(i64, Option<i64>)> = organizations::table
            .filter(organizations::id.eq_any(&wanted))
            .filter(organizations::deleted_at.is_null())
            .select((organizations::id, organizations::parent_id))
            .load(conn)?;
        // An id that did not come back is not looked for again.
        known.extend(wanted.iter().map(|id| (*id, None)));
        for (id, parent) in &found {
            if let Some(slot) = known.iter_mut().find(|(k, _)| k == id) {
                slot.1 = *parent;
            }
        }
        wanted = found.iter().filter_map(|(_, p)| *p).collect();
    }
    Ok(known)
}

fn ancestors(links: &[(i64, Option<i64>)], parent: Option<i64>) -> Vec<i64> {
    let mut chain = Vec::new();
    let mut next = parent;
    while let Some(id) = next {
        if chain.len() >= MAX_DEPTH || chain.contains(&id) {
            break;
        }
        chain.push(id);
        next = links.iter().find(|(k, _)| *k == id).and_then(|(_, p)| *p);
    }
    chain.reverse();
    chain
}
