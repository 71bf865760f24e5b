//! The export: everything Roster holds (or one organization's part), written in IT Glue's layout
//! (`export_rows.rs`) as one ZIP. Rows are read in pages (keyset by id) and written as they come,
//! so memory stays flat whatever the size; cells a spreadsheet would run are escaped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Seek, Write};

use diesel::prelude::*;
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::cells_escape::escape;
use super::export_rows::{self, Layout, Opened};
use crate::config::SecretKey;
use crate::db::schema::{organizations as o, records as r};
use crate::db::{DbConn, MultiBackend};
use crate::jobs::JobError;
use crate::orgs::kinds;
use crate::records::{Kind, crypto, flex};

/// Rows read at a time.
const PAGE: i64 = 500;

/// What an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scope {
    /// One organization only; every live organization when `None`.
    pub organization: Option<i64>,
    /// Passwords are written; otherwise their column is empty.
    pub with_passwords: bool,
}

/// Hears of each page written (rows in it), on the export's connection.
pub type Progress<'a> = dyn FnMut(&mut DbConn, i64) -> Result<(), JobError> + 'a;

pub(super) fn broken(e: impl std::fmt::Display) -> JobError {
    JobError::Permanent(format!("the export cannot be written: {e}"))
}

/// How many rows the export writes (its progress total).
pub fn count(conn: &mut DbConn, scope: Scope) -> QueryResult<i64> {
    let mut orgs = o::table
        .filter(o::deleted_at.is_null())
        .count()
        .into_boxed::<MultiBackend>();
    let mut records = r::table
        .inner_join(o::table)
        .filter(o::deleted_at.is_null())
        .count()
        .into_boxed::<MultiBackend>();
    if let Some(id) = scope.organization {
        orgs = orgs.filter(o::id.eq(id));
        records = records.filter(r::organization_id.eq(id));
    }
    Ok(orgs.get_result::<i64>(conn)? + records.get_result::<i64>(conn)?)
}

/// Writes the export into `out` and gives it back.
pub fn write<W: Write + Seek>(
    conn: &mut DbConn,
    key: &SecretKey,
    scope: Scope,
    out: W,
    progress: &mut Progress<'_>,
) -> Result<W, JobError> {
    let mut zip = ZipWriter::new(out);
    organizations(conn, &mut zip, scope, progress)?;
    for kind in [Kind::Contact, Kind::Configuration, Kind::Password] {
        let layout = export_rows::of_kind(kind);
        records(
            conn,
            &mut zip,
            (scope, key),
            (&layout, kind, None),
            progress,
        )?;
    }
    records(
        conn,
        &mut zip,
        (scope, key),
        (&export_rows::documents(), Kind::Document, None),
        progress,
    )?;
    document_bodies(conn, &mut zip, scope)?;
    let mut used = Vec::new();
    for asset_type in flex::all(conn)? {
        let file = export_rows::flexible_file(&asset_type.name, asset_type.id, &mut used);
        let layout = export_rows::flexible(&file, &asset_type.fields);
        let kind = (&layout, Kind::FlexibleAsset, Some(asset_type.id));
        records(conn, &mut zip, (scope, key), kind, progress)?;
    }
    zip.finish().map_err(broken)
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true)
}

/// Starts `file` in the ZIP with its header row.
fn csv_file<'z, W: Write + Seek>(
    zip: &'z mut ZipWriter<W>,
    file: &str,
    header: &[&str],
) -> Result<csv::Writer<&'z mut ZipWriter<W>>, JobError> {
    zip.start_file(file, options()).map_err(broken)?;
    let mut writer = csv::Writer::from_writer(zip);
    writer.write_record(header).map_err(broken)?;
    Ok(writer)
}

fn write_row<W: Write>(writer: &mut csv::Writer<W>, cells: &[String]) -> Result<(), JobError> {
    writer
        .write_record(
            cells
                .iter()
                .map(|c| escape(c))
                .collect::<Vec<_>>()
                .iter()
                .map(|c| c.as_bytes()),
        )
        .map_err(broken)
}

type OrgLine = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn org_page(conn: &mut DbConn, scope: Scope, after: i64) -> QueryResult<Vec<OrgLine>> {
    let mut query = o::table
        .filter(o::deleted_at.is_null())
        .filter(o::id.gt(after))
        .order(o::id)
        .limit(PAGE)
        .select((
            o::id,
            o::name,
            o::short_name,
            o::description,
            o::quick_notes,
            o::alert,
            o::type_id,
            o::status_id,
            o::parent_id,
        ))
        .into_boxed::<MultiBackend>();
    if let Some(id) = scope.organization {
        query = query.filter(o::id.eq(id));
    }
    query.load(conn)
}

/// The parents of a page that are in the export (live, and the export is not of one organization).
fn parents_kept(conn: &mut DbConn, scope: Scope, page: &[OrgLine]) -> QueryResult<HashSet<i64>> {
    if scope.organization.is_some() {
        return Ok(HashSet::new());
    }
    let wanted: Vec<i64> = page.iter().filter_map(|line| line.8).collect();
    let live: Vec<i64> = o::table
        .filter(o::id.eq_any(&wanted))
        .filter(o::deleted_at.is_null())
        .select(o::id)
        .load(conn)?;
    Ok(live.into_iter().collect())
}

