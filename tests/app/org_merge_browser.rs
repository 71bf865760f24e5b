//! The merge of duplicate organizations in headless Chromium (issue 16 item 3): from the page of
//! "Fabrikam Inc", choose "Fabrikam", confirm, then Restore from the message.

use roster::auth::Role;

use crate::browser::Browser;
use crate::org_merge::{contact, snapshot};
use crate::support::TestApp;

#[tokio::test]
async fn merge_fabrikam_inc_into_fabrikam_and_restore_in_a_browser() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Manager, "merger").await;
    let kept = app.add_org("Fabrikam", None).await;
    let merged = app.add_org("Fabrikam Inc", None).await;
    app.add_org("Aaron Co", None).await;
    contact(&app, kept, "Kim Kept").await;
    contact(&app, merged, "Mia Merged").await;
    let before = snapshot(&app).await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    browser
        .driver
        .goto(format!("{}/organizations/{merged}", app.base))
        .await
        .unwrap();
    browser.submit("#merge-link").await;
    // The similar name is offered first, before "Aaron Co".
    browser
        .wait_for(
            &format!("/organizations/{merged}/merge"),
            "Organization to keep",
        )
        .await;
    browser.submit("#merge-next").await;
    browser
        .wait_for(
            &format!("/organizations/{merged}/merge"),
            "Merge Fabrikam Inc into Fabrikam?",
        )
        .await;
    assert!(browser.text().await.contains("1 contact"));
    browser.submit("#confirm-merge").await;
    browser
        .wait_for(
            &format!("/organizations/{kept}"),
            "Merged Fabrikam Inc into Fabrikam",
        )
        .await;
    assert!(
        browser.text().await.contains("Contacts (2)"),
        "{}",
        browser.text().await
    );
    browser.submit(".flash button.flash-action").await;
    browser
        .wait_for(
            &format!("/organizations/{merged}"),
            "Restored Fabrikam Inc.",
        )
        .await;
    assert_eq!(snapshot(&app).await, before);
    browser.stop().await;
}
