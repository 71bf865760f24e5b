//! Applying an import: a job of the queue that reads the export file by file (organizations, their
//! parents, then each record file) and writes it in batches of a few hundred rows, one transaction
//! each, with the job's progress and the run's place (`run.rs`) in the same transaction: killed
//! midway, it resumes at the next batch, and `import_sources` makes every row idempotent.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use super::TransferError;
use super::apply_documents::{self, Body, DocIndex};
use super::attachments::Attachments;
use super::itglue::{self, RecordFile};
use super::lean_conn::LeanConn;
use super::run::{self, Run, Tally};
use super::source::{Limits, Source};
use super::table::{Failure, Row};
use super::{apply_flex, apply_orgs, apply_records, preview};
use crate::audit;
use crate::config::SecretKey;
use crate::db::{DbConn, now, write};
use crate::jobs::queue::{self, NewJob};
use crate::jobs::{Context, Job, JobError, JobId, JobKind};

pub const KIND: &str = "itglue-import";

/// Sealing label of a ZIP password kept in a job's payload (never the password itself).
const PASSWORD_PURPOSE: &str = "roster-import-zip-password";

/// What the job is given.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    /// The ZIP or folder, as a path on the server.
    pub source: String,
    /// The ZIP's password sealed with the data key: (nonce, ciphertext) in base64.
    pub password: Option<(String, String)>,
    /// An upload in the data folder: removed when the job ends (it holds passwords in clear).
    pub remove_after: bool,
}

impl Payload {
    pub fn new(
        key: &SecretKey,
        source: &Path,
        password: Option<&str>,
        remove_after: bool,
    ) -> Result<Payload, TransferError> {
        let source = source.display().to_string();
        let password = match password {
            None => None,
            Some(p) => {
                let (nonce, sealed) =
                    crate::secrets::seal(key, PASSWORD_PURPOSE, source.as_bytes(), p).map_err(
                        |_| TransferError::Archive("the ZIP password cannot be kept".into()),
                    )?;
                Some((STANDARD.encode(nonce), STANDARD.encode(sealed)))
            }
        };
        Ok(Payload {
            source,
            password,
            remove_after,
        })
    }

    /// Opens the export (checks the password too).
    pub fn open(&self, key: &SecretKey) -> Result<Source, TransferError> {
        let password = match &self.password {
            None => None,
            Some((nonce, sealed)) => {
                let lost = || TransferError::Password("the ZIP password was lost".into());
                let nonce = STANDARD.decode(nonce).map_err(|_| lost())?;
                let sealed = STANDARD.decode(sealed).map_err(|_| lost())?;
                Some(
                    crate::secrets::open(
                        key,
                        PASSWORD_PURPOSE,
                        self.source.as_bytes(),
                        &nonce,
                        &sealed,
                    )
                    .map_err(|_| lost())?,
                )
            }
        };
        Source::open(
            Path::new(&self.source),
            password.as_deref(),
            Limits::default(),
        )
    }
}

/// Queues the import of `payload` (with its run, so that a second start finds and resumes it).
pub fn enqueue(
    conn: &mut DbConn,
    payload: &Payload,
    by: Option<i64>,
) -> Result<JobId, TransferError> {
    let text = serde_json::to_string(payload)
        .map_err(|e| TransferError::Archive(format!("the import cannot be queued ({e})")))?;
    Ok(write(conn, |conn| {
        let id = queue::enqueue(
            conn,
            &NewJob {
                kind: KIND,
                payload: text,
                organization_id: None,
                run_after: now(),
                created_by: by,
            },
        )?;
        run::start(conn, id.0, &payload.source)?;
        Ok::<_, diesel::result::Error>(id)
    })?)
}

/// The organizations of the export as records name them: by name, each with its IT Glue id and
/// line; and the line each IT Glue id is first on (a repeated id fails on its later lines).
#[derive(Debug, Default)]
pub struct ExportOrgs {
    pub by_name: HashMap<String, Vec<(u64, String)>>,
    pub first_line: HashMap<String, u64>,
}

