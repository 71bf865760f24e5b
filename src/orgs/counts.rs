//! How many visible organizations a list holds, without counting them: `organization_counts`
//! keeps one row per type, status and PSA link, and triggers (migration 000080) change it in the
//! same transaction as every write to `organizations`, bulk ones included, on both backends.
//!
//! Triggers rather than a call in every use case: the writes are spread over create, edit, the
//! PSA sync, deletion (a whole subtree in one statement), restore, purge and seed-demo, and the
//! search index is already kept by triggers the same way. On PostgreSQL they are statement-level
//! (one grouped upsert per statement, in key order); a transaction of several statements could still
//! take them in another order, so writers of organizations queue on an advisory lock before each
//! writing statement (migration 000190), as SQLite's `BEGIN IMMEDIATE` makes them do.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::access::{Scope, on_list_probe};
use crate::db::schema::organization_counts as c;
use crate::db::schema::organizations;
use crate::db::{DbConn, Fixed, FixedSql};

/// The filters a maintained count can answer; 0 in the table stands for "none".
#[derive(Debug, Clone, Copy, Default)]
pub struct CountFilter {
    pub type_id: Option<i64>,
    pub status_id: Option<i64>,
    pub psa_linked: Option<bool>,
}

/// Every visible organization, as a column of a statement on `organizations` (the list's page 1
/// reads its rows and this in one trip to the database).
pub fn all_visible() -> Fixed<AllVisible> {
    Fixed(AllVisible)
}

/// The text of [`all_visible`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AllVisible;

impl FixedSql for AllVisible {
    type SqlType = BigInt;
    type Beside = organizations::id;
    const SQL: &'static str = "(SELECT CAST(COALESCE(SUM(organization_counts.total), 0) AS BIGINT) \
                               FROM organization_counts)";
}

/// Visible organizations matching `filter`, from the maintained counts (a few rows at most).
pub fn visible(conn: &mut DbConn, filter: CountFilter) -> QueryResult<i64> {
    if filter.type_id.is_none() && filter.status_id.is_none() && filter.psa_linked.is_none() {
        // The plain list (page 1 of every visit): a statement of fixed shape (see `native!`).
        let totals: Vec<i64> = crate::native!(conn, |c| c::table.select(c::total).load(c))?;
        return Ok(totals.iter().sum());
    }
    let mut q = c::table.select(c::total).into_boxed();
    if let Some(id) = filter.type_id {
        q = q.filter(c::type_id.eq(id));
    }
    if let Some(id) = filter.status_id {
        q = q.filter(c::status_id.eq(id));
    }
    if let Some(linked) = filter.psa_linked {
        q = q.filter(c::psa_linked.eq(linked));
    }
    let totals: Vec<i64> = q.load(conn)?;
    Ok(totals.iter().sum())
}

/// Visible organizations on a restricted scope's access list: the list's length less those on it
/// being deleted (few; every entry of the list names an organization, its foreign key cascades),
/// read by the list's key and by the indexes of organizations being deleted. Looking up each
/// organization on the list took 13 ms for a list of 5,000 at a million organizations.
pub fn on_list(conn: &mut DbConn, scope: Scope) -> QueryResult<i64> {
    use crate::db::schema::user_organizations as u;
    let listed: i64 = u::table
        .filter(u::user_id.eq(scope.user_id))
        .count()
        .get_result(conn)?;
    let leaving: i64 = organizations::table
        .filter(organizations::deleted_at.is_not_null())
        .filter(on_list_probe(scope))
        .count()
        .get_result(conn)?;
    Ok(listed - leaving)
}
