//! Every state-changing request needs this session's token, compared in constant time; a
//! cross-site POST is refused even with one.

use roster::auth::Role;

use crate::sessions::user_id;
use crate::support::{TestApp, csrf_in};

async fn role_of(app: &TestApp, email: &str) -> String {
    let email = email.to_owned();
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::users;
        users::table
            .filter(users::email.eq(email))
            .select(users::role)
            .first(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn posts_without_the_right_token_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let other = app.login_as(Role::Administrator).await;
    let email = app.add_user(Role::Editor, "kim").await;
    let path = format!("/users/{}/role", user_id(&app, &email).await);

    let mine = admin.csrf().await;
    let theirs = other.csrf().await;
    let mut flipped = mine.clone().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();

    assert_eq!(
        admin.post_raw(&path, &[("role", "manager")]).await.status,
        403,
        "no token"
    );
    assert_eq!(
        admin
            .post_raw(&path, &[("csrf_token", &theirs), ("role", "manager")])
            .await
            .status,
        403,
        "another session's token"
    );
    assert_eq!(
        admin
            .post_raw(&path, &[("csrf_token", &flipped), ("role", "manager")])
            .await
            .status,
        403,
        "one byte changed"
    );
    assert_eq!(
        admin
            .post_raw(&path, &[("csrf_token", ""), ("role", "manager")])
            .await
            .status,
        403,
        "empty"
    );
    let cross = admin
        .post_with_headers(
            &path,
            &[("csrf_token", &mine), ("role", "manager")],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status, 403, "cross-site");
    assert!(cross.body.contains("Form expired"));
    assert_eq!(role_of(&app, &email).await, "editor", "nothing changed");

    let same = admin
        .post_with_headers(
            &path,
            &[("csrf_token", &mine), ("role", "manager")],
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(same.status, 303);
    assert_eq!(role_of(&app, &email).await, "manager");
}

#[tokio::test]
async fn the_login_form_is_protected_too() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "lee").await;
    let client = app.client();
    let res = client
        .post_raw(
            "/login",
            &[("email", &email), ("password", crate::support::PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 403);
    assert!(client.cookie("__Host-roster-session").is_none());
    // The token of the page before sign-in stops working after it (the session is new).
    let page = client.get("/login").await;
    let before = csrf_in(&page.body);
    assert_eq!(
        client.login(&email, crate::support::PASSWORD).await.status,
        303
    );
    let after = client.post_raw("/logout", &[("csrf_token", &before)]).await;
    assert_eq!(after.status, 403);
}

/// Pages are compressed: a token that never changed between responses could be read off their
/// sizes next to reflected input (BREACH). Each response carries a freshly masked token, and any of
/// them works for the session; a token of another session, masked or not, never does.
#[tokio::test]
async fn every_page_carries_a_freshly_masked_token_that_works() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let other = app.login_as(Role::Administrator).await;
    let email = app.add_user(Role::Editor, "lee").await;
    let path = format!("/users/{}/role", user_id(&app, &email).await);

    let first = admin.csrf().await;
    let second = admin.csrf().await;
    assert_ne!(first, second, "the same token in two responses");
    let theirs = other.csrf().await;
    assert_eq!(
        admin
            .post_raw(&path, &[("csrf_token", &theirs), ("role", "manager")])
            .await
            .status,
        403
    );
    assert_eq!(
        admin
            .post_raw(&path, &[("csrf_token", &first), ("role", "manager")])
            .await
            .status,
        303,
        "an older masked token of this session"
    );
    assert_eq!(
        admin
            .post_raw(&path, &[("csrf_token", &second), ("role", "creator")])
            .await
            .status,
        303
    );
    assert_eq!(role_of(&app, &email).await, "creator");
}
