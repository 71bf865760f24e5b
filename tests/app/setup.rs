//! The one-time setup link creates the first Administrator, then is gone.

use crate::support::{PASSWORD, TestApp, csrf_in};

#[tokio::test]
async fn setup_link_creates_the_first_administrator_once() {
    let app = TestApp::spawn().await;
    let link = app
        .setup_link
        .clone()
        .expect("a setup link while there is no user");
    let path = link.trim_start_matches(&app.base).to_owned();
    let client = app.client();

    let page = client.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Create the first Administrator"));

    // A wrong form comes back with the values and a message beside the field.
    let token = csrf_in(&page.body);
    let bad = client
        .post_raw(
            &path,
            &[
                ("csrf_token", &token),
                ("email", "boss@example.com"),
                ("display_name", "Boss"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("value=\"boss@example.com\""));
    assert!(bad.body.contains("id=\"password-error\""));
    assert!(bad.body.contains("at least 10 characters"));

    let ok = client
        .post_raw(
            &path,
            &[
                ("csrf_token", &token),
                ("email", "Boss@Example.com"),
                ("display_name", "Boss"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), "/login");

    // Gone for good: the page and a second post are 404, and nobody else was created.
    assert_eq!(client.get(&path).await.status, 404);
    let again = client
        .post_raw(
            &path,
            &[
                ("csrf_token", &token),
                ("email", "evil@example.com"),
                ("display_name", "Evil"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.status, 404);

    let signed_in = client.login("boss@example.com", PASSWORD).await;
    assert_eq!(signed_in.status, 303);
    let users = client.get("/users").await;
    assert_eq!(users.status, 200);
    assert!(users.body.contains("boss@example.com"));
    assert!(!users.body.contains("evil@example.com"));
}

#[tokio::test]
async fn a_wrong_setup_token_is_not_found() {
    let app = TestApp::spawn().await;
    assert!(app.setup_link.is_some());
    let res = app
        .client()
        .get("/setup/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn no_setup_link_once_a_user_exists() {
    let app = TestApp::spawn().await;
    app.add_user(roster::auth::Role::Administrator, "first")
        .await;
    let again = TestApp::spawn_on(app.store.clone(), |_| {}).await;
    assert!(again.setup_link.is_none());
    let old = app.setup_link.clone().unwrap();
    let res = again.client().get(old.trim_start_matches(&app.base)).await;
    assert_eq!(res.status, 404);
}
