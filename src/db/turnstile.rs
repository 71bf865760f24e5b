//! Writers of one SQLite file in this process take turns in the order they came. SQLite's own
//! wait (`busy_timeout`) polls the lock with growing sleeps of up to 100 ms, and a writer that
//! commits and begins again at once (a seed, an import's batches) takes the lock back before a
//! sleeping one looks: a form's save waited out the 10 s and failed while an import ran. In a
//! queue that hands the lock to the writer that waited longest, each batch lets the savers
//! waiting on it through. Writers in other processes (a `roster` command beside the server)
//! still meet at SQLite's lock. PostgreSQL locks rows and needs none of this.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;
use parking_lot::{ArcMutexGuard, FairMutex, RawFairMutex};

use super::prepared;

/// The longest a writer waits for its turn, as long as SQLite's `busy_timeout`.
const LONGEST_WAIT: Duration = Duration::from_secs(10);

/// One queue per database file.
static QUEUES: LazyLock<Mutex<HashMap<String, Arc<FairMutex<()>>>>> =
    LazyLock::new(Default::default);

thread_local! {
    /// Whether this thread holds a turn: a write it starts meanwhile (on another connection) does
    /// not queue behind itself.
    static HOLDING: Cell<bool> = const { Cell::new(false) };
}

/// A writer's turn, given back when dropped (after its commit or rollback).
pub struct Turn {
    _guard: ArcMutexGuard<RawFairMutex, ()>,
}

impl Drop for Turn {
    fn drop(&mut self) {
        HOLDING.with(|h| h.set(false));
    }
}

/// Waits for this connection's file's turn; `None` for an in-memory database or a thread that
/// holds a turn already.
pub fn wait_turn(conn: &mut SqliteConnection) -> QueryResult<Option<Turn>> {
    if HOLDING.with(Cell::get) {
        return Ok(None);
    }
    let file: Option<String> = prepared::<diesel::sql_types::Nullable<Text>>(
        "SELECT file FROM pragma_database_list WHERE name = 'main'",
    )
    .get_result(conn)?;
    let Some(file) = file.filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let queue = {
        let mut queues = QUEUES.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(queues.entry(file).or_default())
    };
    // No wait without end: past SQLite's own timeout the writer goes on to its lock (a writer that
    // waits on another thread while holding a turn must not hang that thread for good).
    let Some(guard) = queue.try_lock_arc_for(LONGEST_WAIT) else {
        return Ok(None);
    };
    HOLDING.with(|h| h.set(true));
    Ok(Some(Turn { _guard: guard }))
}
