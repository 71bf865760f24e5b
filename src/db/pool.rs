//! Our own r2d2 manager, so that every pooled connection gets the SQLite pragmas.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::InstrumentationEvent;
use diesel::r2d2::R2D2Connection;

use super::DbConn;

pub type DbPool = r2d2::Pool<Manager>;

/// How many SQL statements the pool's connections have started (for tests that count queries,
/// and for anyone who wants the figure).
#[derive(Debug, Clone, Default)]
pub struct QueryCounter(Arc<AtomicU64>);

impl QueryCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

pub struct Manager {
    url: String,
    counter: QueryCounter,
}

impl Manager {
    pub fn counter(&self) -> QueryCounter {
        self.counter.clone()
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        let mut conn = DbConn::open(&self.url)?;
        let counter = self.counter.0.clone();
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if matches!(event, InstrumentationEvent::StartQuery { .. }) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping()
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

/// A pool of `size` connections; fails at once when the database cannot be opened.
pub fn build_pool(url: &str, size: u32) -> Result<DbPool, r2d2::Error> {
    build_counted_pool(url, size).map(|(pool, _)| pool)
}

/// The same, with the counter of statements its connections run.
pub fn build_counted_pool(url: &str, size: u32) -> Result<(DbPool, QueryCounter), r2d2::Error> {
    let manager = Manager {
        url: url.to_owned(),
        counter: QueryCounter::default(),
    };
    let counter = manager.counter();
    let pool = r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        .build(manager)?;
    Ok((pool, counter))
}
