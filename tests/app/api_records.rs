//! Records through the API (issue 14, item 5): each kind listed, created, updated and deleted at
//! `/api/{kind}` and nested under an organization, and seen on the web page; the scope of a
//! restricted key; password values only with Password access, audited; 422s that point at the
//! attribute; writes refused to a Read-only key and audited naming the key.

use diesel::prelude::*;
use roster::api::keys::{self, NewKey};
use roster::auth::Role;
use roster::db::schema::{audit_events, records};
use serde_json::{Value, json};

use crate::api_keys::{api_get, error_status, json, key_for, session_key};
use crate::scope::restrict;
use crate::support::{Resp, TestApp};

/// A request with a JSON:API body, as the clients send it.
pub async fn api_send(app: &TestApp, method: &str, key: &str, path: &str, body: &Value) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let res = reqwest::Client::new()
        .request(method, format!("{}{path}", app.base))
        .header("x-api-key", key)
        .header("content-type", "application/vnd.api+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    Resp {
        status,
        headers,
        body: res.text().await.unwrap(),
    }
}

/// A key of a new user of `role`, with Password access when asked.
async fn key_with(app: &TestApp, role: Role, password_access: bool) -> (String, String) {
    let name = format!(
        "rec-{}-{}",
        role.as_str(),
        &roster::auth::token::generate()[..6]
    )
    .to_lowercase();
    let email = app.add_user(role, &name).await;
    let new = NewKey::parse("Billing script", &email, password_access, "").unwrap();
    let secret = session_key(app);
    let key = app
        .db(move |c| keys::create(c, &secret, None, &new).unwrap().1)
        .await;
    (key, email)
}

async fn audit_lines(app: &TestApp, action: &'static str) -> Vec<(String, String)> {
    app.db(move |c| {
        audit_events::table
            .filter(audit_events::action.eq(action))
            .order_by(audit_events::id)
            .select((audit_events::actor_email, audit_events::summary))
            .load(c)
            .unwrap()
    })
    .await
}

async fn record_count(app: &TestApp) -> i64 {
    app.db(|c| records::table.count().get_result(c).unwrap())
        .await
}

async fn add_asset_type(app: &TestApp, name: &'static str, definition: &'static str) -> i64 {
    let admin = app.seed_admin().await;
    app.db(move |c| roster::records::flex::add(c, &admin, name, definition).unwrap())
        .await
}

