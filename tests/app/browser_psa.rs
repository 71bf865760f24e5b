//! Issue 16's PSA checks in headless Chromium, against both doubles: Disable sync, a load,
//! Delete, a load: gone and still gone, the company untouched in the PSA; the excluded list and
//! Include again; then Preview sync and Apply these changes. (The merge of "Fabrikam" and
//! "Fabrikam Inc", then Restore, is `org_merge_browser.rs`.)

use std::time::Duration;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::psa_loads;

use crate::browser::Browser;
use crate::psa::org_named;
use crate::psa_exclusions::{live_named, set_up};
use crate::psa_preview::sync_and_settle;
use crate::support::TestApp;

async fn finished_loads(app: &TestApp) -> i64 {
    app.db(|c| {
        psa_loads::table
            .filter(psa_loads::finished_at.is_not_null())
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// Clicks Sync now on the settings page and waits until that load is finished.
async fn sync_now(browser: &Browser, app: &TestApp) {
    let before = finished_loads(app).await;
    browser
        .driver
        .goto(format!("{}/settings/psa", app.base))
        .await
        .unwrap();
    browser.submit("#sync-now").await;
    browser
        .wait_for("/settings/psa", "The data load has started")
        .await;
    for _ in 0..200 {
        if finished_loads(app).await > before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the data load did not finish");
}

/// Waits (up to twenty seconds, the page refreshing itself) until the page shows `text`.
async fn wait_for_text(browser: &Browser, text: &str) {
    for _ in 0..200 {
        if browser.text().await.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {text:?}, found:\n{}", browser.text().await);
}

async fn disable_delete_include_preview_apply(connectwise: bool) {
    let (double, app, manager) = set_up(connectwise).await;
    sync_and_settle(&app, &manager).await;
    let email = app.add_user(Role::Manager, "psa-browser").await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    let company = double.add("Fabrikam");
    sync_now(&browser, &app).await;
    let (org, linked, _) = org_named(&app, "Fabrikam").await.expect("brought over");
    assert_eq!(linked, Some(company.to_string()));

    // Disable sync, a load: not linked again.
    browser
        .driver
        .goto(format!("{}/organizations/{org}/edit", app.base))
        .await
        .unwrap();
    browser.submit("#disable-sync").await;
    wait_for_text(&browser, "Fabrikam").await;
    sync_now(&browser, &app).await;
    assert_eq!(live_named(&app, "Fabrikam").await, vec![(org, None)]);

    // Delete, a load: gone, and still gone; the company is untouched in the PSA.
    browser
        .driver
        .goto(format!("{}/organizations/{org}/delete", app.base))
        .await
        .unwrap();
    browser.fill("confirm_name", "Fabrikam").await;
    browser.submit("#confirm-delete").await;
    for _ in 0..100 {
        if live_named(&app, "Fabrikam").await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(live_named(&app, "Fabrikam").await.is_empty(), "gone");
    sync_now(&browser, &app).await;
    assert!(live_named(&app, "Fabrikam").await.is_empty(), "still gone");
    assert_eq!(double.has(company).as_deref(), Some("Fabrikam"));

    // The excluded list, and Include again.
    let text = browser.text().await;
    assert!(text.contains("Excluded companies"), "{text}");
    assert!(text.contains(&format!("(company {company})")), "{text}");
    assert!(text.contains(&email), "who excluded it: {text}");
    browser.submit("button.include-again").await;
    browser.wait_for("/settings/psa", "is included again").await;
    assert!(browser.text().await.contains("No excluded company."));

    // Preview sync: it would bring Fabrikam back; nothing changes until Apply.
    browser.submit("#preview-sync").await;
    wait_for_text(&browser, "Apply these changes").await;
    assert!(browser.path().await.starts_with("/settings/psa/previews/"));
    let text = browser.text().await;
    assert!(text.contains("1 created"), "{text}");
    assert!(
        live_named(&app, "Fabrikam").await.is_empty(),
        "a preview writes nothing"
    );
    browser.submit("#apply-preview").await;
    wait_for_text(&browser, "Applied.").await;
    let text = browser.text().await;
    assert!(text.contains("1 created, 0 matched"), "{text}");
    let back = live_named(&app, "Fabrikam").await;
    assert_eq!(back.len(), 1, "{back:?}");
    assert_eq!(back[0].1, Some(company.to_string()));
    browser.stop().await;
}

#[tokio::test]
async fn connectwise_disable_delete_include_preview_and_apply_in_a_browser() {
    disable_delete_include_preview_apply(true).await;
}

#[tokio::test]
async fn autotask_disable_delete_include_preview_and_apply_in_a_browser() {
    disable_delete_include_preview_apply(false).await;
}
