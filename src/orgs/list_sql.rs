//! The Organizations list's statements (the scope, the filters, a page's walk along the sort
//! index), written once and built for each backend's own connection (`sqlite`, `pg`: diesel
//! keeps them prepared and reads rows without `MultiConnection`'s translation, see `native!`)
//! and for `DbConn` itself (`multi`, for a search, whose text conditions are `MultiBackend`
//! boxes). `on_backend!` picks the module of a connection.

use diesel::sql_types::Bool;

use crate::db::{PreparedSql, prepared};
use crate::orgs::paging::{MAX_SKIP, Start, Walk};
use crate::orgs::store::{ListQuery, Sort};

/// Rows after (or, walking backwards, before) the key `(k, i)` of the column named `$name`
/// (bound by `PreparedSql::$bind`), in the walk's order. The key is a row value,
/// `(key, id) > (k, i)`, which PostgreSQL's index scan takes whole as its bound (written
/// `key >= k AND (key > k OR id > i)`, the second test was a filter on every entry passed over:
/// a typed page's walk of 450 entries took 0.27 ms against 0.19); SQLite reads both alike.
macro_rules! ordered {
    ($q:expr, $col:expr, $name:literal, $bind:ident, $key:expr, $ascending:expr) => {{
        let q: Boxed = $q;
        let id = organizations::id;
        let from = |k, i| {
            let row = concat!("(organizations.", $name, ", organizations.id)");
            crate::db::prepared::<diesel::sql_types::Bool>(row)
                .sql(if $ascending { " > (" } else { " < (" })
                .$bind(k)
                .sql(", ")
                .big_int(i)
                .sql(")")
        };
        match ($key, $ascending) {
            (Some((k, i)), true) => q.filter(from(k, i)).order_by(($col.asc(), id.asc())),
            (Some((k, i)), false) => q.filter(from(k, i)).order_by(($col.desc(), id.desc())),
            (None, true) => q.order_by(($col.asc(), id.asc())),
            (None, false) => q.order_by(($col.desc(), id.desc())),
        }
    }};
}

/// Rows after (or before) the organization `$anchor`, whose key the statement reads itself (a
/// row subquery, run once): `(key, id) > (SELECT key, id FROM organizations WHERE id = $anchor
/// ...)`, one row value as in `ordered!`; no row when the anchor is gone or being deleted (the
/// comparison with no row is NULL). Written as two scalar subqueries and an `OR` on the id, the
/// statement had a bound LIMIT in each subquery and PostgreSQL planned it at every call (208 us
/// against 104 of execution, page 1,000 by Next at a million organizations).
macro_rules! ordered_from_row {
    ($q:expr, $col:expr, $name:literal, $anchor:expr, $ascending:expr) => {{
        let q: Boxed = $q;
        let id = organizations::id;
        let after = crate::db::prepared::<diesel::sql_types::Bool>(concat!(
            "(organizations.",
            $name,
            ", organizations.id)"
        ))
        .sql(if $ascending { " > " } else { " < " })
        .sql(concat!(
            "(SELECT anchor_org.",
            $name,
            ", anchor_org.id FROM organizations AS anchor_org WHERE anchor_org.id = "
        ))
        .big_int($anchor)
        .sql(" AND anchor_org.deleted_at IS NULL)");
        if $ascending {
            q.filter(after).order_by(($col.asc(), id.asc()))
        } else {
            q.filter(after).order_by(($col.desc(), id.desc()))
        }
    }};
}