fn id_of(doc: &Value) -> i64 {
    doc["data"]["id"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn each_kind_is_created_listed_updated_and_deleted_and_seen_on_the_web() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Api Records Co", None).await;
    let type_id = add_asset_type(&app, "Licence", "Licence key: text\nSeats: number").await;
    let (key, _) = key_with(&app, Role::Editor, false).await;
    let web = app.login_as(Role::ReadOnly).await;
    let cases = [
        (
            "configurations",
            json!({"name": "srv-api-1", "configuration_type_name": "Server",
                   "configuration-status-name": "Active", "primary-ip": "10.0.0.7",
                   "organization-id": org.to_string()}),
            json!({"hostname": "srv-api-1.corp"}),
            ("srv-api-1", "srv-api-1.corp"),
        ),
        (
            "contacts",
            json!({"first-name": "Ada", "last-name": "Lovelace", "organization_id": org,
                   "contact-emails": [{"value": "ada@example.com", "primary": true}]}),
            json!({"title": "Countess"}),
            ("Ada Lovelace", "Countess"),
        ),
        (
            "passwords",
            json!({"name": "Router admin", "username": "admin", "password": "s3cret-api",
                   "organization-id": org}),
            json!({"url": "https://router.example"}),
            ("Router admin", "https://router.example"),
        ),
        (
            "flexible_assets",
            json!({"organization-id": org, "flexible-asset-type-id": type_id,
                   "name": "Office 365", "traits": {"licence-key": "ABC-123"}}),
            json!({"traits": {"seats": 25}}),
            ("Office 365", "25"),
        ),
    ];
    for (kind, create, update, (title, changed)) in cases {
        let res = api_send(
            &app,
            "POST",
            &key,
            &format!("/api/{kind}"),
            &json!({"data": {"type": kind.replace('_', "-"), "attributes": create}}),
        )
        .await;
        assert_eq!(res.status, 201, "{kind}: {}", res.body);
        let id = id_of(&json(&res));
        let slug = kind.replace('_', "-");
        let page = web
            .get(&format!("/organizations/{org}/records/{slug}"))
            .await;
        assert!(page.body.contains(title), "{kind} on the web list");

        let list = json(
            &api_get(
                &app.client(),
                &key,
                &format!("/api/{kind}?filter[organization_id]={org}"),
            )
            .await,
        );
        assert_eq!(list["meta"]["total-count"], 1, "{kind}: {list}");
        assert_eq!(list["data"][0]["id"], id.to_string());
        assert_eq!(list["data"][0]["attributes"]["organization-id"], org);
        let nested = json(
            &api_get(
                &app.client(),
                &key,
                &format!("/api/organizations/{org}/relationships/{kind}/"),
            )
            .await,
        );
        assert_eq!(nested["meta"]["total-count"], 1, "{kind} nested");

        let res = api_send(
            &app,
            "PATCH",
            &key,
            &format!("/api/{kind}/{id}"),
            &json!({"data": {"type": slug, "id": id.to_string(), "attributes": update}}),
        )
        .await;
        assert_eq!(res.status, 200, "{kind}: {}", res.body);
        let page = web
            .get(&format!("/organizations/{org}/records/{slug}/{id}"))
            .await;
        assert!(
            page.body.contains(title) && page.body.contains(changed),
            "{kind}: the update kept the rest and changed {changed}"
        );

        let res = api_send(
            &app,
            "DELETE",
            &key,
            &format!("/api/{kind}"),
            &json!({"data": [{"type": slug, "attributes": {"id": id}}]}),
        )
        .await;
        assert_eq!(res.status, 200, "{kind}: {}", res.body);
        assert_eq!(json(&res)["data"][0]["id"], id.to_string());
        let page = web
            .get(&format!("/organizations/{org}/records/{slug}/{id}"))
            .await;
        assert_eq!(page.status, 404, "{kind} gone from the web");
    }
    assert_eq!(record_count(&app).await, 0);
    let created = audit_lines(&app, "record.create").await;
    assert_eq!(created.len(), 4);
    assert!(
        created
            .iter()
            .all(|(_, summary)| summary.contains("API key Billing script")),
        "{created:?}"
    );
    let deleted = audit_lines(&app, "record.delete").await;
    assert!(
        deleted
            .iter()
            .all(|(_, s)| s.contains("API key Billing script"))
    );
}

#[tokio::test]
async fn flexible_assets_filter_by_type_and_types_are_listed() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Flex Co", None).await;
    let licence = add_asset_type(&app, "Licence", "Licence key: text").await;
    let wifi = add_asset_type(&app, "Wifi", "SSID: text").await;
    app.add_record(
        org,
        roster::records::Kind::FlexibleAsset,
        Some(licence),
        &[("name", "O365"), ("f1", "K-1")],
    )
    .await;
    app.add_record(
        org,
        roster::records::Kind::FlexibleAsset,
        Some(wifi),
        &[("name", "Guest"), ("f1", "guest")],
    )
    .await;
    let (key, _) = key_for(&app, Role::ReadOnly).await;
    let client = app.client();
    let doc = json(
        &api_get(
            &client,
            &key,
            &format!("/api/flexible_assets?filter[flexible_asset_type_id]={wifi}"),
        )
        .await,
    );
    assert_eq!(doc["meta"]["total-count"], 1, "{doc}");
    let asset = &doc["data"][0]["attributes"];
    assert_eq!(asset["name"], "Guest");
    assert_eq!(asset["traits"]["ssid"], "guest");
    assert_eq!(asset["flexible-asset-type-name"], "Wifi");
    let types = json(&api_get(&client, &key, "/api/flexible_asset_types").await);
    assert_eq!(types["meta"]["total-count"], 2);
    let one = json(
        &api_get(
            &client,
            &key,
            &format!("/api/flexible_asset_types/{licence}"),
        )
        .await,
    );
    assert_eq!(one["data"]["attributes"]["name"], "Licence");
}

