//! Writing many organizations at once (seed-demo): few statements with their search index rows,
//! the counts kept by their triggers (one grouped upsert per statement on PostgreSQL), none of
//! the per-row work only a person at the form needs (the similar-name check); on SQLite a page
//! cache that holds what a transaction writes (`with_bulk_settings`), on PostgreSQL one merge of
//! the trigram indexes' new entries per transaction (`write`).

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
use diesel::sqlite::SqliteConnection;
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::OrgId;
use super::model::{name_key, search_text};
use super::store::OrgValues;
use crate::db::{DbConn, now};
use crate::search::{bulk as search_bulk, index};

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

/// PostgreSQL's trigram (GIN) indexes of the organizations and of the search, whose new entries
/// wait in a pending list until it is merged into the index.
const TRIGRAM_INDEXES: [&str; 2] = ["organizations_search_trgm", "search_terms_trgm"];

/// The pending list's limit during a bulk transaction, in kB: larger than what one transaction
/// adds, so that its entries are merged once, at its end (`gin_clean_pending_list`), key by key.
/// With the search index's own limit of 64 kB (migration 000230) the list was merged every few
/// rows, each merge rewriting the posting lists of the same common trigrams: 10,000
/// organizations took 12 s of the server's time, 2.3 s merged once.
const BULK_PENDING_KIB: i64 = 65_536;

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

/// One transaction of a bulk load (`db::write`). On PostgreSQL the trigram indexes keep the
/// transaction's new entries in their pending lists and merge them once before it commits: their
/// limit is raised for this transaction alone (the search index's own limit put back in it, a
/// catalog change no one else sees). Raising it locks the search index until the commit (a
/// fraction of a second: the searches and writes of records wait); so that no writer can hold
/// what this transaction needs while waiting for that lock, it first takes its turn among the
/// writers of organizations, and it gives up the raise (writing as the form does) rather than
/// wait long for the lock. Its commit does not wait for the WAL to reach the disk
/// (`synchronous_commit` off: a crash may lose the last batches, never part of one).
pub fn write<T, E: From<diesel::result::Error>>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E> {
    crate::db::write(conn, |conn| {
        let raised = match conn {
            DbConn::Pg(pg) => {
                pg.batch_execute("SET LOCAL synchronous_commit = off")?;
                raise_pending_limits(pg)?
            }
            DbConn::Sqlite(_) => None,
        };
        let out = f(conn)?;
        if let (DbConn::Pg(pg), Some(own)) = (conn, raised) {
            merge_pending(pg, own)?;
        }
        Ok(out)
    })
}

#[derive(QueryableByName)]
struct PendingLimit {
    #[diesel(sql_type = Nullable<Text>)]
    pending_limit: Option<String>,
}

/// Raises the trigram indexes' pending limits for the current transaction; the search index's
/// own limit (None: the server's) to put back, or None if its lock was not to be had at once.
fn raise_pending_limits(pg: &mut PgConnection) -> QueryResult<Option<Option<i64>>> {
    use diesel::Connection;
    // The writers' queue (migration 000190): an empty update fires its statement trigger.
    pg.batch_execute("UPDATE organizations SET id = id WHERE false")?;
    let own = diesel::sql_query(
        "SELECT (SELECT option_value FROM pg_options_to_table(reloptions) \
                 WHERE option_name = 'gin_pending_list_limit') AS pending_limit \
         FROM pg_class WHERE oid = 'search_terms_trgm'::regclass",
    )
    .get_result::<PendingLimit>(pg)?
    .pending_limit
    .and_then(|kib| kib.parse::<i64>().ok());
    let raise = format!(
        "SET LOCAL lock_timeout = '500ms'; \
         ALTER INDEX search_terms_trgm SET (gin_pending_list_limit = {BULK_PENDING_KIB})"
    );
    if let Err(e) = pg.transaction(|pg| pg.batch_execute(&raise)) {
        tracing::info!(error = %e, "the search index's pending list stays short for this batch");
        return Ok(None);
    }
    pg.batch_execute(&format!(
        "SET LOCAL lock_timeout TO DEFAULT; \
         SET LOCAL gin_pending_list_limit = {BULK_PENDING_KIB}"
    ))?;
    Ok(Some(own))
}

