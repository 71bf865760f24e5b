//! The `organizations` table. Every read takes a `Scope`; the caller owns the transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::access::{Scope, visible, visible_by_id};
use super::list_sql::{self, on_backend};
use super::model::{ListItem, OrgRow, name_key, search_text};
use super::paging::Anchor;
use super::tree::{self, Link};
use super::{OrgId, OrgRef, REF, search};
use crate::db::schema::organizations;
use crate::db::{DbConn, any_of, now};

/// Organizations per page unless the settings say otherwise.
pub const PER_PAGE: i64 = 50;

/// The sort orders a list may ask for; anything else is refused at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Name,
    NameDesc,
    Updated,
    UpdatedDesc,
}

impl Sort {
    pub const ALL: [(Sort, &'static str, &'static str); 4] = [
        (Sort::Name, "name", "Name (A to Z)"),
        (Sort::NameDesc, "-name", "Name (Z to A)"),
        (Sort::UpdatedDesc, "-updated", "Recently updated"),
        (Sort::Updated, "updated", "Least recently updated"),
    ];

    pub fn parse(value: &str) -> Option<Sort> {
        Sort::ALL
            .iter()
            .find(|(_, key, _)| *key == value)
            .map(|(s, _, _)| *s)
    }

    pub fn key(self) -> &'static str {
        Sort::ALL
            .iter()
            .find(|(s, _, _)| *s == self)
            .map_or("name", |(_, k, _)| k)
    }
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub text: Option<String>,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub psa_linked: Option<bool>,
    pub parent: Option<i64>,
    pub sort: Sort,
    /// 1-based.
    pub page: i64,
    pub per_page: i64,
    /// Where the page starts, when a link on the previous page says so.
    pub anchor: Option<Anchor>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            text: None,
            type_id: None,
            status_id: None,
            psa_linked: None,
            parent: None,
            sort: Sort::default(),
            page: 1,
            per_page: PER_PAGE,
            anchor: None,
        }
    }
}

pub struct Page<T> {
    pub items: Vec<T>,
    /// How many organizations the list holds, or, when `capped`, how many it holds more than.
    pub total: i64,
    /// A search with many matches is counted up to a cap only (see `orgs::search_pages`).
    pub capped: bool,
    pub page: i64,
    pub per_page: i64,
    /// Whether a page follows this one.
    pub next: bool,
}

impl<T> Page<T> {
    /// The last page, or with a capped count the last page counted.
    pub fn last_page(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// The list's rows by every filter and the search text, as one statement through `DbConn`.
pub(super) fn filtered(conn: &DbConn, scope: Scope, query: &ListQuery) -> list_sql::multi::Boxed {
    let q = list_sql::multi::narrowed(scope, query);
    match query.text.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(text) => q.filter(search::containing(conn.backend(), text)),
        None => q,
    }
}

/// One page of the Organizations list (see `paging`; `caches` for a search on PostgreSQL and a
/// typed page number).
pub fn list(
    conn: &mut DbConn,
    caches: &super::ListCaches,
    scope: Scope,
    query: &ListQuery,
) -> QueryResult<Page<ListItem>> {
    super::paging::list(conn, caches, scope, query)
}

/// Name references for a set of ids (the parents shown on a page), in one statement prepared once
/// (see `list_sql` and `any_of`).
pub fn refs(conn: &mut DbConn, scope: Scope, ids: &[i64]) -> QueryResult<Vec<OrgRef>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    on_backend!(conn, |sql, c| sql::visible_by_id(scope)
        .filter(any_of(organizations::id, ids))
        .select(REF)
        .load(c))
}