#[tokio::test]
async fn a_restricted_key_finds_another_organizations_records_missing() {
    let app = TestApp::spawn().await;
    let seen = app.add_org("Seen Co", None).await;
    let hidden = app.add_org("Hidden Co", None).await;
    let fields = [("name", "srv"), ("kind", "Server"), ("status", "Active")];
    let mine = app
        .add_record(seen, roster::records::Kind::Configuration, None, &fields)
        .await;
    let theirs = app
        .add_record(hidden, roster::records::Kind::Configuration, None, &fields)
        .await;
    let email = app.add_user(Role::Editor, "narrow-api").await;
    restrict(&app, &email, &[seen]).await;
    let key = crate::api_keys::key_as(&app, &email).await;
    let client = app.client();
    let list = json(&api_get(&client, &key, "/api/configurations").await);
    assert_eq!(list["meta"]["total-count"], 1);
    assert_eq!(list["data"][0]["id"], mine.to_string());
    let missing = api_get(&client, &key, "/api/configurations/99999999").await;
    for path in [
        format!("/api/configurations/{theirs}"),
        format!("/api/organizations/{hidden}/relationships/configurations/{theirs}"),
        format!("/api/organizations/{seen}/relationships/configurations/{theirs}"),
    ] {
        let res = api_get(&client, &key, &path).await;
        assert_eq!(res.status, 404, "{path}");
        assert_eq!(error_status(&res), "404");
        assert_eq!(
            res.body, missing.body,
            "{path}: hidden looks exactly like missing"
        );
    }
    let nested = api_get(
        &client,
        &key,
        &format!("/api/organizations/{hidden}/relationships/configurations"),
    )
    .await;
    assert_eq!(nested.status, 404);
    let patch = json!({"data": {"type": "configurations", "attributes": {"name": "mine now"}}});
    let res = api_send(
        &app,
        "PATCH",
        &key,
        &format!("/api/configurations/{theirs}"),
        &patch,
    )
    .await;
    assert_eq!(res.status, 404);
    let delete = json!({"data": [{"type": "configurations", "attributes": {"id": mine}},
                                 {"type": "configurations", "attributes": {"id": theirs}}]});
    let res = api_send(&app, "DELETE", &key, "/api/configurations", &delete).await;
    assert_eq!(res.status, 404, "one hidden id: nothing deleted");
    let create = json!({"data": {"type": "configurations", "attributes": {
        "organization-id": hidden, "name": "x", "configuration-type-name": "Server",
        "configuration-status-name": "Active"}}});
    let res = api_send(&app, "POST", &key, "/api/configurations", &create).await;
    assert_eq!(res.status, 422);
    assert_eq!(
        json(&res)["errors"][0]["source"]["pointer"],
        "/data/attributes/organization-id"
    );
    let res = api_send(
        &app,
        "POST",
        &key,
        &format!("/api/organizations/{hidden}/relationships/configurations"),
        &create,
    )
    .await;
    assert_eq!(res.status, 404);
    assert_eq!(record_count(&app).await, 2, "nothing changed");
}

#[tokio::test]
async fn password_values_only_with_password_access_and_audited() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Vault Co", None).await;
    let id = app
        .add_record(
            org,
            roster::records::Kind::Password,
            None,
            &[("name", "Firewall"), ("secret", "hunter2-api")],
        )
        .await;
    let (plain, _) = key_with(&app, Role::Editor, false).await;
    let (trusted, _) = key_with(&app, Role::Editor, true).await;
    let client = app.client();
    let path = format!("/api/passwords/{id}");
    let doc = json(&api_get(&client, &plain, &path).await);
    assert_eq!(doc["data"]["attributes"]["name"], "Firewall");
    assert!(doc["data"]["attributes"].get("password").is_none(), "{doc}");
    let list = api_get(&client, &trusted, "/api/passwords").await;
    assert!(
        !list.body.contains("hunter2-api"),
        "lists never carry values"
    );
    assert!(audit_lines(&app, "password.reveal").await.is_empty());

    let off = json(&api_get(&client, &trusted, &format!("{path}?show_password=false")).await);
    assert!(off["data"]["attributes"].get("password").is_none(), "{off}");
    assert!(audit_lines(&app, "password.reveal").await.is_empty());

    let doc = json(&api_get(&client, &trusted, &path).await);
    assert_eq!(doc["data"]["attributes"]["password"], "hunter2-api");
    let reveals = audit_lines(&app, "password.reveal").await;
    assert_eq!(reveals.len(), 1);
    assert!(
        reveals[0].1.contains("Firewall") && reveals[0].1.contains("API key Billing script"),
        "{reveals:?}"
    );
}

