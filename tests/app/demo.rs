//! seed-demo and the bulk path it shares with an import (`orgs::bulk`): what they write is what
//! the form writes, on both backends: every index row with its whole values (`search_values`),
//! and the maintained counts equal to `count(*)`.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use roster::db::schema::{search_terms as st, search_values as sv};

use crate::org_counts::assert_counts_right;
use crate::support::{Store, TestApp, backend};

/// Every row of the index has exactly the whole values of its `terms` in `search_values` (the
/// distinct lines, none empty or longer than a search), as `search::index::insert_many` writes.
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
