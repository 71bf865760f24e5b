//! Our own r2d2 manager and the pool around it. Every pooled connection gets the SQLite pragmas
//! and a watch that counts its statements and notices when the server has gone away; check-out
//! runs no ping, so a connection that died while idle is found by the request's first statement.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::r2d2::R2D2Connection;
use diesel::result::{DatabaseErrorKind, Error as QueryError};

use super::{DbConn, DbError};

/// How many SQL statements the pool's connections have started, and how many times a
/// connection was taken from the pool (for tests that count them, and for anyone who wants the
/// figures).
#[derive(Debug, Clone, Default)]
pub struct QueryCounter {
    statements: Arc<AtomicU64>,
    checkouts: Arc<AtomicU64>,
}

impl QueryCounter {
    /// Statements started.
    pub fn get(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Connections taken from the pool.
    pub fn checkouts(&self) -> u64 {
        self.checkouts.load(Ordering::Relaxed)
    }
}

/// Whether `e` says the connection to the server is gone (rather than that a query was wrong).
pub fn connection_lost(e: &QueryError) -> bool {
    matches!(
        e,
        QueryError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
    )
}

/// What the pool shares with its connections: the statement counter, the outage state (so that
/// the log says it once per outage), and the generation of connections still trusted.
#[derive(Debug, Default)]
struct Shared {
    counter: QueryCounter,
    /// Bumped when a connection is found lost: every connection opened before is then suspect
    /// (an outage or a restart kills them all) and is dropped unused instead of being tried.
    generation: AtomicU64,
    down: AtomicBool,
}

/// The instrumentation of one connection.
struct Watch {
    shared: Arc<Shared>,
    generation: u64,
    started: u64,
    /// The number (in `started`) of the statement that found the connection lost.
    lost_at: Option<u64>,
    /// When the running statement started, while `roster::sql` is logged at trace level.
    timing: Option<std::time::Instant>,
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                self.started += 1;
                if tracing::enabled!(target: "roster::sql", tracing::Level::TRACE) {
                    tracing::trace!(target: "roster::sql", "start {query}");
                    self.timing = Some(std::time::Instant::now());
                }
                self.shared
                    .counter
                    .statements
                    .fetch_add(1, Ordering::Relaxed);
            }
            InstrumentationEvent::FinishQuery { error: Some(e), .. }
                if connection_lost(e) && self.lost_at.is_none() =>
            {
                self.lost_at = Some(self.started);
                let _ = self.shared.generation.compare_exchange(
                    self.generation,
                    self.generation + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
            InstrumentationEvent::FinishQuery { query, .. } => {
                if let Some(started) = self.timing.take() {
                    let micros = started.elapsed().as_micros();
                    tracing::trace!(target: "roster::sql", micros, "done {query}");
                }
            }
            _ => {}
        }
    }
}

fn watch(conn: &mut DbConn) -> Option<&mut Watch> {
    conn.instrumentation().downcast_mut::<Watch>()
}

pub struct Manager {
    url: String,
    shared: Arc<Shared>,
}

impl Manager {
    fn stale(&self, conn: &mut DbConn) -> bool {
        let current = self.shared.generation.load(Ordering::Relaxed);
        watch(conn).is_none_or(|w| w.lost_at.is_some() || w.generation < current)
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConn, Self::Error> {
        let mut conn = DbConn::open(&self.url)?;
        conn.set_instrumentation(Watch {
            shared: self.shared.clone(),
            generation: self.shared.generation.load(Ordering::Relaxed),
            started: 0,
            lost_at: None,
            timing: None,
        });
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), Self::Error> {
        conn.ping()
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken() || self.stale(conn)
    }
}

/// A connection taken from the pool.
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The pool of connections of one process (or of its job worker).
#[derive(Clone)]
pub struct DbPool {
    inner: r2d2::Pool<Manager>,
    shared: Arc<Shared>,
}

impl DbPool {
    /// A connection, or `DbError::Unavailable` when none can be opened within the pool's
    /// timeout. Connections opened before a lost one are dropped here unused.
    pub fn get(&self) -> Result<PooledConn, DbError> {
        self.shared
            .counter
            .checkouts
            .fetch_add(1, Ordering::Relaxed);
        let current = self.shared.generation.load(Ordering::Relaxed);
        for _ in 0..=self.inner.max_size() {
            let mut conn = self.inner.get().map_err(|e| self.unreachable(&e))?;
            if watch(&mut conn).is_some_and(|w| w.lost_at.is_none() && w.generation >= current) {
                return Ok(conn);
            }
        }
        let mut conn = self.inner.get().map_err(|e| self.unreachable(&e))?;
        if watch(&mut conn).is_some_and(|w| w.lost_at.is_some()) {
            return Err(DbError::Unavailable("connections keep being lost".into()));
        }
        Ok(conn)
    }