#[tokio::test]
async fn bad_attributes_are_422_pointing_at_them_and_change_nothing() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Strict Co", None).await;
    let licence = add_asset_type(&app, "Licence", "Seats: number").await;
    let (key, _) = key_for(&app, Role::Editor).await;
    let cases = [
        (
            "configurations",
            json!({"organization-id": org, "name": "srv", "configuration-type-name": "Toaster",
                   "configuration-status-name": "Active", "primary-ip": "10.0.0.500"}),
            vec![
                "/data/attributes/configuration-type-name",
                "/data/attributes/primary-ip",
            ],
        ),
        (
            "contacts",
            json!({"organization-id": org, "last-name": "Nobody",
                   "contact-emails": [{"value": "not an email"}]}),
            vec![
                "/data/attributes/contact-emails",
                "/data/attributes/first-name",
            ],
        ),
        (
            "passwords",
            json!({"organization-id": org, "name": "x", "password": "p", "url": "javascript:alert(1)"}),
            vec!["/data/attributes/url"],
        ),
        (
            "flexible_assets",
            json!({"organization-id": org, "flexible-asset-type-id": licence, "name": "x",
                   "traits": {"seats": "many", "colour": "red"}}),
            vec!["/data/attributes/traits/colour"],
        ),
        (
            "flexible_assets",
            json!({"organization-id": org, "flexible-asset-type-id": licence, "name": "x",
                   "traits": {"seats": "many"}}),
            vec!["/data/attributes/traits/seats"],
        ),
        (
            "configurations",
            json!({"name": "no organization", "configuration-type-name": "Server",
                   "configuration-status-name": "Active"}),
            vec!["/data/attributes/organization-id"],
        ),
    ];
    for (kind, attributes, pointers) in cases {
        let body = json!({"data": {"type": kind.replace('_', "-"), "attributes": attributes}});
        let res = api_send(&app, "POST", &key, &format!("/api/{kind}"), &body).await;
        assert_eq!(res.status, 422, "{kind}: {}", res.body);
        assert_eq!(error_status(&res), "422");
        let doc = json(&res);
        let mut got: Vec<&str> = doc["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["source"]["pointer"].as_str().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, pointers, "{kind}: {doc}");
    }
    let wrong_type = json!({"data": {"type": "contacts", "attributes": {"organization-id": org}}});
    let res = api_send(&app, "POST", &key, "/api/configurations", &wrong_type).await;
    assert_eq!(res.status, 422);
    assert_eq!(json(&res)["errors"][0]["source"]["pointer"], "/data/type");
    let res = reqwest::Client::new()
        .post(format!("{}/api/contacts", app.base))
        .header("x-api-key", &key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(record_count(&app).await, 0);
}

#[tokio::test]
async fn writes_need_the_role_and_read_only_keys_only_read() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Roles Co", None).await;
    let fields = [("name", "srv"), ("kind", "Server"), ("status", "Active")];
    let id = app
        .add_record(org, roster::records::Kind::Configuration, None, &fields)
        .await;
    let create = json!({"data": {"type": "configurations", "attributes": {
        "organization-id": org, "name": "new", "configuration-type-name": "Server",
        "configuration-status-name": "Active"}}});
    let patch = json!({"data": {"type": "configurations", "attributes": {"name": "renamed"}}});
    let delete = json!({"data": [{"type": "configurations", "attributes": {"id": id}}]});
    for (role, create_want, delete_want) in [
        (Role::ReadOnly, 403, 403),
        (Role::Lite, 403, 403),
        (Role::Creator, 201, 403),
    ] {
        let (key, _) = key_for(&app, role).await;
        let res = api_send(&app, "POST", &key, "/api/configurations", &create).await;
        assert_eq!(res.status, create_want, "{role:?} POST");
        let res = api_send(
            &app,
            "PATCH",
            &key,
            &format!("/api/configurations/{id}"),
            &patch,
        )
        .await;
        assert_eq!(
            res.status,
            if create_want == 403 { 403 } else { 200 },
            "{role:?} PATCH"
        );
        let res = api_send(&app, "DELETE", &key, "/api/configurations", &delete).await;
        assert_eq!(res.status, delete_want, "{role:?} DELETE");
        if delete_want == 403 {
            assert_eq!(error_status(&res), "403");
        }
    }
    assert_eq!(
        record_count(&app).await,
        2,
        "only the Creator's record was added"
    );
}

#[tokio::test]
async fn bulk_update_checks_every_record_before_writing_any() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Bulk Co", None).await;
    let fields = [("name", "srv"), ("kind", "Server"), ("status", "Active")];
    let a = app
        .add_record(org, roster::records::Kind::Configuration, None, &fields)
        .await;
    let b = app
        .add_record(org, roster::records::Kind::Configuration, None, &fields)
        .await;
    let (key, _) = key_for(&app, Role::Editor).await;
    let bad = json!({"data": [
        {"type": "configurations", "id": a.to_string(), "attributes": {"hostname": "a.corp"}},
        {"type": "configurations", "attributes": {"id": b, "primary-ip": "10.0.0.500"}},
    ]});
    let res = api_send(&app, "PATCH", &key, "/api/configurations/", &bad).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(
        json(&res)["errors"][0]["source"]["pointer"],
        "/data/1/attributes/primary-ip"
    );
    let good = json!({"data": [
        {"type": "configurations", "id": a.to_string(), "attributes": {"hostname": "a.corp"}},
        {"type": "configurations", "attributes": {"id": b, "hostname": "b.corp"}},
    ]});
    let res = api_send(&app, "PATCH", &key, "/api/configurations", &good).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let doc = json(&res);
    assert_eq!(doc["data"][0]["attributes"]["hostname"], "a.corp");
    assert_eq!(doc["data"][1]["attributes"]["hostname"], "b.corp");
    assert_eq!(
        audit_lines(&app, "record.update").await.len(),
        2,
        "the 422 wrote nothing"
    );
}
