//! The two-factor policy and resets: the last factor cannot go while required, the last
//! Administrator without a factor is sent to enrolment (not locked out), Reset two-factor follows
//! the Users page's rules (and the command line's `roster user reset-2fa`), all in the user's
//! account history.

use diesel::prelude::*;
use roster::auth::{Role, UserId};
use roster::db::schema::{sessions, totp_factors};

use crate::sessions::user_id;
use crate::support::{Client, PASSWORD, TestApp, csrf_in};
use crate::two_factor::{codes_in, enrolled_user, past_password, totp_code};

async fn require(admin: &Client) {
    let res = admin
        .post("/settings/security", &[("require_two_factor", "1")])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn totp_rows(app: &TestApp, id: i64) -> i64 {
    app.db(move |c| {
        totp_factors::table
            .filter(totp_factors::user_id.eq(id))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn removing_the_last_factor_while_required_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let email = app.add_user(Role::Editor, "keeper").await;
    let id = user_id(&app, &email).await;
    let client = app.client();
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
    crate::two_factor::enrol(&client).await;
    require(&admin).await;
    let res = client
        .post(
            "/account/two-factor/totp/remove",
            &[("remove_password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = client.get("/account").await;
    assert!(
        page.body.contains("your last factor cannot be removed"),
        "{}",
        page.body
    );
    assert_eq!(totp_rows(&app, id).await, 1);
    // Optional again: it goes.
    let res = admin.post("/settings/security", &[]).await;
    assert_eq!(res.status, 303);
    let res = client
        .post(
            "/account/two-factor/totp/remove",
            &[("remove_password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(totp_rows(&app, id).await, 0);
}

#[tokio::test]
async fn the_policy_sends_the_last_unenrolled_administrator_to_enrolment() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Administrator, "only-admin").await;
    let admin = app.client();
    assert_eq!(admin.login(&email, PASSWORD).await.status, 303);
    require(&admin).await;
    assert!(
        admin
            .get("/settings/security")
            .await
            .body
            .contains("checked")
    );

    let client = past_password(&app, &email, "/sign-in/enrol").await;
    // Nothing else opens until enrolled.
    for path in ["/organizations", "/account", "/users", "/sign-in/verify"] {
        let res = client.get(path).await;
        assert_eq!(res.status, 303, "{path}");
        assert!(client.cookie("__Host-roster-session").is_none(), "{path}");
    }
    let page = client.get("/sign-in/enrol").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let marker = "id=\"totp-secret\">";
    let start = page.body.find(marker).unwrap() + marker.len();
    let secret = page.body[start..].split('<').next().unwrap().to_owned();
    let token = csrf_in(&page.body);
    let wrong = client
        .post_raw(
            "/sign-in/enrol",
            &[("csrf_token", &token), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    let done = client
        .post_raw(
            "/sign-in/enrol",
            &[("csrf_token", &token), ("code", &totp_code(&secret, 0))],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(codes_in(&done.body).len(), 10);
    assert!(client.cookie("__Host-roster-session").is_some());
    assert_eq!(client.get("/organizations").await.status, 200);
    // The next sign-in asks for a code.
    past_password(&app, &email, "/sign-in/verify").await;
}

async fn reset(actor: &Client, id: i64) -> u16 {
    let confirm = actor.get(&format!("/users/{id}/two-factor/reset")).await;
    let res = actor
        .post(&format!("/users/{id}/two-factor/reset"), &[])
        .await;
    assert_eq!(confirm.status == 200, res.status == 303, "{confirm:?}");
    res.status
}

#[tokio::test]
async fn managers_reset_the_users_they_manage_but_never_an_administrator() {
    let app = TestApp::spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let (admin_email, _, _) = enrolled_user(&app, Role::Administrator, "boss").await;
    let (editor_email, secret, _) = enrolled_user(&app, Role::Editor, "lost").await;
    let (admin_id, editor_id) = (
        user_id(&app, &admin_email).await,
        user_id(&app, &editor_email).await,
    );
    assert_eq!(reset(&manager, admin_id).await, 403);
    assert_eq!(totp_rows(&app, admin_id).await, 1);

    let editor = past_password(&app, &editor_email, "/sign-in/verify").await;
    let ok = crate::two_factor::verify(&editor, &[("code", &totp_code(&secret, 1))]).await;
    assert_eq!(ok.status, 303);
    assert_eq!(reset(&manager, editor_id).await, 303);
    assert_eq!(totp_rows(&app, editor_id).await, 0);
    let left: i64 = app
        .db(move |c| {
            sessions::table
                .filter(sessions::user_id.eq(editor_id))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(left, 0, "the user's sessions end");
    // Without the policy the next sign-in needs only the password.
    assert_eq!(
        app.client().login(&editor_email, PASSWORD).await.location(),
        "/"
    );
    let page = manager.get(&format!("/users/{editor_id}")).await;
    let history = &page.body[page.body.find("Account history").unwrap()..];
    let reset_at = history.find("reset the two-factor sign-in").unwrap();
    let enrolled_at = history.find("set up an authenticator app").unwrap();
    assert!(reset_at < enrolled_at, "newest first: {history}");
}

#[tokio::test]
async fn a_restricted_manager_cannot_reset_a_user_who_sees_more_than_he_does() {
    let app = TestApp::spawn().await;
    let manager_email = app.add_user(Role::Manager, "narrow").await;
    let manager_id = user_id(&app, &manager_email).await;
    app.db(move |c| {
        roster::auth::users::set_all_organizations(c, UserId(manager_id), false).unwrap();
    })
    .await;
    let manager = app.client();
    assert_eq!(manager.login(&manager_email, PASSWORD).await.status, 303);
    let (email, _, _) = enrolled_user(&app, Role::Editor, "wide").await;
    let id = user_id(&app, &email).await;
    assert_eq!(reset(&manager, id).await, 403);
    assert_eq!(totp_rows(&app, id).await, 1);
}

#[tokio::test]
async fn the_operator_resets_from_the_command_line() {
    let app = TestApp::spawn().await;
    let (email, _, _) = enrolled_user(&app, Role::Administrator, "operator").await;
    let id = user_id(&app, &email).await;
    let out = crate::cli::roster(&app.store, &["user", "reset-2fa", "--email", &email], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(totp_rows(&app, id).await, 0);
    let out = crate::cli::roster(
        &app.store,
        &["user", "reset-2fa", "--email", "nobody@example.com"],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user has the email address"));
    assert_eq!(app.client().login(&email, PASSWORD).await.location(), "/");
}

#[tokio::test]
async fn session_sign_outs_are_in_the_users_account_history() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "historic").await;
    let (here, there) = (app.client(), app.client());
    assert_eq!(here.login(&email, PASSWORD).await.status, 303);
    assert_eq!(there.login(&email, PASSWORD).await.status, 303);
    let res = here.post("/account/sessions/end-others", &[]).await;
    assert_eq!(res.status, 303);
    let admin = app.login_as(Role::Administrator).await;
    let id = user_id(&app, &email).await;
    let page = admin.get(&format!("/users/{id}")).await;
    let history = &page.body[page.body.find("Account history").unwrap()..];
    assert!(
        history.contains("signed out everywhere else (1 session(s))"),
        "{history}"
    );
    assert!(history.contains(&email));
}