    fn unreachable(&self, e: &r2d2::Error) -> DbError {
        let cause = e.to_string();
        self.went_down(&cause);
        DbError::Unavailable(cause)
    }

    fn went_down(&self, cause: &str) {
        if !self.shared.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                cause,
                "the database cannot be reached: pages answer 503 until it is back"
            );
        }
    }

    fn is_up(&self) {
        if self.shared.down.swap(false, Ordering::Relaxed) {
            tracing::info!("the database can be reached again");
        }
    }

    /// Runs `work` on a connection. When the connection turns out to be gone at the work's
    /// first statement (it died while idle in the pool, so nothing was done on it), the work
    /// runs once more on a new connection; a connection lost later in the work is not retried,
    /// since a write outside a transaction or a commit may already have reached the server.
    pub fn run<T, E>(&self, mut work: impl FnMut(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        match self.attempt(&mut work) {
            Attempt::Done(result) => result,
            Attempt::LostAtFirst(_) => match self.attempt(&mut work) {
                Attempt::Done(result) => result,
                Attempt::LostAtFirst(result) => {
                    self.went_down("the connection to the database server was lost");
                    result
                }
            },
        }
    }

    /// Runs `work` once on a connection (no second try: for work that cannot be repeated).
    pub fn run_once<T, E>(&self, work: impl FnMut(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let mut work = work;
        match self.attempt(&mut work) {
            Attempt::Done(result) => result,
            Attempt::LostAtFirst(result) => {
                self.went_down("the connection to the database server was lost");
                result
            }
        }
    }

    fn attempt<T, E>(&self, work: &mut impl FnMut(&mut DbConn) -> Result<T, E>) -> Attempt<T, E>
    where
        E: From<DbError>,
    {
        let mut conn = match self.get() {
            Ok(conn) => conn,
            Err(e) => return Attempt::Done(Err(e.into())),
        };
        let before = watch(&mut conn).map_or(0, |w| w.started);
        let result = work(&mut conn);
        match watch(&mut conn).and_then(|w| w.lost_at) {
            None => {
                self.is_up();
                Attempt::Done(result)
            }
            Some(at) if at == before + 1 && result.is_err() => Attempt::LostAtFirst(result),
            Some(_) => {
                self.went_down("the connection to the database server was lost");
                Attempt::Done(result)
            }
        }
    }

    /// The pool's own settings and figures (size, idle connections).
    pub fn state(&self) -> r2d2::State {
        self.inner.state()
    }
}

enum Attempt<T, E> {
    Done(Result<T, E>),
    LostAtFirst(Result<T, E>),
}

/// A pool of `size` connections; fails at once when the database cannot be opened.
pub fn build_pool(url: &str, size: u32) -> Result<DbPool, DbError> {
    build_counted_pool(url, size).map(|(pool, _)| pool)
}

/// The same, with the counter of statements its connections run.
pub fn build_counted_pool(url: &str, size: u32) -> Result<(DbPool, QueryCounter), DbError> {
    let shared = Arc::new(Shared::default());
    let manager = Manager {
        url: url.to_owned(),
        shared: shared.clone(),
    };
    let inner = r2d2::Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        // A connection that died while idle is found by the first statement and replaced
        // (`run`), which costs nothing while the database is up; a ping costs a round trip on
        // every request.
        .test_on_check_out(false)
        // Failed connection attempts are logged once per outage by `get`, not one by one.
        .error_handler(Box::new(r2d2::NopErrorHandler))
        .build(manager)
        .map_err(|e| DbError::Unavailable(e.to_string()))?;
    Ok((
        DbPool {
            inner,
            shared: shared.clone(),
        },
        shared.counter.clone(),
    ))
}
