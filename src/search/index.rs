//! Keeping the index (`search_terms`) in step with what it indexes: the writers of organizations
//! and records call `organization` / `record` inside their own transaction; deleting cascades
//! from the rows themselves; `reindex` rebuilds everything in batches.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Group;
use super::fold::{fold, mac_digits, phone_digits};
use super::query::{MAX_CHARS, ipv4_number};
use crate::db::schema::{organizations, records, search_terms as st, search_values as sv};
use crate::db::{DbConn, now};
use crate::records::Kind;

/// What one organization or record puts in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub group: Group,
    pub title: String,
    /// The searched values as written, one a line; the title first.
    pub shown: Vec<String>,
    /// Other forms of values (a phone's digits, a MAC's hex), searched but never shown.
    pub derived: Vec<String>,
    pub ipv4: Option<i64>,
    /// 0 primary, 1 ordinary, 2 archived.
    pub standing: i32,
}

impl Entry {
    fn new(group: Group, title: &str) -> Entry {
        Entry {
            group,
            title: title.to_owned(),
            shown: vec![title.to_owned()],
            derived: Vec::new(),
            ipv4: None,
            standing: 1,
        }
    }

    fn add(&mut self, text: &str) {
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            self.shown.push(line.to_owned());
        }
    }

    /// Folded values one a line between newlines: `\nvalue\n` is an exact match, `\nval` a prefix.
    pub fn terms(&self) -> String {
        let mut out = String::from("\n");
        for value in self.shown.iter().chain(&self.derived) {
            let folded = fold(value);
            if !folded.is_empty() {
                out.push_str(&folded);
                out.push('\n');
            }
        }
        out
    }
}

pub fn of_organization(name: &str, short_name: &str) -> Entry {
    let mut entry = Entry::new(Group::Organizations, name);
    entry.add(short_name);
    entry
}

/// The searched fields of a record; a password's secret is never among its values.
pub fn of_record(kind: Kind, title: &str, values: &BTreeMap<String, String>) -> Entry {
    let get = |k: &str| values.get(k).map(String::as_str).unwrap_or_default();
    let mut entry = Entry::new(Group::Record(kind), title);
    let searched: &[&str] = match kind {
        Kind::Contact => &["title", "emails", "phones"],
        Kind::Configuration => &["hostname", "ip_address", "serial_number", "mac_address"],
        Kind::Document => &["body"],
        Kind::Password => &["username", "url"],
        Kind::FlexibleAsset => &[],
    };
    for field in searched {
        entry.add(get(field));
    }
    if kind == Kind::FlexibleAsset {
        for (_, value) in values.iter().filter(|(k, _)| k.as_str() != "name") {
            entry.add(value);
        }
    }
    let derive: fn(&str) -> Option<String> = match kind {
        Kind::Contact => phone_digits,
        _ => mac_digits,
    };
    let derived: Vec<String> = entry.shown.iter().filter_map(|v| derive(v)).collect();
    entry.derived = derived;
    entry.ipv4 = get("ip_address").parse::<Ipv4Addr>().ok().map(ipv4_number);
    entry.standing = match kind {
        Kind::Contact if get("primary") == "yes" => 0,
        Kind::Configuration if matches!(get("status"), "Inactive" | "Retired") => 2,
        _ => 1,
    };
    entry
}

/// A row of `search_terms` before it is written.
#[derive(Insertable)]
#[diesel(table_name = st, treat_none_as_default_value = false)]
pub struct NewTerms {
    organization_id: i64,
    record_id: Option<i64>,
    kind: &'static str,
    title: String,
    shown: String,
    terms: String,
    ipv4: Option<i64>,
    standing: i32,
    updated_at: NaiveDateTime,
}

impl NewTerms {
    pub fn new(organization: i64, record: Option<i64>, entry: &Entry, at: NaiveDateTime) -> Self {
        NewTerms {
            organization_id: organization,
            record_id: record,
            kind: entry.group.slug(),
            title: entry.title.clone(),
            shown: entry.shown.join("\n"),
            terms: entry.terms(),
            ipv4: entry.ipv4,
            standing: entry.standing,
            updated_at: at,
        }
    }
}

