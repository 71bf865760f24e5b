//! What every response carries, and what error pages show.

use roster::auth::Role;

use crate::support::TestApp;

#[tokio::test]
async fn security_headers_on_every_response() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    for path in [
        "/",
        "/organizations",
        "/login",
        "/healthz",
        "/static/roster.css",
        "/no-such-page",
        "/users",
    ] {
        let res = client.get(path).await;
        let csp = res.header("content-security-policy");
        for part in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(res.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(res.header("referrer-policy"), "same-origin", "{path}");
    }
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Administrator).await;
    for path in [
        "/organizations",
        "/organizations/new",
        "/users",
        "/users/new",
        "/no-such-page",
    ] {
        let body = client.get(path).await.body;
        assert!(
            !body.contains("<script>") && !body.contains("style=") && !body.contains("<style"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn error_pages_show_a_request_id_in_the_layout() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let missing = client.get("/no-such-page").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Not found"));
    assert!(missing.body.contains("Request id: <code>"));
    assert!(
        missing.body.contains("Log out"),
        "rendered in the layout with the navigation"
    );

    let denied = client.get("/users").await;
    assert_eq!(denied.status, 403);
    assert!(denied.body.contains("Not allowed"));
    assert!(denied.body.contains("Request id: <code>"));
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let health = client.get("/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let ready = client.get("/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready"));
}

#[tokio::test]
async fn the_navigation_follows_the_role() {
    let app = TestApp::spawn().await;
    let admin = app
        .login_as(Role::Administrator)
        .await
        .get("/organizations")
        .await
        .body;
    assert!(admin.contains(">Organizations</a>") && admin.contains(">Users</a>"));
    let editor = app
        .login_as(Role::Editor)
        .await
        .get("/organizations")
        .await
        .body;
    assert!(editor.contains(">Organizations</a>"));
    assert!(!editor.contains(">Users</a>"));
}

#[tokio::test]
async fn a_failure_inside_is_a_500_page_with_a_request_id_and_nothing_half_written() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    // Break the audit table: adding a user writes the user, then its audit event, in one transaction.
    app.db(|c| {
        use diesel::RunQueryDsl;
        diesel::sql_query("DROP TABLE audit_events")
            .execute(c)
            .unwrap();
    })
    .await;
    let password = crate::support::PASSWORD;
    let res = admin
        .post(
            "/users",
            &[
                ("email", "half@example.com"),
                ("display_name", "Half"),
                ("role", "editor"),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await;
    assert_eq!(res.status, 500);
    assert!(res.body.contains("Something went wrong"));
    assert!(res.body.contains("Request id: <code>"));
    assert!(
        !res.body.contains("audit_events"),
        "no internals on the page"
    );
    let found = app
        .db(|c| roster::auth::users::find_by_email(c, "half@example.com").unwrap())
        .await;
    assert!(found.is_none(), "the user insert was rolled back");
}
