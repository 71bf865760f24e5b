//! The `records` table, always read through an organization the user may see (the caller checks
//! the organization; every query here also filters by it, so an id from another organization is
//! not found). Use cases own their transactions and write the audit trail.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::fields::title_of;
use super::values::Checked;
use super::{Kind, RecordError, RecordId, crypto};
use crate::audit;
use crate::auth::User;
use crate::config::SecretKey;
use crate::db::schema::records as r;
use crate::db::{DbConn, now};
use crate::orgs::OrgRef;

/// The most records a tab lists.
pub const LIST_LIMIT: i64 = 500;

#[derive(Debug, Clone)]
pub struct Record {
    pub id: i64,
    pub organization_id: i64,
    pub kind: Kind,
    pub title: String,
    pub values: BTreeMap<String, String>,
    pub asset_type_id: Option<i64>,
    pub has_secret: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Who writes: a user, and the API key when the write came through one (the audit trail names it).
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    pub user: &'a User,
    /// How the key is named in the trail: its name and prefix.
    pub key: Option<(&'a str, &'a str)>,
}

impl<'a> From<&'a User> for Author<'a> {
    fn from(user: &'a User) -> Self {
        Author { user, key: None }
    }
}

impl Author<'_> {
    /// The summary of an event, naming the key it came through.
    fn summary(&self, text: String) -> String {
        match self.key {
            Some((name, prefix)) => format!("{text} (through the API key {name}, {prefix})"),
            None => text,
        }
    }

    fn record_org(
        &self,
        conn: &mut DbConn,
        org: &OrgRef,
        action: &str,
        text: String,
    ) -> QueryResult<()> {
        let summary = self.summary(text);
        audit::record_org(conn, Some(self.user), (org.id, &org.name), action, &summary)
    }
}

pub(crate) type Row = (
    i64,
    i64,
    String,
    String,
    String,
    Option<i64>,
    bool,
    NaiveDateTime,
    NaiveDateTime,
);

pub(crate) fn record(
    (id, organization_id, kind, title, values, asset_type_id, has_secret, created_at, updated_at): Row,
) -> Option<Record> {
    Some(Record {
        id,
        organization_id,
        kind: Kind::parse(&kind)?,
        title,
        values: serde_json::from_str(&values).unwrap_or_default(),
        asset_type_id,
        has_secret,
        created_at,
        updated_at,
    })
}

/// The columns of a `Row`.
#[macro_export]
macro_rules! record_columns {
    () => {
        (
            $crate::db::schema::records::id,
            $crate::db::schema::records::organization_id,
            $crate::db::schema::records::kind,
            $crate::db::schema::records::title,
            $crate::db::schema::records::field_values,
            $crate::db::schema::records::asset_type_id,
            $crate::db::schema::records::secret_sealed.is_not_null(),
            $crate::db::schema::records::created_at,
            $crate::db::schema::records::updated_at,
        )
    };
}

/// How many records of each kind an organization has (one statement).
pub fn counts(conn: &mut DbConn, org: i64) -> QueryResult<Vec<(Kind, i64)>> {
    let rows: Vec<(String, i64)> = crate::native!(conn, |c| r::table
        .filter(r::organization_id.eq(org))
        .group_by(r::kind)
        .select((r::kind, diesel::dsl::count_star()))
        .load(c))?;
    Ok(Kind::ALL
        .into_iter()
        .map(|k| {
            (
                k,
                rows.iter()
                    .find(|(s, _)| s == k.slug())
                    .map_or(0, |(_, n)| *n),
            )
        })
        .collect())
}

pub fn list(conn: &mut DbConn, org: i64, kind: Kind) -> QueryResult<Vec<Record>> {
    let rows: Vec<Row> = r::table
        .filter(r::organization_id.eq(org))
        .filter(r::kind.eq(kind.slug()))
        .order_by((r::title, r::id))
        .limit(LIST_LIMIT)
        .select(record_columns!())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(record).collect())
}

pub fn get(conn: &mut DbConn, org: i64, kind: Kind, id: RecordId) -> Result<Record, RecordError> {
    let row: Option<Row> = r::table
        .filter(r::organization_id.eq(org))
        .filter(r::kind.eq(kind.slug()))
        .filter(r::id.eq(id.0))
        .select(record_columns!())
        .first(conn)
        .optional()?;
    row.and_then(record).ok_or(RecordError::NotFound)
}

/// Encrypts `secret` into record `id`.
pub fn seal_into(
    conn: &mut DbConn,
    key: &SecretKey,
    id: i64,
    secret: &str,
) -> Result<(), RecordError> {
    let (nonce, sealed) = crypto::seal(key, id, secret)?;
    diesel::update(r::table.find(id))
        .set((
            r::secret_nonce.eq(Some(nonce)),
            r::secret_sealed.eq(Some(sealed)),
        ))
        .execute(conn)?;
    Ok(())
}

fn json(values: &BTreeMap<String, String>) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "{}".to_owned())
}

pub struct NewRecord<'a> {
    pub org: &'a OrgRef,
    pub kind: Kind,
    pub asset_type_id: Option<i64>,
    pub checked: &'a Checked,
}

