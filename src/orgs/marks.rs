//! A page number typed far from both ends of the plain Organizations list (every visible
//! organization, no filter), read without walking the rows in front of it. The marks of
//! migrations 000300 and 000310 cut each sort order into intervals of 500 to 1,000
//! organizations, `[mark, next mark)`, each with its count, kept by triggers in the same
//! transaction as every write. Their counts, summed here in the walk's order, give the list's
//! total and the interval of the page, which is then walked from its mark, passing over less
//! than one interval.
//!
//! The marks (1,000 to 2,000 at a million organizations) are kept in the process
//! (`MarksCache`), labelled with the version of migration 000310, which the triggers bump with
//! every change to them: the statement that reads a request's session or API key reads that row
//! too, and a typed page reads the marks again only when it moved (after a write; another
//! instance's writes too). Read for every page, 300 to 500 marks
//! of 2,000 to 4,000 cost 0.3 to 0.45 ms at a million on SQLite, and a walk of up to 4,000 index
//! entries was most of the page's time at 100,000 (2.2x page 1 on SQLite, 6x on PostgreSQL).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::paging::{Start, Walk};
use super::store::Sort;
use crate::db::schema::{
    organization_marks_version as version, organization_name_marks as by_name,
    organization_update_marks as by_update,
};
use crate::db::{DbConn, StoredTime};

/// A mark: the key of its interval's first row, that row's id, and the interval's count.
type Mark<K> = (K, i64, i64);

/// The marks of one order, ascending by key, then id.
type Marks<K> = Arc<Vec<Mark<K>>>;

/// The marks of both orders kept between requests, each labelled with the version the database
/// had when they were read, and the newest version a request of this process has read with its
/// session or API key (`observe`).
#[derive(Debug, Default)]
pub struct MarksCache {
    by_name: Slot<String>,
    by_update: Slot<StoredTime>,
    /// 0 until a request observes one (versions start at 1).
    newest: AtomicI64,
}

impl MarksCache {
    /// What the database said the version was, read in the same statement as a request's
    /// session or API key (`version`): that request's typed page needs no statement of its own
    /// to learn it. The newest wins, versions only growing: a request that read an older one,
    /// stored last, must not label newer marks with it for the requests after.
    pub fn observe(&self, version: Option<i64>) {
        if let Some(v) = version {
            self.newest.fetch_max(v, Ordering::AcqRel);
        }
    }

    /// The newest version a request of this process has read (0 before the first).
    pub fn newest(&self) -> i64 {
        self.newest.load(Ordering::Acquire)
    }

    /// The version a typed page may trust: the newest observed, which is at least as new as
    /// the one this request read, or else read now.
    fn version(&self, conn: &mut DbConn) -> QueryResult<i64> {
        match self.newest.load(Ordering::Acquire) {
            0 => crate::native!(conn, |c| version::table.select(version::version).first(c)),
            v => Ok(v),
        }
    }
}

/// The marks' version as a scalar subquery, for the statement that reads a session or an API
/// key (`MarksCache::observe`).
pub fn version() -> diesel::dsl::SingleValue<diesel::dsl::Select<version::table, version::version>>
{
    version::table.select(version::version).single_value()
}

#[derive(Debug)]
struct Slot<K>(Mutex<Option<(i64, Marks<K>)>>);

impl<K> Default for Slot<K> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<K> Slot<K> {
    /// The marks as new as `version` at least: the kept ones if they carry it, else `load`ed
    /// (after `version` was read, so they are at least as new as their label) and kept.
    fn at(
        &self,
        version: i64,
        load: impl FnOnce() -> QueryResult<Vec<Mark<K>>>,
    ) -> QueryResult<Marks<K>> {
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((kept, marks)) = &*lock()
            && *kept == version
        {
            return Ok(marks.clone());
        }
        let marks = Arc::new(load()?);
        *lock() = Some((version, marks.clone()));
        Ok(marks)
    }
}

/// The marks of `$table`, ordered by `$key`, then id.
macro_rules! load_marks {
    ($conn:expr, $table:ident, $key:ident) => {{
        let q = $table::table
            .select(($table::$key, $table::id, $table::total))
            .order_by(($table::$key.asc(), $table::id.asc()));
        crate::native!($conn, |c| q.load(c))
    }};
}

/// The key (and id) a walk starts from, if any, and the rows of the intervals before the page's.
type Found<K> = (Option<(K, i64)>, i64);

/// Where the row at `position` of the order (counted from the walk's start) lies: every row
/// the marks count, and unless the position lies past them, the key the walk starts from and the
/// rows of the intervals before. In ascending order the walk starts at the interval's own mark;
/// in descending order it runs backwards from the next mark, which comes before the interval in
/// the walk (`None`: the end of the order, for the last interval).
fn locate<K: Clone>(marks: &[Mark<K>], position: i64, descending: bool) -> (i64, Option<Found<K>>) {
    let total = marks.iter().map(|(_, _, n)| n).sum();
    let mut passed = 0;
    let order: Box<dyn Iterator<Item = (usize, &Mark<K>)>> = if descending {
        Box::new(marks.iter().enumerate().rev())
    } else {
        Box::new(marks.iter().enumerate())
    };
    for (i, (_, _, n)) in order {
        if position < passed + n {
            let start = if descending { i + 1 } else { i };
            let from = marks.get(start).map(|(k, id, _)| (k.clone(), *id));
            return (total, Some((from, passed)));
        }
        passed += n;
    }
    (total, None)
}

