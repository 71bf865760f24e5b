//! The public Python clients, unmodified, against a real Roster: `itglue` 0.2.0 and `pytglue`
//! 1.0.2 from the virtualenv `tests/api_clients/setup.sh` makes under `target/api-clients`.
//! Without it the test says so and passes, except under CI=true, where it fails.

use std::path::PathBuf;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::organizations;
use serde_json::Value;

use crate::api_keys::key_for;
use crate::support::TestApp;

fn python() -> Option<PathBuf> {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/api-clients/bin/python");
    if python.exists() {
        return Some(python);
    }
    let why = "the API clients' virtualenv is missing: run tests/api_clients/setup.sh";
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
    eprintln!("skipped: {why}");
    None
}

/// Runs `script` with the base URL and key; its JSON output.
async fn run(python: PathBuf, script: &str, app: &TestApp, key: &str) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api_clients")
        .join(script);
    let (url, key) = (format!("{}/api", app.base), key.to_owned());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .env("ROSTER_API_URL", url)
            .env("ROSTER_API_KEY", key)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

async fn seeded() -> (TestApp, String) {
    let app = TestApp::spawn_localhost().await;
    for i in 0..120 {
        app.add_org(&format!("Client {i:03}"), None).await;
    }
    let (key, _) = key_for(&app, Role::Manager).await;
    (app, key)
}

async fn row(app: &TestApp, name: &'static str) -> Option<(i64, String, String, bool)> {
    app.db(move |c| {
        organizations::table
            .filter(organizations::name.eq(name))
            .select((
                organizations::id,
                organizations::alert,
                organizations::quick_notes,
                organizations::deleted_at.is_not_null(),
            ))
            .first(c)
            .optional()
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn the_itglue_client_lists_creates_updates_and_deletes() {
    let Some(python) = python() else { return };
    let (app, key) = seeded().await;
    let out = run(python, "itglue_client.py", &app, &key).await;
    assert_eq!(out["all"], 120, "{out}");
    assert_eq!(out["filtered"], serde_json::json!(["Client 007"]));
    let (id, alert, _, _) = row(&app, "Made By Itglue").await.unwrap();
    assert_eq!(out["created"], id);
    assert_eq!(
        (out["alert"].as_str(), alert.as_str()),
        (Some("Set by itglue"), "Set by itglue")
    );
    assert_eq!(out["bulk_updated"], 2);
    assert_eq!(row(&app, "Client 001").await.unwrap().2, "bulk 1");
    assert_eq!(row(&app, "Client 002").await.unwrap().2, "bulk 2");
    let gone = [
        row(&app, "Client 003").await.unwrap(),
        row(&app, "Client 004").await.unwrap(),
    ];
    assert_eq!(
        out["bulk_deleted"],
        serde_json::json!([gone[0].0, gone[1].0])
    );
    assert!(gone.iter().all(|g| g.3));
    let page = app
        .login_as(Role::Administrator)
        .await
        .get("/organizations?q=Client+00")
        .await
        .body;
    assert!(
        !page.contains(">Client 003</a>") && page.contains(">Client 005</a>"),
        "{page}"
    );
    assert_eq!(out["type"], "Itglue Type");
    assert!(
        out["types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "Itglue Type")
    );
    assert!(!out["statuses"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_pytglue_client_starts_and_filters() {
    let Some(python) = python() else { return };
    let (app, key) = seeded().await;
    let out = run(python, "pytglue_client.py", &app, &key).await;
    assert_eq!(out["organizations_loaded"], 120, "{out}");
    assert!(!out["types_loaded"].as_array().unwrap().is_empty());
    assert_eq!(out["filtered"], serde_json::json!(["Client 010"]));
}
