//! Issue 15: importing an IT Glue export. The preview (`roster import itglue PATH`) on the
//! synthetic export of `itglue_export`, and each bad input: unsafe ZIP names, bombs, passwords,
//! missing columns, ragged rows, unterminated quotes, huge cells.

use std::path::Path;
use std::sync::Arc;

use crate::cli::roster;
use crate::itglue_export::{self as export, DUPLICATE};
use crate::support::{Store, TestApp, backend};

fn preview(store: &Store, path: &Path, stdin: &str) -> (bool, String, String) {
    let out = roster(store, &["import", "itglue", path.to_str().unwrap()], stdin);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (create, match, fail) of one file in the printed preview.
fn counts(text: &str, file: &str) -> (u64, u64, u64) {
    let line = text
        .lines()
        .find(|l| l.split_whitespace().next() == Some(file))
        .unwrap_or_else(|| panic!("no line for {file} in\n{text}"));
    let n: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    (n[0], n[1], n[2])
}

fn ok_preview(store: &Store, path: &Path, stdin: &str) -> String {
    let (ok, out, err) = preview(store, path, stdin);
    assert!(ok, "preview failed: {err}\n{out}");
    out
}

fn refused(store: &Store, path: &Path, stdin: &str) -> String {
    let (ok, out, err) = preview(store, path, stdin);
    assert!(!ok, "accepted: {out}");
    err
}

#[tokio::test]
async fn the_preview_names_the_flexible_asset_types_it_will_make() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_full(dir.path());
    let out = ok_preview(&store, &path, "");
    assert!(
        out.contains("Flexible asset types to create: Ssl Certificates"),
        "{out}"
    );
}

#[tokio::test]
async fn the_preview_counts_each_file_and_writes_nothing() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_folder(dir.path());
    let out = ok_preview(&store, &path, "");
    assert_eq!(counts(&out, "organizations.csv"), (120, 0, 0), "{out}");
    // The two organizations named alike cannot receive records by name: 2 rows each fail.
    assert_eq!(counts(&out, "contacts.csv"), (236, 0, 4), "{out}");
    assert_eq!(counts(&out, "configurations.csv"), (118, 0, 2), "{out}");
    assert_eq!(counts(&out, "passwords.csv"), (118, 0, 2), "{out}");
    assert!(
        out.contains("Organization types to create: Prospect Partner"),
        "{out}"
    );
    assert!(
        out.contains("Organization statuses to create: Dormant"),
        "{out}"
    );
    assert!(
        out.contains("Flexible asset types to create: none"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "2 organizations are named \"{DUPLICATE}\" (lines 102, 104)"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "contacts.csv, line 102: 2 organizations of the export are named \"{DUPLICATE}\""
        )),
        "{out}"
    );
    assert!(
        out.contains("contacts.csv is not UTF-8: it was read as Windows-1252"),
        "{out}"
    );
    assert!(
        out.contains("locations.csv: 5 rows: Roster has no kind of record for locations"),
        "{out}"
    );
    assert!(out.contains("nothing was written"), "{out}");

    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    assert_eq!(app.org_count().await, 0, "the preview wrote nothing");
}

#[tokio::test]
async fn organizations_match_by_exactly_the_same_name_unless_two_share_it() {
    let store = Arc::new(Store::new(backend()));
    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    app.add_org("Org 005", None).await;
    app.add_org("Org 007", None).await;
    app.add_org("Org 007", None).await;
    app.add_org("org 008", None).await; // another case: not the same name
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_folder(dir.path());
    let out = ok_preview(&store, &path, "");
    assert_eq!(counts(&out, "organizations.csv"), (118, 1, 1), "{out}");
    assert!(
        out.contains("organizations.csv, line 16: 2 organizations in Roster are named \"Org 007\""),
        "{out}"
    );
    assert!(out.contains("contacts.csv, line 16: its organization \"Org 007\" cannot be imported (organizations.csv, line 16)"), "{out}");
    assert_eq!(counts(&out, "contacts.csv"), (234, 0, 6), "{out}");
}