/// Page `page` of the plain list in `sort`: every visible organization (the sum of the marks)
/// and, unless the page lies past the end, the walk that reads it. A request of the server
/// reaches here signed in, its session or key having observed the version (`observe`).
pub fn typed_page(
    conn: &mut DbConn,
    cache: &MarksCache,
    sort: Sort,
    page: i64,
    per_page: i64,
) -> QueryResult<(i64, Option<Walk>)> {
    let descending = matches!(sort, Sort::NameDesc | Sort::UpdatedDesc);
    let position = (page - 1).saturating_mul(per_page);
    let now = cache.version(conn)?;
    // Ascending, the walk starts at the mark itself: after (key, id - 1), ids being integers.
    let after = |id: i64| if descending { id } else { id - 1 };
    let (total, found) = if matches!(sort, Sort::Name | Sort::NameDesc) {
        let marks = cache
            .by_name
            .at(now, || load_marks!(conn, by_name, search_text))?;
        let (total, found) = locate(&marks, position, descending);
        let start = |(k, id)| Start::Key(k, NaiveDateTime::MIN, after(id));
        (total, found.map(|(from, passed)| (from.map(start), passed)))
    } else {
        // Read without chrono's parser (1 us a time: the thousand marks took 0.96 ms).
        let marks = cache
            .by_update
            .at(now, || load_marks!(conn, by_update, updated_at))?;
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
    use diesel::RunQueryDsl;

    use super::{MarksCache, typed_page};
    use crate::db::DbConn;
    use crate::orgs::store::Sort;

    fn seeded(organizations: usize) -> DbConn {
        let mut conn = DbConn::open(":memory:").expect("in-memory database");
        crate::db::run_migrations(&mut conn).expect("migrations");
        let key = crate::config::SecretKey::new(vec![9; 32]);
        crate::orgs::demo::seed(&mut conn, organizations, 3, 0, &key).expect("seed");
        conn
    }

    /// Every page of 12,000 organizations (marks split as the seed went), in each order, is read
    /// from a mark less than one interval (1,000) in front of it, and the total is every
    /// organization.
    #[test]
    fn every_page_is_walked_from_a_mark_in_front_of_it() {
        let mut conn = seeded(12_000);
        let cache = MarksCache::default();
        for sort in [Sort::Name, Sort::NameDesc, Sort::Updated, Sort::UpdatedDesc] {
            for page in 1..=240 {
                let (total, walk) = typed_page(&mut conn, &cache, sort, page, 50).expect("page");
                assert_eq!(total, 12_000);
                let walk = walk.expect("a page before the end");
                assert!(
                    (0..1_000).contains(&walk.skip),
                    "{sort:?} {page}: {}",
                    walk.skip
                );
            }
            assert!(
                typed_page(&mut conn, &cache, sort, 241, 50)
                    .expect("page")
                    .1
                    .is_none()
            );
        }
    }

    /// The kept marks are read again after a write to the organizations (the version moved):
    /// a deletion and a restore change the total the next typed page shows.
    #[test]
    fn kept_marks_are_read_again_after_a_write() {
        let mut conn = seeded(1_200);
        let cache = MarksCache::default();
        let total =
            |conn: &mut DbConn, sort| typed_page(conn, &cache, sort, 3, 50).expect("page").0;
        assert_eq!(total(&mut conn, Sort::Name), 1_200);
        assert_eq!(total(&mut conn, Sort::UpdatedDesc), 1_200);
        let hide = "UPDATE organizations SET deleted_at = '2026-12-01 00:00:00' WHERE id <= 3";
        let DbConn::Sqlite(c) = &mut conn else {
            panic!("SQLite")
        };
        diesel::sql_query(hide).execute(c).expect("deleted");
        assert_eq!(total(&mut conn, Sort::Name), 1_197);
        assert_eq!(total(&mut conn, Sort::UpdatedDesc), 1_197);
        let DbConn::Sqlite(c) = &mut conn else {
            panic!("SQLite")
        };
        diesel::sql_query("UPDATE organizations SET deleted_at = NULL")
            .execute(c)
            .expect("restored");
        assert_eq!(total(&mut conn, Sort::NameDesc), 1_200);
        assert_eq!(total(&mut conn, Sort::Updated), 1_200);
    }

    /// Requests observe versions in any order: the newest stays, so that marks read after it
    /// are never labelled with an older one.
    #[test]
    fn the_newest_version_observed_stays() {
        let cache = MarksCache::default();
        cache.observe(None);
        assert_eq!(cache.newest.load(std::sync::atomic::Ordering::Acquire), 0);
        for seen in [4, 9, 7, 2] {
            cache.observe(Some(seen));
        }
        assert_eq!(cache.newest.load(std::sync::atomic::Ordering::Acquire), 9);
    }
}
