//! Issue 15: attachments of an IT Glue export (`attachments/{entity}/{id}/...`). Roster has no
//! attachment storage: the preview counts them, the report names each record's files at the
//! record's line, and nothing of them lands.

use std::sync::Arc;

use diesel::prelude::*;
use roster::db::schema::import_notes as n;

use crate::itglue_export as export;
use crate::support::{Store, TestApp, backend};

#[tokio::test]
async fn attachments_are_listed_per_record_as_not_imported() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let extra = [
        (
            "attachments/configurations/8003/diagram.pdf",
            b"%PDF-1.4".to_vec(),
        ),
        (
            "attachments/configurations/8003/photos/rack.jpg",
            vec![0xff, 0xd8, 0xff],
        ),
        (
            "attachments/organizations/1007/contract.pdf",
            b"%PDF-1.4".to_vec(),
        ),
    ];
    let zip = export::write_zip(&dir.path().join("export.zip"), None, &extra);
    let out = crate::import_apply::apply(&store, &zip, &[]);
    assert!(
        out.contains("attachments/: 3 file(s) of 2 record(s) are not imported"),
        "{out}"
    );
    let app = TestApp::spawn_on(store, |_| {}).await;
    let notes: Vec<(String, i64, String)> = app
        .db(|c| {
            n::table
                .filter(n::note.like("%attachment%"))
                .order_by(n::id)
                .select((n::file, n::line, n::note))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!((notes[0].0.as_str(), notes[0].1), ("organizations.csv", 16));
    assert!(notes[0].2.contains("1 attachment(s)") && notes[0].2.contains("contract.pdf"));
    assert_eq!((notes[1].0.as_str(), notes[1].1), ("configurations.csv", 5));
    assert!(
        notes[1].2.contains("diagram.pdf, photos/rack.jpg")
            && notes[1].2.contains("Roster has no attachment storage"),
        "{}",
        notes[1].2
    );
}
