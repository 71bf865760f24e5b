//! Moving in and out: reading an IT Glue export (a ZIP or a folder of CSV files), previewing
//! what an import would do, applying it as a job. No HTTP here; the web pages and the command
//! line call these use cases.

pub mod apply;
mod apply_documents;
pub mod apply_flex;
mod apply_orgs;
mod apply_records;
pub mod apply_uploads;
pub mod attachments;
pub mod cells;
pub mod cells_escape;
pub mod export;
pub mod export_job;
pub mod export_rows;
pub mod export_use;
pub mod foreground;
pub mod itglue;
pub mod known;
pub mod lean_conn;
pub mod merge;
pub mod preview;
pub mod report;
pub mod run;
pub mod source;
pub mod table;

/// Why an export cannot be read or imported.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The ZIP or folder is unusable (unsafe names, a bomb, damaged, missing).
    #[error("{0}")]
    Archive(String),
    /// The ZIP's password is missing or wrong.
    #[error("{0}")]
    Password(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}
