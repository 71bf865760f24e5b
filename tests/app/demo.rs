//! seed-demo and the bulk path it shares with an import (`orgs::bulk`): what they write is what
//! the form writes, on both backends: every index row with its whole values (`search_values`),
//! and the maintained counts equal to `count(*)`.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use roster::db::schema::{search_terms as st, search_values as sv};

use crate::org_counts::assert_counts_right;
use crate::support::{Store, TestApp, backend};

/// Every row of the index has exactly the whole values of its `terms` in `search_values` (the
/// distinct lines, none empty or longer than a search), as `search::index::insert_many` writes,
/// and no value is left of a row that is gone.
pub async fn assert_values_indexed(app: &TestApp, after: &str) {
    let (wanted, found) = app
        .db(|c| {
            let rows: Vec<(i64, String)> = st::table.select((st::id, st::terms)).load(c).unwrap();
            let values: Vec<(i64, String)> =
                sv::table.select((sv::terms_id, sv::value)).load(c).unwrap();
            let wanted: BTreeMap<i64, BTreeSet<String>> = rows
                .into_iter()
                .map(|(id, terms)| {
                    let lines = terms
                        .split('\n')
                        .filter(|v| !v.is_empty() && v.chars().count() <= 200)
                        .map(str::to_owned)
                        .collect();
                    (id, lines)
                })
                .collect();
            let mut found: BTreeMap<i64, BTreeSet<String>> =
                wanted.keys().map(|id| (*id, BTreeSet::new())).collect();
            for (id, value) in values {
                found.entry(id).or_default().insert(value);
            }
            (wanted, found)
        })
        .await;
    let differ: Vec<_> = wanted
        .iter()
        .filter(|(id, values)| found.get(id) != Some(values))
        .take(3)
        .map(|(id, values)| (id, values, found.get(id)))
        .collect();
    let orphans: Vec<_> = found
        .iter()
        .filter(|(id, _)| !wanted.contains_key(id))
        .take(3)
        .collect();
    assert!(
        orphans.is_empty(),
        "whole values of index rows that are gone, after {after}: {orphans:?}"
    );
    assert!(
        differ.is_empty() && !wanted.is_empty(),
        "index rows without their whole values after {after} (wanted, found): {differ:?}"
    );
}

/// A server on a database that `roster seed-demo` filled with `orgs` organizations of `records`
/// records each.
pub async fn seeded_by_cli(orgs: &str, records: &str) -> TestApp {
    let store = std::sync::Arc::new(Store::new(backend()));
    let out = crate::cli::roster(
        &store,
        &["seed-demo", "--organizations", orgs, "--records", records],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    TestApp::spawn_on(store.clone(), |_| {}).await
}

#[tokio::test]
async fn seed_demo_writes_the_index_values_and_counts_the_form_would() {
    let app = seeded_by_cli("40", "6").await;
    assert_values_indexed(&app, "seed-demo").await;
    assert_counts_right(&app, "seed-demo").await;
    let indexed: i64 = app.db(|c| st::table.count().get_result(c).unwrap()).await;
    assert_eq!(indexed, 40 + 40 * 6);
}

/// A seed of more than one bulk transaction leaves the search finding what it wrote in the last
/// one, on PostgreSQL the search's trigram index with its own pending-list limit (the bulk path
/// raises it for each of its transactions and puts it back before the commit), on SQLite both
/// trigram tables merged into one segment.
#[tokio::test]
async fn seed_demo_is_searchable_and_leaves_the_trigram_index_settings_as_they_were() {
    #[derive(QueryableByName)]
    struct Options {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        options: Option<String>,
    }
    let app = seeded_by_cli("2500", "0").await;
    assert_counts_right(&app, "a seed of two transactions").await;
    let (last, options) = app
        .db(|c| {
            use roster::db::schema::organizations as o;
            let last: String = o::table
                .order_by(o::id.desc())
                .select(o::short_name)
                .first(c)
                .unwrap();
            let options = match backend() {
                crate::support::Backend::Postgres => {
                    diesel::sql_query(
                        "SELECT array_to_string(reloptions, ',') AS options FROM pg_class \
                     WHERE relname = 'search_terms_trgm'",
                    )
                    .get_result::<Options>(c)
                    .unwrap()
                    .options
                }
                // Segments of the trigram tables (the list's, the search's): merged into one
                // each once the bulk writes are done.
                crate::support::Backend::Sqlite => {
                    diesel::sql_query(
                        "SELECT (SELECT count(DISTINCT segid) FROM organizations_fts_idx) \
                         || ',' || (SELECT count(DISTINCT segid) FROM search_terms_fts_idx) \
                         AS options",
                    )
                    .get_result::<Options>(c)
                    .unwrap()
                    .options
                }
            };
            (last, options)
        })
        .await;
    match backend() {
        crate::support::Backend::Postgres => {
            assert_eq!(options.as_deref(), Some("gin_pending_list_limit=64"));
        }
        crate::support::Backend::Sqlite => assert_eq!(options.as_deref(), Some("1,1")),
    }
    let admin = app.login_as(roster::auth::Role::Administrator).await;
    let page = admin.get(&format!("/search?q={last}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&last), "{last} not found: {}", page.body);
}
