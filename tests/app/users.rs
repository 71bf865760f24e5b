//! The Users page: add, change role, deactivate, reactivate, set a new password; Managers manage
//! everyone but Administrators; the last Administrator stays.

use roster::auth::Role;

use crate::sessions::user_id;
use crate::support::{PASSWORD, TestApp};

#[tokio::test]
async fn an_administrator_adds_a_user_who_can_sign_in() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let form = admin.get("/users/new").await;
    assert_eq!(form.status, 200);
    for label in [
        "<label for=\"email\">",
        "<label for=\"display_name\">",
        "<label for=\"role\">",
        "<label for=\"password\">",
    ] {
        assert!(form.body.contains(label), "missing {label}");
    }

    let bad = admin
        .post(
            "/users",
            &[
                ("email", "not-an-email"),
                ("display_name", "Mo Tech"),
                ("role", "editor"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("value=\"Mo Tech\""),
        "keeps what was typed"
    );
    assert!(bad.body.contains("id=\"email-error\""));
    assert!(!bad.body.contains(PASSWORD), "never echoes a password");

    let ok = admin
        .post(
            "/users",
            &[
                ("email", "mo@example.com"),
                ("display_name", "Mo Tech"),
                ("role", "editor"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let shown = admin.get(ok.location()).await;
    assert!(shown.body.contains("Added mo@example.com as Editor."));
    assert!(shown.body.contains("Mo Tech"));

    let dup = admin
        .post(
            "/users",
            &[
                ("email", "MO@example.com"),
                ("display_name", "Again"),
                ("role", "editor"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(dup.status, 422);
    assert!(dup.body.contains("already exists"));

    let mo = app.client();
    assert_eq!(mo.login("mo@example.com", PASSWORD).await.status, 303);
    assert_eq!(mo.get("/users").await.status, 403);
}

#[tokio::test]
async fn managers_cannot_touch_administrators() {
    let app = TestApp::spawn().await;
    let _first_admin = app.login_as(Role::Administrator).await;
    let manager = app.login_as(Role::Manager).await;
    let admin_email = app.add_user(Role::Administrator, "root").await;
    let admin_id = user_id(&app, &admin_email).await;
    let editor_id = user_id(&app, &app.add_user(Role::Editor, "ed").await).await;

    let list = manager.get("/users").await;
    assert!(list.body.contains("root@example.com"));
    assert!(!list.body.contains(&format!("href=\"/users/{admin_id}\"")));
    assert_eq!(manager.get(&format!("/users/{admin_id}")).await.status, 403);
    assert_eq!(
        manager
            .post(&format!("/users/{admin_id}/active"), &[("active", "false")])
            .await
            .status,
        403
    );
    assert_eq!(
        manager
            .post(
                &format!("/users/{admin_id}/password"),
                &[("password", PASSWORD), ("password_confirm", PASSWORD)]
            )
            .await
            .status,
        403
    );

    let page = manager.get(&format!("/users/{editor_id}")).await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("value=\"administrator\""),
        "Managers are not offered the Administrator role"
    );
    assert_eq!(
        manager
            .post(
                &format!("/users/{editor_id}/role"),
                &[("role", "administrator")]
            )
            .await
            .status,
        403
    );
    assert_eq!(
        manager
            .post(&format!("/users/{editor_id}/role"), &[("role", "creator")])
            .await
            .status,
        303
    );
    let new = manager
        .post(
            "/users",
            &[
                ("email", "boss2@example.com"),
                ("display_name", "Boss"),
                ("role", "administrator"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(new.status, 403);
}

#[tokio::test]
async fn deactivate_reactivate_and_reset_a_password() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let email = app.add_user(Role::Creator, "ned").await;
    let id = user_id(&app, &email).await;
    let path = format!("/users/{id}");

    let res = admin
        .post(&format!("{path}/active"), &[("active", "false")])
        .await;
    assert_eq!(res.status, 303);
    let page = admin.get(&path).await;
    assert!(page.body.contains("is deactivated"));
    assert!(
        page.body
            .contains("<dd id=\"user-status\">Deactivated</dd>")
    );
    assert_eq!(app.client().login(&email, PASSWORD).await.status, 401);

    admin
        .post(&format!("{path}/active"), &[("active", "true")])
        .await;
    assert_eq!(app.client().login(&email, PASSWORD).await.status, 303);

    let short = admin
        .post(
            &format!("{path}/password"),
            &[("password", "short"), ("password_confirm", "short")],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains("id=\"password-error\""));
    let differ = admin
        .post(
            &format!("{path}/password"),
            &[
                ("password", "a brand new secret"),
                ("password_confirm", "another new secret"),
            ],
        )
        .await;
    assert_eq!(differ.status, 422);
    assert!(differ.body.contains("The two passwords differ."));

    let fresh = "a brand new secret";
    let res = admin
        .post(
            &format!("{path}/password"),
            &[("password", fresh), ("password_confirm", fresh)],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(app.client().login(&email, PASSWORD).await.status, 401);
    assert_eq!(app.client().login(&email, fresh).await.status, 303);
}

#[tokio::test]
async fn the_last_administrator_stays() {
    let app = TestApp::spawn().await;
    let admin_email = app.add_user(Role::Administrator, "solo").await;
    let admin = app.client();
    admin.login(&admin_email, PASSWORD).await;
    let id = user_id(&app, &admin_email).await;

    let res = admin
        .post(&format!("/users/{id}/role"), &[("role", "editor")])
        .await;
    assert_eq!(res.status, 303);
    let page = admin.get(res.location()).await;
    assert!(
        page.body.contains("last active Administrator"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<dd id=\"user-role\">Administrator</dd>")
    );

    let res = admin
        .post(&format!("/users/{id}/active"), &[("active", "false")])
        .await;
    let page = admin.get(res.location()).await;
    assert!(page.body.contains("You cannot deactivate yourself."));
}

#[tokio::test]
async fn unknown_users_are_not_found() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    assert_eq!(admin.get("/users/999999").await.status, 404);
    assert_eq!(
        admin
            .post("/users/999999/role", &[("role", "editor")])
            .await
            .status,
        404
    );
    assert_eq!(admin.get("/users/not-a-number").await.status, 404);
}

#[tokio::test]
async fn making_someone_lite_limits_them_to_their_list() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let email = app.add_user(Role::Editor, "becomes-lite").await;
    let id = user_id(&app, &email).await;
    let res = admin
        .post(&format!("/users/{id}/role"), &[("role", "lite")])
        .await;
    assert_eq!(res.status, 303);
    let all: bool = app
        .db(move |c| {
            use diesel::prelude::*;
            use roster::db::schema::users;
            users::table
                .find(id)
                .select(users::all_organizations)
                .first(c)
                .unwrap()
        })
        .await;
    assert!(!all, "a Lite user never sees all organizations");
}
