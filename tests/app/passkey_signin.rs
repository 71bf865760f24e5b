//! The passkey at the second sign-in step over HTTP: the routes need this browser's pending
//! sign-in and the CSRF token; a wrong challenge, an unknown credential or another user's is
//! refused with nobody signed in, and each refusal counts toward the sign-in lock.

use diesel::prelude::*;
use roster::db::schema::{sessions, users};

use crate::passkeys::{editor, error_of, register};
use crate::soft_key::{SoftKey, challenge_of};
use crate::support::{Client, PASSWORD, TestApp, csrf_in};

const SESSION: &str = "__Host-roster-session";

/// A fresh browser past the password step of `email`; returns it with its CSRF token.
async fn at_second_step(app: &TestApp, email: &str) -> (Client, String) {
    let client = app.client();
    let res = client.login(email, PASSWORD).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/sign-in/verify");
    let page = client.get("/sign-in/verify").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Use a passkey"), "{}", page.body);
    let token = csrf_in(&page.body);
    (client, token)
}

async fn sign_in_options(client: &Client, token: &str) -> String {
    let res = client
        .post_raw("/sign-in/passkey/options", &[("csrf_token", token)])
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body
}

async fn sessions_of(app: &TestApp, email: &str) -> i64 {
    let email = email.to_owned();
    app.db(move |c| {
        sessions::table
            .inner_join(users::table)
            .filter(users::email.eq(email))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn passkey_sign_in_needs_a_pending_sign_in_and_the_token() {
    let app = TestApp::spawn_localhost().await;
    let (client, email) = editor(&app, "wes").await;
    register(&app, &client, &SoftKey::new(), "Key").await;

    let stranger = app.client();
    let token = stranger.csrf().await;
    let res = stranger
        .post_raw("/sign-in/passkey/options", &[("csrf_token", &token)])
        .await;
    assert_eq!(res.status, 403);
    assert!(error_of(&res.body).contains("Sign in again"));
    let answer = SoftKey::new().assertion("AAAA", &app.base);
    let res = stranger
        .post_json("/sign-in/passkey", Some(&token), &answer)
        .await;
    assert_eq!(res.status, 403);

    // Signed in is not a pending sign-in either.
    let token = client.csrf().await;
    let res = client
        .post_raw("/sign-in/passkey/options", &[("csrf_token", &token)])
        .await;
    assert_eq!(res.status, 403);

    let (browser, token) = at_second_step(&app, &email).await;
    let res = browser.post_raw("/sign-in/passkey/options", &[]).await;
    assert_eq!(res.status, 403, "no CSRF token");
    let challenge = challenge_of(&sign_in_options(&browser, &token).await);
    let answer = SoftKey::new().assertion(&challenge, &app.base);
    for given in [None, Some("forged")] {
        let res = browser.post_json("/sign-in/passkey", given, &answer).await;
        assert_eq!(res.status, 403, "token {given:?}");
    }
    assert_eq!(browser.cookie(SESSION), None);
    assert_eq!(
        sessions_of(&app, &email).await,
        1,
        "only the registering one"
    );
}

#[tokio::test]
async fn a_wrong_challenge_an_unknown_or_anothers_credential_signs_nobody_in_and_counts() {
    let app = TestApp::spawn_localhost_with(|s| s.login_max_failures = Some(4)).await;
    let (alice, alice_email) = editor(&app, "alice").await;
    let (bob, _) = editor(&app, "bob").await;
    let alice_key = SoftKey::new();
    let bob_key = SoftKey::new();
    register(&app, &alice, &alice_key, "Alice's key").await;
    register(&app, &bob, &bob_key, "Bob's key").await;

    let (browser, token) = at_second_step(&app, &alice_email).await;
    let options = sign_in_options(&browser, &token).await;
    assert!(options.contains(&alice_key.id_text()), "{options}");
    assert!(
        !options.contains(&bob_key.id_text()),
        "only Alice's passkeys"
    );
    let stranger = SoftKey::new();
    let wrong = crate::soft_key::b64(b"not the server's challenge");
    for what in [
        "another user's credential",
        "an unknown credential",
        "a wrong challenge",
        "a bad signature",
    ] {
        let challenge = challenge_of(&sign_in_options(&browser, &token).await);
        let answer = match what {
            "another user's credential" => bob_key.assertion(&challenge, &app.base),
            "an unknown credential" => stranger.assertion(&challenge, &app.base),
            "a wrong challenge" => alice_key.assertion(&wrong, &app.base),
            _ => alice_key.assertion(&challenge, &app.base),
        };
        let res = browser
            .post_json("/sign-in/passkey", Some(&token), &answer)
            .await;
        assert_eq!(res.status, 401, "{what}: {}", res.body);
        assert!(
            error_of(&res.body).contains("did not sign you in"),
            "{what}"
        );
        assert_eq!(browser.cookie(SESSION), None, "{what}");
    }
    // Four failures lock the account from here, whatever comes next.
    let challenge = challenge_of(&sign_in_options(&browser, &token).await);
    let answer = alice_key.assertion(&challenge, &app.base);
    let res = browser
        .post_json("/sign-in/passkey", Some(&token), &answer)
        .await;
    assert_eq!(res.status, 429, "the lock: {}", res.body);
    assert_eq!(browser.cookie(SESSION), None);
    assert_eq!(
        sessions_of(&app, &alice_email).await,
        1,
        "only the registering one"
    );
}

#[tokio::test]
async fn under_the_policy_a_passkey_is_enrolled_inside_the_pending_sign_in() {
    let app = TestApp::spawn_localhost().await;
    let admin = app.seed_admin().await;
    app.db(move |c| roster::auth::two_factor::policy::set(c, &admin, true).unwrap())
        .await;
    let email = app.add_user(roster::auth::Role::Editor, "xan").await;
    let browser = app.client();
    let res = browser.login(&email, PASSWORD).await;
    assert_eq!(res.location(), "/sign-in/enrol");
    let page = browser.get("/sign-in/enrol").await;
    assert!(page.body.contains("Add a passkey"), "{}", page.body);
    let token = csrf_in(&page.body);

    let stranger = app.client();
    let stranger_token = stranger.csrf().await;
    let res = stranger
        .post_raw(
            "/sign-in/enrol/passkey/options",
            &[("csrf_token", &stranger_token), ("passkey_name", "Key")],
        )
        .await;
    assert_eq!(res.status, 403, "no pending sign-in");
    let res = browser
        .post_raw("/sign-in/passkey/options", &[("csrf_token", &token)])
        .await;
    assert_eq!(res.status, 403, "enrolment is not the second step");

    let res = browser
        .post_raw(
            "/sign-in/enrol/passkey/options",
            &[("csrf_token", &token), ("passkey_name", "First key")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let answer = SoftKey::new().attestation(&challenge_of(&res.body), &app.base);
    let res = browser
        .post_json("/sign-in/enrol/passkey", None, &answer)
        .await;
    assert_eq!(res.status, 403, "no token");
    assert_eq!(browser.cookie(SESSION), None);
    let res = browser
        .post_json("/sign-in/enrol/passkey", Some(&token), &answer)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let next: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert!(next["redirect"].as_str().unwrap().starts_with('/'));
    assert_eq!(next["codes"].as_array().unwrap().len(), 10);
    assert!(browser.cookie(SESSION).is_some(), "signed in");
    assert_eq!(sessions_of(&app, &email).await, 1);
    assert_eq!(
        crate::passkeys::passkeys_of(&app, &email).await,
        ["First key"]
    );

    // Replayed from another browser: refused, nobody else signed in.
    let again = app.client();
    let res = again
        .post_json("/sign-in/enrol/passkey", Some(&token), &answer)
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(sessions_of(&app, &email).await, 1);
}
