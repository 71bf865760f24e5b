//! My account: every signed-in user changes their display name and password and sees and ends
//! their own sessions (and only theirs).

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{audit_events, sessions, users};

use crate::support::{Client, PASSWORD, TestApp};

const NEW_PASSWORD: &str = "a brand new passphrase";
const FIREFOX_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) \
     AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/// An app behind a trusted proxy (loopback), so each sign-in can come from its own address.
async fn app() -> TestApp {
    TestApp::spawn_with(|s| s.trust_proxy = Some(true)).await
}

/// A new browser signed in as `email` with this User-Agent, from this client address.
async fn sign_in_from(app: &TestApp, email: &str, user_agent: &str, address: &str) -> Client {
    let client = app.client();
    let token = client.csrf().await;
    let fields = [
        ("csrf_token", token.as_str()),
        ("email", email),
        ("password", PASSWORD),
    ];
    let headers = [("user-agent", user_agent), ("x-forwarded-for", address)];
    let res = client.post_with_headers("/login", &fields, &headers).await;
    assert_eq!(res.status, 303, "sign-in failed: {}", res.body);
    client
}

/// The id of the session started from `address`.
async fn session_from(app: &TestApp, address: &str) -> i64 {
    let address = address.to_owned();
    app.db(move |c| {
        sessions::table
            .filter(sessions::client_address.eq(address))
            .select(sessions::id)
            .first(c)
            .unwrap()
    })
    .await
}

async fn session_count(app: &TestApp) -> i64 {
    app.db(|c| sessions::table.count().get_result(c).unwrap())
        .await
}