pub fn create<'a>(
    conn: &mut DbConn,
    actor: impl Into<Author<'a>>,
    key: &SecretKey,
    new: &NewRecord<'_>,
) -> Result<RecordId, RecordError> {
    let actor = actor.into();
    let title = title_of(new.kind, &new.checked.values);
    crate::db::write(conn, |conn| {
        let at = now();
        let id: i64 = diesel::insert_into(r::table)
            .values((
                r::organization_id.eq(new.org.id),
                r::kind.eq(new.kind.slug()),
                r::title.eq(&title),
                r::field_values.eq(json(&new.checked.values)),
                r::asset_type_id.eq(new.asset_type_id),
                r::created_by.eq(Some(actor.user.id.0)),
                r::created_at.eq(at),
                r::updated_at.eq(at),
            ))
            .returning(r::id)
            .get_result(conn)?;
        if let Some(secret) = &new.checked.secret {
            seal_into(conn, key, id, secret)?;
        }
        let values = &new.checked.values;
        crate::search::index::record(conn, new.org.id, id, new.kind, &title, values)?;
        let summary = format!("added the {} {title}", new.kind.noun());
        actor.record_org(conn, new.org, "record.create", summary)?;
        Ok(RecordId(id))
    })
}

pub fn update<'a>(
    conn: &mut DbConn,
    actor: impl Into<Author<'a>>,
    key: &SecretKey,
    org: &OrgRef,
    kind: Kind,
    id: RecordId,
    checked: &Checked,
) -> Result<(), RecordError> {
    let actor = actor.into();
    let title = title_of(kind, &checked.values);
    crate::db::write(conn, |conn| {
        get(conn, org.id, kind, id)?;
        diesel::update(r::table.find(id.0))
            .set((
                r::title.eq(&title),
                r::field_values.eq(json(&checked.values)),
                r::updated_at.eq(now()),
            ))
            .execute(conn)?;
        if let Some(secret) = &checked.secret {
            seal_into(conn, key, id.0, secret)?;
        }
        crate::search::index::record(conn, org.id, id.0, kind, &title, &checked.values)?;
        let summary = format!("edited the {} {title}", kind.noun());
        actor.record_org(conn, org, "record.update", summary)?;
        Ok(())
    })
}

pub fn delete<'a>(
    conn: &mut DbConn,
    actor: impl Into<Author<'a>>,
    org: &OrgRef,
    kind: Kind,
    id: RecordId,
) -> Result<String, RecordError> {
    let actor = actor.into();
    crate::db::write(conn, |conn| {
        let found = get(conn, org.id, kind, id)?;
        diesel::delete(r::table.find(id.0)).execute(conn)?;
        let summary = format!("deleted the {} {}", kind.noun(), found.title);
        actor.record_org(conn, org, "record.delete", summary)?;
        Ok(found.title)
    })
}

/// The secret of a password, decrypted; the audit trail records who revealed which, when.
pub fn reveal<'a>(
    conn: &mut DbConn,
    actor: impl Into<Author<'a>>,
    key: &SecretKey,
    org: &OrgRef,
    id: RecordId,
) -> Result<String, RecordError> {
    reveal_secrets(conn, actor.into(), key, (org, id), false).map(|(secret, _)| secret)
}

/// The secret of a password and its one-time-password secret (an import brings one), decrypted
/// together: the password's page shows both on one request ("" for a password that has none).
pub fn reveal_with_otp<'a>(
    conn: &mut DbConn,
    actor: impl Into<Author<'a>>,
    key: &SecretKey,
    org: &OrgRef,
    id: RecordId,
) -> Result<(String, Option<String>), RecordError> {
    reveal_secrets(conn, actor.into(), key, (org, id), true)
}

type Sealed = Option<Vec<u8>>;

fn reveal_secrets(
    conn: &mut DbConn,
    actor: Author<'_>,
    key: &SecretKey,
    (org, id): (&OrgRef, RecordId),
    with_otp: bool,
) -> Result<(String, Option<String>), RecordError> {
    crate::db::write(conn, |conn| {
        let found = get(conn, org.id, Kind::Password, id)?;
        let (nonce, sealed, otp_nonce, otp_sealed): (Sealed, Sealed, Sealed, Sealed) = r::table
            .find(id.0)
            .select((
                r::secret_nonce,
                r::secret_sealed,
                r::otp_nonce,
                r::otp_sealed,
            ))
            .first(conn)?;
        let otp = match (with_otp, otp_nonce, otp_sealed) {
            (true, Some(n), Some(s)) => Some(crypto::open_otp(key, id.0, &n, &s)?),
            _ => None,
        };
        let secret = match (nonce, sealed) {
            (Some(n), Some(s)) => crypto::open(key, id.0, &n, &s)?,
            _ if otp.is_some() => String::new(),
            _ => return Err(RecordError::NotFound),
        };
        let summary = match otp {
            Some(_) => format!(
                "revealed the password {} and its one-time-password secret",
                found.title
            ),
            None => format!("revealed the password {}", found.title),
        };
        actor.record_org(conn, org, "password.reveal", summary)?;
        Ok((secret, otp))
    })
}

/// Whether a password holds a one-time-password secret.
pub fn has_otp(conn: &mut DbConn, id: RecordId) -> QueryResult<bool> {
    r::table
        .find(id.0)
        .select(r::otp_sealed.is_not_null())
        .first(conn)
}