fn organizations<W: Write + Seek>(
    conn: &mut DbConn,
    zip: &mut ZipWriter<W>,
    scope: Scope,
    progress: &mut Progress<'_>,
) -> Result<(), JobError> {
    let names = |conn: &mut DbConn, kind| -> QueryResult<HashMap<i64, String>> {
        Ok(kinds::all(conn, kind)?
            .into_iter()
            .map(|(id, name, _)| (id, name))
            .collect())
    };
    let types = names(conn, kinds::Kind::Type)?;
    let statuses = names(conn, kinds::Kind::Status)?;
    let name_of = |map: &HashMap<i64, String>, id: Option<i64>| {
        id.and_then(|id| map.get(&id)).cloned().unwrap_or_default()
    };
    let header = [
        "id",
        "name",
        "short_name",
        "description",
        "quick_notes",
        "alert",
        "organization_type",
        "organization_status",
        super::itglue::PARENT_ID_COLUMNS[0],
    ];
    let mut writer = csv_file(zip, super::itglue::ORGANIZATIONS, &header)?;
    let mut after = 0;
    loop {
        let page = org_page(conn, scope, after)?;
        let Some(last) = page.last() else { break };
        after = last.0;
        let kept = parents_kept(conn, scope, &page)?;
        let n = page.len();
        for (id, name, short, description, notes, alert, type_id, status_id, parent) in page {
            let parent = parent.filter(|p| kept.contains(p));
            write_row(
                &mut writer,
                &[
                    id.to_string(),
                    name,
                    short,
                    description,
                    notes,
                    alert,
                    name_of(&types, type_id),
                    name_of(&statuses, status_id),
                    parent.map(|p| p.to_string()).unwrap_or_default(),
                ],
            )?;
        }
        progress(conn, i64::try_from(n).unwrap_or(i64::MAX))?;
    }
    writer.flush().map_err(broken)
}

/// A sealed secret: its nonce and ciphertext.
type Sealed = (Option<Vec<u8>>, Option<Vec<u8>>);

type RecordLine = (i64, i64, String, String, Sealed, Sealed);

fn record_page(
    conn: &mut DbConn,
    scope: Scope,
    (kind, asset_type): (Kind, Option<i64>),
    after: i64,
) -> QueryResult<Vec<RecordLine>> {
    let mut query = r::table
        .inner_join(o::table)
        .filter(o::deleted_at.is_null())
        .filter(r::kind.eq(kind.slug()))
        .filter(r::id.gt(after))
        .order(r::id)
        .limit(PAGE)
        .select((
            r::id,
            r::organization_id,
            o::name,
            r::field_values,
            (r::secret_nonce, r::secret_sealed),
            (r::otp_nonce, r::otp_sealed),
        ))
        .into_boxed::<MultiBackend>();
    if let Some(id) = scope.organization {
        query = query.filter(r::organization_id.eq(id));
    }
    if let Some(t) = asset_type {
        query = query.filter(r::asset_type_id.eq(t));
    }
    query.load(conn)
}

/// One file of records, page by page.
fn records<W: Write + Seek>(
    conn: &mut DbConn,
    zip: &mut ZipWriter<W>,
    (scope, key): (Scope, &SecretKey),
    (layout, kind, asset_type): (&Layout, Kind, Option<i64>),
    progress: &mut Progress<'_>,
) -> Result<(), JobError> {
    let mut writer = csv_file(zip, &layout.file, &layout.header())?;
    let secrets = scope.with_passwords && layout.has_secret();
    let mut after = 0;
    loop {
        let page = record_page(conn, scope, (kind, asset_type), after)?;
        let Some(last) = page.last() else { break };
        after = last.0;
        let n = page.len();
        for (id, org, org_name, values, password, otp) in page {
            let values: BTreeMap<String, String> =
                serde_json::from_str(&values).unwrap_or_default();
            let unreadable = |what: &str| {
                JobError::Permanent(format!(
                    "the {what} of record {id} (organization {org}) cannot be decrypted: is \
                     ROSTER_DATA_KEY the key it was sealed with?"
                ))
            };
            let (password, otp) = match (secrets, password, otp) {
                (true, (Some(n), Some(s)), otp) => {
                    let password =
                        crypto::open(key, id, &n, &s).map_err(|_| unreadable("password"))?;
                    let otp = match otp {
                        (Some(n), Some(s)) => Some(
                            crypto::open_otp(key, id, &n, &s)
                                .map_err(|_| unreadable("one-time-password secret"))?,
                        ),
                        _ => None,
                    };
                    (Some(password), otp)
                }
                _ => (None, None),
            };
            let opened = Opened {
                password: password.as_deref(),
                otp: otp.as_deref(),
            };
            write_row(&mut writer, &layout.row((id, &org_name), &values, opened))?;
        }
        progress(conn, i64::try_from(n).unwrap_or(i64::MAX))?;
    }
    writer.flush().map_err(broken)
}

/// Each document's body as HTML, at the path IT Glue's export uses.
fn document_bodies<W: Write + Seek>(
    conn: &mut DbConn,
    zip: &mut ZipWriter<W>,
    scope: Scope,
) -> Result<(), JobError> {
    let mut after = 0;
    loop {
        let page = record_page(conn, scope, (Kind::Document, None), after)?;
        let Some(last) = page.last() else { break };
        after = last.0;
        for (id, org, _, values, _, _) in page {
            let values: BTreeMap<String, String> =
                serde_json::from_str(&values).unwrap_or_default();
            let get = |k: &str| values.get(k).map_or("", String::as_str);
            let path = export_rows::document_path(org, id, get("title"));
            zip.start_file(path, options()).map_err(broken)?;
            let html = super::apply_documents::as_html(get("body"));
            zip.write_all(html.as_bytes()).map_err(broken)?;
        }
    }
    Ok(())
}