#[tokio::test]
async fn a_zip_is_previewed_and_its_password_read_from_stdin() {
    let store = Store::new(backend());
    let dir = tempfile::tempdir().unwrap();
    let plain = export::write_zip(&dir.path().join("plain.zip"), None, &[]);
    assert_eq!(
        counts(&ok_preview(&store, &plain, ""), "organizations.csv"),
        (120, 0, 0)
    );

    let locked = export::write_zip(
        &dir.path().join("locked.zip"),
        Some("the zip password"),
        &[],
    );
    let out = ok_preview(&store, &locked, "the zip password\n");
    assert_eq!(counts(&out, "passwords.csv"), (118, 0, 2), "{out}");
    assert!(!out.contains("s3cret"), "no password in the preview");
    let err = refused(&store, &locked, "not the password\n");
    assert!(err.contains("the ZIP password is wrong"), "{err}");
    let err = refused(&store, &locked, "");
    assert!(err.contains("password"), "{err}");
}

#[tokio::test]
async fn unsafe_names_and_bombs_refuse_the_zip() {
    let store = Store::new(backend());
    let dir = tempfile::tempdir().unwrap();
    for name in ["../escape.txt", "/etc/cron.d/evil", "docs/../../escape.txt"] {
        let zip = export::write_zip(&dir.path().join("bad.zip"), None, &[(name, b"x".to_vec())]);
        let err = refused(&store, &zip, "");
        assert!(err.contains("points outside the export"), "{name}: {err}");
    }
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());

    let bomb = export::write_zip(
        &dir.path().join("bomb.zip"),
        None,
        &[("attachments/zeros.bin", vec![0; 64 << 20])],
    );
    let err = refused(&store, &bomb, "");
    assert!(err.contains("looks like a ZIP bomb"), "{err}");
}

/// Each bad file is a failure with its file and line in the preview, never a crash.
#[tokio::test]
async fn bad_csv_files_fail_with_file_and_line() {
    let store = Store::new(backend());
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_folder(dir.path());
    let contacts = path.join("contacts.csv");
    let write = |text: &[u8]| std::fs::write(&contacts, text).unwrap();

    write(b"id,organization,last_name\n1,Org 001,X\n");
    let out = ok_preview(&store, &path, "");
    assert!(
        out.contains("contacts.csv, line 1: the header lacks the column(s) first_name"),
        "{out}"
    );

    write(b"id,organization,first_name\n1,Org 001,A\n2,Org 002,B,surplus\n3,Org 003,C\n");
    let out = ok_preview(&store, &path, "");
    assert!(
        out.contains(
            "contacts.csv, line 3: the row has 4 cells where the header has 3 (a ragged row)"
        ),
        "{out}"
    );
    assert_eq!(counts(&out, "contacts.csv"), (2, 0, 1), "{out}");

    write(b"id,organization,first_name\n1,Org 001,A\n2,Org 002,\"B\n3,Org 003,C\n");
    let out = ok_preview(&store, &path, "");
    assert!(
        out.contains("contacts.csv, line 3: a quoted cell opened on this line is never closed"),
        "{out}"
    );

    let mut huge = b"id,organization,first_name\n1,Org 001,A\n2,Org 002,".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 6 << 20));
    huge.extend(b"\n3,Org 003,C\n");
    write(&huge);
    let out = ok_preview(&store, &path, "");
    assert!(
        out.contains("contacts.csv, line 3: a cell is larger than 5 MB"),
        "{out}"
    );
    assert_eq!(counts(&out, "contacts.csv"), (2, 0, 1), "{out}");

    std::fs::write(
        path.join("configurations.csv"),
        b"id,organization,name,installed_at\n1,Org 001,srv,31/02/2020\n",
    )
    .unwrap();
    let out = ok_preview(&store, &path, "");
    assert!(
        out.contains(
            "configurations.csv, line 2: the installed_at cell \"31/02/2020\" is not a date"
        ),
        "{out}"
    );
}
