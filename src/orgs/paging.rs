//! Pages of the Organizations list whose cost does not grow with the page number: the links of a
//! page carry the row next to the page they lead to (`after=id` for the pages behind it,
//! `before=id` for those in front), and the page is read from there by the sort key, (name, id)
//! or (updated, id), in the index. A link to a nearby page also carries `skip`, the rows between
//! its anchor and its start (at most a few pages). Page 1 and the last page need no anchor (read
//! from either end); a page number typed without an anchor is read from the mark of its interval
//! (`marks`) on the plain list, and from the nearer end with filters, skipping index entries only
//! (the one case whose cost grows with the distance). Counts come from
//! `counts` when the filters allow it, else from the filtered rows (a restricted user: the access
//! list). A search is paged by `search_pages`, with the walks of this file.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::ListCaches;
use super::access::Scope;
use super::counts::{self, CountFilter};
use super::list_sql::on_backend;
use super::marks;
use super::model::ListItem;
use super::search_pages;
use super::store::{ListQuery, Page};
use crate::db::DbConn;

/// Where a page starts when a link says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The page starts `skip` rows after this organization.
    After { id: i64, skip: i64 },
    /// The page ends `skip` rows before this organization.
    Before { id: i64, skip: i64 },
}

/// The farthest an anchored link may skip: a few pages of the largest size.
pub const MAX_SKIP: i64 = 5 * 500;

/// Where a walk starts: after (or before) a row whose sort keys are known, or whose keys the
/// walk's own statement reads (one statement fewer for a page reached by Next or Previous; for
/// the list of every organization only, since it does not ask whether the scope sees the row).
pub enum Start {
    Key(String, NaiveDateTime, i64),
    Row(i64),
}

/// How to read one page: from an anchor or from an end of the list, in which direction, how many
/// rows to pass over first and how many to take.
pub struct Walk {
    pub from: Option<Start>,
    pub reverse: bool,
    pub skip: i64,
    pub limit: i64,
}

/// How many organizations the list holds with these filters (a search is counted in
/// `search_pages`).
fn total(conn: &mut DbConn, scope: Scope, query: &ListQuery) -> QueryResult<i64> {
    if scope.all && query.parent.is_none() {
        return counts::visible(
            conn,
            CountFilter {
                type_id: query.type_id,
                status_id: query.status_id,
                psa_linked: query.psa_linked,
            },
        );
    }
    if unfiltered(query) {
        return counts::on_list(conn, scope);
    }
    on_backend!(conn, |sql, c| sql::narrowed(scope, query)
        .count()
        .get_result(c))
}

/// Page `page` by its number alone: from the start or, when nearer, backwards from the end.
pub(super) fn by_number(total: i64, page: i64, per_page: i64) -> Option<Walk> {
    let offset = (page - 1).saturating_mul(per_page);
    if offset >= total {
        return None;
    }
    let behind = total - offset - per_page;
    Some(if offset <= behind.max(0) {
        Walk {
            from: None,
            reverse: false,
            skip: offset,
            limit: per_page,
        }
    } else {
        Walk {
            from: None,
            reverse: true,
            skip: behind.max(0),
            limit: per_page + behind.min(0),
        }
    })
}

