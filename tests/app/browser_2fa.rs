//! Two-factor sign-in in Chromium: enrol an authenticator app by reading the key off the page,
//! sign in with a code and with a recovery code, and the enforced policy sending a new user to
//! enrolment.

use thirtyfour::prelude::*;

use crate::browser::Browser;
use crate::support::{PASSWORD, TestApp};
use crate::two_factor::totp_code;

async fn text_of(browser: &Browser, css: &str) -> String {
    for _ in 0..50 {
        if let Ok(element) = browser.driver.find(By::Css(css)).await {
            return element.text().await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no {css} on {}", browser.text().await);
}

async fn password_step(browser: &Browser, app: &TestApp, email: &str) {
    browser
        .driver
        .goto(format!("{}/login", app.base))
        .await
        .unwrap();
    browser.fill("email", email).await;
    browser.fill("password", PASSWORD).await;
    browser.submit("button[type=submit].primary").await;
}

async fn log_out(browser: &Browser) {
    browser.submit("form[action='/logout'] button").await;
    browser.wait_for("/login", "You have signed out").await;
}

/// Reads the key off the enrolment page, confirms it with a code; returns the key and the codes.
async fn enrol_on_page(browser: &Browser, path: &str) -> (String, Vec<String>) {
    browser.wait_for(path, "Set up an authenticator app").await;
    let secret = text_of(browser, "#totp-secret").await;
    browser.fill("code", &totp_code(&secret, 0)).await;
    browser.submit("#confirm-totp button").await;
    browser.wait_for(path, "Save these codes now").await;
    let mut codes = Vec::new();
    for element in browser
        .driver
        .find_all(By::Css(".recovery-code"))
        .await
        .unwrap()
    {
        codes.push(element.text().await.unwrap());
    }
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

#[tokio::test]
async fn enrol_then_sign_in_with_a_code_and_with_a_recovery_code() {
    let app = TestApp::spawn().await;
    let email = app
        .add_user(roster::auth::Role::Editor, "chromium-2fa")
        .await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    browser
        .driver
        .goto(format!("{}/account", app.base))
        .await
        .unwrap();
    browser.submit("#set-up-totp").await;
    let (secret, codes) = enrol_on_page(&browser, "/account/two-factor/totp").await;
    browser.submit("#codes-saved").await;
    browser
        .wait_for("/account", "On: you sign in with a code")
        .await;
    log_out(&browser).await;

    password_step(&browser, &app, &email).await;
    browser
        .wait_for("/sign-in/verify", "Two-factor sign-in")
        .await;
    browser.fill("code", &totp_code(&secret, 1)).await;
    browser.submit("#totp-form button").await;
    browser.wait_for("/organizations", "Organizations").await;
    log_out(&browser).await;

    password_step(&browser, &app, &email).await;
    browser
        .wait_for("/sign-in/verify", "Two-factor sign-in")
        .await;
    browser.submit("#use-recovery summary").await;
    browser.fill("recovery_code", &codes[0]).await;
    browser.submit("#recovery-form button").await;
    browser.wait_for("/organizations", "9 are left").await;
    browser.stop().await;
}

#[tokio::test]
async fn the_enforced_policy_sends_a_new_user_to_enrolment() {
    let app = TestApp::spawn().await;
    let admin = app
        .add_user(roster::auth::Role::Administrator, "chromium-admin")
        .await;
    let newcomer = app
        .add_user(roster::auth::Role::Editor, "chromium-new")
        .await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &admin).await;
    browser
        .driver
        .goto(format!("{}/settings/security", app.base))
        .await
        .unwrap();
    browser.submit("#require_two_factor").await;
    browser.submit("#two-factor-policy button").await;
    browser.wait_for("/settings/security", "now required").await;
    log_out(&browser).await;

    password_step(&browser, &app, &newcomer).await;
    enrol_on_page(&browser, "/sign-in/enrol").await;
    browser.submit("#codes-saved").await;
    browser.wait_for("/organizations", "Organizations").await;
    browser.stop().await;
}
