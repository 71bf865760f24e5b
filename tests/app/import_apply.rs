//! Issue 15: applying an IT Glue export (`roster import itglue PATH --apply`, the same job as the
//! Import page's): what lands, the second import changing nothing, a newer export updating what
//! changed without overwriting a person's edit, a killed import resuming, sealed passwords.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use roster::db::schema::{import_sources, organizations as o, records as r};

use crate::itglue_export as export;
use crate::support::{Backend, Store, TestApp, backend};

fn command(store: &Store, path: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command
        .args(["import", "itglue", path.to_str().unwrap(), "--apply"])
        .env("ROSTER_DATA_DIR", store.dir.path())
        .env("ROSTER_DATABASE_URL", &store.database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

/// Applies the export at `path`; its standard output.
pub fn apply(store: &Store, path: &Path, env: &[(&str, &str)]) -> String {
    let out = command(store, path, env).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "apply failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Every organization and record: (id, name or title, updated_at), in id order.
type Rows = Vec<(i64, String, NaiveDateTime)>;

pub async fn snapshot(app: &TestApp) -> (Rows, Rows, i64) {
    app.db(|c| {
        let orgs = o::table
            .order_by(o::id)
            .select((o::id, o::name, o::updated_at))
            .load(c)
            .unwrap();
        let records = r::table
            .order_by(r::id)
            .select((r::id, r::title, r::updated_at))
            .load(c)
            .unwrap();
        let sources = import_sources::table.count().get_result(c).unwrap();
        (orgs, records, sources)
    })
    .await
}

pub async fn org_id(app: &TestApp, name: &'static str) -> i64 {
    app.db(move |c| {
        o::table
            .filter(o::name.eq(name))
            .select(o::id)
            .first(c)
            .unwrap()
    })
    .await
}

pub async fn count_kind(app: &TestApp, kind: &'static str) -> i64 {
    app.db(move |c| {
        r::table
            .filter(r::kind.eq(kind))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// 120 organizations, 236 contacts, 118 configurations and 118 passwords (the rows naming the
/// two organizations that share a name cannot be placed).
const CREATED: &str = "592 created, 0 updated, 0 unchanged, 8 failed";

#[tokio::test]
async fn applying_the_export_lands_everything_and_a_second_apply_changes_nothing() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_folder(dir.path());
    let out = apply(&store, &path, &[]);
    assert!(
        out.contains(&format!("Import finished: {CREATED}")),
        "{out}"
    );
    assert!(
        out.contains("contacts.csv, line 102: 2 organizations of the export are named"),
        "{out}"
    );
    assert!(!out.contains("s3cret"), "no password in the output");

    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    assert_eq!(app.org_count().await, 120);
    assert_eq!(count_kind(&app, "contacts").await, 236);
    assert_eq!(count_kind(&app, "configurations").await, 118);
    assert_eq!(count_kind(&app, "passwords").await, 118);
    let parent = org_id(&app, "Org 008").await;
    let child = org_id(&app, "Org 009").await;
    let parent_of: Option<i64> = app
        .db(move |c| o::table.find(child).select(o::parent_id).first(c).unwrap())
        .await;
    assert_eq!(
        parent_of,
        Some(parent),
        "sub-organizations keep their parent"
    );

    let admin = app.login_as(roster::auth::Role::Administrator).await;
    let list = admin.get("/organizations?q=Org+001").await;
    assert!(list.body.contains("Org 001"), "{}", list.body);
    let org = org_id(&app, "Org 001").await;
    let page = admin
        .get(&format!("/organizations/{org}/records/contacts"))
        .await;
    assert!(page.body.contains("José 0 Müller"), "{}", page.body);
    let page = admin
        .get(&format!("/organizations/{org}/records/configurations"))
        .await;
    assert!(page.body.contains("srv-001"), "{}", page.body);
    let found = admin.get("/search?q=srv-001.example.com").await;
    assert!(
        found.body.contains("srv-001"),
        "records reach the search index"
    );

    let before = snapshot(&app).await;
    let out = apply(&store, &path, &[]);
    assert!(
        out.contains("Import finished: 0 created, 0 updated, 592 unchanged, 8 failed"),
        "{out}"
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "the second import changed nothing"
    );
}

#[tokio::test]
async fn passwords_are_sealed_in_the_database() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_folder(dir.path());
    apply(&store, &path, &[]);
    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    let key = app.data_key.clone();
    let (plain, opened) = app
        .db(move |c| {
            type Sealed = (i64, String, Option<Vec<u8>>, Option<Vec<u8>>);
            let rows: Vec<Sealed> = r::table
                .filter(r::kind.eq("passwords"))
                .filter(r::title.eq("Admin 7"))
                .select((r::id, r::field_values, r::secret_nonce, r::secret_sealed))
                .load(c)
                .unwrap();
            let (id, values, nonce, sealed) = rows.into_iter().next().unwrap();
            let (nonce, sealed) = (nonce.unwrap(), sealed.unwrap());
            let clear = sealed.windows(6).any(|w| w == b"s3cret");
            let opened = roster::records::crypto::open(&key, id, &nonce, &sealed).unwrap();
            (clear || values.contains("s3cret"), opened)
        })
        .await;
    assert!(!plain, "the secret is not stored in clear");
    assert_eq!(opened, "s3cret,\"7\"");
    if backend() == Backend::Sqlite {
        drop(app);
        for file in std::fs::read_dir(store.dir.path()).unwrap() {
            let file = file.unwrap().path();
            if file.is_file() {
                let bytes = std::fs::read(&file).unwrap();
                assert!(
                    !bytes.windows(7).any(|w| w == b"s3cret,"),
                    "{} holds a password in clear",
                    file.display()
                );
            }
        }
    }
}

/// Replaces `from` by `to` in every file of the export (bytes: contacts.csv is Windows-1252).
fn edit_export(dir: &Path, from: &str, to: &str) {
    for name in [
        "organizations.csv",
        "contacts.csv",
        "configurations.csv",
        "passwords.csv",
    ] {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).unwrap();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i..].starts_with(from.as_bytes()) {
                out.extend_from_slice(to.as_bytes());
                i += from.len();
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        std::fs::write(&path, out).unwrap();
    }
}

#[tokio::test]
async fn a_newer_export_updates_what_changed_and_keeps_what_a_person_changed() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_folder(dir.path());
    apply(&store, &path, &[]);
    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    let edited = org_id(&app, "Org 003").await;
    app.db(move |c| {
        diesel::update(o::table.find(edited))
            .set(o::description.eq("Typed in Roster by a person"))
            .execute(c)
            .unwrap()
    })
    .await;

    edit_export(&path, "Org 002", "Org 002 Renamed");
    edit_export(
        &path,
        "Line one of 3\r",
        "Line one of 3, as IT Glue says now\r",
    );
    edit_export(&path, "srv-005,", "srv-005-new,");
    let out = apply(&store, &path, &[]);
    assert!(
        out.contains("Import finished: 0 created, 2 updated"),
        "{out}"
    );
    assert!(
        out.contains("the organization \"Org 003\" was changed in Roster")
            && out.contains("Roster's description kept"),
        "{out}"
    );
    let renamed = org_id(&app, "Org 002 Renamed").await;
    assert!(renamed > 0);
    let description: String = app
        .db(move |c| {
            o::table
                .find(edited)
                .select(o::description)
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(description, "Typed in Roster by a person");
    assert_eq!(app.org_count().await, 120, "renamed, not added");
    let titles: Vec<String> = app
        .db(|c| {
            r::table
                .filter(r::title.like("srv-005%"))
                .select(r::title)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(titles, vec!["srv-005-new".to_owned()]);
}

#[tokio::test]
async fn an_import_killed_midway_resumes_and_writes_nothing_twice() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_folder(dir.path());
    let env = [
        ("ROSTER_IMPORT_BATCH_ROWS", "5"),
        ("ROSTER_JOB_LEASE_SECONDS", "1"),
    ];
    let mut child = command(&store, &path, &env).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut batches = 0;
    for line in BufReader::new(stdout).lines() {
        if line.unwrap().contains("rows read; so far") {
            batches += 1;
            if batches == 3 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(batches, 3, "the import printed its progress");

    let app = TestApp::spawn_on(store.clone(), |s| s.run_jobs = Some(false)).await;
    let part = app.org_count().await;
    assert!(
        part > 0 && part < 120,
        "stopped midway: {part} organizations"
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));

    let out = apply(&store, &path, &env);
    assert!(out.contains("Import finished: 592 created"), "{out}");
    assert_eq!(app.org_count().await, 120);
    assert_eq!(count_kind(&app, "contacts").await, 236);
    assert_eq!(count_kind(&app, "passwords").await, 118);
    let (_, records, sources) = snapshot(&app).await;
    assert_eq!(records.len(), 472);
    assert_eq!(sources, 592, "each row imported once");
}