impl ExportOrgs {
    fn read(source: &mut Source) -> Result<ExportOrgs, TransferError> {
        let mut out = ExportOrgs::default();
        let Some(name) = source.find(itglue::ORGANIZATIONS) else {
            return Err(TransferError::Archive(
                "the export has no organizations.csv: is this an IT Glue export?".into(),
            ));
        };
        let mut ignored = Vec::new();
        let Some(mut table) =
            preview::open_table(source, &name, itglue::ORG_REQUIRED, &mut ignored)?
        else {
            return Ok(out);
        };
        while let Some(row) = table.next_row() {
            let Ok(row) = row else { continue };
            let (id, org) = (row.get("id"), row.get("name"));
            if id.is_empty() || org.is_empty() {
                continue;
            }
            out.first_line.entry(id.to_owned()).or_insert(row.line);
            out.by_name
                .entry(org.to_owned())
                .or_default()
                .push((row.line, id.to_owned()));
        }
        Ok(out)
    }
}

/// The files in the order they are applied; the index is the run's `stage`.
#[derive(Clone)]
enum Stage {
    Organizations,
    Parents,
    Records(&'static RecordFile),
    /// Links between documents, once all of them are in.
    DocumentLinks,
    /// A flexible asset file (its path in the export), after the fixed stages.
    Flexible(String),
}

fn stages(flexible: Vec<String>) -> Vec<Stage> {
    let mut out = vec![Stage::Organizations, Stage::Parents];
    out.extend(itglue::RECORD_FILES.iter().map(Stage::Records));
    out.push(Stage::DocumentLinks);
    out.extend(flexible.into_iter().map(Stage::Flexible));
    out
}

/// What a stage does, in words (for the progress line).
pub fn stage_label(stage: i32) -> &'static str {
    let index = usize::try_from(stage).unwrap_or(usize::MAX);
    match stages(Vec::new()).get(index) {
        Some(Stage::Organizations) => "organizations.csv",
        Some(Stage::Parents) => "organizations.csv (parents)",
        Some(Stage::Records(spec)) => spec.file,
        Some(Stage::DocumentLinks) => "documents.csv (links)",
        Some(Stage::Flexible(_)) | None => "flexible asset files",
    }
}

/// What every batch of one run needs.
pub struct Batches<'a> {
    pub context: &'a Context,
    pub job: JobId,
    pub key: &'a SecretKey,
    pub by: Option<i64>,
    pub orgs: &'a ExportOrgs,
    /// Attachments, named in the report at their record's line.
    pub attachments: &'a Attachments,
    pub started_at: chrono::NaiveDateTime,
}

/// The job kind, for the worker's registry.
pub struct ItGlueImport(pub SecretKey);

impl JobKind for ItGlueImport {
    fn name(&self) -> &'static str {
        KIND
    }

    fn run(&self, context: &Context, job: &Job) -> Result<(), JobError> {
        run(context, job, &self.0, &mut |_| {})
    }
}

fn permanent(e: TransferError) -> JobError {
    match e {
        TransferError::Db(e) => e.into(),
        other => JobError::Permanent(other.to_string()),
    }
}

/// Runs (or resumes) an import to its end; `progress` hears of each batch.
pub fn run(
    context: &Context,
    job: &Job,
    key: &SecretKey,
    progress: &mut dyn FnMut(&Run),
) -> Result<(), JobError> {
    let payload: Payload = serde_json::from_str(&job.payload)
        .map_err(|e| JobError::Permanent(format!("unreadable import job: {e}")))?;
    let outcome = run_payload(context, job, key, &payload, progress);
    if payload.remove_after && !matches!(outcome, Err(JobError::Stopping | JobError::LeaseLost)) {
        remove_upload(Path::new(&payload.source));
    }
    outcome
}

