//! Passkeys in headless Chromium with ChromeDriver's virtual authenticator (WebDriver's WebAuthn
//! extension): the app is reached at http://localhost:PORT, since WebAuthn needs a host name.

use std::sync::Arc;

use roster::auth::Role;
use serde_json::{Value, json};
use thirtyfour::common::command::{Command, ExtensionCommand};
use thirtyfour::prelude::*;

use crate::browser::Browser;
use crate::support::TestApp;

/// `POST /session/{id}/webauthn/authenticator`: a platform authenticator that verifies its user.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl ExtensionCommand for AddVirtualAuthenticator {
    fn parameters_json(&self) -> Option<Value> {
        Some(json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        }))
    }

    fn method(&self) -> reqwest::Method {
        reqwest::Method::POST
    }

    fn endpoint(&self) -> Arc<str> {
        Arc::from("/webauthn/authenticator")
    }
}

impl Browser {
    pub async fn add_virtual_authenticator(&self) {
        let command = Command::ExtensionCommand(Box::new(AddVirtualAuthenticator));
        self.driver.cmd(command).await.unwrap();
    }
}

pub async fn passkey_count(app: &TestApp, email: &str) -> i64 {
    let email = email.to_owned();
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::{passkeys, users};
        passkeys::table
            .inner_join(users::table)
            .filter(users::email.eq(email))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// Enrols a passkey named `name` on My account and waits for it to be listed; returns the
/// recovery codes shown once (a first factor), if any.
pub async fn enrol(browser: &Browser, app: &TestApp, name: &str) -> Vec<String> {
    browser
        .driver
        .goto(format!("{}/account", app.base))
        .await
        .unwrap();
    browser.fill("passkey_name", name).await;
    browser.submit("#add-passkey:enabled").await;
    let added = format!("The passkey {name} is added.");
    let mut codes = Vec::new();
    for _ in 0..100 {
        let shown = browser.driver.find(By::Css("#codes-saved")).await;
        let visible = match &shown {
            Ok(link) => link.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        };
        if let (true, Ok(link)) = (visible, shown) {
            for code in browser
                .driver
                .find_all(By::Css("code.recovery-code"))
                .await
                .unwrap()
            {
                codes.push(code.text().await.unwrap());
            }
            link.click().await.unwrap();
            break;
        }
        if browser.text().await.contains(&added) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    browser.wait_for("/account", &added).await;
    codes
}

#[tokio::test]
async fn enrol_a_passkey_sign_in_with_it_and_remove_it_in_a_browser() {
    let app = TestApp::spawn_localhost().await;
    let email = app.add_user(Role::Editor, "pia").await;
    let browser = Browser::start().await;
    browser.add_virtual_authenticator().await;
    browser.sign_in(&app, &email).await;

    let codes = enrol(&browser, &app, "Laptop key").await;
    assert_eq!(codes.len(), 10, "a first factor brings recovery codes");
    let row = browser
        .driver
        .find(By::Css("#passkey-list tr.passkey"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("Laptop key") && row.contains("never"), "{row}");
    assert_eq!(passkey_count(&app, &email).await, 1);

    // Signed out, the page asked for leads through the password and the passkey, and back to it.
    browser.submit("form[action='/logout'] button").await;
    browser.wait_for("/login", "Sign in").await;
    browser
        .driver
        .goto(format!("{}/account", app.base))
        .await
        .unwrap();
    browser.wait_for("/login", "Sign in").await;
    browser.fill("email", &email).await;
    browser.fill("password", crate::support::PASSWORD).await;
    browser.submit("button[type=submit].primary").await;
    browser.wait_for("/sign-in/verify", "Use a passkey").await;
    browser.submit("#use-passkey:enabled").await;
    browser.wait_for("/account", "Laptop key").await;
    let row = browser
        .driver
        .find(By::Css("#passkey-list tr.passkey"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!row.contains("never"), "the last use is shown: {row}");
    let events = crate::passkeys::account_events(&app, &email).await;
    assert_eq!(
        events.last().map(|(action, _)| action.as_str()),
        Some("passkey.used"),
        "{events:?}"
    );

    browser.submit("#passkey-list details summary").await;
    browser.submit("#passkey-list form button").await;
    browser
        .wait_for("/account", "The passkey Laptop key is removed.")
        .await;
    assert!(browser.text().await.contains("You have no passkey yet."));
    assert_eq!(passkey_count(&app, &email).await, 0);
    browser.stop().await;
}

#[tokio::test]
async fn under_the_policy_a_new_user_enrols_a_passkey_at_sign_in_in_a_browser() {
    let app = TestApp::spawn_localhost().await;
    let admin = app.seed_admin().await;
    app.db(move |c| roster::auth::two_factor::policy::set(c, &admin, true).unwrap())
        .await;
    let email = app.add_user(Role::Editor, "nia").await;
    let browser = Browser::start().await;
    browser.add_virtual_authenticator().await;
    browser
        .driver
        .goto(format!("{}/login", app.base))
        .await
        .unwrap();
    browser.fill("email", &email).await;
    browser.fill("password", crate::support::PASSWORD).await;
    browser.submit("button[type=submit].primary").await;
    browser.wait_for("/sign-in/enrol", "Add a passkey").await;
    browser.fill("passkey_name", "Desk key").await;
    browser.submit("#add-passkey:enabled").await;
    browser
        .wait_for("/sign-in/enrol", "Your recovery codes")
        .await;
    let codes = browser
        .driver
        .find_all(By::Css("code.recovery-code"))
        .await
        .unwrap();
    assert_eq!(codes.len(), 10);
    browser.submit("#codes-saved").await;
    browser
        .wait_for("/organizations", "The passkey Desk key is added.")
        .await;
    assert_eq!(passkey_count(&app, &email).await, 1);
    browser.stop().await;
}