async fn audit_count(app: &TestApp, action: &'static str) -> i64 {
    app.db(move |c| {
        audit_events::table
            .filter(audit_events::action.eq(action))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

async fn password_hash(app: &TestApp, email: &str) -> String {
    let email = email.to_owned();
    app.db(move |c| {
        users::table
            .filter(users::email.eq(email))
            .select(users::password_hash)
            .first(c)
            .unwrap()
    })
    .await
}

/// Signed out: a page sends the browser to sign-in.
async fn assert_signed_out(client: &Client) {
    let res = client.get("/organizations").await;
    assert_eq!(res.status, 303);
    assert!(res.location().starts_with("/login"), "{}", res.location());
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_beside_the_field_and_nothing_changes() {
    let app = app().await;
    let email = app.add_user(Role::Editor, "ann").await;
    let me = sign_in_from(&app, &email, FIREFOX_WINDOWS, "198.51.100.1").await;
    let other = sign_in_from(&app, &email, SAFARI_IPHONE, "198.51.100.2").await;

    let fields = [
        ("current_password", "not my password at all"),
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    let res = me.post("/account/password", &fields).await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("id=\"current_password-error\""),
        "{}",
        res.body
    );
    assert!(res.body.contains("This is not your current password."));
    assert!(
        !res.body.contains(NEW_PASSWORD),
        "passwords are never echoed"
    );
    assert!(!res.body.contains("not my password at all"));

    let hash = password_hash(&app, &email).await;
    assert!(roster::auth::password::verify(PASSWORD, &hash));
    assert_eq!(other.get("/organizations").await.status, 200);
    assert_eq!(audit_count(&app, "user.password").await, 0);
}

#[tokio::test]
async fn a_new_password_works_and_ends_the_other_sessions_but_this_one() {
    let app = app().await;
    let email = app.add_user(Role::Editor, "bo").await;
    let me = sign_in_from(&app, &email, FIREFOX_WINDOWS, "198.51.100.1").await;
    let other = sign_in_from(&app, &email, SAFARI_IPHONE, "198.51.100.2").await;

    let fields = [
        ("current_password", PASSWORD),
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    let res = me.post("/account/password", &fields).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), "/account");
    let page = me.get("/account").await;
    assert_eq!(page.status, 200, "this session stays");
    assert!(
        page.body.contains("Your password is changed"),
        "{}",
        page.body
    );
    assert_signed_out(&other).await;
    assert_eq!(audit_count(&app, "user.password").await, 1);

    assert_eq!(app.client().login(&email, PASSWORD).await.status, 401);
    assert_eq!(app.client().login(&email, NEW_PASSWORD).await.status, 303);
}

#[tokio::test]
async fn the_sessions_list_shows_address_and_browser_and_marks_this_one() {
    let app = app().await;
    let email = app.add_user(Role::Editor, "cy").await;
    let me = sign_in_from(&app, &email, FIREFOX_WINDOWS, "198.51.100.1").await;
    sign_in_from(&app, &email, SAFARI_IPHONE, "2001:db8::7").await;
    let stranger = app.add_user(Role::Editor, "dee").await;
    sign_in_from(&app, &stranger, FIREFOX_WINDOWS, "203.0.113.9").await;

    let page = me.get("/account").await;
    assert_eq!(page.status, 200);
    let body = &page.body;
    assert_eq!(body.matches("<tr class=\"session").count(), 2, "{body}");
    let this = body
        .find("class=\"session current\"")
        .expect("this session is marked");
    let row = &body[this..this + body[this..].find("</tr>").unwrap()];
    assert!(row.contains("Firefox on Windows"), "{row}");
    assert!(row.contains("(this session)"), "{row}");
    assert!(row.contains("198.51.100.1"), "{row}");
    assert!(body.contains("Safari on iOS"));
    assert!(body.contains("2001:db8::7"));
    assert!(
        !body.contains("203.0.113.9"),
        "another user's session is not listed"
    );
}

#[tokio::test]
async fn the_stored_user_agent_is_capped() {
    let app = app().await;
    let email = app.add_user(Role::Editor, "ed").await;
    let long = format!("Mozilla/5.0 {}", "x".repeat(5000));
    sign_in_from(&app, &email, &long, "198.51.100.1").await;
    let stored: Option<String> = app
        .db(|c| {
            sessions::table
                .select(sessions::user_agent)
                .first(c)
                .unwrap()
        })
        .await;
    let stored = stored.unwrap();
    assert!(stored.starts_with("Mozilla/5.0 "));
    assert_eq!(
        stored.chars().count(),
        roster::auth::session::MAX_USER_AGENT
    );
}

#[tokio::test]
async fn signing_out_another_session_ends_it() {
    let app = app().await;
    let email = app.add_user(Role::Editor, "flo").await;
    let me = sign_in_from(&app, &email, FIREFOX_WINDOWS, "198.51.100.1").await;
    let other = sign_in_from(&app, &email, SAFARI_IPHONE, "198.51.100.2").await;
    let id = session_from(&app, "198.51.100.2").await;
    assert_eq!(other.get("/organizations").await.status, 200);

    let res = me.post(&format!("/account/sessions/{id}/end"), &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/account");
    assert_signed_out(&other).await;
    assert_eq!(me.get("/account").await.status, 200);
    assert_eq!(audit_count(&app, "session.end").await, 1);
}

#[tokio::test]
async fn another_users_session_is_not_found_and_stays() {
    let app = app().await;
    let me_email = app.add_user(Role::Administrator, "gus").await;
    let me = sign_in_from(&app, &me_email, FIREFOX_WINDOWS, "198.51.100.1").await;
    let victim_email = app.add_user(Role::Editor, "hana").await;
    let victim = sign_in_from(&app, &victim_email, SAFARI_IPHONE, "198.51.100.2").await;
    let id = session_from(&app, "198.51.100.2").await;

    let res = me.post(&format!("/account/sessions/{id}/end"), &[]).await;
    assert_eq!(res.status, 404);
    assert_eq!(victim.get("/organizations").await.status, 200);
    assert_eq!(session_count(&app).await, 2);
    assert_eq!(audit_count(&app, "session.end").await, 0);
}

#[tokio::test]
async fn sign_out_everywhere_else_keeps_only_this_session() {
    let app = app().await;
    let email = app.add_user(Role::Editor, "ivo").await;
    let me = sign_in_from(&app, &email, FIREFOX_WINDOWS, "198.51.100.1").await;
    let second = sign_in_from(&app, &email, SAFARI_IPHONE, "198.51.100.2").await;
    let third = sign_in_from(&app, &email, FIREFOX_WINDOWS, "198.51.100.3").await;
    let stranger = app.add_user(Role::Editor, "jan").await;
    let theirs = sign_in_from(&app, &stranger, FIREFOX_WINDOWS, "198.51.100.4").await;

    let res = me.post("/account/sessions/end-others", &[]).await;
    assert_eq!(res.status, 303);
    assert_signed_out(&second).await;
    assert_signed_out(&third).await;
    let page = me.get("/account").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Signed out of 2 other session(s)."),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("<tr class=\"session").count(), 1);
    assert_eq!(
        theirs.get("/organizations").await.status,
        200,
        "others' sessions stay"
    );
    assert_eq!(audit_count(&app, "session.end_others").await, 1);
}

#[tokio::test]
async fn a_read_only_user_can_use_the_page() {
    let app = app().await;
    let email = app.add_user(Role::ReadOnly, "kim").await;
    let me = sign_in_from(&app, &email, FIREFOX_WINDOWS, "198.51.100.1").await;
    assert_eq!(me.get("/account").await.status, 200);
    let res = me
        .post("/account/name", &[("display_name", "Kim Read")])
        .await;
    assert_eq!(res.status, 303);
    let fields = [
        ("current_password", PASSWORD),
        ("password", NEW_PASSWORD),
        ("password_confirm", NEW_PASSWORD),
    ];
    assert_eq!(me.post("/account/password", &fields).await.status, 303);
    let page = me.get("/account").await;
    assert!(page.body.contains("Kim Read"), "{}", page.body);
    let hash = password_hash(&app, &email).await;
    assert!(roster::auth::password::verify(NEW_PASSWORD, &hash));
}

#[tokio::test]
async fn a_display_name_is_required_and_a_refused_one_is_kept_in_the_field() {
    let app = app().await;
    let email = app.add_user(Role::Editor, "lou").await;
    let me = sign_in_from(&app, &email, FIREFOX_WINDOWS, "198.51.100.1").await;

    let res = me.post("/account/name", &[("display_name", "   ")]).await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains("id=\"display_name-error\""),
        "{}",
        res.body
    );
    assert!(res.body.contains("This field is required."));

    let long = "n".repeat(121);
    let res = me.post("/account/name", &[("display_name", &long)]).await;
    assert_eq!(res.status, 422);
    assert!(
        res.body.contains(&format!("value=\"{long}\"")),
        "the typed name is kept"
    );

    let name: String = app
        .db(move |c| {
            users::table
                .filter(users::email.eq(email))
                .select(users::display_name)
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(name, "lou");
}

#[tokio::test]
async fn wrong_current_passwords_count_like_failed_sign_ins() {
    let app = TestApp::spawn_with(|s| {
        s.trust_proxy = Some(true);
        s.login_max_failures = Some(3);
    })
    .await;
    let email = app.add_user(Role::Editor, "max").await;
    let me = sign_in_from(&app, &email, FIREFOX_WINDOWS, "198.51.100.1").await;
    let change = |current: &'static str| {
        [
            ("current_password", current),
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
        ]
    };
    // The test client comes from 127.0.0.1 (no forwarded address on these posts).
    for _ in 0..3 {
        let res = me
            .post("/account/password", &change("wrong password"))
            .await;
        assert_eq!(res.status, 422);
    }
    let res = me.post("/account/password", &change(PASSWORD)).await;
    assert_eq!(res.status, 422, "the address is locked out of the account");
    assert!(
        res.body.contains("Too many wrong passwords."),
        "{}",
        res.body
    );
    let hash = password_hash(&app, &email).await;
    assert!(roster::auth::password::verify(PASSWORD, &hash));
    let again = app.client();
    assert_eq!(
        again.login(&email, PASSWORD).await.status,
        429,
        "and so is its sign-in"
    );
}
