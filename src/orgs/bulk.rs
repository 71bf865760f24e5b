//! Writing many organizations at once (seed-demo, an import): few statements with their search
//! index rows, the counts kept by their triggers (one grouped upsert per statement on PostgreSQL),
//! none of the per-row work only a person at the form needs (the similar-name check), and on
//! SQLite a page cache that holds what a transaction writes (`with_bulk_settings`).

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::OrgId;
use super::model::{name_key, search_text};
use super::store::{self, OrgValues};
use crate::db::{DbConn, now};
use crate::search::{bulk as search_bulk, index};

/// Organizations per INSERT on SQLite: 14 columns a row stays well under its 32,766 bound
/// parameters. PostgreSQL takes any number in one statement over arrays.
pub const ROWS_PER_STATEMENT: usize = 500;

/// Organizations a caller should write per transaction at most: enough to pay for the commit,
/// few enough that the form's writers get their turn within SQLite's busy timeout (10 s) on a
/// loaded machine (10,000 a transaction made them wait past it) and that PostgreSQL's count rows,
/// locked by the transaction, are not held for long.
pub const ROWS_PER_TRANSACTION: usize = 2_000;

/// SQLite's page cache while writing in bulk, in KiB (a negative `cache_size`). The pool's 8 MB
/// cannot hold the index pages one transaction of `ROWS_PER_TRANSACTION` organizations dirties
/// once the tables are large (name, sort and whole-value indexes take rows in random order): the
/// cache spilled to the WAL mid-transaction and wrote the same pages again and again (900,000
/// organizations onto 100,000 wrote 63 GB and took 15 minutes, a quarter of it on the CPU).
const BULK_CACHE_KIB: i64 = 256 * 1024;

/// WAL pages between checkpoints while writing in bulk (256 MB of 4 KiB pages) instead of
/// SQLite's 1,000: each checkpoint copies a page once however often the transactions since
/// rewrote it (the index pages every transaction touches).
const BULK_CHECKPOINT_PAGES: i64 = 65_536;

#[derive(QueryableByName)]
struct CacheSize {
    #[diesel(sql_type = BigInt)]
    cache_size: i64,
}

#[derive(QueryableByName)]
struct Checkpoint {
    #[diesel(sql_type = BigInt)]
    wal_autocheckpoint: i64,
}

/// Runs `f` (a bulk load: its own transactions) with SQLite's page cache and checkpoint interval
/// of a bulk load, and puts the connection's settings back after (it returns to the pool).
/// The cache is only filled as the load needs it; a checkpoint at the end leaves a small WAL.
/// PostgreSQL needs nothing.
pub fn with_bulk_settings<T, E: From<diesel::result::Error>>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    let DbConn::Sqlite(c) = conn else {
        return f(conn);
    };
    let cache = diesel::sql_query("PRAGMA cache_size").get_result::<CacheSize>(c)?;
    let checkpoint = diesel::sql_query("PRAGMA wal_autocheckpoint").get_result::<Checkpoint>(c)?;
    c.batch_execute(&format!(
        "PRAGMA cache_size = -{BULK_CACHE_KIB}; \
         PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES};"
    ))?;
    let out = f(conn);
    if let DbConn::Sqlite(c) = conn {
        let back = format!(
            "PRAGMA wal_checkpoint(PASSIVE); PRAGMA cache_size = {}; \
             PRAGMA wal_autocheckpoint = {};",
            cache.cache_size, checkpoint.wal_autocheckpoint
        );
        if let Err(e) = c.batch_execute(&back) {
            tracing::warn!(error = %e, "the page cache of a connection could not be put back");
        }
    }
    out
}

/// Inserts `rows` with their search index rows and returns their ids in the order of `rows`.
///
/// The caller owns the transaction (`db::write` around at most `ROWS_PER_TRANSACTION` rows) and
/// the order: a `parent_id` must name an organization already written, by an earlier call (rows
/// of one call may not be each other's parents). Nothing is checked here that the database does
/// not check itself: names and parents come validated (an import) or made up (the demo).
pub fn insert(
    conn: &mut DbConn,
    rows: &[OrgValues<'_>],
    created_by: Option<i64>,
) -> QueryResult<Vec<OrgId>> {
    let mut ids = Vec::with_capacity(rows.len());
    match conn {
        DbConn::Pg(pg) => ids.extend(insert_pg(pg, rows, created_by)?),
        DbConn::Sqlite(_) => {
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                ids.extend(store::insert_many(conn, chunk, created_by)?);
            }
        }
    }
    Ok(ids)
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// PostgreSQL: the organizations in one statement over arrays (its parse and plan do not grow
/// with the rows), then their index rows the same way.
fn insert_pg<'a>(
    conn: &mut PgConnection,
    rows: &[OrgValues<'a>],
    created_by: Option<i64>,
) -> QueryResult<Vec<OrgId>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let column = |f: fn(&OrgValues<'a>) -> &'a str| rows.iter().map(f).collect::<Vec<_>>();
    let ids_of = |f: fn(&OrgValues<'_>) -> Option<i64>| rows.iter().map(f).collect::<Vec<_>>();
    let at = now();
    // Ids follow the order of the SELECT (WITH ORDINALITY ... ORDER BY): sorted, they are the
    // rows' ids in order.
    let mut ids: Vec<i64> = diesel::sql_query(
        "INSERT INTO organizations (name, name_key, search_text, short_name, description, \
         quick_notes, alert, type_id, status_id, parent_id, sync_enabled, created_by, \
         created_at, updated_at) \
         SELECT n, k, s, sn, d, q, a, t, st, p, false, $11, $12, $12 \
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                     $7::text[], $8::bigint[], $9::bigint[], $10::bigint[]) \
              WITH ORDINALITY AS u(n, k, s, sn, d, q, a, t, st, p, i) \
         ORDER BY i RETURNING id",
    )
    .bind::<Array<Text>, _>(column(|v| v.name))
    .bind::<Array<Text>, _>(rows.iter().map(|v| name_key(v.name)).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(
        rows.iter()
            .map(|v| search_text(v.name, v.short_name))
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Text>, _>(column(|v| v.short_name))
    .bind::<Array<Text>, _>(column(|v| v.description))
    .bind::<Array<Text>, _>(column(|v| v.quick_notes))
    .bind::<Array<Text>, _>(column(|v| v.alert))
    .bind::<Array<Nullable<BigInt>>, _>(ids_of(|v| v.type_id))
    .bind::<Array<Nullable<BigInt>>, _>(ids_of(|v| v.status_id))
    .bind::<Array<Nullable<BigInt>>, _>(ids_of(|v| v.parent_id))
    .bind::<Nullable<BigInt>, _>(created_by)
    .bind::<Timestamp, _>(at)
    .load::<Inserted>(conn)?
    .into_iter()
    .map(|r| r.id)
    .collect();
    ids.sort_unstable();
    let entries: Vec<_> = ids
        .iter()
        .zip(rows)
        .map(|(id, v)| (*id, None, index::of_organization(v.name, v.short_name)))
        .collect();
    search_bulk::insert_pg(conn, &entries, at)?;
    Ok(ids.into_iter().map(OrgId).collect())
}