/// A row of `search_values`: one whole value of a row of `search_terms`. No column is left to
/// its default, which lets diesel write many rows in one statement on SQLite too (without it,
/// a batch was inserted row by row in a savepoint).
#[derive(Insertable)]
#[diesel(table_name = sv, treat_none_as_default_value = false)]
struct NewValue<'a> {
    value: &'a str,
    terms_id: i64,
}

/// Values per multi-row insert of `search_values` (two bound parameters each).
const VALUES_PER_INSERT: usize = 5_000;

impl NewTerms {
    /// The distinct values of `terms` short enough to be typed whole (`search_values` holds them).
    fn values(&self) -> std::collections::BTreeSet<&str> {
        self.terms
            .split('\n')
            .filter(|v| !v.is_empty() && v.chars().count() <= MAX_CHARS)
            .collect()
    }
}

/// Writes many rows in one statement, and their whole values (MultiBackend has no multi-row
/// insert: each backend builds its own).
pub fn insert_many(conn: &mut DbConn, rows: &[NewTerms]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut ids: Vec<i64> = match conn {
        DbConn::Sqlite(c) => diesel::insert_into(st::table)
            .values(rows)
            .returning(st::id)
            .get_results(c)?,
        DbConn::Pg(c) => diesel::insert_into(st::table)
            .values(rows)
            .returning(st::id)
            .get_results(c)?,
    };
    // Ids are handed out in the order of the rows.
    ids.sort_unstable();
    let values: Vec<NewValue<'_>> = ids
        .iter()
        .zip(rows)
        .flat_map(|(id, row)| {
            row.values().into_iter().map(|value| NewValue {
                value,
                terms_id: *id,
            })
        })
        .collect();
    for chunk in values.chunks(VALUES_PER_INSERT) {
        match conn {
            DbConn::Sqlite(c) => diesel::insert_into(sv::table).values(chunk).execute(c)?,
            DbConn::Pg(c) => diesel::insert_into(sv::table).values(chunk).execute(c)?,
        };
    }
    Ok(ids.len())
}

/// Indexes an organization's name and short name anew (call inside the write's transaction).
pub fn organization(conn: &mut DbConn, id: i64, name: &str, short_name: &str) -> QueryResult<()> {
    diesel::delete(
        st::table
            .filter(st::organization_id.eq(id))
            .filter(st::record_id.is_null()),
    )
    .execute(conn)?;
    let entry = of_organization(name, short_name);
    insert_many(conn, &[NewTerms::new(id, None, &entry, now())]).map(|_| ())
}