/// The parents of a page's rows, and `also` (the list's parent filter): those that are rows of
/// the page themselves (usually all: a sub-organization sorts beside its parent) taken from it,
/// the others read by `refs`.
pub fn parents_of(
    conn: &mut DbConn,
    scope: Scope,
    rows: &[ListItem],
    also: Option<i64>,
) -> QueryResult<Vec<OrgRef>> {
    let mut ids: Vec<i64> = rows
        .iter()
        .filter_map(|o| o.parent_id)
        .chain(also)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match rows.iter().find(|o| o.id == id) {
            Some(o) => found.push(OrgRef {
                id: o.id,
                name: o.name.clone(),
                short_name: o.short_name.clone(),
            }),
            None => missing.push(id),
        }
    }
    found.extend(refs(conn, scope, &missing)?);
    Ok(found)
}

pub fn find(conn: &mut DbConn, scope: Scope, id: OrgId) -> QueryResult<Option<OrgRow>> {
    if scope.all {
        // The common case, as a statement of fixed shape on the concrete connection (see `native!`).
        return crate::native!(conn, |c| organizations::table
            .filter(organizations::deleted_at.is_null())
            .filter(organizations::id.eq(id.0))
            .select(OrgRow::as_select())
            .first(c)
            .optional());
    }
    organizations::table
        .filter(visible_by_id(scope))
        .filter(organizations::id.eq(id.0))
        .select(OrgRow::as_select())
        .first(conn)
        .optional()
}

diesel::alias!(organizations as parent_org: ParentOrg);

/// An organization the scope may see and its parent's step of the breadcrumb (when the parent is
/// not being deleted): for the all-organizations scope in one statement, the row joined to its
/// parent's. The parent is not checked against a restricted scope (the breadcrumb is).
pub fn find_with_parent(
    conn: &mut DbConn,
    scope: Scope,
    id: OrgId,
) -> QueryResult<Option<(OrgRow, Option<Link>)>> {
    if !scope.all {
        let Some(org) = find(conn, scope, id)? else {
            return Ok(None);
        };
        let parent = match org.parent_id {
            Some(parent) => tree::parent_of(conn, parent)?,
            None => None,
        };
        return Ok(Some((org, parent)));
    }
    let parent = parent_org.fields((
        organizations::id,
        organizations::name,
        organizations::short_name,
        organizations::parent_id,
    ));
    crate::native!(conn, |c| organizations::table
        .left_join(
            parent_org.on(parent
                .0
                .nullable()
                .eq(organizations::parent_id)
                .and(parent_org.field(organizations::deleted_at).is_null())),
        )
        .filter(organizations::deleted_at.is_null())
        .filter(organizations::id.eq(id.0))
        .select((OrgRow::as_select(), parent.nullable()))
        .first(c)
        .optional())
}

/// Sub-organizations of `id`, by name, at most `limit`, and how many there are (counted only
/// when there are more than shown: most organizations have a few or none).
pub fn children(
    conn: &mut DbConn,
    scope: Scope,
    id: OrgId,
    limit: i64,
) -> QueryResult<(Vec<OrgRef>, i64)> {
    let query = ListQuery {
        parent: Some(id.0),
        page: 1,
        ..ListQuery::default()
    };
    let (rows, total) = on_backend!(conn, |sql, c| {
        let rows: Vec<OrgRef> = sql::narrow(sql::visible_by_id(scope), &query)
            .order_by((organizations::search_text.asc(), organizations::id.asc()))
            .limit(limit)
            .select(REF)
            .load(c)?;
        let shown = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let total = if shown < limit {
            shown
        } else {
            sql::narrow(sql::visible_by_id(scope), &query)
                .count()
                .get_result(c)?
        };
        (rows, total)
    });
    Ok((rows, total))
}

/// Up to `limit` organizations whose name or short name contains `text`, by name (the first page
/// of a search of that size, see `search_pages`).
pub fn lookup(
    conn: &mut DbConn,
    caches: &super::ListCaches,
    scope: Scope,
    text: &str,
    limit: i64,
) -> QueryResult<Vec<OrgRef>> {
    let query = ListQuery {
        text: Some(text.to_owned()).filter(|t| !t.trim().is_empty()),
        per_page: limit,
        ..ListQuery::default()
    };
    Ok(list(conn, caches, scope, &query)?
        .items
        .into_iter()
        .map(|o| OrgRef {
            id: o.id,
            name: o.name,
            short_name: o.short_name,
        })
        .collect())
}

