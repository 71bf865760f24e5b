//! `roster user add`: the password comes from standard input or a prompt, never the arguments.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{Store, TestApp, backend};

pub(crate) fn roster(store: &Store, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("ROSTER_DATA_DIR", store.dir.path())
        .env("ROSTER_DATABASE_URL", &store.database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn user_add_reads_the_password_from_stdin() {
    let store = std::sync::Arc::new(Store::new(backend()));
    let out = roster(
        &store,
        &[
            "user",
            "add",
            "--email",
            "cli@example.com",
            "--role",
            "manager",
        ],
        "a secret from stdin\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Added cli@example.com (Manager)"));

    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    assert!(app.setup_link.is_none(), "a user exists, so no setup link");
    let client = app.client();
    assert_eq!(
        client
            .login("cli@example.com", "a secret from stdin")
            .await
            .status,
        303
    );
    assert_eq!(client.get("/users").await.status, 200);

    let bad_role = roster(
        &store,
        &["user", "add", "--email", "x@example.com", "--role", "root"],
        "a secret from stdin\n",
    );
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role"));

    let weak = roster(
        &store,
        &[
            "user",
            "add",
            "--email",
            "y@example.com",
            "--role",
            "editor",
        ],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 10 characters"));

    let in_args = roster(
        &store,
        &[
            "user",
            "add",
            "--email",
            "z@example.com",
            "--role",
            "editor",
            "--password",
            "a secret in args",
        ],
        "",
    );
    assert!(!in_args.status.success(), "no --password argument exists");
}

#[tokio::test]
async fn seed_demo_adds_organizations_and_records_of_every_kind() {
    let store = std::sync::Arc::new(Store::new(backend()));
    let out = roster(
        &store,
        &[
            "seed-demo",
            "--organizations",
            "12",
            "--records-per-organization",
            "5",
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Added 12 demo organizations"));
    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    let kinds: Vec<(String, i64)> = app
        .db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::records as r;
            r::table
                .group_by(r::kind)
                .select((r::kind, diesel::dsl::count_star()))
                .order_by(r::kind)
                .load(c)
                .unwrap()
        })
        .await;
    let names: Vec<&str> = kinds.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "configurations",
            "contacts",
            "documents",
            "flexible-assets",
            "passwords"
        ]
    );
    assert_eq!(kinds.iter().map(|(_, n)| n).sum::<i64>(), 60);
    assert_eq!(app.org_count().await, 12);
}
