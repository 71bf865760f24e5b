//! Passkeys on My account over HTTP, with a software authenticator (`soft_key`): registration
//! needs a session and the script's CSRF header, its state belongs to one session and works
//! once, a wrong challenge or a credential already registered is refused with nothing stored,
//! and removal is scoped to one's own passkeys and to the policy.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{passkey_registrations, passkeys, users};
use serde_json::Value;

use crate::soft_key::{SoftKey, challenge_of};
use crate::support::{Client, PASSWORD, TestApp};

/// A signed-in client of a new Editor named `name`; returns it with the email.
pub async fn editor(app: &TestApp, name: &str) -> (Client, String) {
    let email = app.add_user(Role::Editor, name).await;
    let client = app.client();
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
    (client, email)
}

/// The registration options for `name` (the JSON body), after checking the status.
pub async fn options(client: &Client, name: &str) -> String {
    let res = client
        .post("/account/passkeys/options", &[("passkey_name", name)])
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body
}

/// Posts the answer `body` to the registration finish with this client's CSRF token.
pub async fn finish(client: &Client, body: &str) -> crate::support::Resp {
    let token = client.csrf().await;
    client
        .post_json("/account/passkeys", Some(&token), body)
        .await
}

/// Registers `key` as `name` for the client's user, and checks that it worked.
pub async fn register(app: &TestApp, client: &Client, key: &SoftKey, name: &str) {
    let challenge = challenge_of(&options(client, name).await);
    let res = finish(client, &key.attestation(&challenge, &app.base)).await;
    assert_eq!(res.status, 200, "{}", res.body);
}

pub async fn passkeys_of(app: &TestApp, email: &str) -> Vec<String> {
    let email = email.to_owned();
    app.db(move |c| {
        passkeys::table
            .inner_join(users::table)
            .filter(users::email.eq(email))
            .select(passkeys::name)
            .load(c)
            .unwrap()
    })
    .await
}

/// The actions of the account events about `email`'s user, oldest first.
pub async fn account_events(app: &TestApp, email: &str) -> Vec<(String, String)> {
    use roster::db::schema::audit_events as a;
    let email = email.to_owned();
    app.db(move |c| {
        let id: i64 = users::table
            .filter(users::email.eq(email))
            .select(users::id)
            .first(c)
            .unwrap();
        a::table
            .filter(a::subject_user_id.eq(id))
            .filter(a::action.like("passkey.%"))
            .order(a::id)
            .select((a::action, a::summary))
            .load(c)
            .unwrap()
    })
    .await
}

