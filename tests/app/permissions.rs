//! Every route x every role (and anonymous) -> the exact status; a route missing from this table,
//! or listed here but not served, fails the test. Denied requests change nothing.

use std::collections::BTreeSet;

use roster::auth::Role;
use roster::web::routes::ROUTES;

use crate::sessions::user_id;
use crate::support::{Client, TestApp};

/// Columns: anonymous, Administrator, Manager, Editor, Creator, Lite, Read-only.
type Row = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    [u16; 7],
);

const OPEN: [u16; 7] = [200; 7];
const SIGNED_IN: [u16; 7] = [303, 200, 200, 200, 200, 200, 200];
const USERS_GET: [u16; 7] = [303, 200, 200, 403, 403, 403, 403];

const TABLE: &[Row] = &[
    ("GET", "/healthz", &[], OPEN),
    ("GET", "/readyz", &[], OPEN),
    ("GET", "/static/roster.css", &[], OPEN),
    ("GET", "/login", &[], [200, 303, 303, 303, 303, 303, 303]),
    (
        "POST",
        "/login",
        &[("email", "x@example.com"), ("password", "wrong password")],
        [401; 7],
    ),
    ("GET", "/setup/{token}", &[], [404; 7]),
    ("POST", "/setup/{token}", &[], [404; 7]),
    ("GET", "/", &[], SIGNED_IN),
    ("GET", "/users", &[], USERS_GET),
    ("GET", "/users/new", &[], USERS_GET),
    (
        "POST",
        "/users",
        &[("email", "")],
        [303, 422, 422, 403, 403, 403, 403],
    ),
    ("GET", "/users/{id}", &[], USERS_GET),
    (
        "POST",
        "/users/{id}/role",
        &[("role", "editor")],
        [303, 303, 303, 403, 403, 403, 403],
    ),
    (
        "POST",
        "/users/{id}/active",
        &[("active", "true")],
        [303, 303, 303, 403, 403, 403, 403],
    ),
    (
        "POST",
        "/users/{id}/password",
        &[("password", "short")],
        [303, 422, 422, 403, 403, 403, 403],
    ),
    // Last, because it ends the session.
    ("POST", "/logout", &[], [303; 7]),
];

#[test]
fn the_table_lists_every_route_and_nothing_else() {
    let served: BTreeSet<_> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    let tested: BTreeSet<_> = TABLE.iter().map(|r| (r.0, r.1)).collect();
    let untested: Vec<_> = served.difference(&tested).collect();
    let unknown: Vec<_> = tested.difference(&served).collect();
    assert!(
        untested.is_empty(),
        "routes without a row in the permission table: {untested:?}"
    );
    assert!(
        unknown.is_empty(),
        "rows for routes that do not exist: {unknown:?}"
    );
    assert_eq!(TABLE.len(), ROUTES.len(), "a route is listed twice");
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_table_says() {
    let app = TestApp::spawn().await;
    let target = app.add_user(Role::Editor, "target").await;
    let id = user_id(&app, &target).await.to_string();

    let mut clients: Vec<(String, Client)> = vec![("anonymous".into(), app.client())];
    for role in Role::ALL {
        clients.push((role.label().into(), app.login_as(role).await));
    }
    let mut failures = Vec::new();
    for (method, path, fields, expected) in TABLE {
        let url = path
            .replace("{id}", &id)
            .replace("{token}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        for ((who, client), want) in clients.iter().zip(expected) {
            let res = if *method == "GET" {
                client.get(&url).await
            } else {
                client.post(&url, fields).await
            };
            if res.status != *want {
                failures.push(format!(
                    "{method} {url} as {who}: {} (expected {want})",
                    res.status
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The denied requests changed nothing: the target is still an active Editor with its password.
    let row = app
        .db(move |c| {
            roster::auth::users::find_by_email(c, &target)
                .unwrap()
                .unwrap()
        })
        .await;
    assert_eq!(row.role, "editor");
    assert!(row.active);
    assert!(roster::auth::password::verify(
        crate::support::PASSWORD,
        &row.password_hash
    ));
}
