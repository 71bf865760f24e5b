//! Sessions live in the database: logout, deactivation and tampering all end them.

use roster::auth::Role;

use crate::support::{PASSWORD, TestApp};

const SESSION: &str = "__Host-roster-session";

#[tokio::test]
async fn logout_ends_the_session_for_good() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let cookie = client.cookie(SESSION).unwrap();
    assert_eq!(client.get("/organizations").await.status, 200);

    let res = client.post("/logout", &[]).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/login");
    assert!(client.cookie(SESSION).is_none(), "the cookie is removed");

    let replay = app.client();
    replay.set_cookie(SESSION, &cookie);
    let res = replay.get("/organizations").await;
    assert_eq!(res.status, 303);
    assert!(res.location().starts_with("/login"));
}

#[tokio::test]
async fn logout_is_a_post_with_a_token() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    assert_eq!(client.get("/logout").await.status, 404);
    assert_eq!(client.post_raw("/logout", &[]).await.status, 403);
    assert_eq!(
        client.get("/organizations").await.status,
        200,
        "still signed in"
    );
}

#[tokio::test]
async fn a_deactivated_user_is_signed_out_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let email = app.add_user(Role::Editor, "hal").await;
    let victim = app.client();
    assert_eq!(victim.login(&email, PASSWORD).await.status, 303);
    assert_eq!(victim.get("/organizations").await.status, 200);

    let id = user_id(&app, &email).await;
    let res = admin
        .post(&format!("/users/{id}/active"), &[("active", "false")])
        .await;
    assert_eq!(res.status, 303);

    let res = victim.get("/organizations").await;
    assert_eq!(res.status, 303);
    assert!(res.location().starts_with("/login"));
    assert_eq!(
        victim.login(&email, PASSWORD).await.status,
        401,
        "a deactivated user cannot sign in"
    );
}

#[tokio::test]
async fn a_role_change_counts_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let email = app.add_user(Role::Editor, "ida").await;
    let user = app.client();
    user.login(&email, PASSWORD).await;
    assert_eq!(user.get("/users").await.status, 403);

    let id = user_id(&app, &email).await;
    assert_eq!(
        admin
            .post(&format!("/users/{id}/role"), &[("role", "manager")])
            .await
            .status,
        303
    );
    assert_eq!(user.get("/users").await.status, 200);
}

#[tokio::test]
async fn tampered_or_truncated_cookies_are_anonymous() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let cookie = client.cookie(SESSION).unwrap();
    let mut changed = cookie.clone().into_bytes();
    changed[5] = if changed[5] == b'a' { b'b' } else { b'a' };
    let variants = [
        String::from_utf8(changed).unwrap(),
        cookie[..20].to_owned(),
        String::new(),
        "%%%%not-a-token%%%%".to_owned(),
        "x".repeat(5000),
    ];
    for value in variants {
        let other = app.client();
        other.set_cookie(SESSION, &value);
        let res = other.get("/organizations").await;
        assert_eq!(res.status, 303, "cookie {value:?}");
        let login = other.get("/login").await;
        assert_eq!(login.status, 200);
    }
}

#[tokio::test]
async fn the_session_cookie_is_host_only_secure_and_http_only() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "jo").await;
    let client = app.client();
    let res = client.login(&email, PASSWORD).await;
    let set = res
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(SESSION))
        .unwrap();
    for part in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    // Only a hash of the token is stored.
    let token = client.cookie(SESSION).unwrap();
    let stored: Vec<String> = app
        .db(|c| {
            use diesel::prelude::*;
            roster::db::schema::sessions::table
                .select(roster::db::schema::sessions::token_hash)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(stored, vec![roster::auth::token::hash(&token)]);
}

pub async fn user_id(app: &TestApp, email: &str) -> i64 {
    let email = email.to_owned();
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::users;
        users::table
            .filter(users::email.eq(email))
            .select(users::id)
            .first(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn sessions_expire_when_idle_or_too_old() {
    for adjust in [
        (|s: &mut roster::config::RawSettings| s.session_idle_minutes = Some(0)) as fn(&mut _),
        |s| s.session_max_hours = Some(0),
    ] {
        let app = TestApp::spawn_with(adjust).await;
        let email = app.add_user(Role::Editor, "old").await;
        let client = app.client();
        assert_eq!(client.login(&email, PASSWORD).await.status, 303);
        let res = client.get("/organizations").await;
        assert_eq!(res.status, 303, "an expired session is anonymous");
        assert!(
            client.cookie(SESSION).is_none(),
            "and its cookie is dropped"
        );
    }
}
