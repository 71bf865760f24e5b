//! A page number typed far from both ends of the plain Organizations list (every visible
//! organization, no filter), read without walking the rows in front of it. The marks of
//! migration 000300 cut each sort order into intervals of 1,000 to 2,000 organizations,
//! `[mark, next mark)`, each with its count, kept by triggers in the same transaction as every
//! write. One statement sums the counts up to the page (a thousand marks at a million
//! organizations, with the list's total) and names the mark of its interval; the page is then
//! walked from that mark, passing over less than one interval.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::paging::{Start, Walk};
use super::store::Sort;
use crate::db::DbConn;

/// Where the interval of a page starts (or, walking backwards, ends) and what it holds before it.
#[derive(QueryableByName)]
struct NameMark {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    passed: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// [`NameMark`] of the order by update.
#[derive(QueryableByName)]
struct UpdateMark {
    #[diesel(sql_type = Nullable<Timestamp>)]
    key: Option<NaiveDateTime>,
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    #[diesel(sql_type = BigInt)]
    passed: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// The statement that finds the interval holding the row at position `$1` of the order, counted
/// from its start (ascending) or from its end (descending). Ascending, the interval is the last
/// whose predecessors hold no more than the position, and the walk starts at its mark; descending,
/// the first whose successors hold no more, and the walk runs backwards from the next mark (from
/// the end for the last interval). `passed` is what the intervals skipped hold; `total` every
/// visible organization.
fn statement(table: &str, column: &str, descending: bool, param: &str) -> String {
    let sum = |order: &str| {
        format!("CAST(SUM(total) OVER (ORDER BY {column}{order}, id{order}) AS BIGINT)")
    };
    let everyone = "CAST(SUM(total) OVER () AS BIGINT)";
    if descending {
        format!(
            "SELECT next_key AS key, next_id AS id, passed, total FROM (\
             SELECT {column}, id, LEAD({column}) OVER (ORDER BY {column}, id) AS next_key, \
             LEAD(id) OVER (ORDER BY {column}, id) AS next_id, \
             {} - total AS passed, {everyone} AS total FROM {table}) AS marks \
             WHERE passed <= {param} ORDER BY {column}, id LIMIT 1",
            sum(" DESC")
        )
    } else {
        format!(
            "SELECT {column} AS key, id, passed, total FROM (\
             SELECT {column}, id, {} - total AS passed, {everyone} AS total FROM {table}) AS marks \
             WHERE passed <= {param} ORDER BY {column} DESC, id DESC LIMIT 1",
            sum("")
        )
    }
}

/// Page `page` of the plain list in `sort`: every visible organization (the sum of the marks)
/// and, unless the page lies past the end, the walk that reads it.
pub fn typed_page(
    conn: &mut DbConn,
    sort: Sort,
    page: i64,
    per_page: i64,
) -> QueryResult<(i64, Option<Walk>)> {
    let descending = matches!(sort, Sort::NameDesc | Sort::UpdatedDesc);
    let position = (page - 1).saturating_mul(per_page);
    let by_name = matches!(sort, Sort::Name | Sort::NameDesc);
    let (table, column) = if by_name {
        ("organization_name_marks", "search_text")
    } else {
        ("organization_update_marks", "updated_at")
    };
    let param = match conn {
        DbConn::Sqlite(_) => "?1",
        DbConn::Pg(_) => "$1",
    };
    let sql = statement(table, column, descending, param);
    let query = diesel::sql_query(sql).bind::<BigInt, _>(position);
    // The interval's key, as the walk takes it (the other key is not read).
    let found: Option<(Option<Start>, i64, i64)> = if by_name {
        crate::native!(conn, |c| query.get_result::<NameMark>(c).optional())?.map(|m| {
            let key = m.key.zip(m.id);
            let start = key.map(|(k, id)| Start::Key(k, NaiveDateTime::MIN, id));
            (start, m.passed, m.total)
        })
    } else {
        crate::native!(conn, |c| query.get_result::<UpdateMark>(c).optional())?.map(|m| {
            let key = m.key.zip(m.id);
            let start = key.map(|(k, id)| Start::Key(String::new(), k, id));
            (start, m.passed, m.total)
        })
    };
    let Some((start, passed, total)) = found else {
        return Ok((0, None));
    };
    if position >= total {
        return Ok((total, None));
    }
    // Ascending, the walk starts at the mark itself: after (key, id - 1), ids being integers.
    let from = if descending {
        start
    } else {
        start.map(|s| match s {
            Start::Key(name, updated, id) => Start::Key(name, updated, id - 1),
            row => row,
        })
    };
    Ok((
        total,
        Some(Walk {
            from,
            reverse: false,
            skip: position - passed,
            limit: per_page,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::typed_page;
    use crate::db::DbConn;
    use crate::orgs::store::Sort;

    /// Every page of 5,000 organizations (marks split as the seed went), in each order, is read
    /// from a mark less than two intervals in front of it, and the total is every organization.
    #[test]
    fn every_page_is_walked_from_a_mark_in_front_of_it() {
        let mut conn = DbConn::open(":memory:").expect("in-memory database");
        crate::db::run_migrations(&mut conn).expect("migrations");
        let key = crate::config::SecretKey::new(vec![9; 32]);
        crate::orgs::demo::seed(&mut conn, 5_000, 3, 0, &key).expect("seed");
        for sort in [Sort::Name, Sort::NameDesc, Sort::Updated, Sort::UpdatedDesc] {
            for page in 1..=100 {
                let (total, walk) = typed_page(&mut conn, sort, page, 50).expect("page");
                assert_eq!(total, 5_000);
                let walk = walk.expect("a page before the end");
                assert!(
                    (0..2_000).contains(&walk.skip),
                    "{sort:?} {page}: {}",
                    walk.skip
                );
            }
            assert!(
                typed_page(&mut conn, sort, 101, 50)
                    .expect("page")
                    .1
                    .is_none()
            );
        }
    }
}