/// Merges what the transaction left pending into the trigram indexes and puts the search
/// index's limit back.
fn merge_pending(pg: &mut PgConnection, own: Option<i64>) -> QueryResult<()> {
    let back = match own {
        Some(kib) => format!("SET (gin_pending_list_limit = {kib})"),
        None => "RESET (gin_pending_list_limit)".to_owned(),
    };
    let merges: Vec<String> = TRIGRAM_INDEXES
        .iter()
        .map(|i| format!("gin_clean_pending_list('{i}'::regclass)"))
        .collect();
    pg.batch_execute(&format!(
        "SELECT {}; ALTER INDEX search_terms_trgm {back}",
        merges.join(", ")
    ))
}

/// Inserts `rows` with their search index rows and returns their ids in the order of `rows`.
///
/// The caller owns the transaction (`bulk::write` around at most `ROWS_PER_TRANSACTION` rows)
/// and the order: a `parent_id` must name an organization already written, by an earlier call
/// (rows of one call may not be each other's parents). Nothing is checked here that the database
/// does not check itself: names and parents come validated (an import) or made up (the demo).
/// One statement for the organizations and one for their index rows, whatever their number.
pub fn insert(
    conn: &mut DbConn,
    rows: &[OrgValues<'_>],
    created_by: Option<i64>,
) -> QueryResult<Vec<OrgId>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let at = now();
    let mut ids = match conn {
        DbConn::Pg(pg) => insert_pg(pg, rows, created_by, at)?,
        DbConn::Sqlite(c) => insert_sqlite(c, rows, created_by, at)?,
    };
    // Ids are handed out in the order of the SELECT (`ORDER BY` its position): sorted, they are
    // the rows' ids in order.
    ids.sort_unstable();
    let entries: Vec<_> = ids
        .iter()
        .zip(rows)
        .map(|(id, v)| (*id, None, index::of_organization(v.name, v.short_name)))
        .collect();
    search_bulk::insert(conn, &entries, at)?;
    Ok(ids.into_iter().map(OrgId).collect())
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// PostgreSQL: the organizations in one statement over arrays (its parse and plan do not grow
/// with the rows).
fn insert_pg<'a>(
    conn: &mut PgConnection,
    rows: &[OrgValues<'a>],
    created_by: Option<i64>,
    at: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    let column = |f: fn(&OrgValues<'a>) -> &'a str| rows.iter().map(f).collect::<Vec<_>>();
    let ids_of = |f: fn(&OrgValues<'_>) -> Option<i64>| rows.iter().map(f).collect::<Vec<_>>();
    let ids = diesel::sql_query(
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
    .load::<Inserted>(conn)?;
    Ok(ids.into_iter().map(|r| r.id).collect())
}

/// SQLite: the organizations as one JSON array (one bound parameter, however many rows: no
/// statement of 14 parameters a row to parse, and one flush of the trigram index's pending terms
/// per statement instead of one per 500 rows).
fn insert_sqlite(
    conn: &mut SqliteConnection,
    rows: &[OrgValues<'_>],
    created_by: Option<i64>,
    at: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    let packed: Vec<_> = rows
        .iter()
        .map(|v| {
            (
                v.name,
                name_key(v.name),
                search_text(v.name, v.short_name),
                v.short_name,
                v.description,
                v.quick_notes,
                v.alert,
                v.type_id,
                v.status_id,
                v.parent_id,
            )
        })
        .collect();
    let ids = diesel::sql_query(
        "INSERT INTO organizations (name, name_key, search_text, short_name, description, \
         quick_notes, alert, type_id, status_id, parent_id, sync_enabled, created_by, \
         created_at, updated_at) \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
                value ->> 6, value ->> 7, value ->> 8, value ->> 9, 0, ?2, ?3, ?3 \
         FROM json_each(?1) ORDER BY key RETURNING id",
    )
    .bind::<Text, _>(search_bulk::json(&packed)?)
    .bind::<Nullable<BigInt>, _>(created_by)
    .bind::<Timestamp, _>(at)
    .load::<Inserted>(conn)?;
    Ok(ids.into_iter().map(|r| r.id).collect())
}
