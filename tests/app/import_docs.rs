//! Issue 15: documents of an IT Glue export (bodies found by their DOC- folder, HTML sanitized,
//! images kept inline, links between documents rewritten), flexible assets and one-time-password
//! secrets: what lands, what their pages show, and a second import changing nothing.

use std::sync::Arc;

use diesel::prelude::*;
use roster::db::schema::records as r;

use crate::import_apply::{apply, count_kind, org_id, snapshot};
use crate::itglue_export as export;
use crate::support::{Store, TestApp, backend};

/// (id, organization) of the record of `kind` titled `title`.
async fn record(app: &TestApp, kind: &'static str, title: String) -> (i64, i64) {
    app.db(move |c| {
        r::table
            .filter(r::kind.eq(kind))
            .filter(r::title.eq(title))
            .select((r::id, r::organization_id))
            .first(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn documents_land_sanitized_with_images_and_links_and_a_second_import_changes_nothing() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_full(dir.path());
    let out = apply(&store, &path, &[]);
    assert!(out.contains("Import finished: 607 created"), "{out}");
    assert!(
        out.contains(&format!(
            "{}.html is empty: the document was imported without a body",
            export::doc_name(export::EMPTY)
        )),
        "the report lists the empty document: {out}"
    );
    assert!(
        out.contains("the image \"missing.png\"") && out.contains("is not in the export"),
        "the report lists the missing image: {out}"
    );
    assert!(
        out.contains(&format!("document {} has no body", 20000 + export::NO_BODY)),
        "{out}"
    );

    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    assert_eq!(count_kind(&app, "documents").await, 10);
    let admin = app.login_as(roster::auth::Role::Administrator).await;

    let (one, org) = record(&app, "documents", export::doc_name(1)).await;
    assert_eq!(org, org_id(&app, "Org 001").await);
    let (two, two_org) = record(&app, "documents", export::doc_name(2)).await;
    let (zero, zero_org) = record(&app, "documents", export::doc_name(0)).await;
    let page = admin
        .get(&format!("/organizations/{org}/records/documents/{one}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Step one, of 1"), "{}", page.body);
    assert!(
        page.body.contains("<img src=\"data:image/png;base64,"),
        "the image saved without an extension is kept: {}",
        page.body
    );
    assert!(page.body.contains("line a\n\nline b"), "{}", page.body);
    for (id, target_org) in [(two, two_org), (zero, zero_org)] {
        let href = format!("href=\"/organizations/{target_org}/records/documents/{id}\"");
        assert!(
            page.body.contains(&href),
            "links to the next and the previous document are Roster's: {href} in {}",
            page.body
        );
    }
    assert!(!page.body.contains("itglue.com"), "{}", page.body);

    let (hostile, org) = record(&app, "documents", export::doc_name(export::HOSTILE)).await;
    let page = admin
        .get(&format!("/organizations/{org}/records/documents/{hostile}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("hover me"), "{}", page.body);
    let lower = page.body.to_lowercase();
    for bad in [
        "alert(",
        "onerror",
        "onmouseover",
        "javascript:",
        "<iframe",
        "evil.example",
    ] {
        assert!(
            !lower.contains(bad),
            "{bad} reached the page: {}",
            page.body
        );
    }

    let before = snapshot(&app).await;
    let out = apply(&store, &path, &[]);
    assert!(
        out.contains("Import finished: 0 created, 0 updated, 607 unchanged"),
        "{out}"
    );
    assert_eq!(
        snapshot(&app).await,
        before,
        "the second import changed nothing"
    );
}

#[tokio::test]
async fn flexible_assets_land_with_a_type_made_from_the_header() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_full(dir.path());
    apply(&store, &path, &[]);
    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    assert_eq!(
        count_kind(&app, "flexible-assets").await,
        export::CERTS as i64
    );
    let types: Vec<(i64, String, String)> = app
        .db(|c| {
            use roster::db::schema::flexible_asset_types as t;
            t::table
                .select((t::id, t::name, t::fields))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(types.len(), 1, "{types:?}");
    let (type_id, name, fields) = &types[0];
    assert_eq!(name, "Ssl Certificates");
    let fields: Vec<roster::records::fields::Field> = serde_json::from_str(fields).unwrap();
    let kinds: Vec<(String, roster::records::fields::Input)> =
        fields.into_iter().map(|f| (f.label, f.input)).collect();
    use roster::records::fields::Input;
    assert_eq!(
        kinds,
        vec![
            ("Issuer".to_owned(), Input::Text),
            ("Expires on".to_owned(), Input::Date),
            ("Seats".to_owned(), Input::Number),
            ("Auto renew".to_owned(), Input::Checkbox),
        ]
    );

    let (id, org) = record(&app, "flexible-assets", "cert-2.example.com".to_owned()).await;
    let typed: Option<i64> = app
        .db(move |c| r::table.find(id).select(r::asset_type_id).first(c).unwrap())
        .await;
    assert_eq!(typed, Some(*type_id));
    let admin = app.login_as(roster::auth::Role::Administrator).await;
    let page = admin
        .get(&format!(
            "/organizations/{org}/records/flexible-assets/{id}"
        ))
        .await;
    assert_eq!(page.status, 200);
    for shown in [
        "cert-2.example.com",
        "Encrypt",
        "2027-01-03",
        "Expires on",
        "20",
    ] {
        assert!(page.body.contains(shown), "{shown} in {}", page.body);
    }

    let before = snapshot(&app).await;
    let out = apply(&store, &path, &[]);
    assert!(out.contains("0 created, 0 updated"), "{out}");
    assert_eq!(snapshot(&app).await, before);
    let count: i64 = app
        .db(|c| {
            use roster::db::schema::flexible_asset_types as t;
            t::table.count().get_result(c).unwrap()
        })
        .await;
    assert_eq!(count, 1, "the type is found again, not made twice");
}

#[tokio::test]
async fn one_time_password_secrets_are_sealed_and_shown_only_on_request() {
    let store = Arc::new(Store::new(backend()));
    let dir = tempfile::tempdir().unwrap();
    let path = export::write_folder(dir.path());
    let out = apply(&store, &path, &[]);
    assert!(!out.contains(export::OTP_SECRET), "{out}");
    assert!(!out.contains("one-time-password secret was not"), "{out}");
    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    let (id, org) = record(&app, "passwords", "Admin 3".to_owned()).await;
    let key = app.data_key.clone();
    let (values, opened) = app
        .db(move |c| {
            let (values, nonce, sealed): (String, Option<Vec<u8>>, Option<Vec<u8>>) = r::table
                .find(id)
                .select((r::field_values, r::otp_nonce, r::otp_sealed))
                .first(c)
                .unwrap();
            let (nonce, sealed) = (nonce.unwrap(), sealed.unwrap());
            let opened = roster::records::crypto::open_otp(&key, id, &nonce, &sealed).unwrap();
            (values, opened)
        })
        .await;
    assert_eq!(opened, export::OTP_SECRET);
    assert!(!values.contains(export::OTP_SECRET), "not among the values");

    let admin = app.login_as(roster::auth::Role::Administrator).await;
    let page_url = format!("/organizations/{org}/records/passwords/{id}");
    let page = admin.get(&page_url).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("One-time password secret"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains(export::OTP_SECRET),
        "hidden until revealed"
    );
    let revealed = admin.post(&format!("{page_url}/reveal"), &[]).await;
    assert_eq!(revealed.status, 200);
    assert!(
        revealed.body.contains(&format!(
            "<code id=\"revealed-otp\">{}</code>",
            export::OTP_SECRET
        )),
        "{}",
        revealed.body
    );

    let before = snapshot(&app).await;
    let out = apply(&store, &path, &[]);
    assert!(out.contains("0 created, 0 updated"), "{out}");
    assert_eq!(snapshot(&app).await, before);
}
