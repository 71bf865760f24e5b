//! The name blocks of searches (`orgs::name_blocks`): a search sorted by name walks only the
//! stretches of the name order whose blocks may hold its text, and shows the same pages as a walk
//! over every name; a rename the server did not make (another instance's) is found at once, the
//! blocks of the old names no longer used, and again once they are built anew.

use std::time::Duration;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::organizations;
use roster::orgs::name_blocks::Stretch;

use crate::org_counts::ids_on;
use crate::org_search::{app_named, count_line, matching, pages_match};
use crate::support::{Client, TestApp};

/// Waits until the server's blocks are of the newest version it has seen (a search starts their
/// build), and returns the stretches they give for `needle`.
async fn built(app: &TestApp, client: &Client, needle: &str) -> Vec<Stretch> {
    for _ in 0..200 {
        assert_eq!(client.get("/organizations?q=warm").await.status, 200);
        if let Some(blocks) = app.lists.name_blocks() {
            return blocks.stretches(needle).expect("two characters or more");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the name blocks were not built within 10 seconds");
}

/// The key of the organization at `offset` in name order, among those not being deleted.
async fn key_at(app: &TestApp, offset: i64) -> (String, i64) {
    app.db(move |c| {
        organizations::table
            .filter(organizations::deleted_at.is_null())
            .order_by((organizations::search_text.asc(), organizations::id.asc()))
            .select((organizations::search_text, organizations::id))
            .offset(offset)
            .first(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn searches_walk_only_the_blocks_that_may_hold_their_text() {
    // Blocks of 1,000 names: "kilo quokka" lies in the second only, "zz jazz" in the third.
    let app = app_named(
        (0..1_500)
            .map(|i| format!("Alpha Company {i:04}"))
            .chain((0..120).map(|i| format!("Kilo Quokka {i:03}")))
            .chain((0..1_000).map(|i| format!("Zulu Company {i:04}")))
            .chain((0..3).map(|i| format!("Zz Jazz {i}")))
            .collect(),
    )
    .await;
    let client = app.login_as(Role::Administrator).await;
    let (second, third) = (key_at(&app, 1_000).await, key_at(&app, 2_000).await);
    assert_eq!(
        built(&app, &client, "quokka").await,
        [Stretch {
            from: Some(second.clone()),
            to: Some(third.clone()),
        }]
    );
    let blocks = app.lists.name_blocks().unwrap();
    assert_eq!(
        blocks.stretches("zz"),
        Some(vec![Stretch {
            from: Some(third.clone()),
            to: None,
        }])
    );
    assert_eq!(
        blocks.stretches("alpha"),
        Some(vec![Stretch {
            from: None,
            to: Some(third.clone()),
        }])
    );
    assert_eq!(blocks.stretches("qk"), Some(vec![]));

    pages_match(&app, &client, "quokka", 120).await;
    // Two characters: no trigram, the stretches only.
    pages_match(&app, &client, "uo", 120).await;
    let zz = client.get("/organizations?q=zz").await.body;
    assert_eq!(count_line(&zz), "3 organizations, page 1 of 2");
    assert_eq!(ids_on(&zz), matching(&app, "zz", "name").await[..2]);
    // Sorted by update, the stretches are no range of the order's index: read as before.
    let zz = client.get("/organizations?q=zz&sort=-updated").await.body;
    assert_eq!(count_line(&zz), "3 organizations, page 1 of 2");
    assert_eq!(ids_on(&zz), matching(&app, "zz", "updated").await[..2]);
    let none = client.get("/organizations?q=qk").await.body;
    assert!(
        none.contains("No organization matches &ldquo;qk&rdquo;."),
        "{none}"
    );
    assert!(ids_on(&none).is_empty());

    // Another instance renames an organization of the first block, where it stays: the blocks of
    // the old names would skip it, so they are not used; built again, they hold it.
    app.db(|c| {
        diesel::update(organizations::table.filter(organizations::name.eq("Alpha Company 0005")))
            .set((
                organizations::name.eq("Alpha Company 0005 Quokka"),
                organizations::search_text.eq("alpha company 0005 quokka\n"),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    pages_match(&app, &client, "quokka", 121).await;
    assert_eq!(
        built(&app, &client, "quokka").await,
        [Stretch {
            from: None,
            to: Some(third),
        }]
    );
    pages_match(&app, &client, "quokka", 121).await;
}