fn run_payload(
    context: &Context,
    job: &Job,
    key: &SecretKey,
    payload: &Payload,
    progress: &mut dyn FnMut(&Run),
) -> Result<(), JobError> {
    let mut source = payload.open(key).map_err(permanent)?;
    let orgs = ExportOrgs::read(&mut source).map_err(permanent)?;
    let mut conn = LeanConn::get(context)?;
    let started = run::start(&mut conn, job.id, &payload.source)?;
    if job.progress_total == 0 {
        let total = count_rows(&mut source).map_err(permanent)?;
        write(&mut conn, |conn| queue::set_total(conn, job.id(), total))?;
    }
    drop(conn);
    let attachments = Attachments::new(source.names());
    let batches = Batches {
        context,
        job: job.id(),
        key,
        by: job.created_by,
        orgs: &orgs,
        attachments: &attachments,
        started_at: started.started_at,
    };
    let flexible = apply_flex::files(&source);
    for (index, stage) in stages(flexible).into_iter().enumerate() {
        let index = i32::try_from(index).unwrap_or(i32::MAX);
        if index < started.stage {
            continue;
        }
        let skip = if index == started.stage {
            started.stage_rows
        } else {
            0
        };
        let mut docs = match &stage {
            Stage::Records(spec) if spec.kind == crate::records::Kind::Document => {
                let second = payload.open(key).map_err(permanent)?;
                let index = DocIndex::new(second.names());
                Some((second, index))
            }
            _ => None,
        };
        run_stage(
            &batches,
            &mut source,
            (index, stage),
            skip,
            &mut docs,
            progress,
        )?;
    }
    let mut conn = LeanConn::get(context)?;
    // A bulk load leaves SQLite's trigram index in many segments; one merge halves a word search.
    crate::search::index::optimize(&mut conn)?;
    write(&mut conn, |conn| {
        let run = run::find(conn, job.id)?.ok_or(diesel::result::Error::NotFound)?;
        let summary = format!(
            "Imported the IT Glue export {}: {} created, {} updated, {} unchanged, {} failed, {} \
             kept as changed in Roster",
            file_name(&payload.source),
            run.created,
            run.updated,
            run.unchanged,
            run.failed,
            run.kept
        );
        let actor = match job.created_by {
            Some(id) => crate::auth::users::find(conn, crate::auth::UserId(id))?.map(|u| u.user()),
            None => None,
        };
        audit::record(conn, actor.as_ref(), "import.itglue", &summary)?;
        if queue::finish(conn, job.id(), &context.owner)? {
            Ok(())
        } else {
            Err(JobError::LeaseLost)
        }
    })
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn remove_upload(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(error = %e, "could not remove an imported upload");
    }
}

/// Rows of the files the job imports (its progress total; organizations count once).
fn count_rows(source: &mut Source) -> Result<i64, TransferError> {
    let mut total = 0;
    let mut files: Vec<Option<String>> = std::iter::once(itglue::ORGANIZATIONS)
        .chain(itglue::RECORD_FILES.iter().map(|f| f.file))
        .map(|file| source.find(file))
        .collect();
    files.extend(apply_flex::files(source).into_iter().map(Some));
    for name in files {
        let Some(name) = name else {
            continue;
        };
        let mut ignored = Vec::new();
        if let Some(mut table) = preview::open_table(source, &name, &[], &mut ignored)? {
            while table.next_row().is_some() {
                total += 1;
            }
        }
    }
    Ok(total)
}

