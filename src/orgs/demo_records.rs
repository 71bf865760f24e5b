//! The records of demo organizations: contacts with emails and phones, configurations with
//! hostnames, IP addresses and serials, documents with text, passwords, flexible assets; written
//! in multi-row inserts with their search index rows (seed-demo at 100,000 organizations).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use rand::Rng;
use rand::rngs::StdRng;

use super::OrgId;
use crate::config::SecretKey;
use crate::db::schema::records as r;
use crate::db::{DbConn, DbError};
use crate::records::Kind;
use crate::search::index;

const FIRST: &[&str] = &[
    "Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Alan", "Radia",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Kay",
    "Perlman",
];
const TOPICS: &[&str] = &[
    "backup rotation",
    "firewall change window",
    "printer toner ordering",
    "VPN onboarding",
    "patch Tuesday",
    "mailbox migration",
    "UPS battery test",
    "wifi guest network",
];

/// Records per multi-row insert (well under both backends' limits on bound parameters).
const ROWS_PER_INSERT: usize = 1_000;

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list[rng.random_range(0..list.len())]
}

/// One demo record before it is written.
pub struct Planned {
    org: i64,
    kind: Kind,
    title: String,
    values: BTreeMap<String, String>,
    secret: Option<String>,
}

/// Record `n` of organization `org` (the five kinds in turn, then more contacts and
/// configurations: they are what technicians look up most).
pub fn plan(rng: &mut StdRng, org: OrgId, short: &str, n: usize) -> Planned {
    const ORDER: [Kind; 8] = [
        Kind::Contact,
        Kind::Configuration,
        Kind::Document,
        Kind::Password,
        Kind::FlexibleAsset,
        Kind::Contact,
        Kind::Configuration,
        Kind::Configuration,
    ];
    let kind = ORDER[n % ORDER.len()];
    let host = short.to_lowercase();
    let mut values = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        values.insert(k.to_owned(), v);
    };
    let mut secret = None;
    let title = match kind {
        Kind::Contact => {
            let (first, last) = (pick(rng, FIRST), pick(rng, LAST));
            put("first_name", first.to_owned());
            put("last_name", last.to_owned());
            put(
                "title",
                pick(rng, &["Office manager", "CFO", "IT lead", "Owner"]).to_owned(),
            );
            put(
                "emails",
                format!(
                    "{}.{}@{host}.example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                ),
            );
            put(
                "phones",
                format!(
                    "+1 ({:03}) {:03}-{:04}",
                    rng.random_range(200..999),
                    rng.random_range(200..999),
                    rng.random_range(0..10_000)
                ),
            );
            format!("{first} {last}")
        }
        Kind::Configuration => {
            let name = format!(
                "{}-{}-{n:02}",
                pick(rng, &["SRV", "WS", "FW", "SW", "PRN"]),
                short
            );
            put("hostname", format!("{}.{host}.local", name.to_lowercase()));
            put(
                "kind",
                pick(rng, &["Server", "Workstation", "Network device", "Printer"]).to_owned(),
            );
            put(
                "status",
                pick(rng, &["Active", "Active", "Active", "Retired"]).to_owned(),
            );
            put(
                "ip_address",
                format!(
                    "10.{}.{}.{}",
                    rng.random_range(0..256),
                    rng.random_range(0..256),
                    rng.random_range(1..255)
                ),
            );
            put(
                "serial_number",
                format!("SN{:010X}", rng.random_range(0..(1u64 << 40))),
            );
            put("name", name.clone());
            name
        }
        Kind::Document => {
            let topic = pick(rng, TOPICS);
            let title = format!("Runbook: {topic}");
            put("title", title.clone());
            put(
                "body",
                format!(
                    "# {topic}\n\n1. Check the backups of {short}\n2. Apply the updates\n3. Note ticket T{}",
                    rng.random_range(100_000..999_999)
                ),
            );
            title
        }
        Kind::FlexibleAsset => {
            let name = format!("Licence {n}");
            put("name", name.clone());
            put("f1", rng.random_range(1..200).to_string());
            put("f2", format!("2027-{:02}-01", rng.random_range(1..13)));
            name
        }
        Kind::Password => {
            let name = format!("Admin account {n}");
            put("name", name.clone());
            put("username", "administrator".to_owned());
            secret = Some(format!("demo-{}", rng.random_range(100_000..999_999)));
            name
        }
    };
    Planned {
        org: org.0,
        kind,
        title,
        values,
        secret,
    }
}

/// A row of a bulk insert: every column given (SQLite's multi-row insert has no DEFAULT).
#[derive(Insertable)]
#[diesel(table_name = r, treat_none_as_default_value = false)]
struct Row<'a> {
    organization_id: i64,
    kind: &'static str,
    title: &'a str,
    field_values: String,
    asset_type_id: Option<i64>,
    secret_nonce: Option<Vec<u8>>,
    secret_sealed: Option<Vec<u8>>,
    created_by: Option<i64>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Writes `planned` with their index rows; passwords are sealed to their new ids.
pub fn insert(
    conn: &mut DbConn,
    key: &SecretKey,
    asset_type: i64,
    planned: &[Planned],
) -> Result<(), DbError> {
    let at = crate::db::now();
    for chunk in planned.chunks(ROWS_PER_INSERT) {
        let rows: Vec<Row<'_>> = chunk
            .iter()
            .map(|p| Row {
                organization_id: p.org,
                kind: p.kind.slug(),
                title: &p.title,
                field_values: serde_json::to_string(&p.values).unwrap_or_default(),
                asset_type_id: (p.kind == Kind::FlexibleAsset).then_some(asset_type),
                secret_nonce: None,
                secret_sealed: None,
                created_by: None,
                created_at: at,
                updated_at: at,
            })
            .collect();
        macro_rules! insert {
            ($c:expr) => {
                diesel::insert_into(r::table)
                    .values(rows)
                    .returning(r::id)
                    .get_results($c)?
            };
        }
        let mut ids: Vec<i64> = match conn {
            DbConn::Sqlite(c) => insert!(c),
            DbConn::Pg(c) => insert!(c),
        };
        ids.sort_unstable();
        let mut entries = Vec::with_capacity(chunk.len());
        for (p, id) in chunk.iter().zip(&ids) {
            if let Some(secret) = &p.secret {
                crate::records::store::seal_into(conn, key, *id, secret)
                    .map_err(|_| DbError::Migration("could not encrypt a demo password".into()))?;
            }
            let entry = index::of_record(p.kind, &p.title, &p.values);
            entries.push((p.org, Some(*id), entry));
        }
        crate::search::bulk::insert(conn, &entries, at)?;
    }
    Ok(())
}

/// The demo flexible asset type (created once).
pub fn asset_type(conn: &mut DbConn) -> Result<i64, DbError> {
    use crate::db::schema::flexible_asset_types as t;
    const NAME: &str = "Software licence";
    let found: Option<i64> = t::table
        .filter(t::name.eq(NAME))
        .select(t::id)
        .first(conn)
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    let fields = crate::records::flex::parse_definition("Seats: number\nRenews on: date")
        .map_err(DbError::Migration)?;
    let json = serde_json::to_string(&fields).unwrap_or_default();
    Ok(diesel::insert_into(t::table)
        .values((
            t::name.eq(NAME),
            t::fields.eq(json),
            t::created_at.eq(crate::db::now()),
        ))
        .returning(t::id)
        .get_result(conn)?)
}
