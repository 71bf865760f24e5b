//! A page number typed far from both ends of the plain Organizations list (every visible
//! organization, no filter), read without walking the rows in front of it. The marks of
//! migration 000300 cut each sort order into intervals of 2,000 to 4,000 organizations,
//! `[mark, next mark)`, each with its count, kept by triggers in the same transaction as every
//! write. One statement reads the marks in the walk's order (300 to 500 at a million
//! organizations); their counts, summed here, give the list's total and the interval of the
//! page, which is then walked from its mark, passing over less than one interval. Summed by the
//! database with a window function, a thousand marks took 3 ms on SQLite and 1 ms on
//! PostgreSQL (1.5 to 2 us a mark); read and summed here, 0.45 ms (a mark costs about as much
//! as five index entries walked, hence intervals of thousands).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::paging::{Start, Walk};
use super::store::Sort;
use crate::db::schema::{
    organization_name_marks as by_name, organization_update_marks as by_update,
};
use crate::db::{DbConn, StoredTime};

/// The marks of `$table` (ordered by `$key`, then id) in the walk's order: each key with its id
/// and its interval's count.
macro_rules! load_marks {
    ($conn:expr, $table:ident, $key:ident, $descending:expr) => {{
        let columns = ($table::$key, $table::id, $table::total);
        if $descending {
            let q = $table::table
                .select(columns)
                .order_by(($table::$key.desc(), $table::id.desc()));
            crate::native!($conn, |c| q.load(c))
        } else {
            let q = $table::table
                .select(columns)
                .order_by(($table::$key.asc(), $table::id.asc()));
            crate::native!($conn, |c| q.load(c))
        }
    }};
}

/// The key (and id) a walk starts from, if any, and the rows of the intervals before the page's.
type Found<K> = (Option<(K, i64)>, i64);

/// Where the row at `position` of the order (counted from the walk's start) lies: every row
/// the marks count, and unless the position lies past them, the key the walk starts from and the
/// rows of the intervals before. In ascending order the walk starts at the interval's own mark
/// (`None`: none); in descending order it runs backwards from the next mark, which comes before
/// the interval in the list (`None`: the end of the order, for the last interval).
fn locate<K: Clone>(
    marks: &[(K, i64, i64)],
    position: i64,
    descending: bool,
) -> (i64, Option<Found<K>>) {
    let total = marks.iter().map(|(_, _, n)| n).sum();
    let mut passed = 0;
    for (i, (key, id, n)) in marks.iter().enumerate() {
        if position < passed + n {
            let from = if descending {
                i.checked_sub(1)
                    .and_then(|j| marks.get(j))
                    .map(|(k, id, _)| (k.clone(), *id))
            } else {
                Some((key.clone(), *id))
            };
            return (total, Some((from, passed)));
        }
        passed += n;
    }
    (total, None)
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
    // Ascending, the walk starts at the mark itself: after (key, id - 1), ids being integers.
    let after = |id: i64| if descending { id } else { id - 1 };
    let (total, found) = if matches!(sort, Sort::Name | Sort::NameDesc) {
        let marks: Vec<(String, i64, i64)> = load_marks!(conn, by_name, search_text, descending)?;
        let (total, found) = locate(&marks, position, descending);
        let start = |(k, id)| Start::Key(k, NaiveDateTime::MIN, after(id));
        (total, found.map(|(from, passed)| (from.map(start), passed)))
    } else {
        // Read without chrono's parser (1 us a time: the thousand marks took 0.96 ms).
        let marks: Vec<(StoredTime, i64, i64)> =
            load_marks!(conn, by_update, updated_at, descending)?;
        let (total, found) = locate(&marks, position, descending);
        let start = |(k, id): (StoredTime, i64)| Start::Key(String::new(), k.0, after(id));
        (total, found.map(|(from, passed)| (from.map(start), passed)))
    };
    Ok((
        total,
        found.map(|(from, passed)| Walk {
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

    /// Every page of 12,000 organizations (marks split as the seed went), in each order, is read
    /// from a mark less than one interval (4,000) in front of it, and the total is every
    /// organization.
    #[test]
    fn every_page_is_walked_from_a_mark_in_front_of_it() {
        let mut conn = DbConn::open(":memory:").expect("in-memory database");
        crate::db::run_migrations(&mut conn).expect("migrations");
        let key = crate::config::SecretKey::new(vec![9; 32]);
        crate::orgs::demo::seed(&mut conn, 12_000, 3, 0, &key).expect("seed");
        for sort in [Sort::Name, Sort::NameDesc, Sort::Updated, Sort::UpdatedDesc] {
            for page in 1..=240 {
                let (total, walk) = typed_page(&mut conn, sort, page, 50).expect("page");
                assert_eq!(total, 12_000);
                let walk = walk.expect("a page before the end");
                assert!(
                    (0..4_000).contains(&walk.skip),
                    "{sort:?} {page}: {}",
                    walk.skip
                );
            }
            assert!(
                typed_page(&mut conn, sort, 241, 50)
                    .expect("page")
                    .1
                    .is_none()
            );
        }
    }
}
