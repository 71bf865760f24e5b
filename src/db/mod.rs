//! Database access for both backends: the connection enum, the pool, migrations and the one
//! helper that runs diesel work off the async threads. Nothing here knows about HTTP.

mod any_of;
mod connection;
mod fixed_sql;
mod in_query;
mod literal_limit;
mod migrate;
mod pool;
mod prepared_sql;
pub mod schema;
#[cfg(test)]
pub mod sqlite_plans;
mod stored_time;
mod turnstile;

pub use any_of::{AnyOf, Ids, Texts, Values, any_of, any_text};
pub use connection::{Backend, DbConn, MultiBackend};
pub use fixed_sql::{Fixed, FixedSql};
pub use in_query::{InQuery, in_query};
pub use literal_limit::{LiteralLimit, limit_bucket, literal_limit};
pub use migrate::{redo_all, run_migrations};
pub use pool::{DbPool, PooledConn, QueryCounter, build_counted_pool, build_pool, connection_lost};
pub use prepared_sql::{PreparedSql, prepared};
pub use stored_time::StoredTime;

use thiserror::Error;

/// What can go wrong below the use cases: the database cannot be reached, or a query failed.
#[derive(Debug, Error)]
pub enum DbError {
    /// No connection could be opened, or the one in use was lost: the database is down or
    /// unreachable (a person can only wait or call the administrator; pages say so with a 503).
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(diesel::result::Error),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("the blocking task was cancelled")]
    Cancelled,
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        if connection_lost(&e) {
            DbError::Unavailable(e.to_string())
        } else {
            DbError::Query(e)
        }
    }
}

/// Runs a diesel query on the concrete connection inside a [`DbConn`]: `native!(conn, |c|
/// query.load::<Row>(c))`. The same query through `DbConn` itself (diesel's `MultiConnection`)
/// rebuilds its SQL text on every pass diesel makes over it (the cache check, the binds): several
/// microseconds a statement that the pages read on every request (the session, an organization's
/// page) do not need to spend. The body is compiled once per backend.
#[macro_export]
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}

/// The current time as stored in the database: UTC, to the microsecond (both backends agree on that).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::Duration::microseconds(1)).unwrap_or(now)
}

/// A transaction that writes. On SQLite it takes the write lock at `BEGIN IMMEDIATE`, so that two
/// writers queue behind `busy_timeout` instead of one failing at once when its first read turns
/// into a write (a deferred transaction cannot wait for that), after its turn among this
/// process's writers of the file (`turnstile`). Nested calls become savepoints.
pub fn write<T, E, F>(conn: &mut DbConn, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::Connection;
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConn as Connection>::TransactionManager;
    let nested = Manager::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some();
    let _turn = match conn {
        DbConn::Sqlite(inner) if !nested => {
            let turn = turnstile::wait_turn(inner)?;
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
            turn
        }
        _ => {
            Manager::begin_transaction(conn)?;
            None
        }
    };
    match work(conn) {
        Ok(value) => match Manager::commit_transaction(conn) {
            Ok(()) => Ok(value),
            Err(commit) => {
                let _ = Manager::rollback_transaction(conn);
                Err(commit.into())
            }
        },
        Err(e) => {
            Manager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}