/// Organizations whose name looks like `name` (same letters and digits, any case), except `except`.
pub fn looking_like(
    conn: &mut DbConn,
    scope: Scope,
    name: &str,
    except: Option<OrgId>,
) -> QueryResult<Vec<OrgRef>> {
    organizations::table
        .filter(visible(scope))
        .filter(organizations::name_key.eq(name_key(name)))
        .filter(organizations::id.ne(except.map_or(-1, |o| o.0)))
        .order_by(organizations::id)
        .limit(20)
        .select(REF)
        .load(conn)
}

/// The values an insert or update writes.
pub struct OrgValues<'a> {
    pub name: &'a str,
    pub short_name: &'a str,
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub description: &'a str,
    pub quick_notes: &'a str,
    pub alert: &'a str,
}

/// The columns an insert and an update both write; `None` clears (a parent, a type).
#[derive(Insertable, AsChangeset)]
#[diesel(
    table_name = organizations,
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
struct Written<'a> {
    name: &'a str,
    name_key: String,
    search_text: String,
    short_name: &'a str,
    description: &'a str,
    quick_notes: &'a str,
    alert: &'a str,
    type_id: Option<i64>,
    status_id: Option<i64>,
    parent_id: Option<i64>,
    updated_at: NaiveDateTime,
}

impl<'a> Written<'a> {
    fn from(v: &OrgValues<'a>) -> Self {
        Written {
            name: v.name,
            name_key: name_key(v.name),
            search_text: search_text(v.name, v.short_name),
            short_name: v.short_name,
            description: v.description,
            quick_notes: v.quick_notes,
            alert: v.alert,
            type_id: v.type_id,
            status_id: v.status_id,
            parent_id: v.parent_id,
            updated_at: now(),
        }
    }
}

pub fn insert(conn: &mut DbConn, v: &OrgValues<'_>, created_by: Option<i64>) -> QueryResult<OrgId> {
    let written = Written::from(v);
    let id = diesel::insert_into(organizations::table)
        .values((
            organizations::sync_enabled.eq(false),
            organizations::created_by.eq(created_by),
            organizations::created_at.eq(written.updated_at),
            written,
        ))
        .returning(organizations::id)
        .get_result(conn)?;
    crate::search::index::organization(conn, id, v.name, v.short_name)?;
    Ok(OrgId(id))
}

/// A row of a bulk insert: every column given (SQLite's multi-row insert has no DEFAULT).
#[derive(Insertable)]
#[diesel(table_name = organizations, treat_none_as_default_value = false)]
struct BulkRow<'a> {
    #[diesel(embed)]
    written: Written<'a>,
    sync_enabled: bool,
    created_by: Option<i64>,
    created_at: NaiveDateTime,
}

