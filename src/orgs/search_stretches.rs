//! A search's matches read in name order through the stretches that may hold its text
//! (`name_blocks`) only: one statement per stretch, each a walk of the sort index between the
//! stretch's ends that tests every row, until enough matches are read. A term whose first match
//! lies deep in the name order ("northwind" at a million organizations: 500,000 names in front)
//! or that no block holds is no longer a walk over the names in front of it.

use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::access::Scope;
use super::list_sql::multi::{Boxed, narrowed, walk_query};
use super::model::ListItem;
use super::name_blocks::{Key, Stretch};
use super::paging::Walk;
use super::search;
use super::store::{ListQuery, Sort};
use crate::db::schema::organizations;
use crate::db::{DbConn, limit_bucket, literal_limit, prepared};

/// Statements one read makes at most: the last one walks on to the end of the order.
const MAX_STATEMENTS: usize = 24;

/// A search of the list (`text` and the query's other filters, as the scope sees them) read in
/// its name order (`query.sort`: by name, either way) from the start of the order, through
/// `stretches` (ascending, as `Blocks::stretches` gives them).
pub struct Stretched<'a> {
    pub scope: Scope,
    pub query: &'a ListQuery,
    pub text: &'a str,
    pub stretches: &'a [Stretch],
}

impl Stretched<'_> {
    /// The ids of the first `wanted` matches.
    pub fn ids(&self, conn: &mut DbConn, wanted: i64) -> QueryResult<Vec<i64>> {
        self.through(conn, wanted, |c, q, n| {
            literal_limit(q.select(organizations::id), n).load(c)
        })
    }

    /// The rows of the first `wanted` matches: for SQLite, which tests the text on the index
    /// entry before it reads a row, so that a page in one stretch is one statement.
    pub fn rows(&self, conn: &mut DbConn, wanted: i64) -> QueryResult<Vec<ListItem>> {
        self.through(conn, wanted, |c, q, n| {
            literal_limit(q.select(ListItem::as_select()), n).load(c)
        })
    }

    /// `read` of each stretch's walk, with how many rows it may return at most, until `wanted`.
    fn through<T>(
        &self,
        conn: &mut DbConn,
        wanted: i64,
        mut read: impl FnMut(&mut DbConn, Boxed, i64) -> QueryResult<Vec<T>>,
    ) -> QueryResult<Vec<T>> {
        let Self {
            scope,
            query,
            text,
            stretches,
        } = *self;
        let descending = matches!(query.sort, Sort::NameDesc);
        let in_order: Vec<&Stretch> = if descending {
            stretches.iter().rev().collect()
        } else {
            stretches.iter().collect()
        };
        let wanted = usize::try_from(wanted.max(0)).unwrap_or(usize::MAX);
        let mut matches: Vec<T> = Vec::new();
        let from_start = Walk {
            from: None,
            reverse: false,
            skip: 0,
            limit: 0,
        };
        for (n, stretch) in in_order.iter().enumerate() {
            if matches.len() >= wanted {
                break;
            }
            // The last statement allowed runs on to the end of the order.
            let last = n + 1 == MAX_STATEMENTS;
            let (from, to) = match (last, descending) {
                (true, false) => (stretch.from.as_ref(), None),
                (true, true) => (None, stretch.to.as_ref()),
                (false, _) => (stretch.from.as_ref(), stretch.to.as_ref()),
            };
            let mut rows = narrowed(scope, query).filter(search::scanning(conn.backend(), text));
            if let Some(key) = from {
                rows = rows.filter(bound(key, ">= ("));
            }
            if let Some(key) = to {
                rows = rows.filter(bound(key, "< ("));
            }
            let rest = wanted - matches.len();
            // Exact up to a page and one (page 1 reads no row more than it shows; a page's worth of
            // statements at most), else the next power of two: few distinct statements either way.
            let rest_rows = i64::try_from(rest).unwrap_or(i64::MAX);
            let limit = if rest_rows <= query.per_page.max(1) + 1 {
                rest_rows
            } else {
                limit_bucket(rest_rows)
            };
            let found = read(conn, walk_query(rows, query, &from_start), limit)?;
            matches.extend(found.into_iter().take(rest));
            if last {
                break;
            }
        }
        Ok(matches)
    }
}

/// `(search_text, id) <op> (key)`.
fn bound(key: &Key, op: &'static str) -> super::access::OrgFilter {
    Box::new(
        prepared::<Bool>("(organizations.search_text, organizations.id) ")
            .sql(op)
            .text(key.0.clone())
            .sql(", ")
            .big_int(key.1)
            .sql(")"),
    )
}