/// One page of the Organizations list: the count (a few rows of `organization_counts` when the
/// filters allow), the anchor when a link gives one, and the page's rows. The plain list's page 1
/// and its pages reached by Next or Previous read the count with the rows, in one statement.
pub fn list(
    conn: &mut DbConn,
    caches: &ListCaches,
    scope: Scope,
    query: &ListQuery,
) -> QueryResult<Page<ListItem>> {
    if query.text.is_some() {
        return search_pages::list(conn, caches, scope, query);
    }
    let page = query.page.max(1);
    let per_page = query.per_page.max(1);
    let anchor = match query.anchor {
        Some(Anchor::After { id, skip } | Anchor::Before { id, skip }) if page > 1 => Some((
            id,
            skip,
            matches!(query.anchor, Some(Anchor::Before { .. })),
        )),
        _ => None,
    };
    if plain(scope, query) {
        // Page 1, or a page a Next or Previous link leads to, with the count in one statement;
        // the anchor's keys are read by the same statement.
        let start = match anchor {
            Some((id, 0, reverse)) => Some((Some(Start::Row(id)), reverse)),
            None if page == 1 => Some((None, false)),
            _ => None,
        };
        if let Some((from, reverse)) = start {
            let walk = Walk {
                from,
                reverse,
                skip: 0,
                limit: per_page,
            };
            let rows = on_backend!(conn, |sql, c| sql::read_counted(
                c,
                sql::narrowed(scope, query),
                query,
                &walk
            ))?;
            // No row, no count: an empty list, a page past its end or an anchor that is gone is
            // read as below.
            if let Some(total) = rows.first().map(|(_, total)| *total) {
                let items = rows.into_iter().map(|(item, _)| item).collect();
                return Ok(page_of(items, total, page, per_page));
            }
        }
    }
    let anchored = match anchor {
        Some((id, skip, reverse)) => on_backend!(conn, |sql, c| sql::anchor_key(c, scope, id))?
            .map(|(name, updated, id)| Walk {
                from: Some(Start::Key(name, updated, id)),
                reverse,
                skip: skip.clamp(0, MAX_SKIP),
                limit: per_page,
            }),
        None => None,
    };
    let (total, walk) = match anchored {
        Some(walk) => (total(conn, scope, query)?, Some(walk)),
        // A page number alone, on the plain list: from the mark of its interval, or from the
        // nearer end when that passes over fewer rows (the last pages).
        None if plain(scope, query) => {
            let (total, marked) =
                marks::typed_page(conn, &caches.marks, query.sort, page, per_page)?;
            let walk = match (marked, by_number(total, page, per_page)) {
                (Some(m), Some(n)) => Some(if n.skip < m.skip { n } else { m }),
                (m, n) => m.or(n),
            };
            (total, walk)
        }
        None => {
            let total = total(conn, scope, query)?;
            (total, by_number(total, page, per_page))
        }
    };
    let items = match walk {
        Some(walk) if plain(scope, query) => {
            on_backend!(conn, |sql, c| sql::read_plain(c, query, &walk))?
        }
        Some(walk) => on_backend!(conn, |sql, c| sql::read(
            c,
            sql::narrowed(scope, query),
            query,
            &walk
        ))?,
        None => Vec::new(),
    };
    Ok(page_of(items, total, page, per_page))
}

/// Whether the list's count is every visible organization (`counts::all_visible`).
fn plain(scope: Scope, query: &ListQuery) -> bool {
    scope.all && unfiltered(query)
}

/// Whether the list has none of its filters (the search text aside).
fn unfiltered(query: &ListQuery) -> bool {
    query.parent.is_none()
        && query.type_id.is_none()
        && query.status_id.is_none()
        && query.psa_linked.is_none()
}

fn page_of(items: Vec<ListItem>, total: i64, page: i64, per_page: i64) -> Page<ListItem> {
    Page {
        items,
        total,
        capped: false,
        page,
        per_page,
        next: page.saturating_mul(per_page) < total,
    }
}

#[cfg(test)]
mod tests {
    use super::{Walk, by_number};
    use crate::db::sqlite_plans::{plan, skewed, statements_of};
    use crate::orgs::access::Scope;
    use crate::orgs::list_sql::on_backend;
    use crate::orgs::store::{ListQuery, Sort};

    /// A page the type, status and PSA filters narrow, reached by its number (the rows before it
    /// passed over): its walk tests the filters in the sort index and reads none of the rows it
    /// passes over from the table (the seek for a row's columns is deferred, and OFFSET reads
    /// none), in either order and direction, under the statistics of 100,000 organizations
    /// (`sqlite_plans`).
    #[test]
    fn sqlite_tests_the_filters_of_a_walk_in_its_sort_index() {
        let mut conn = skewed();
        let all = Scope {
            user_id: 0,
            all: true,
        };
        for (sort, index) in [
            (Sort::Name, "organizations_alive_by_name"),
            (Sort::UpdatedDesc, "organizations_alive_by_update"),
        ] {
            for reverse in [false, true] {
                let query = ListQuery {
                    type_id: Some(2),
                    status_id: Some(2),
                    psa_linked: Some(true),
                    sort,
                    page: 300,
                    ..ListQuery::default()
                };
                let walk = Walk {
                    from: None,
                    reverse,
                    skip: 14_950,
                    limit: 50,
                };
                let statements = statements_of(&mut conn, |c| {
                    on_backend!(c, |sql, c| sql::read(
                        c,
                        sql::narrowed(all, &query),
                        &query,
                        &walk
                    ))
                    .expect("page");
                });
                let walked = plan(&mut conn, &statements[0]);
                assert!(
                    walked
                        .iter()
                        .any(|s| s.contains(&format!("USING INDEX {index} "))),
                    "{walked:#?}"
                );
            }
        }
    }

    #[test]
    fn pages_by_number_read_from_the_nearer_end() {
        let first = by_number(1000, 1, 50).unwrap();
        assert!(!first.reverse && first.skip == 0 && first.limit == 50);
        let last = by_number(1010, 21, 50).unwrap();
        assert!(last.reverse && last.skip == 0 && last.limit == 10);
        let near_end = by_number(1010, 19, 50).unwrap();
        assert!(near_end.reverse && near_end.skip == 60 && near_end.limit == 50);
        assert!(by_number(1000, 21, 50).is_none());
        let only = by_number(3, 1, 50).unwrap();
        assert!(!only.reverse && only.limit == 50);
    }
}