/// Inserts many organizations in one statement (bulk paths: seed-demo, an import); their ids in
/// the order given (ids grow in the order of the values on both backends).
pub fn insert_many(
    conn: &mut DbConn,
    rows: &[OrgValues<'_>],
    created_by: Option<i64>,
) -> QueryResult<Vec<OrgId>> {
    let at = now();
    let values: Vec<BulkRow<'_>> = rows
        .iter()
        .map(|v| BulkRow {
            written: Written {
                updated_at: at,
                ..Written::from(v)
            },
            sync_enabled: false,
            created_by,
            created_at: at,
        })
        .collect();
    // MultiBackend has no multi-row insert: each backend builds its own.
    macro_rules! insert {
        ($c:expr) => {
            diesel::insert_into(organizations::table)
                .values(values)
                .returning(organizations::id)
                .get_results($c)?
        };
    }
    let mut ids: Vec<i64> = match conn {
        DbConn::Sqlite(c) => insert!(c),
        DbConn::Pg(c) => insert!(c),
    };
    ids.sort_unstable();
    crate::search::index::organizations_many(conn, &ids, rows)?;
    Ok(ids.into_iter().map(OrgId).collect())
}

pub fn update(conn: &mut DbConn, id: OrgId, v: &OrgValues<'_>) -> QueryResult<usize> {
    let n = diesel::update(organizations::table.find(id.0))
        .set(Written::from(v))
        .execute(conn)?;
    crate::search::index::organization(conn, id.0, v.name, v.short_name)?;
    Ok(n)
}

/// Organizations with exactly this name (ignoring case and surrounding spaces), for resolving a
/// typed Parent Organization.
pub fn named(conn: &mut DbConn, scope: Scope, name: &str) -> QueryResult<Vec<OrgRef>> {
    let wanted = name.trim().to_lowercase();
    let candidates = looking_like(conn, scope, name, None)?;
    Ok(candidates
        .into_iter()
        .filter(|o| o.name.to_lowercase() == wanted)
        .collect())
}

/// When the organization was last changed (for the list's "Updated" column).
pub fn updated_label(at: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    // Written digit by digit rather than through `format!`: the list labels fifty rows a page.
    let mut out = String::with_capacity(16);
    let mut push = |n: u32, width: u32, sep: Option<char>| {
        for place in (0..width).rev() {
            let digit = (n / 10u32.pow(place)) % 10;
            out.push(char::from_digit(digit, 10).unwrap_or('0'));
        }
        if let Some(sep) = sep {
            out.push(sep);
        }
    };
    push(u32::try_from(at.year()).unwrap_or(0), 4, Some('-'));
    push(at.month(), 2, Some('-'));
    push(at.day(), 2, Some(' '));
    push(at.hour(), 2, Some(':'));
    push(at.minute(), 2, None);
    out
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::updated_label;

    #[test]
    fn updated_label_is_minutes_in_iso_order() {
        let at = NaiveDate::from_ymd_opt(2026, 3, 7)
            .and_then(|d| d.and_hms_opt(9, 5, 59))
            .expect("a date");
        assert_eq!(updated_label(at), "2026-03-07 09:05");
        assert_eq!(updated_label(at), at.format("%Y-%m-%d %H:%M").to_string());
    }

    /// A restricted scope's organization page, the parents a page names and the children of an
    /// organization test the access list by its key for the rows they read by id, never read
    /// the whole list first (`access::visible_by_id`), under the statistics of 100,000
    /// organizations (`sqlite_plans`) with a list of 5,000.
    #[test]
    fn sqlite_reads_by_id_without_reading_a_restricted_scopes_whole_list() {
        use diesel::connection::SimpleConnection;

        use super::{children, find, refs};
        use crate::db::sqlite_plans::{plan, skewed, statements_of};
        use crate::orgs::{OrgId, Scope};

        let mut conn = skewed();
        conn.batch_execute(
            "INSERT INTO sqlite_stat1 VALUES \
               ('user_organizations', 'sqlite_autoindex_user_organizations_1', '5000 5000 1'), \
               ('user_organizations', 'user_organizations_organization_id', '5000 1'); \
             ANALYZE sqlite_schema;",
        )
        .expect("statistics");
        let tech = Scope {
            user_id: 7,
            all: false,
        };
        let statements = statements_of(&mut conn, |c| {
            find(c, tech, OrgId(3)).expect("find");
            refs(c, tech, &[3, 4, 5]).expect("refs");
            children(c, tech, OrgId(3), 10).expect("children");
        });
        assert_eq!(statements.len(), 3, "{statements:#?}");
        for sql in &statements {
            // The list is read by its whole key (user and organization), never by user alone.
            let steps = plan(&mut conn, sql);
            let list_reads: Vec<&String> = steps
                .iter()
                .filter(|s| s.contains("user_organizations"))
                .collect();
            assert!(
                !list_reads.is_empty()
                    && list_reads.iter().all(|s| s.contains("organization_id=?")),
                "{sql}: {steps:#?}"
            );
        }
    }
}
