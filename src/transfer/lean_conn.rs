//! The connection an import or an export works on: on SQLite, without the memory map the pool's
//! connections read through. An import or export touches the whole file, and every mapped page
//! it touches counts in the process's memory (up to the map's 256 MB, per connection); the map
//! is put back as it was when the connection returns to the pool.

use std::ops::{Deref, DerefMut};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::{DbConn, PooledConn};
use crate::jobs::{Context, JobError};

#[derive(QueryableByName)]
struct MmapSize {
    #[diesel(sql_type = BigInt)]
    mmap_size: i64,
}

/// A pooled connection with SQLite's memory map off while it is held.
pub struct LeanConn {
    conn: PooledConn,
    /// The map's size to put back (SQLite only).
    mmap_size: Option<i64>,
}

impl LeanConn {
    pub fn get(context: &Context) -> Result<LeanConn, JobError> {
        let mut conn = context.conn()?;
        let mmap_size = unmap(&mut conn)?;
        Ok(LeanConn { conn, mmap_size })
    }
}

/// Runs `f` on `conn` with the memory map off (the preview reads every file against the
/// database, as the import does).
pub fn without_map<T, E: From<diesel::result::Error>>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    let before = unmap(conn)?;
    let out = f(conn);
    remap(conn, before);
    out
}

/// Turns the map off; the size it had (SQLite only).
fn unmap(conn: &mut DbConn) -> QueryResult<Option<i64>> {
    match conn {
        DbConn::Sqlite(c) => {
            let before = diesel::sql_query("PRAGMA mmap_size").get_result::<MmapSize>(c)?;
            // Unmaps what this connection had mapped, at once.
            c.batch_execute("PRAGMA mmap_size = 0")?;
            Ok(Some(before.mmap_size))
        }
        DbConn::Pg(_) => Ok(None),
    }
}

fn remap(conn: &mut DbConn, size: Option<i64>) {
    if let (Some(size), DbConn::Sqlite(c)) = (size, conn)
        && let Err(e) = c.batch_execute(&format!("PRAGMA mmap_size = {size}"))
    {
        tracing::warn!(error = %e, "the memory map of a connection could not be put back");
    }
}

impl Deref for LeanConn {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl DerefMut for LeanConn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

impl Drop for LeanConn {
    fn drop(&mut self) {
        remap(&mut self.conn, self.mmap_size);
    }
}
