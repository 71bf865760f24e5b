//! Uploads of Manage Data > Import that were never applied (previewed, then left): removed a day
//! after they arrived, at the next upload, unless an import not yet finished still reads them.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::db::DbConn;

/// How long an upload waits to be applied.
pub const KEEP: Duration = Duration::from_secs(24 * 60 * 60);

/// Removes the files of `dir` older than `keep` that no unfinished import reads; how many.
pub fn sweep(conn: &mut DbConn, dir: &Path, keep: Duration) -> diesel::QueryResult<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let cutoff = SystemTime::now()
        .checked_sub(keep)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| at < cutoff);
        if !old || !path.is_file() {
            continue;
        }
        // An upload is `{token}.zip` with its `{token}.json`; the job names the ZIP.
        let zip = path.with_extension("zip");
        if super::run::unfinished(conn, &zip.display().to_string())?.is_some() {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(error = %e, "could not remove an old import upload"),
        }
    }
    Ok(removed)
}
