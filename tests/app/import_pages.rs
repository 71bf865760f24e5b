//! Issue 15: Manage Data > Import (Administrators): upload, preview, Apply with confirmation, the
//! job's page with its report; an upload past `ROSTER_IMPORT_MAX_BYTES` refused with a message.

use roster::auth::Role;

use crate::itglue_export as export;
use crate::support::{TestApp, csrf_in};

fn zip_bytes(password: Option<&str>) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_zip(&dir.path().join("export.zip"), password, &[]);
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn an_administrator_uploads_previews_and_applies_an_export() {
    let app = TestApp::spawn_with(|s| s.job_poll_ms = Some(50)).await;
    let admin = app.login_as(Role::Administrator).await;
    let page = admin.get("/manage-data/import").await;
    assert_eq!(page.status, 200);
    let sent = admin
        .post_multipart_file(
            "/manage-data/import",
            &[("password", "the zip password")],
            ("file", "export.zip", zip_bytes(Some("the zip password"))),
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let preview_url = sent.location().to_owned();
    let preview = admin.get(&preview_url).await;
    assert_eq!(preview.status, 200);
    assert!(
        preview.body.contains("organizations.csv"),
        "{}",
        preview.body
    );
    assert!(!preview.body.contains("s3cret"));
    assert_eq!(app.org_count().await, 0, "the preview wrote nothing");

    let token = csrf_in(&preview.body);
    let unconfirmed = admin
        .post_raw(&preview_url, &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(unconfirmed.status, 422, "Apply needs the confirmation");
    let started = admin
        .post_raw(
            &preview_url,
            &[("csrf_token", token.as_str()), ("confirm", "1")],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let job_url = started.location().to_owned();
    let mut page = admin.get(&job_url).await;
    for _ in 0..300 {
        if page.body.contains("Done:") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = admin.get(&job_url).await;
    }
    assert!(
        page.body.contains("Done:") && page.body.contains("592 created"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("2 organizations of the export are named")
    );
    assert_eq!(app.org_count().await, 120);
    let uploads = app.store.dir.path().join("imports");
    let left: Vec<_> = std::fs::read_dir(&uploads).unwrap().collect();
    assert!(left.is_empty(), "the upload is removed when the job ends");
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_with_a_message() {
    let app = TestApp::spawn_with(|s| s.import_max_bytes = Some(10_000)).await;
    let admin = app.login_as(Role::Administrator).await;
    let sent = admin
        .post_multipart_file(
            "/manage-data/import",
            &[],
            ("file", "export.zip", vec![7u8; 100_000]),
        )
        .await;
    assert_eq!(sent.status, 413);
    assert!(
        sent.body.contains("larger than") && sent.body.contains("ROSTER_IMPORT_MAX_BYTES"),
        "{}",
        sent.body
    );
    let uploads = app.store.dir.path().join("imports");
    let left = std::fs::read_dir(&uploads).map_or(0, Iterator::count);
    assert_eq!(left, 0, "nothing kept");
}

#[tokio::test]
async fn an_upload_never_applied_is_removed_a_day_later_at_the_next_upload() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let uploads = app.store.dir.path().join("imports");
    std::fs::create_dir_all(&uploads).unwrap();
    let day_old = std::time::SystemTime::now() - std::time::Duration::from_secs(25 * 3600);
    for name in ["old.zip", "old.json"] {
        let file = std::fs::File::create(uploads.join(name)).unwrap();
        file.set_modified(day_old).unwrap();
    }
    std::fs::write(uploads.join("recent.zip"), b"x").unwrap();
    let sent = admin
        .post_multipart_file(
            "/manage-data/import",
            &[],
            ("file", "export.zip", zip_bytes(None)),
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let mut left: Vec<String> = std::fs::read_dir(&uploads)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert!(!left.contains(&"old.zip".to_owned()), "{left:?}");
    assert!(!left.contains(&"old.json".to_owned()), "{left:?}");
    assert!(left.contains(&"recent.zip".to_owned()), "{left:?}");
    assert_eq!(
        left.len(),
        3,
        "the new upload and its sidecar stay: {left:?}"
    );
}
