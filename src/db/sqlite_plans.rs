//! Tests of SQLite's plans under the statistics a large table leaves: `PRAGMA optimize` reads
//! 1,000 rows of each index (`analysis_limit`), and takes a column holding few values (such as
//! `deleted_at`, null but for organizations being deleted) for 1,001 rows per value whatever
//! the table's size, so the planner prefers any index led by it.

use std::sync::{Arc, Mutex, PoisonError};

use diesel::connection::InstrumentationEvent;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConn;

/// An SQLite database in memory with every migration and the organizations' statistics as
/// `PRAGMA optimize` left them at 100,000 organizations.
pub fn skewed() -> DbConn {
    let mut conn = DbConn::open(":memory:").expect("in-memory database");
    super::run_migrations(&mut conn).expect("migrations");
    conn.batch_execute(
        "ANALYZE; DELETE FROM sqlite_stat1 WHERE tbl = 'organizations'; \
         INSERT INTO sqlite_stat1 VALUES \
           ('organizations', 'organizations_alive_by_update', '100000 1001 501 1 1 1 1'), \
           ('organizations', 'organizations_alive_by_name', '100000 1001 1 1 1 1 1'), \
           ('organizations', 'organizations_type_id', '100000 1001'), \
           ('organizations', 'organizations_status_id', '100000 1001'), \
           ('organizations', 'organizations_name_key', '100000 1'), \
           ('organizations', NULL, '100000'); \
         ANALYZE sqlite_schema;",
    )
    .expect("statistics");
    conn
}

#[derive(QueryableByName)]
struct Step {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// SQLite's plan of `sql` (its parameters unbound), one line per step.
pub fn plan(conn: &mut DbConn, sql: &str) -> Vec<String> {
    let DbConn::Sqlite(c) = conn else {
        panic!("an SQLite connection")
    };
    let steps: Vec<Step> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load(c)
        .expect("plan");
    steps.into_iter().map(|s| s.detail).collect()
}

/// The statements `f` runs on `conn`, without their bound values.
pub fn statements_of(conn: &mut DbConn, f: impl FnOnce(&mut DbConn)) -> Vec<String> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    let DbConn::Sqlite(c) = conn else {
        panic!("an SQLite connection")
    };
    c.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let text = query.to_string();
            let sql = text
                .split(" -- binds: ")
                .next()
                .unwrap_or_default()
                .to_owned();
            keep.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(sql);
        }
    });
    f(conn);
    if let DbConn::Sqlite(c) = conn {
        c.set_instrumentation(|_: InstrumentationEvent<'_>| {});
    }
    seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
}
