//! Index rows written in bulk on PostgreSQL (seed-demo, an import): one statement over arrays
//! (`unnest`) whatever the number of rows, prepared once per connection, instead of a VALUES list
//! of nine parameters a row that PostgreSQL parses and plans anew each time; their whole values
//! (`search_values`) in the same statement. SQLite keeps `index::insert_many`.

use chrono::NaiveDateTime;
use diesel::pg::PgConnection;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamp};
use diesel::{QueryResult, RunQueryDsl};

use super::index::Entry;
use super::query::MAX_CHARS;

/// Writes one index row per `(organization, record, entry)`, all updated `at`, and its whole
/// values as `index::insert_many` does: the distinct lines of `terms`, none empty or longer than
/// a search.
pub fn insert_pg(
    conn: &mut PgConnection,
    rows: &[(i64, Option<i64>, Entry)],
    at: NaiveDateTime,
) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
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