/// One file: its rows after `skip`, in batches.
fn run_stage(
    batches: &Batches<'_>,
    source: &mut Source,
    (index, stage): (i32, Stage),
    skip: i64,
    docs: &mut Option<(Source, DocIndex)>,
    progress: &mut dyn FnMut(&Run),
) -> Result<(), JobError> {
    let (file, required): (&str, &[&str]) = match &stage {
        Stage::Organizations | Stage::Parents => (itglue::ORGANIZATIONS, itglue::ORG_REQUIRED),
        Stage::Records(spec) => (spec.file, spec.required),
        Stage::Flexible(path) => (path.as_str(), &["id", "organization"]),
        Stage::DocumentLinks => {
            if skip == 0 {
                let file = "documents.csv";
                let run = commit(batches, (index, 1), file, (0, Vec::new()), |conn, _| {
                    apply_documents::relink(conn, batches)
                })?;
                progress(&run);
            }
            return Ok(());
        }
    };
    let found = match &stage {
        Stage::Flexible(path) => Some(path.clone()),
        _ => source.find(file),
    };
    let Some(name) = found else {
        return Ok(());
    };
    let asset_type = match &stage {
        Stage::Flexible(path) => {
            let mut conn = LeanConn::get(batches.context)?;
            match apply_flex::prepare(&mut conn, source, path)? {
                Some(t) => Some(t),
                None => return Ok(()),
            }
        }
        _ => None,
    };
    let mut failures = Vec::new();
    let opened = preview::open_table(source, &name, required, &mut failures).map_err(permanent)?;
    let Some(mut table) = opened else {
        if skip == 0 && !matches!(stage, Stage::Parents) {
            let mut tally = Tally::default();
            for f in failures {
                tally.fail(f.line, f.reason);
            }
            commit(batches, (index, 1), &name, (0, Vec::new()), |_, _| {
                Ok(tally)
            })?;
        }
        return Ok(());
    };
    let mut done: i64 = 0;
    while done < skip && table.next_row().is_some() {
        done += 1;
    }
    let size = batches.context.settings.import_batch_rows.max(1);
    let org_targets = match stage {
        Stage::Records(_) | Stage::Flexible(_) => {
            let mut conn = LeanConn::get(batches.context)?;
            super::known::remembered_orgs(&mut conn)?
        }
        _ => HashMap::new(),
    };
    loop {
        let rows: Vec<Result<Row, Failure>> =
            std::iter::from_fn(|| table.next_row()).take(size).collect();
        if rows.is_empty() {
            return Ok(());
        }
        let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        done += n;
        let bodies = match docs {
            Some((second, index)) => document_bodies(batches, second, index, &rows)?,
            None => HashMap::new(),
        };
        // The parents' pass reads organizations.csv again: no progress of its own.
        let counted = if matches!(stage, Stage::Parents) {
            0
        } else {
            n
        };
        let run = commit(
            batches,
            (index, done),
            &name,
            (counted, rows),
            |conn, rows| match stage {
                Stage::Organizations => apply_orgs::organizations(conn, batches, rows),
                Stage::Parents => apply_orgs::parents(conn, batches, rows),
                Stage::Records(spec) => {
                    apply_records::records(conn, batches, spec, (&org_targets, &bodies), rows)
                }
                Stage::Flexible(_) => match &asset_type {
                    Some(t) => apply_flex::assets(conn, batches, &org_targets, (&name, t), rows),
                    None => Ok(Tally::default()),
                },
                Stage::DocumentLinks => Ok(Tally::default()),
            },
        )?;
        progress(&run);
        batches.context.pause(std::time::Duration::ZERO)?;
    }
}

/// The bodies of a batch of documents.csv, read before its transaction (files, not rows).
fn document_bodies(
    batches: &Batches<'_>,
    source: &mut Source,
    index: &DocIndex,
    rows: &[Result<Row, Failure>],
) -> Result<HashMap<String, Body>, JobError> {
    let mut conn = LeanConn::get(batches.context)?;
    let mut failed = None;
    let mut links = |ids: &[String]| {
        super::known::documents(&mut conn, ids).unwrap_or_else(|e| {
            failed = Some(e);
            HashMap::new()
        })
    };
    let mut out = HashMap::new();
    for row in rows.iter().flatten() {
        let id = row.get("id");
        if id.is_empty() || out.contains_key(id) {
            continue;
        }
        let body = apply_documents::load(source, index, id, &mut links).map_err(permanent)?;
        out.insert(id.to_owned(), body);
    }
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(out),
    }
}

/// One batch in one transaction, with the run's place and the job's progress.
fn commit(
    batches: &Batches<'_>,
    (stage, rows_done): (i32, i64),
    file: &str,
    (counted, rows): (i64, Vec<Result<Row, Failure>>),
    apply: impl FnOnce(&mut DbConn, Vec<Result<Row, Failure>>) -> Result<Tally, JobError>,
) -> Result<Run, JobError> {
    let mut conn = LeanConn::get(batches.context)?;
    let context = batches.context;
    write(&mut conn, |conn| {
        let tally = apply(conn, rows)?;
        run::advance(conn, batches.job.0, (stage, rows_done), file, &tally)?;
        if !queue::checkpoint(
            conn,
            batches.job,
            &context.owner,
            context.settings.lease,
            counted,
        )? {
            return Err(JobError::LeaseLost);
        }
        Ok(run::find(conn, batches.job.0)?.ok_or(diesel::result::Error::NotFound)?)
    })
}