pub fn error_of(body: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    value["error"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn registration_needs_a_session_and_the_scripts_csrf_token() {
    let app = TestApp::spawn_localhost().await;
    let anonymous = app.client();
    let res = anonymous
        .post("/account/passkeys/options", &[("passkey_name", "Key")])
        .await;
    assert_eq!(res.status, 303);
    assert!(res.location().starts_with("/login"));
    let res = anonymous.post_json("/account/passkeys", None, "{}").await;
    assert_eq!(res.status, 303);

    let (client, email) = editor(&app, "rita").await;
    let res = client
        .post_raw("/account/passkeys/options", &[("passkey_name", "Key")])
        .await;
    assert_eq!(res.status, 403, "a form without its token");
    let challenge = challenge_of(&options(&client, "Key").await);
    let answer = SoftKey::new().attestation(&challenge, &app.base);
    let res = client.post_json("/account/passkeys", None, &answer).await;
    assert_eq!(res.status, 403, "no X-CSRF-Token header");
    let res = client
        .post_json("/account/passkeys", Some("forged-token"), &answer)
        .await;
    assert_eq!(res.status, 403, "a wrong X-CSRF-Token");
    let other = app.client();
    let other_token = other.csrf().await;
    let res = client
        .post_json("/account/passkeys", Some(&other_token), &answer)
        .await;
    assert_eq!(res.status, 403, "another browser's token");
    assert!(passkeys_of(&app, &email).await.is_empty());

    // The same answer with the right token is stored: the refusals were the token's.
    let res = finish(&client, &answer).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(passkeys_of(&app, &email).await, ["Key"]);
}

#[tokio::test]
async fn a_passkey_is_registered_once_with_recovery_codes_and_listed() {
    let app = TestApp::spawn_localhost().await;
    let (client, email) = editor(&app, "sam").await;
    let res = client
        .post("/account/passkeys/options", &[("passkey_name", "  ")])
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(error_of(&res.body), "This field is required.");

    let challenge = challenge_of(&options(&client, "YubiKey 5").await);
    let answer = SoftKey::new().attestation(&challenge, &app.base);
    let res = finish(&client, &answer).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let next: Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(next["redirect"], "/account");
    assert_eq!(
        next["codes"].as_array().unwrap().len(),
        10,
        "a first factor"
    );
    assert_eq!(passkeys_of(&app, &email).await, ["YubiKey 5"]);
    let page = client.get("/account").await;
    assert!(page.body.contains("The passkey YubiKey 5 is added."));
    assert!(page.body.contains("never"), "not used yet");

    // Replayed: the state was used up.
    let res = finish(&client, &answer).await;
    assert_eq!(res.status, 409);
    assert!(error_of(&res.body).contains("expired or was already used"));
    assert_eq!(passkeys_of(&app, &email).await.len(), 1);

    // A second passkey brings no new codes, and the first is excluded from its options.
    let key = SoftKey::new();
    let options = options(&client, "Phone").await;
    let first = app
        .db(|c| {
            passkeys::table
                .select(passkeys::credential_id)
                .first::<String>(c)
                .unwrap()
        })
        .await;
    assert!(options.contains(&first), "excludeCredentials: {options}");
    let res = finish(
        &client,
        &key.attestation(&challenge_of(&options), &app.base),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let next: Value = serde_json::from_str(&res.body).unwrap();
    assert!(next.get("codes").is_none());
    assert_eq!(passkeys_of(&app, &email).await.len(), 2);
}

#[tokio::test]
async fn a_registration_state_belongs_to_its_session() {
    let app = TestApp::spawn_localhost().await;
    let (first, email) = editor(&app, "tom").await;
    let second = app.client();
    assert_eq!(second.login(&email, PASSWORD).await.status, 303);

    let challenge = challenge_of(&options(&first, "Key").await);
    let answer = SoftKey::new().attestation(&challenge, &app.base);
    let res = finish(&second, &answer).await;
    assert_eq!(res.status, 409, "the other session started nothing");
    assert!(passkeys_of(&app, &email).await.is_empty());

    // The state is still the first session's.
    let res = finish(&first, &answer).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(passkeys_of(&app, &email).await.len(), 1);
}

#[tokio::test]
async fn a_wrong_challenge_or_origin_is_refused_and_uses_up_the_state() {
    let app = TestApp::spawn_localhost().await;
    let (client, email) = editor(&app, "uma").await;
    let key = SoftKey::new();

    let challenge = challenge_of(&options(&client, "Key").await);
    let wrong = crate::soft_key::b64(b"a challenge the server never made");
    let res = finish(&client, &key.attestation(&wrong, &app.base)).await;
    assert_eq!(res.status, 403);
    assert!(error_of(&res.body).contains("could not be verified"));
    let res = finish(&client, &key.attestation(&challenge, &app.base)).await;
    assert_eq!(res.status, 409, "the state went with the failed try");

    let challenge = challenge_of(&options(&client, "Key").await);
    let res = finish(
        &client,
        &key.attestation(&challenge, "http://evil.localhost:1"),
    )
    .await;
    assert_eq!(res.status, 403, "another origin");
    let res = client
        .post_json(
            "/account/passkeys",
            Some(&client.csrf().await),
            "{\"id\": \"not an answer\"}",
        )
        .await;
    assert_eq!(res.status, 400, "malformed");
    assert!(passkeys_of(&app, &email).await.is_empty());
    let left: i64 = app
        .db(|c| passkey_registrations::table.count().get_result(c).unwrap())
        .await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_credential_already_registered_is_refused() {
    let app = TestApp::spawn_localhost().await;
    let (alice, alice_email) = editor(&app, "alice").await;
    let (bob, bob_email) = editor(&app, "bob").await;
    let key = SoftKey::new();
    register(&app, &alice, &key, "Shared key").await;

    let challenge = challenge_of(&options(&bob, "Shared key").await);
    let res = finish(&bob, &key.attestation(&challenge, &app.base)).await;
    assert_eq!(res.status, 409);
    assert!(error_of(&res.body).contains("already registered"));
    assert!(passkeys_of(&app, &bob_email).await.is_empty());
    assert_eq!(passkeys_of(&app, &alice_email).await.len(), 1);
}

async fn passkey_id(app: &TestApp, email: &str) -> i64 {
    let email = email.to_owned();
    app.db(move |c| {
        passkeys::table
            .inner_join(users::table)
            .filter(users::email.eq(email))
            .select(passkeys::id)
            .order(passkeys::id)
            .first(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn removing_another_users_passkey_is_not_found() {
    let app = TestApp::spawn_localhost().await;
    let (alice, alice_email) = editor(&app, "alice").await;
    let (bob, _) = editor(&app, "bob").await;
    register(&app, &alice, &SoftKey::new(), "Alice's key").await;
    let id = passkey_id(&app, &alice_email).await;

    let res = bob
        .post(&format!("/account/passkeys/{id}/remove"), &[])
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(passkeys_of(&app, &alice_email).await.len(), 1);
    let res = alice
        .post_raw(&format!("/account/passkeys/{id}/remove"), &[])
        .await;
    assert_eq!(res.status, 403, "no CSRF token");
    assert_eq!(passkeys_of(&app, &alice_email).await.len(), 1);

    let res = alice
        .post(&format!("/account/passkeys/{id}/remove"), &[])
        .await;
    assert_eq!(res.status, 303);
    assert!(passkeys_of(&app, &alice_email).await.is_empty());
    let page = alice.get("/account").await;
    assert!(
        page.body
            .contains("The passkey Alice&#39;s key is removed.")
    );
    let events = account_events(&app, &alice_email).await;
    let expected = [
        ("passkey.added", "added the passkey Alice's key"),
        ("passkey.removed", "removed the passkey Alice's key"),
    ];
    let events: Vec<(&str, &str)> = events
        .iter()
        .map(|(a, s)| (a.as_str(), s.as_str()))
        .collect();
    assert_eq!(events, expected, "Bob's refused try left no event");
}

#[tokio::test]
async fn removing_the_last_factor_under_the_policy_is_refused() {
    let app = TestApp::spawn_localhost().await;
    let admin = app.seed_admin().await;
    let (client, email) = editor(&app, "vic").await;
    register(&app, &client, &SoftKey::new(), "Only key").await;
    register(&app, &client, &SoftKey::new(), "Spare key").await;
    app.db(move |c| roster::auth::two_factor::policy::set(c, &admin, true).unwrap())
        .await;

    let first = passkey_id(&app, &email).await;
    let res = client
        .post(&format!("/account/passkeys/{first}/remove"), &[])
        .await;
    assert_eq!(res.status, 303, "another passkey is left");
    let last = passkey_id(&app, &email).await;
    let res = client
        .post(&format!("/account/passkeys/{last}/remove"), &[])
        .await;
    assert_eq!(res.status, 409);
    assert!(res.body.contains("cannot be removed"), "{}", res.body);
    assert_eq!(passkeys_of(&app, &email).await, ["Spare key"]);
}

#[tokio::test]
async fn passkeys_are_off_with_the_reason_when_the_address_is_an_ip() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let page = client.get("/account").await;
    assert!(
        page.body
            .contains("browsers accept only a host name, not an IP address"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("id=\"add-passkey\""));
    let res = client
        .post("/account/passkeys/options", &[("passkey_name", "Key")])
        .await;
    assert_eq!(res.status, 409);
    assert!(error_of(&res.body).contains("ROSTER_BASE_URL"));

    // Passkeys added while the address was a host name stay listed and removable.
    let user: i64 = app
        .db(|c| {
            users::table
                .select(users::id)
                .order(users::id.desc())
                .first(c)
                .unwrap()
        })
        .await;
    app.db(move |c| {
        diesel::insert_into(passkeys::table)
            .values((
                passkeys::user_id.eq(user),
                passkeys::name.eq("Old key"),
                passkeys::credential_id.eq("b2xk"),
                passkeys::credential.eq("{}"),
                passkeys::created_at.eq(roster::db::now()),
            ))
            .execute(c)
            .unwrap()
    })
    .await;
    let page = client.get("/account").await;
    assert!(page.body.contains("Old key") && page.body.contains("Remove Old key"));
}
