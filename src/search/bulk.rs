//! Index rows written in bulk (seed-demo and its records): one statement over arrays whatever
//! the number of rows, prepared once per connection (PostgreSQL `unnest`, SQLite `json_each`),
//! instead of a VALUES list of nine parameters a row parsed and planned anew each time; their
//! whole values (`search_values`) likewise. The form's writes keep `index::insert_many`.

use chrono::NaiveDateTime;
use diesel::pg::PgConnection;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::SqliteConnection;
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::index::Entry;
use super::query::MAX_CHARS;
use crate::db::DbConn;

/// Writes one index row per `(organization, record, entry)`, all updated `at`, and its whole
/// values as `index::insert_many` does: the distinct lines of `terms`, none empty or longer than
/// a search.
pub fn insert(
    conn: &mut DbConn,
    rows: &[(i64, Option<i64>, Entry)],
    at: NaiveDateTime,
) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    match conn {
        DbConn::Pg(c) => insert_pg(c, rows, at),
        DbConn::Sqlite(c) => insert_sqlite(c, rows, at),
    }
}

fn insert_pg(
    conn: &mut PgConnection,
    rows: &[(i64, Option<i64>, Entry)],
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let mut orgs = Vec::with_capacity(rows.len());
    let mut records = Vec::with_capacity(rows.len());
    let mut kinds = Vec::with_capacity(rows.len());
    let mut titles = Vec::with_capacity(rows.len());
    let mut shown = Vec::with_capacity(rows.len());
    let mut terms = Vec::with_capacity(rows.len());
    let mut ipv4 = Vec::with_capacity(rows.len());
    let mut standing = Vec::with_capacity(rows.len());
    for (org, record, entry) in rows {
        orgs.push(*org);
        records.push(*record);
        kinds.push(entry.group.slug());
        titles.push(entry.title.as_str());
        shown.push(entry.shown.join("\n"));
        terms.push(entry.terms());
        ipv4.push(entry.ipv4);
        standing.push(entry.standing);
    }
    diesel::sql_query(
        "WITH written AS (\
           INSERT INTO search_terms \
           (organization_id, record_id, kind, title, shown, terms, ipv4, standing, updated_at) \
           SELECT o, r, k, t, s, x, i, n, $9 \
           FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
                       $6::text[], $7::bigint[], $8::integer[]) AS u(o, r, k, t, s, x, i, n) \
           RETURNING id, terms) \
         INSERT INTO search_values (value, terms_id) \
         SELECT DISTINCT v, w.id FROM written w, unnest(string_to_array(w.terms, E'\\n')) AS v \
         WHERE v <> '' AND char_length(v) <= $10",
    )
    .bind::<Array<BigInt>, _>(orgs)
    .bind::<Array<Nullable<BigInt>>, _>(records)
    .bind::<Array<Text>, _>(kinds)
    .bind::<Array<Text>, _>(titles)
    .bind::<Array<Text>, _>(shown)
    .bind::<Array<Text>, _>(terms)
    .bind::<Array<Nullable<BigInt>>, _>(ipv4)
    .bind::<Array<Integer>, _>(standing)
    .bind::<Timestamp, _>(at)
    .bind::<Integer, _>(i32::try_from(MAX_CHARS).unwrap_or(i32::MAX))
    .execute(conn)?;
    Ok(rows.len())
}

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// `value` as a JSON text, for one bound parameter that SQLite's `json_each` unpacks.
pub fn json<T: serde::Serialize>(value: &T) -> QueryResult<String> {
    serde_json::to_string(value).map_err(|e| diesel::result::Error::SerializationError(e.into()))
}

/// SQLite: the rows as one JSON array (one bound parameter, one statement each for the rows and
/// their values). Each statement also flushes the trigram index's pending terms into a new
/// segment (FTS5 does at every statement of a transaction): a few large statements leave it
/// few segments to merge.
fn insert_sqlite(
    conn: &mut SqliteConnection,
    rows: &[(i64, Option<i64>, Entry)],
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let terms: Vec<String> = rows.iter().map(|(_, _, e)| e.terms()).collect();
    let packed: Vec<_> = rows
        .iter()
        .zip(&terms)
        .map(|((org, record, e), terms)| {
            let shown = e.shown.join("\n");
            (
                org,
                record,
                e.group.slug(),
                &e.title,
                shown,
                terms,
                e.ipv4,
                e.standing,
            )
        })
        .collect();
    // Ids follow the order of the SELECT: sorted, they are the rows' ids in order.
    let mut ids: Vec<i64> = diesel::sql_query(
        "INSERT INTO search_terms \
         (organization_id, record_id, kind, title, shown, terms, ipv4, standing, updated_at) \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
                value ->> 6, value ->> 7, ?2 \
         FROM json_each(?1) ORDER BY key RETURNING id",
    )
    .bind::<Text, _>(json(&packed)?)
    .bind::<Timestamp, _>(at)
    .load::<Written>(conn)?
    .into_iter()
    .map(|w| w.id)
    .collect();
    ids.sort_unstable();
    let values: Vec<(&str, i64)> = ids
        .iter()
        .zip(&terms)
        .flat_map(|(id, terms)| whole_values(terms).into_iter().map(|v| (v, *id)))
        .collect();
    diesel::sql_query(
        "INSERT INTO search_values (value, terms_id) \
         SELECT value ->> 0, value ->> 1 FROM json_each(?1)",
    )
    .bind::<Text, _>(json(&values)?)
    .execute(conn)?;
    Ok(rows.len())
}

/// The distinct lines of `terms` short enough to be typed whole (`search_values` holds them).
fn whole_values(terms: &str) -> std::collections::BTreeSet<&str> {
    terms
        .split('\n')
        .filter(|v| !v.is_empty() && v.chars().count() <= MAX_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_values_are_the_distinct_lines_no_longer_than_a_search() {
        let long = "x".repeat(MAX_CHARS + 1);
        let terms = format!("\nacme\nacme-01\n\nacme\n{long}\n");
        let values: Vec<&str> = whole_values(&terms).into_iter().collect();
        assert_eq!(values, ["acme", "acme-01"]);
    }
}
