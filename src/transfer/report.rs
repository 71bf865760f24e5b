//! The report of an applied import, in words: the numbers, and each line that needs a person's
//! eye (failures with file and line, fields kept as changed in Roster, values left empty).

use super::apply::stage_label;
use super::run::{self, Run};
use crate::db::DbConn;

/// The most report lines shown (the rest are counted).
pub const SHOWN: i64 = 1000;

/// One line of progress, after each batch.
pub fn progress_line(run: &Run) -> String {
    format!(
        "{}: {} rows read; so far {} created, {} updated, {} unchanged, {} failed",
        stage_label(run.stage),
        run.stage_rows,
        run.created,
        run.updated,
        run.unchanged,
        run.failed
    )
}

/// The numbers of a run, in a sentence.
pub fn summary(run: &Run) -> String {
    format!(
        "{} created, {} updated, {} unchanged, {} failed, {} kept as changed in Roster",
        run.created, run.updated, run.unchanged, run.failed, run.kept
    )
}

/// The whole report as text (the command line prints it).
pub fn text(conn: &mut DbConn, job: i64) -> diesel::QueryResult<String> {
    use std::fmt::Write;
    let Some(run) = run::find(conn, job)? else {
        return Ok(format!("There is no import number {job}.\n"));
    };
    let (notes, total) = run::notes(conn, job, SHOWN)?;
    let mut out = format!("\nImport finished: {}.\n", summary(&run));
    if total > 0 {
        let _ = writeln!(out, "\nNeeds a person's eye ({total}):");
        for (file, line, note) in &notes {
            let _ = writeln!(out, "  {file}, line {line}: {note}");
        }
        if total > SHOWN {
            let _ = writeln!(out, "  ... and {} more", total - SHOWN);
        }
    }
    Ok(out)
}
