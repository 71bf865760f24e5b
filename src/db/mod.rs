//! Database access for both backends: the connection enum, the pool, migrations and the one
//! helper that runs diesel work off the async threads. Nothing here knows about HTTP.

mod connection;
mod migrate;
mod pool;
pub mod schema;

pub use connection::{Backend, DbConn, MultiBackend};
pub use migrate::{redo_all, run_migrations};
pub use pool::{DbPool, QueryCounter, build_counted_pool, build_pool};

use thiserror::Error;

/// What can go wrong below the use cases: no connection, or a query that failed.
#[derive(Debug, Error)]
pub enum DbError {
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::Error),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error("the blocking task was cancelled")]
    Cancelled,
}

/// The current time as stored in the database: UTC, to the microsecond (both backends agree on that).
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::Duration::microseconds(1)).unwrap_or(now)
}
