//! Issue 15's round trip: a seeded Roster (every record kind, documents with bodies, flexible
//! asset types and assets, a one-time-password secret, archived rows) exported with passwords,
//! imported into a fresh one on the other backend when it can, exported again: the two exports
//! are equal row for row and body for body, ids aside.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::records as r;
use roster::records::Kind;

use crate::export::{FORMULA, SECRET, export_all, rows, seed, unzip};
use crate::support::{Backend, Store, TestApp, backend};

/// Every CSV file of the export.
const FILES: [&str; 6] = [
    "organizations.csv",
    "contacts.csv",
    "configurations.csv",
    "passwords.csv",
    "documents.csv",
    "ssl-certificates.csv",
];

const OTP: &str = "JBSWY3DPEHPK3PXP";

/// A body with what a document holds: headings, a list, a table, code, a link, an entity.
const BODY: &str = "## Network\n\n| port | use |\n| --- | --- |\n| 443 | web |\n\n\
                    - [vendor](https://example.com/a?b=1&c=2)\n- `sudo reboot`\n\n\
                    ```\nline one\n  indented <tag>\n```\n\nFish & chips";

/// What `seed` leaves out: an archived contact, document and asset, a one-time-password secret,
/// a second document with a rich body, a field label with capitals after its first letter.
async fn seed_more(app: &TestApp, (parent, child): (i64, i64)) {
    let contact = [("first_name", "Old"), ("last_name", "Timer")];
    let archived_contact = app.add_record(child, Kind::Contact, None, &contact).await;
    let document = [("title", "Archived notes"), ("body", BODY)];
    let archived_document = app
        .add_record(parent, Kind::Document, None, &document)
        .await;
    let actor = app.seed_admin().await;
    let licenses = app
        .db(move |c| {
            let definition = "Issuer CA: text\nSeats: number\nRenews on: date";
            roster::records::flex::add(c, &actor, "Licenses", definition).unwrap()
        })
        .await;
    let license = [
        ("name", "Office 365"),
        ("f1", "DigiCert Inc"),
        ("f2", "25"),
        ("f3", "2027-05-01"),
    ];
    let archived_license = app
        .add_record(child, Kind::FlexibleAsset, Some(licenses), &license)
        .await;
    let key = app.data_key.clone();
    app.db(move |c| {
        for id in [archived_contact, archived_document, archived_license] {
            let values: String = r::table.find(id).select(r::field_values).first(c).unwrap();
            let mut values: BTreeMap<String, String> = serde_json::from_str(&values).unwrap();
            values.insert("archived".into(), "yes".into());
            diesel::update(r::table.find(id))
                .set(r::field_values.eq(serde_json::to_string(&values).unwrap()))
                .execute(c)
                .unwrap();
        }
        let password: i64 = r::table
            .filter(r::kind.eq(Kind::Password.slug()))
            .select(r::id)
            .first(c)
            .unwrap();
        let (nonce, sealed) = roster::records::crypto::seal_otp(&key, password, OTP).unwrap();
        diesel::update(r::table.find(password))
            .set((r::otp_nonce.eq(Some(nonce)), r::otp_sealed.eq(Some(sealed))))
            .execute(c)
            .unwrap();
    })
    .await;
}

/// A file's rows with the ids left out (a parent named by its name instead), sorted.
fn without_ids(files: &BTreeMap<String, Vec<u8>>, name: &str) -> Vec<BTreeMap<String, String>> {
    let orgs: HashMap<String, String> = rows(files, "organizations.csv")
        .into_iter()
        .map(|row| (row["id"].clone(), row["name"].clone()))
        .collect();
    let mut out: Vec<_> = rows(files, name)
        .into_iter()
        .map(|mut row| {
            row.remove("id");
            if let Some(parent) = row.get_mut("parent_id") {
                *parent = orgs.get(parent.as_str()).cloned().unwrap_or_default();
            }
            row
        })
        .collect();
    out.sort();
    out
}

/// The documents' bodies by path with the ids left out (`documents/{name}/{name}.html`).
fn bodies(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, String> {
    files
        .iter()
        .filter_map(|(path, data)| {
            let rest = path.strip_prefix("documents/DOC-")?;
            let (_, named) = rest.split_once(' ')?;
            Some((named.to_owned(), String::from_utf8_lossy(data).into_owned()))
        })
        .collect()
}

/// The other backend when it can be had (SQLite is always there; PostgreSQL when
/// ROSTER_TEST_PG_URL names one), else the same one.
fn other_backend() -> Backend {
    match backend() {
        Backend::Postgres => Backend::Sqlite,
        Backend::Sqlite if std::env::var("ROSTER_TEST_PG_URL").is_ok() => Backend::Postgres,
        Backend::Sqlite => Backend::Sqlite,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_round_trip_through_the_export_is_lossless() {
    let app = TestApp::spawn().await;
    let orgs = seed(&app).await;
    seed_more(&app, orgs).await;
    let admin = app.login_as(Role::Administrator).await;
    let first = unzip(&export_all(&app, &admin, true).await);
    // The formula is escaped in the file, the secrets are there, the documents' pages too.
    let text = String::from_utf8(first["contacts.csv"].clone()).unwrap();
    assert!(text.contains("'=cmd|' /C calc'!A0"), "{text}");
    assert!(!text.contains(",=cmd"), "{text}");
    let passwords = rows(&first, "passwords.csv");
    assert_eq!(passwords[0]["password"], SECRET);
    assert_eq!(passwords[0]["username"], "'=root");
    assert_eq!(passwords[0]["otp_secret"], OTP);
    let first_bodies = bodies(&first);
    assert!(
        first_bodies.contains_key("Runbook _ night/Runbook _ night.html"),
        "{:?}",
        first.keys()
    );
    assert!(first_bodies["Archived notes/Archived notes.html"].contains("<table>"));
    let archived = |file: &str| {
        rows(&first, file)
            .into_iter()
            .filter(|row| row["archived"] == "Yes")
            .count()
    };
    for file in ["contacts.csv", "documents.csv", "licenses.csv"] {
        assert_eq!(archived(file), 1, "{file}");
    }
    let certificates = rows(&first, "ssl-certificates.csv");
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0]["organization"], "Child Ltd");
    assert_eq!(certificates[0]["Expires on"], "2027-01-31");
    assert_eq!(certificates[0]["Wildcard"], "Yes");

    let path = app.store.dir.path().join("first-export.zip");
    std::fs::write(&path, export_all(&app, &admin, true).await).unwrap();
    let fresh = TestApp::spawn_on(Arc::new(Store::new(other_backend())), |_| {}).await;
    crate::import_apply::apply(&fresh.store, &path, &[]);
    // The formula came back unescaped.
    let first_name = fresh
        .db(|c| {
            r::table
                .filter(r::kind.eq("contacts"))
                .select(r::field_values)
                .load::<String>(c)
                .unwrap()
        })
        .await;
    assert!(
        first_name.iter().any(|v| v.contains(FORMULA)),
        "{first_name:?}"
    );

    let admin = fresh.login_as(Role::Administrator).await;
    let second = unzip(&export_all(&fresh, &admin, true).await);
    for file in FILES.into_iter().chain(["licenses.csv"]) {
        let (a, b) = (without_ids(&first, file), without_ids(&second, file));
        assert!(!a.is_empty(), "{file} is empty");
        assert_eq!(a, b, "{file} differs after the round trip");
    }
    assert_eq!(
        first_bodies,
        bodies(&second),
        "the documents' bodies differ"
    );
}
