//! Issue 15 item 5: the export in IT Glue's layout (Manage Data > Export, an organization's own
//! export) and the round trip: a seeded Roster exported with passwords, imported into a fresh one
//! (the other backend when it can), exported again, equal row for row, ids aside.

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{jobs, organizations as o};
use roster::records::Kind;

use crate::scope::restricted;
use crate::support::{Client, PASSWORD, TestApp, csrf_in};

pub const FORMULA: &str = "=cmd|' /C calc'!A0";
pub const SECRET: &str = "s3cr\"et, with\nnewline";

/// Organizations with a parent, a type and a status, and a record of every kind the importer
/// supports, with formula, quote, newline and Unicode cells; returns the organizations' ids.
pub async fn seed(app: &TestApp) -> (i64, i64) {
    let parent = app.add_org("Parent \"Holdings\", Zoë ☃", None).await;
    let child = app
        .add_org("Child Ltd", Some("Parent \"Holdings\", Zoë ☃"))
        .await;
    app.db(move |c| {
        let types = roster::orgs::kinds::ensure_named(
            c,
            roster::orgs::kinds::Kind::Type,
            &["Customer".to_owned()],
        )
        .unwrap();
        let statuses = roster::orgs::kinds::ensure_named(
            c,
            roster::orgs::kinds::Kind::Status,
            &["Active".to_owned()],
        )
        .unwrap();
        diesel::update(o::table.find(parent))
            .set((
                o::type_id.eq(types.get("customer").copied()),
                o::status_id.eq(statuses.get("active").copied()),
                o::short_name.eq("PH"),
                o::description.eq(FORMULA),
                o::quick_notes.eq("line one\nline \"two\", ünïcode ✓"),
                o::alert.eq("@alert"),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    let contact = [
        ("first_name", FORMULA),
        ("last_name", "Ørsted \"Q\""),
        ("title", "+CEO"),
        ("emails", "ceo@example.com\nboss@example.com"),
        ("phones", "+1 555 0100\n-2"),
        ("primary", "yes"),
        ("notes", "multi\nline, \"quoted\""),
    ];
    app.add_record(child, Kind::Contact, None, &contact).await;
    let configuration = [
        ("name", "Server \"1\""),
        ("kind", "Server"),
        ("hostname", "srv-1"),
        ("ip_address", "10.0.0.1"),
        ("serial_number", "-SN1"),
        ("status", "Active"),
        ("notes", "☃"),
    ];
    app.add_record(parent, Kind::Configuration, None, &configuration)
        .await;
    let password = [
        ("name", "Domain admin"),
        ("username", "=root"),
        ("secret", SECRET),
        ("url", "https://example.com/login"),
        ("notes", "rotate yearly"),
    ];
    app.add_record(child, Kind::Password, None, &password).await;
    let document = [
        ("title", "Runbook / night"),
        ("body", "# Steps\n\n1. *Call*"),
    ];
    app.add_record(parent, Kind::Document, None, &document)
        .await;
    let actor = app.seed_admin().await;
    let certificates = app
        .db(move |c| {
            let definition = "Expires on: date\nWildcard: checkbox";
            roster::records::flex::add(c, &actor, "SSL Certificates", definition).unwrap()
        })
        .await;
    let certificate = [
        ("name", "*.example.com"),
        ("f1", "2027-01-31"),
        ("f2", "yes"),
    ];
    app.add_record(child, Kind::FlexibleAsset, Some(certificates), &certificate)
        .await;
    (parent, child)
}

/// GET as `client` with the body as bytes (the support client reads text).
pub async fn get_bytes(app: &TestApp, client: &Client, path: &str) -> (u16, Vec<u8>) {
    let cookies = client
        .cookies
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let res = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.bytes().await.unwrap().to_vec())
}

/// Waits for the export job at `page` to be ready; its id.
pub async fn ready(client: &Client, page: &str) -> i64 {
    for _ in 0..300 {
        let res = client.get(page).await;
        assert_eq!(res.status, 200, "{}", res.body);
        assert!(!res.body.contains("The export failed"), "{}", res.body);
        if res.body.contains("id=\"export-download\"") {
            return page.rsplit('/').next().unwrap().parse().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the export at {page} did not finish");
}

/// Starts an export of everything as `client` and downloads it.
pub async fn export_all(app: &TestApp, client: &Client, with_passwords: bool) -> Vec<u8> {
    let mut fields = vec![];
    if with_passwords {
        fields = vec![("include_passwords", "1"), ("password", PASSWORD)];
    }
    let res = client.post("/manage-data/export", &fields).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let id = ready(client, res.location()).await;
    let (status, bytes) = get_bytes(
        app,
        client,
        &format!("/manage-data/export/jobs/{id}/download"),
    )
    .await;
    assert_eq!(status, 200);
    bytes
}

/// The files of a ZIP: name -> contents.
pub fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        file.read_to_end(&mut data).unwrap();
        out.insert(file.name().unwrap().into_owned(), data);
    }
    out
}

/// A CSV file as rows of cells by column name.
pub fn rows(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Vec<BTreeMap<String, String>> {
    let data = files
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", files.keys()));
    let mut reader = csv::Reader::from_reader(data.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|row| {
            header
                .iter()
                .cloned()
                .zip(row.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn without_passwords_the_file_has_none_and_a_wrong_password_is_refused() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = app.login_as(Role::Administrator).await;
    let files = unzip(&export_all(&app, &admin, false).await);
    let passwords = rows(&files, "passwords.csv");
    assert_eq!(passwords.len(), 1);
    assert_eq!(passwords[0]["password"], "");
    for (name, data) in &files {
        let text = String::from_utf8_lossy(data);
        assert!(!text.contains("s3cr"), "{name} holds the password");
    }

    let before = export_jobs(&app).await;
    let res = admin
        .post(
            "/manage-data/export",
            &[("include_passwords", "1"), ("password", "not my password")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"password-error\""), "{}", res.body);
    assert!(res.body.contains("The password is not yours"));
    assert_eq!(export_jobs(&app).await, before, "nothing was queued");
}

async fn export_jobs(app: &TestApp) -> i64 {
    app.db(|c| {
        jobs::table
            .filter(jobs::kind.eq("roster-export"))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn only_administrators_export_everything_and_only_the_owner_downloads() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let admin = app.login_as(Role::Administrator).await;
    let res = admin.post("/manage-data/export", &[]).await;
    let id = ready(&admin, res.location()).await;
    let job = format!("/manage-data/export/jobs/{id}");
    let download = format!("{job}/download");
    for role in [
        Role::Manager,
        Role::Editor,
        Role::Creator,
        Role::Lite,
        Role::ReadOnly,
    ] {
        let client = app.login_as(role).await;
        assert_eq!(
            client.get("/manage-data/export").await.status,
            403,
            "{role:?}"
        );
        let token = csrf_in(&client.get("/account").await.body);
        let post = client
            .post_raw("/manage-data/export", &[("csrf_token", &token)])
            .await;
        assert_eq!(post.status, 403, "{role:?}");
        let expected = if role == Role::Manager { 404 } else { 403 };
        assert_eq!(client.get(&job).await.status, expected, "{role:?}");
        assert_eq!(
            get_bytes(&app, &client, &download).await.0,
            expected,
            "{role:?}"
        );
    }
    // Another Administrator's export is not found either.
    let other = app.login_as(Role::Administrator).await;
    assert_eq!(other.get(&job).await.status, 404);
    assert_eq!(get_bytes(&app, &other, &download).await.0, 404);
    // The download is audited, without the file's contents.
    let (status, _) = get_bytes(&app, &admin, &download).await;
    assert_eq!(status, 200);
    let audited: Vec<String> = app
        .db(|c| {
            use roster::db::schema::audit_events as a;
            a::table
                .filter(a::action.eq("export.downloaded"))
                .select(a::summary)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    // A day later the file is gone: not found, and removed from the data folder.
    app.db(move |c| {
        diesel::update(jobs::table.find(id))
            .set(jobs::finished_at.eq(Some(roster::db::now() - chrono::Duration::days(2))))
            .execute(c)
            .unwrap();
    })
    .await;
    assert_eq!(get_bytes(&app, &admin, &download).await.0, 404);
    let file = app.store.dir.path().join(format!("exports/{id}.zip"));
    assert!(!file.exists(), "{} is still there", file.display());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restricted_manager_exports_only_his_organizations() {
    let app = TestApp::spawn().await;
    let (parent, child) = seed(&app).await;
    let (manager, uid) = restricted(&app, Role::Manager, "export-manager", &[child]).await;
    let token = csrf_in(&manager.get(&format!("/organizations/{child}")).await.body);
    let other = manager
        .post_raw(
            &format!("/organizations/{parent}/export"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(other.status, 404, "another organization's export");
    let own = manager
        .post_raw(
            &format!("/organizations/{child}/export"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(own.status, 303, "{}", own.body);
    let id = ready(&manager, own.location()).await;
    let download = format!("/manage-data/export/jobs/{id}/download");
    let (status, bytes) = get_bytes(&app, &manager, &download).await;
    assert_eq!(status, 200);
    let files = unzip(&bytes);
    let orgs = rows(&files, "organizations.csv");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["name"], "Child Ltd");
    assert_eq!(orgs[0]["parent_id"], "", "its parent is not in the file");
    assert_eq!(
        rows(&files, "configurations.csv").len(),
        0,
        "the parent's records"
    );
    assert_eq!(rows(&files, "passwords.csv")[0]["password"], "");
    // The Administrator's export of the other organization: not found for him.
    let admin = app.login_as(Role::Administrator).await;
    let token = csrf_in(&admin.get(&format!("/organizations/{parent}")).await.body);
    let theirs = admin
        .post_raw(
            &format!("/organizations/{parent}/export"),
            &[("csrf_token", &token)],
        )
        .await;
    let theirs = ready(&admin, theirs.location()).await;
    let path = format!("/manage-data/export/jobs/{theirs}/download");
    assert_eq!(get_bytes(&app, &manager, &path).await.0, 404);
    // His own export of an organization he no longer sees: not found.
    app.db(move |c| {
        use roster::db::schema::user_organizations as uo;
        diesel::delete(uo::table.filter(uo::user_id.eq(uid)))
            .execute(c)
            .unwrap();
    })
    .await;
    assert_eq!(get_bytes(&app, &manager, &download).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn roster_export_writes_the_zip_in_the_foreground() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let path = app.store.dir.path().join("cli-export.zip");
    let run = |with_passwords: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_roster"));
        command
            .args(["export", path.to_str().unwrap()])
            .env("ROSTER_DATA_DIR", app.store.dir.path())
            .env("ROSTER_DATABASE_URL", &app.store.database_url)
            .env("RUST_LOG", "warn");
        if with_passwords {
            command.arg("--with-passwords");
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let printed = run(false);
    assert!(printed.contains("Exported to"), "{printed}");
    let files = unzip(&std::fs::read(&path).unwrap());
    assert_eq!(rows(&files, "organizations.csv").len(), 2);
    assert_eq!(rows(&files, "passwords.csv")[0]["password"], "");
    run(true);
    let files = unzip(&std::fs::read(&path).unwrap());
    assert_eq!(rows(&files, "passwords.csv")[0]["password"], SECRET);
    assert_eq!(export_jobs(&app).await, 2, "both ran as jobs");
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_older_than_a_day_are_removed_when_the_page_opens() {
    let app = TestApp::spawn().await;
    let folder = app.store.dir.path().join("exports");
    std::fs::create_dir_all(&folder).unwrap();
    let (old, new) = (folder.join("1.zip"), folder.join("2.zip"));
    for path in [&old, &new] {
        std::fs::write(path, b"PK").unwrap();
    }
    let two_days = std::time::SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(two_days)
        .unwrap();
    let admin = app.login_as(Role::Administrator).await;
    assert_eq!(admin.get("/manage-data/export").await.status, 200);
    assert!(!old.exists(), "the old export is still there");
    assert!(new.exists(), "a recent export was removed");
}