/// The module of one backend: `$passing` reads a walk that passes over rows (PostgreSQL: the ids
/// first, then their rows; one statement with the ids in a subquery took longer, 2.4 against
/// 1.6 ms, its 50 lookups by key slower than the second statement's); `$nth`, whether such a walk
/// over every visible organization starts at its first row's key, read by a subquery (`nth_key`).
macro_rules! list_sql {
    ($module:ident, $db:ty, $conn:ty, $passing:ident, $nth:literal) => {
        pub mod $module {
            use chrono::NaiveDateTime;
            use diesel::prelude::*;

            use crate::db::schema::organizations;
            use crate::db::{any_of, literal_limit};
            use crate::orgs::access::{Scope, on_list, on_list_probe};
            use crate::orgs::counts;
            use crate::orgs::model::ListItem;
            use crate::orgs::paging::{Start, Walk};
            use crate::orgs::store::{ListQuery, Sort};

            pub type Boxed = organizations::BoxedQuery<'static, $db>;

            /// Organizations that are not being deleted.
            fn alive() -> Boxed {
                organizations::table
                    .into_boxed()
                    .filter(organizations::deleted_at.is_null())
            }

            /// Organizations that are not being deleted and that the scope may see.
            pub fn visible(scope: Scope) -> Boxed {
                if scope.all {
                    alive()
                } else {
                    alive().filter(organizations::id.eq_any(on_list(scope)))
                }
            }

            /// `visible`, for a statement that reads organizations by id: a restricted scope's
            /// access tested row by row (`access::visible_by_id`).
            pub fn visible_by_id(scope: Scope) -> Boxed {
                if scope.all {
                    alive()
                } else {
                    alive().filter(on_list_probe(scope))
                }
            }

            /// The list's rows by every filter but the search text.
            pub fn narrowed(scope: Scope, query: &ListQuery) -> Boxed {
                narrow(visible(scope), query)
            }

            /// `q` narrowed by the list's type, status, PSA and parent filters.
            pub fn narrow(mut q: Boxed, query: &ListQuery) -> Boxed {
                if let Some(id) = query.type_id {
                    q = q.filter(organizations::type_id.eq(id));
                }
                if let Some(id) = query.status_id {
                    // Out of the planner's sight: with two statuses of 85% and 15%, PostgreSQL
                    // found a plan made for the rarer one cheaper than the kept one and planned
                    // half the calls anew (66 us against 55 of execution at a million).
                    q = q.filter(
                        crate::db::prepared::<diesel::sql_types::Bool>(
                            "organizations.status_id = (SELECT CAST(",
                        )
                        .big_int(id)
                        .sql(" AS BIGINT))"),
                    );
                }
                match query.psa_linked {
                    Some(true) => q = q.filter(organizations::psa_company_id.is_not_null()),
                    Some(false) => q = q.filter(organizations::psa_company_id.is_null()),
                    None => {}
                }
                if let Some(id) = query.parent {
                    q = q.filter(organizations::parent_id.eq(id));
                }
                q
            }

            /// `q` in the walk's order from its anchor.
            pub fn walk_query(q: Boxed, query: &ListQuery, walk: &Walk) -> Boxed {
                let descending = matches!(query.sort, Sort::NameDesc | Sort::UpdatedDesc);
                let ascending = descending == walk.reverse;
                match (query.sort, &walk.from) {
                    (Sort::Name | Sort::NameDesc, Some(Start::Row(anchor))) => {
                        ordered_from_row!(
                            q,
                            organizations::search_text,
                            "search_text",
                            *anchor,
                            ascending
                        )
                    }
                    (Sort::Updated | Sort::UpdatedDesc, Some(Start::Row(anchor))) => {
                        ordered_from_row!(
                            q,
                            organizations::updated_at,
                            "updated_at",
                            *anchor,
                            ascending
                        )
                    }
                    (Sort::Name | Sort::NameDesc, from) => {
                        let key = match from {
                            Some(Start::Key(k, _, i)) => Some((k.clone(), *i)),
                            _ => None,
                        };
                        let col = organizations::search_text;
                        ordered!(q, col, "search_text", text, key, ascending)
                    }
                    (Sort::Updated | Sort::UpdatedDesc, from) => {
                        let key = match from {
                            Some(Start::Key(_, k, i)) => Some((*k, *i)),
                            _ => None,
                        };
                        let col = organizations::updated_at;
                        ordered!(q, col, "updated_at", timestamp, key, ascending)
                    }
                }
            }

            /// The rows of one walk, in the list's order. Rows passed over are read in the
            /// index alone (`$passing`).
            pub fn read(
                c: &mut $conn,
                rows_of: Boxed,
                query: &ListQuery,
                walk: &Walk,
            ) -> QueryResult<Vec<ListItem>> {
                if walk.skip > 0 {
                    return $passing(c, rows_of, query, walk);
                }
                let q = walk_query(rows_of, query, walk);
                let mut rows: Vec<ListItem> =
                    literal_limit(q.select(ListItem::as_select()), walk.limit).load(c)?;
                if walk.reverse {
                    rows.reverse();
                }
                Ok(rows)
            }

            /// The rows of a walk over every visible organization (the plain list). With `$nth`
            /// (PostgreSQL) a walk that passes over rows is one statement: a subquery finds the
            /// key of its first row in the sort index, and the page is read from there like a
            /// first page (`nth_key`), not by id in a second statement (`read_by_ids`).
            pub fn read_plain(
                c: &mut $conn,
                query: &ListQuery,
                walk: &Walk,
            ) -> QueryResult<Vec<ListItem>> {
                match (walk.skip > 0 && $nth)
                    .then(|| super::nth_key(query, walk))
                    .flatten()
                {
                    Some(first) => {
                        let from_first = Walk {
                            from: None,
                            reverse: walk.reverse,
                            skip: 0,
                            limit: walk.limit,
                        };
                        read(c, alive().filter(first), query, &from_first)
                    }
                    None => read(c, alive(), query, walk),
                }
            }

            /// The rows of one walk, in the list's order: the ids first, read from the sort
            /// index alone (the rows it passes over, skipped or filtered out, are never read
            /// from the table), then the page's rows by id.
            pub fn read_by_ids(
                c: &mut $conn,
                rows_of: Boxed,
                query: &ListQuery,
                walk: &Walk,
            ) -> QueryResult<Vec<ListItem>> {
                let q = walk_query(rows_of, query, walk).select(organizations::id);
                let ids: Vec<i64> = if walk.skip == 0 {
                    literal_limit(q, walk.limit).load(c)?
                } else {
                    literal_limit(q, walk.limit)
                        .with_offset(walk.skip)
                        .load(c)?
                };
                let mut rows = rows_by_id(c, &ids)?;
                if walk.reverse {
                    rows.reverse();
                }
                Ok(rows)
            }

            /// The rows of one walk, in the list's order, in one statement with OFFSET: for
            /// SQLite, which never reads a skipped row's columns (its seek into the table is
            /// deferred until a column is read).
            pub fn read_offset(
                c: &mut $conn,
                rows_of: Boxed,
                query: &ListQuery,
                walk: &Walk,
            ) -> QueryResult<Vec<ListItem>> {
                let mut rows: Vec<ListItem> = walk_query(rows_of, query, walk)
                    .select(ListItem::as_select())
                    .limit(walk.limit)
                    .offset(walk.skip)
                    .load(c)?;
                if walk.reverse {
                    rows.reverse();
                }
                Ok(rows)
            }

            /// The rows of a walk that passes over none, each with the count of every
            /// organization the plain list holds: page 1 of the list in one statement.
            pub fn read_counted(
                c: &mut $conn,
                rows_of: Boxed,
                query: &ListQuery,
                walk: &Walk,
            ) -> QueryResult<Vec<(ListItem, i64)>> {
                let q = walk_query(rows_of, query, walk)
                    .select((ListItem::as_select(), counts::all_visible()));
                let mut rows: Vec<(ListItem, i64)> = literal_limit(q, walk.limit).load(c)?;
                if walk.reverse {
                    rows.reverse();
                }
                Ok(rows)
            }

            /// The rows of these ids, in the order given.
            pub fn rows_by_id(c: &mut $conn, ids: &[i64]) -> QueryResult<Vec<ListItem>> {
                let mut rows: Vec<ListItem> = organizations::table
                    .filter(any_of(organizations::id, ids))
                    .select(ListItem::as_select())
                    .load(c)?;
                rows.sort_by_key(|row| ids.iter().position(|id| *id == row.id));
                Ok(rows)
            }

            /// The sort keys of an anchor the scope may see; `None` when it is gone (then the
            /// page number decides).
            pub fn anchor_key(
                c: &mut $conn,
                scope: Scope,
                id: i64,
            ) -> QueryResult<Option<(String, NaiveDateTime, i64)>> {
                visible(scope)
                    .filter(organizations::id.eq(id))
                    .select((
                        organizations::search_text,
                        organizations::updated_at,
                        organizations::id,
                    ))
                    .first(c)
                    .optional()
            }
        }
    };
}

