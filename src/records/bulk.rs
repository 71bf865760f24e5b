//! Records written many at a time (an import): one insert statement per batch, secrets sealed to
//! their new ids, the search index in step. The caller owns the transaction and the audit trail.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::fields::title_of;
use super::{Kind, RecordError, crypto};
use crate::config::SecretKey;
use crate::db::schema::records as r;
use crate::db::{DbConn, now};
use crate::search::index::{self, NewTerms};

/// One record to insert.
pub struct NewBulk {
    pub organization_id: i64,
    pub kind: Kind,
    /// A flexible asset's type.
    pub asset_type_id: Option<i64>,
    pub values: BTreeMap<String, String>,
    pub secret: Option<String>,
    /// A password's one-time-password secret.
    pub otp: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = r, treat_none_as_default_value = false)]
struct Row {
    organization_id: i64,
    kind: &'static str,
    title: String,
    field_values: String,
    asset_type_id: Option<i64>,
    secret_nonce: Option<Vec<u8>>,
    secret_sealed: Option<Vec<u8>>,
    created_by: Option<i64>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

fn json(values: &BTreeMap<String, String>) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "{}".to_owned())
}

/// Inserts `rows` in one statement, seals their secrets and indexes them; their ids in order.
pub fn insert_many(
    conn: &mut DbConn,
    key: &SecretKey,
    rows: &[NewBulk],
    created_by: Option<i64>,
) -> Result<Vec<i64>, RecordError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let at = now();
    let values: Vec<Row> = rows
        .iter()
        .map(|n| Row {
            organization_id: n.organization_id,
            kind: n.kind.slug(),
            title: title_of(n.kind, &n.values),
            field_values: json(&n.values),
            asset_type_id: n.asset_type_id,
            secret_nonce: None,
            secret_sealed: None,
            created_by,
            created_at: at,
            updated_at: at,
        })
        .collect();
    // MultiBackend has no multi-row insert: each backend builds its own.
    let mut ids: Vec<i64> = match conn {
        DbConn::Sqlite(c) => diesel::insert_into(r::table)
            .values(values)
            .returning(r::id)
            .get_results(c)?,
        DbConn::Pg(c) => diesel::insert_into(r::table)
            .values(values)
            .returning(r::id)
            .get_results(c)?,
    };
    // Ids grow in the order of the values on both backends.
    ids.sort_unstable();
    let mut terms = Vec::with_capacity(rows.len());
    for (id, row) in ids.iter().zip(rows) {
        if let Some(secret) = row.secret.as_deref().filter(|s| !s.is_empty()) {
            seal(conn, key, *id, secret)?;
        }
        if let Some(otp) = row.otp.as_deref().filter(|s| !s.is_empty()) {
            seal_otp(conn, key, *id, Some(otp))?;
        }
        let entry = index::of_record(row.kind, &title_of(row.kind, &row.values), &row.values);
        terms.push(NewTerms::new(row.organization_id, Some(*id), &entry, at));
    }
    index::insert_many(conn, &terms)?;
    Ok(ids)
}

fn seal(conn: &mut DbConn, key: &SecretKey, id: i64, secret: &str) -> Result<(), RecordError> {
    let (nonce, sealed) = crypto::seal(key, id, secret)?;
    diesel::update(r::table.find(id))
        .set((
            r::secret_nonce.eq(Some(nonce)),
            r::secret_sealed.eq(Some(sealed)),
        ))
        .execute(conn)?;
    Ok(())
}

/// A one-time-password secret sealed into record `id` (`None` or "" removes it).
fn seal_otp(
    conn: &mut DbConn,
    key: &SecretKey,
    id: i64,
    otp: Option<&str>,
) -> Result<(), RecordError> {
    let (nonce, sealed) = match otp.filter(|s| !s.is_empty()) {
        Some(otp) => {
            let (nonce, sealed) = crypto::seal_otp(key, id, otp)?;
            (Some(nonce), Some(sealed))
        }
        None => (None, None),
    };
    diesel::update(r::table.find(id))
        .set((r::otp_nonce.eq(nonce), r::otp_sealed.eq(sealed)))
        .execute(conn)?;
    Ok(())
}

/// The secrets a rewrite changes: the password's, the one-time password's (`None`: unchanged).
#[derive(Debug, Default, Clone, Copy)]
pub struct NewSecrets<'a> {
    pub secret: Option<&'a str>,
    pub otp: Option<&'a str>,
}

/// Rewrites one record's values (and its secrets where given) and indexes it anew.
pub fn rewrite(
    conn: &mut DbConn,
    key: &SecretKey,
    (organization_id, id): (i64, i64),
    kind: Kind,
    values: &BTreeMap<String, String>,
    secrets: NewSecrets<'_>,
) -> Result<(), RecordError> {
    let secret = secrets.secret;
    if let Some(otp) = secrets.otp {
        seal_otp(conn, key, id, Some(otp))?;
    }
    let title = title_of(kind, values);
    diesel::update(r::table.find(id))
        .set((
            r::title.eq(&title),
            r::field_values.eq(json(values)),
            r::updated_at.eq(now()),
        ))
        .execute(conn)?;
    match secret {
        Some(s) if !s.is_empty() => seal(conn, key, id, s)?,
        Some(_) => {
            diesel::update(r::table.find(id))
                .set((
                    r::secret_nonce.eq(None::<Vec<u8>>),
                    r::secret_sealed.eq(None::<Vec<u8>>),
                ))
                .execute(conn)?;
        }
        None => {}
    }
    index::record(conn, organization_id, id, kind, &title, values)?;
    Ok(())
}

/// A record as an import compares it: its organization, values, opened secret and one-time-
/// password secret ("" when none).
pub struct Current {
    pub org: i64,
    pub values: BTreeMap<String, String>,
    pub secret: String,
    pub otp: String,
}

/// The records `ids` as an import compares them, by id.
pub fn current(
    conn: &mut DbConn,
    key: &SecretKey,
    ids: &[i64],
) -> Result<BTreeMap<i64, Current>, RecordError> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(500) {
        type Sealed = (Option<Vec<u8>>, Option<Vec<u8>>);
        let rows: Vec<(i64, i64, String, Sealed, Sealed)> = r::table
            .filter(r::id.eq_any(chunk))
            .select((
                r::id,
                r::organization_id,
                r::field_values,
                (r::secret_nonce, r::secret_sealed),
                (r::otp_nonce, r::otp_sealed),
            ))
            .load(conn)?;
        for (id, org, values, secret, otp) in rows {
            let secret = match secret {
                (Some(n), Some(s)) => crypto::open(key, id, &n, &s)?,
                _ => String::new(),
            };
            let otp = match otp {
                (Some(n), Some(s)) => crypto::open_otp(key, id, &n, &s)?,
                _ => String::new(),
            };
            let values = serde_json::from_str(&values).unwrap_or_default();
            out.insert(
                id,
                Current {
                    org,
                    values,
                    secret,
                    otp,
                },
            );
        }
    }
    Ok(out)
}
