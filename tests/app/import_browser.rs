//! Issue 15 in Chromium: Manage Data > Import (upload the synthetic export, read the preview's
//! numbers, apply, follow the progress to the report, open an imported organization) and Manage
//! Data > Export (start it, wait for the job, find the download link).

use std::time::Duration;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::organizations as o;
use thirtyfour::prelude::*;

use crate::browser::Browser;
use crate::itglue_export as export;
use crate::support::TestApp;

/// The cells of each row of the table `css`, joined by spaces.
async fn table_rows(browser: &Browser, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for row in browser
        .driver
        .find_all(By::Css(format!("{css} tbody tr")))
        .await
        .unwrap()
    {
        let mut cells = Vec::new();
        for cell in row.find_all(By::Tag("td")).await.unwrap() {
            cells.push(cell.text().await.unwrap());
        }
        out.push(cells.join(" "));
    }
    out
}

/// Waits (up to a minute: the job pages refresh themselves every two seconds) until the page
/// shows `text`.
async fn wait_long(browser: &Browser, text: &str) {
    for _ in 0..600 {
        if browser.text().await.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "expected {text:?} at {}, found:\n{}",
        browser.path().await,
        browser.text().await
    );
}

#[tokio::test]
async fn import_an_export_in_a_browser() {
    // Small batches and a slow worker: the job's page is seen before the import ends.
    let app = TestApp::spawn_with(|s| {
        s.job_poll_ms = Some(1500);
        s.import_batch_rows = Some(20);
    })
    .await;
    let email = app.add_user(Role::Administrator, "mover").await;
    let dir = tempfile::tempdir().unwrap();
    let zip = export::write_zip(&dir.path().join("itglue-export.zip"), None, &[]);
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    browser
        .driver
        .goto(format!("{}/manage-data/import", app.base))
        .await
        .unwrap();
    browser
        .wait_for("/manage-data/import", "Import an IT Glue export")
        .await;
    browser
        .driver
        .find(By::Id("import-file"))
        .await
        .unwrap()
        .send_keys(zip.display().to_string())
        .await
        .unwrap();
    browser.submit("#import-form button[type=submit]").await;
    browser
        .wait_for_prefix("/manage-data/import/", "What the import will do")
        .await;
    let files = table_rows(&browser, "#preview-files").await;
    for expected in [
        "organizations.csv 120 0 0",
        "contacts.csv 236 0 4",
        "passwords.csv 118 0 2",
    ] {
        assert!(files.iter().any(|r| r == expected), "{expected}: {files:?}");
    }
    assert!(browser.text().await.contains("Prospect Partner"));
    assert_eq!(app.org_count().await, 0, "the preview wrote nothing");

    browser.submit("#apply-confirm").await;
    browser.submit("#apply").await;
    browser
        .wait_for_prefix("/manage-data/import/jobs/", "Import")
        .await;
    let progress = browser.driver.find(By::Id("import-progress")).await;
    let state = browser.text().await;
    assert!(
        progress.is_ok() && state.contains("Importing"),
        "no progress bar while the import runs:\n{state}"
    );
    wait_long(&browser, "Done:").await;
    let done = browser.text().await;
    assert!(done.contains("592 created"), "{done}");
    let report = browser.driver.find(By::Id("import-report")).await.unwrap();
    let report = report.text().await.unwrap();
    assert!(
        report.contains("2 organizations of the export are named"),
        "{report}"
    );
    assert_eq!(app.org_count().await, 120);

    let id: i64 = app
        .db(|c| {
            o::table
                .filter(o::name.eq("Org 007"))
                .select(o::id)
                .first(c)
                .unwrap()
        })
        .await;
    browser
        .driver
        .goto(format!("{}/organizations?q=Org+007", app.base))
        .await
        .unwrap();
    browser
        .submit(&format!("a[href='/organizations/{id}']"))
        .await;
    browser
        .wait_for(&format!("/organizations/{id}"), "Line one of 7")
        .await;
    browser.stop().await;
}

#[tokio::test]
async fn export_everything_in_a_browser() {
    let app = TestApp::spawn_with(|s| s.job_poll_ms = Some(50)).await;
    crate::export::seed(&app).await;
    let email = app.add_user(Role::Administrator, "leaver").await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    browser
        .driver
        .goto(format!("{}/manage-data/export", app.base))
        .await
        .unwrap();
    browser
        .wait_for("/manage-data/export", "Export everything")
        .await;
    browser.submit("#export-form button[type=submit]").await;
    browser
        .wait_for_prefix("/manage-data/export/jobs/", "without passwords")
        .await;
    wait_long(&browser, "Ready:").await;
    let link = browser
        .driver
        .find(By::Id("export-download"))
        .await
        .unwrap();
    let href = link.attr("href").await.unwrap().unwrap_or_default();
    let job = browser.path().await;
    assert!(
        href.ends_with(&format!("{job}/download")),
        "{href} on {job}"
    );
    browser.stop().await;
}