list_sql!(
    sqlite,
    diesel::sqlite::Sqlite,
    diesel::SqliteConnection,
    read_offset,
    false
);
list_sql!(pg, diesel::pg::Pg, diesel::PgConnection, read_by_ids, true);
list_sql!(
    multi,
    crate::db::MultiBackend,
    crate::db::DbConn,
    read_by_ids,
    false
);

/// `MAX_SKIP + 1`, as SQL text (checked by a test).
macro_rules! nth_within {
    () => {
        "2501"
    };
}

/// The start of a walk's first row, `(key, id) >= (its key)`, its key read by a subquery that
/// passes over `walk.skip` visible organizations from the walk's start in the sort index alone
/// (PostgreSQL runs it once, before the page's own index scan starts from its result): for a
/// walk over every visible organization, whose rows the subquery need not filter further. `None`
/// for a walk from an anchor row (its key is read by its own subquery, `ordered_from_row!`) and
/// for one that passes over more than `MAX_SKIP` rows.
///
/// The subquery reads at most `MAX_SKIP + 1` entries (a literal `LIMIT`), then takes the one at
/// the OFFSET, whose value is hidden from the planner behind a subquery of its own. PostgreSQL
/// guesses an OFFSET it does not know at a tenth of the rows; when it knew the value, a small
/// one made the plan for that value look cheaper than its one plan for all values, and the
/// statement was planned anew at every call (125 us of a typed page's 250 at 100,000
/// organizations; at a million, with the LIMIT bound alone, 258 us against 126 of execution).
/// Now every plan is costed with the same guess, and the one plan for all values is kept.
fn nth_key(query: &ListQuery, walk: &Walk) -> Option<PreparedSql<Bool>> {
    if walk.skip > MAX_SKIP {
        return None;
    }
    let descending = matches!(query.sort, Sort::NameDesc | Sort::UpdatedDesc);
    let ascending = descending == walk.reverse;
    let by_name = matches!(query.sort, Sort::Name | Sort::NameDesc);
    macro_rules! parts {
        ($col:literal, $from:literal, $past:literal, $dir:literal) => {
            (
                concat!(
                    "(organizations.",
                    $col,
                    ", organizations.id) ",
                    $from,
                    " (SELECT t.",
                    $col,
                    ", t.id FROM (SELECT o.",
                    $col,
                    ", o.id FROM organizations o WHERE o.deleted_at IS NULL"
                ),
                concat!(" AND (o.", $col, ", o.id) ", $past, " ("),
                concat!(
                    " ORDER BY o.",
                    $col,
                    " ",
                    $dir,
                    ", o.id ",
                    $dir,
                    " LIMIT ",
                    nth_within!(),
                    ") AS t ORDER BY t.",
                    $col,
                    " ",
                    $dir,
                    ", t.id ",
                    $dir,
                    " LIMIT 1 OFFSET (SELECT CAST("
                ),
            )
        };
    }
    let (head, past, tail) = match (by_name, ascending) {
        (true, true) => parts!("search_text", ">=", ">", "ASC"),
        (true, false) => parts!("search_text", "<=", "<", "DESC"),
        (false, true) => parts!("updated_at", ">=", ">", "ASC"),
        (false, false) => parts!("updated_at", "<=", "<", "DESC"),
    };
    let mut sql = prepared::<Bool>(head);
    match &walk.from {
        Some(Start::Row(_)) => return None,
        Some(Start::Key(name, time, id)) => {
            sql = sql.sql(past);
            sql = if by_name {
                sql.text(name.clone())
            } else {
                sql.timestamp(*time)
            };
            sql = sql.sql(", ").big_int(*id).sql(")");
        }
        None => {}
    }
    Some(sql.sql(tail).big_int(walk.skip).sql(" AS BIGINT)))"))
}

/// `on_backend!(conn, |sql, c| body)`: `body` with `sql` naming this file's module for the
/// backend of `conn` (a `&mut DbConn`) and `c` its own connection.
macro_rules! on_backend {
    ($conn:expr, |$m:ident, $c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => {
                use $crate::orgs::list_sql::sqlite as $m;
                $body
            }
            $crate::db::DbConn::Pg($c) => {
                use $crate::orgs::list_sql::pg as $m;
                $body
            }
        }
    };
}
pub(crate) use on_backend;

#[cfg(test)]
mod tests {
    use super::MAX_SKIP;

    #[test]
    fn the_nth_keys_subquery_reads_every_row_a_walk_may_pass_over() {
        assert_eq!(nth_within!().parse::<i64>().ok(), Some(MAX_SKIP + 1));
    }
}
