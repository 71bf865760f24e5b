//! Preview sync (issue 16 item 2), against both doubles: a preview writes nothing and its numbers
//! are those of the load that applies it; a PSA that fails half-way makes an incomplete preview
//! that cannot be applied; Apply after the PSA changed is refused; one preview at a time; a
//! mapping previewed before it is saved.

use std::time::Duration;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{jobs, organizations, psa_loads, psa_previews, psa_type_map};

use crate::psa::{autotask_form, customer_id, post_owned, spawn_without_worker, sync_now};
use crate::psa_doubles::ConnectWiseDouble;
use crate::psa_exclusions::{live_named, set_up};
use crate::support::{Client, TestApp};

/// Every live organization: (name, short name, PSA company, orphaned).
async fn snapshot(app: &TestApp) -> Vec<(String, String, Option<String>, bool)> {
    app.db(|c| {
        organizations::table
            .filter(organizations::deleted_at.is_null())
            .order_by(organizations::id)
            .select((
                organizations::name,
                organizations::short_name,
                organizations::psa_company_id,
                organizations::orphaned_at.is_not_null(),
            ))
            .load(c)
            .unwrap()
    })
    .await
}

/// Sync now, then wait until no data load is queued or running (saving the settings makes the
/// scheduler queue one, which may come after Sync now's).
pub(crate) async fn sync_and_settle(app: &TestApp, client: &Client) {
    sync_now(app, client).await;
    for _ in 0..400 {
        let pending: i64 = app
            .db(|c| {
                jobs::table
                    .filter(jobs::kind.eq(roster::psa::sync::KIND))
                    .filter(jobs::state.eq_any(["queued", "running"]))
                    .count()
                    .get_result(c)
                    .unwrap()
            })
            .await;
        if pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("data loads kept running");
}

async fn preview_state(app: &TestApp, id: i64) -> String {
    app.db(move |c| {
        psa_previews::table
            .find(id)
            .select(psa_previews::state)
            .first(c)
            .unwrap()
    })
    .await
}

/// Waits until preview `id` leaves the states `busy`; returns the state it reached.
async fn settled(app: &TestApp, id: i64, busy: &[&str]) -> String {
    for _ in 0..400 {
        let state = preview_state(app, id).await;
        if !busy.contains(&state.as_str()) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("preview {id} did not settle");
}

fn preview_id(location: &str) -> i64 {
    location
        .strip_prefix("/settings/psa/previews/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a preview's page: {location}"))
}

/// Preview sync from the settings page (or with `fields` of the mapping form); waits until it
/// is made and returns its id.
async fn preview(app: &TestApp, client: &Client, fields: &[(&str, &str)]) -> i64 {
    let res = client.post("/settings/psa/preview", fields).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let id = preview_id(res.location());
    settled(app, id, &["queued", "running"]).await;
    id
}

/// Apply these changes; waits for the load and returns the preview's state after it.
async fn apply(app: &TestApp, client: &Client, id: i64) -> String {
    let res = client
        .post(&format!("/settings/psa/previews/{id}/apply"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    settled(app, id, &["applying"]).await
}

/// (created, matched, updated, orphaned, failed) of a preview, as the data loads count them.
async fn previewed(app: &TestApp, id: i64) -> (i32, i32, i32, i32, i32) {
    app.db(move |c| {
        let (created, linked, updated, unchanged, orphaned, same_name): (
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
        ) = psa_previews::table
            .find(id)
            .select((
                psa_previews::created,
                psa_previews::linked,
                psa_previews::updated,
                psa_previews::unchanged,
                psa_previews::orphaned,
                psa_previews::same_name,
            ))
            .first(c)
            .unwrap();
        (created, linked + unchanged, updated, orphaned, same_name)
    })
    .await
}

/// (created, matched, updated, orphaned, failed) of the last data load.
async fn last_load(app: &TestApp) -> (i32, i32, i32, i32, i32) {
    app.db(|c| {
        psa_loads::table
            .order_by(psa_loads::id.desc())
            .select((
                psa_loads::created,
                psa_loads::matched,
                psa_loads::updated,
                psa_loads::orphaned,
                psa_loads::failed,
            ))
            .first(c)
            .unwrap()
    })
    .await
}

async fn loads(app: &TestApp) -> i64 {
    app.db(|c| psa_loads::table.count().get_result(c).unwrap())
        .await
}

async fn a_preview_writes_nothing_and_apply_does_what_it_said(connectwise: bool) {
    let (double, app, manager) = set_up(connectwise).await;
    let fabrikam = double.add("Fabrikam");
    let gone = double.add("Tailspin");
    sync_and_settle(&app, &manager).await;
    // Each decision once: renamed in the PSA (update), an organization of the same name (link),
    // new (create), gone from the PSA (orphan), unchanged, two companies of one name.
    double.rename(fabrikam, "Fabrikam Inc");
    double.remove(gone);
    app.add_org("Contoso", None).await;
    double.add("Contoso");
    double.add("Northwind");
    double.add("Litware");
    double.add("Litware");
    let before = snapshot(&app).await;
    let loads_before = loads(&app).await;

    let id = preview(&app, &manager, &[]).await;
    assert_eq!(preview_state(&app, id).await, "done");
    assert_eq!(snapshot(&app).await, before, "a preview writes nothing");
    assert_eq!(loads(&app).await, loads_before, "and is no data load");
    let numbers = previewed(&app, id).await;
    assert_eq!(
        numbers,
        (2, 1, 1, 1, 1),
        "Northwind and Litware created, Contoso linked"
    );

    let page = manager.get(&format!("/settings/psa/previews/{id}")).await;
    assert_eq!(page.status, 200);
    for text in [
        "Apply these changes",
        "name \u{201c}Fabrikam\u{201d} \u{2192} \u{201c}Fabrikam Inc\u{201d}",
        "Linked to",
        "The company is no longer in",
        "has the same name as company",
    ] {
        assert!(page.body.contains(text), "{text:?} in {}", page.body);
    }
    // Filtered: only the orphans.
    let orphans = manager
        .get(&format!("/settings/psa/previews/{id}?show=orphan"))
        .await
        .body;
    assert!(orphans.contains("Tailspin"), "{orphans}");
    assert!(!orphans.contains("Northwind"), "{orphans}");

    assert_eq!(apply(&app, &manager, id).await, "applied");
    assert_eq!(
        last_load(&app).await,
        numbers,
        "the load did what the preview said"
    );
    assert_eq!(live_named(&app, "Fabrikam Inc").await.len(), 1);
    assert_eq!(live_named(&app, "Northwind").await.len(), 1);
    let contoso = live_named(&app, "Contoso").await;
    assert_eq!(contoso.len(), 1, "linked, not created: {contoso:?}");
    assert!(contoso[0].1.is_some());
    let page = manager
        .get(&format!("/settings/psa/previews/{id}"))
        .await
        .body;
    assert!(page.contains("Applied."), "{page}");
    assert!(!page.contains("id=\"apply-preview\""), "{page}");

    // The next load finds nothing to do, as a new preview says.
    let again = preview(&app, &manager, &[]).await;
    assert_eq!(previewed(&app, again).await, (0, 4, 0, 0, 1));
}

#[tokio::test]
async fn connectwise_a_preview_writes_nothing_and_apply_does_what_it_said() {
    a_preview_writes_nothing_and_apply_does_what_it_said(true).await;
}

#[tokio::test]
async fn autotask_a_preview_writes_nothing_and_apply_does_what_it_said() {
    a_preview_writes_nothing_and_apply_does_what_it_said(false).await;
}

async fn a_psa_that_fails_half_way_makes_an_incomplete_preview(connectwise: bool) {
    let (double, app, manager) = set_up(connectwise).await;
    sync_and_settle(&app, &manager).await;
    for name in ["Alpha", "Bravo", "Charlie"] {
        double.add(name);
    }
    double.set_page_size(1);
    double.fail_page(2, 503);
    let id = preview(&app, &manager, &[]).await;
    assert_eq!(preview_state(&app, id).await, "incomplete");
    let page = manager
        .get(&format!("/settings/psa/previews/{id}"))
        .await
        .body;
    assert!(page.contains("Incomplete."), "{page}");
    assert!(page.contains("1 companies were read"), "{page}");
    assert!(page.contains("503"), "{page}");
    assert!(!page.contains("Apply these changes"), "{page}");
    assert!(page.contains("Preview again"), "{page}");
    // Apply is refused all the same, and no load is queued.
    let loads_before = loads(&app).await;
    let res = manager
        .post(&format!("/settings/psa/previews/{id}/apply"), &[])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(preview_state(&app, id).await, "incomplete");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(loads(&app).await, loads_before);
    assert!(snapshot(&app).await.is_empty());
}

#[tokio::test]
async fn connectwise_a_psa_that_fails_half_way_makes_an_incomplete_preview() {
    a_psa_that_fails_half_way_makes_an_incomplete_preview(true).await;
}

#[tokio::test]
async fn autotask_a_psa_that_fails_half_way_makes_an_incomplete_preview() {
    a_psa_that_fails_half_way_makes_an_incomplete_preview(false).await;
}

async fn apply_after_the_psa_changed_is_refused(connectwise: bool) {
    let (double, app, manager) = set_up(connectwise).await;
    sync_and_settle(&app, &manager).await;
    let northwind = double.add("Northwind");
    let id = preview(&app, &manager, &[]).await;
    assert_eq!(previewed(&app, id).await.0, 1);
    double.rename(northwind, "Northwind Traders");
    assert_eq!(apply(&app, &manager, id).await, "stale");
    assert!(snapshot(&app).await.is_empty(), "nothing applied");
    let page = manager
        .get(&format!("/settings/psa/previews/{id}"))
        .await
        .body;
    assert!(page.contains("The PSA changed since the preview"), "{page}");
    assert!(page.contains("id=\"preview-again\""), "{page}");
    assert!(!page.contains("id=\"apply-preview\""), "{page}");
    // Preview again, then Apply: the company as it is now.
    let again = preview(&app, &manager, &[]).await;
    assert_eq!(previewed(&app, again).await.0, 1);
    assert_eq!(apply(&app, &manager, again).await, "applied");
    assert_eq!(
        live_named(&app, "Northwind Traders").await.len(),
        1,
        "{:?}",
        snapshot(&app).await
    );
}

#[tokio::test]
async fn connectwise_apply_after_the_psa_changed_is_refused() {
    apply_after_the_psa_changed_is_refused(true).await;
}

#[tokio::test]
async fn autotask_apply_after_the_psa_changed_is_refused() {
    apply_after_the_psa_changed_is_refused(false).await;
}

/// While a preview is being made (here: no worker, so it waits), a second is refused with a
/// message and a link to the first.
#[tokio::test]
async fn a_second_preview_while_one_is_made_is_refused() {
    let app = spawn_without_worker().await;
    let manager = app.login_as(Role::Manager).await;
    let at = crate::psa_doubles::AutotaskDouble::start();
    let res = post_owned(&manager, "/settings/psa", &autotask_form(&at, "one_way")).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let first = manager.post("/settings/psa/preview", &[]).await;
    assert_eq!(first.status, 303);
    let second = manager.post("/settings/psa/preview", &[]).await;
    assert_eq!(second.status, 303);
    assert_eq!(second.location(), first.location(), "back to the first");
    let page = manager.get(second.location()).await.body;
    assert!(page.contains("A preview is already being made"), "{page}");
    assert!(page.contains("Waiting to start"), "{page}");
    let previews: i64 = app
        .db(|c| psa_previews::table.count().get_result(c).unwrap())
        .await;
    assert_eq!(previews, 1);
}

/// The mapping form's Preview: the unsaved mapping is previewed (nothing saved); Apply saves it.
#[tokio::test]
async fn a_mapping_is_previewed_before_it_is_saved() {
    let app = crate::psa::spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let cw = ConnectWiseDouble::start();
    let res = post_owned(
        &manager,
        "/settings/psa",
        &crate::psa::connectwise_form(&cw, "one_way"),
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    sync_and_settle(&app, &manager).await;
    cw.add_company("Fabrikam", "Fabrikam", "Client", "Active");
    // With the saved mapping, "Client" means no Roster type: nothing syncs.
    let saved = preview(&app, &manager, &[]).await;
    assert_eq!(previewed(&app, saved).await, (0, 0, 0, 0, 0));

    let field = format!("type_{}", customer_id(&app).await);
    let typed = [(field.as_str(), "Client"), ("with_mapping", "1")];
    let id = preview(&app, &manager, &typed).await;
    assert_eq!(previewed(&app, id).await, (1, 0, 0, 0, 0));
    let page = manager
        .get(&format!("/settings/psa/previews/{id}"))
        .await
        .body;
    assert!(page.contains("not saved"), "{page}");
    let mapped: i64 = app
        .db(|c| psa_type_map::table.count().get_result(c).unwrap())
        .await;
    assert_eq!(mapped, 0, "the previewed mapping is not saved");

    // A mapping with an error is not previewed.
    let bad = [(field.as_str(), "Client, client"), ("with_mapping", "1")];
    let res = manager.post("/settings/psa/preview", &bad).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/settings/psa");

    assert_eq!(apply(&app, &manager, id).await, "applied");
    assert_eq!(live_named(&app, "Fabrikam").await.len(), 1);
    let mapped: i64 = app
        .db(|c| psa_type_map::table.count().get_result(c).unwrap())
        .await;
    assert_eq!(mapped, 1, "Apply saved the previewed mapping");
}