/// Indexes organizations just inserted in bulk (`ids` in the order of `rows`).
pub fn organizations_many(
    conn: &mut DbConn,
    ids: &[i64],
    rows: &[crate::orgs::store::OrgValues<'_>],
) -> QueryResult<()> {
    let at = now();
    let terms: Vec<NewTerms> = ids
        .iter()
        .zip(rows)
        .map(|(id, v)| NewTerms::new(*id, None, &of_organization(v.name, v.short_name), at))
        .collect();
    insert_many(conn, &terms).map(|_| ())
}

/// Indexes a record anew (call inside the write's transaction).
pub fn record(
    conn: &mut DbConn,
    organization: i64,
    id: i64,
    kind: Kind,
    title: &str,
    values: &BTreeMap<String, String>,
) -> QueryResult<()> {
    diesel::delete(st::table.filter(st::record_id.eq(id))).execute(conn)?;
    let entry = of_record(kind, title, values);
    insert_many(
        conn,
        &[NewTerms::new(organization, Some(id), &entry, now())],
    )
    .map(|_| ())
}

/// Follows records that moved to another organization (a merge and its undo): their hits name
/// and are scoped by the organization they now belong to.
pub fn records_moved(conn: &mut DbConn, ids: &[i64], to: i64) -> QueryResult<usize> {
    diesel::update(st::table.filter(st::record_id.eq_any(ids)))
        .set(st::organization_id.eq(to))
        .execute(conn)
}

/// Rows read and written per transaction by `reindex`.
const BATCH: i64 = 1_000;

/// Rebuilds the whole index: organizations, then records, `BATCH` at a time (short transactions).
/// Returns how many organizations and records were indexed.
pub fn reindex(conn: &mut DbConn) -> QueryResult<(usize, usize)> {
    crate::db::write(conn, |conn| diesel::delete(st::table).execute(conn))?;
    let mut orgs = 0;
    let mut after = 0i64;
    loop {
        let done = crate::db::write(conn, |conn| {
            let rows: Vec<(i64, String, String, NaiveDateTime)> = organizations::table
                .filter(organizations::id.gt(after))
                .order_by(organizations::id)
                .limit(BATCH)
                .select((
                    organizations::id,
                    organizations::name,
                    organizations::short_name,
                    organizations::updated_at,
                ))
                .load(conn)?;
            let terms: Vec<NewTerms> = rows
                .iter()
                .map(|(id, name, short, at)| {
                    NewTerms::new(*id, None, &of_organization(name, short), *at)
                })
                .collect();
            insert_many(conn, &terms)?;
            Ok::<_, diesel::result::Error>(rows.last().map(|r| (r.0, rows.len())))
        })?;
        let Some((last, n)) = done else { break };
        orgs += n;
        after = last;
    }
    let mut recs = 0;
    after = 0;
    loop {
        let done = crate::db::write(conn, |conn| {
            let rows: Vec<(i64, i64, String, String, String, NaiveDateTime)> = records::table
                .filter(records::id.gt(after))
                .order_by(records::id)
                .limit(BATCH)
                .select((
                    records::id,
                    records::organization_id,
                    records::kind,
                    records::title,
                    records::field_values,
                    records::updated_at,
                ))
                .load(conn)?;
            let terms: Vec<NewTerms> = rows
                .iter()
                .filter_map(|(id, org, kind, title, values, at)| {
                    let values: BTreeMap<String, String> =
                        serde_json::from_str(values).unwrap_or_default();
                    let entry = of_record(Kind::parse(kind)?, title, &values);
                    Some(NewTerms::new(*org, Some(*id), &entry, *at))
                })
                .collect();
            insert_many(conn, &terms)?;
            Ok::<_, diesel::result::Error>(rows.last().map(|r| (r.0, rows.len())))
        })?;
        let Some((last, n)) = done else { break };
        recs += n;
        after = last;
    }
    optimize(conn)?;
    Ok((orgs, recs))
}

/// After many rows were written (a reindex, seed-demo, an import): SQLite's trigram tables (the
/// search's and the Organizations list's) merged into one segment each, their lists read once
/// instead of in the many pieces bulk inserts leave (a word of a document costs half as much:
/// 1.06 -> 0.56 ms at 520,000 rows; the list's `q=dental` a fifth less at 100,000 organizations,
/// for 0.4 s of merging). PostgreSQL's GIN indexes need nothing.
pub fn optimize(conn: &mut DbConn) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    if let DbConn::Sqlite(c) = conn {
        c.batch_execute(
            "INSERT INTO search_terms_fts(search_terms_fts) VALUES ('optimize'); \
             INSERT INTO organizations_fts(organizations_fts) VALUES ('optimize');",
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn contacts_are_found_by_the_digits_of_their_phones() {
        let entry = of_record(
            Kind::Contact,
            "Zoë Ångström",
            &values(&[
                ("phones", "+1 (555) 010-2030"),
                ("primary", "yes"),
                ("notes", "private"),
            ]),
        );
        assert_eq!(
            entry.terms(),
            "\nzoe angstrom\n+1 (555) 010-2030\n15550102030\n"
        );
        assert_eq!(entry.standing, 0);
    }

    #[test]
    fn passwords_index_neither_notes_nor_secret() {
        let entry = of_record(
            Kind::Password,
            "VPN",
            &values(&[
                ("username", "admin"),
                ("notes", "hunter2"),
                ("url", "https://vpn.example"),
            ]),
        );
        assert!(!entry.terms().contains("hunter2"));
        assert!(entry.terms().contains("\nadmin\n"));
    }

    #[test]
    fn configurations_keep_their_address_as_a_number() {
        let entry = of_record(
            Kind::Configuration,
            "FW-ACME-01",
            &values(&[("ip_address", "10.0.4.12"), ("status", "Retired")]),
        );
        assert_eq!(entry.ipv4, Some(0x0a00_040c));
        assert_eq!(entry.standing, 2);
    }
}
