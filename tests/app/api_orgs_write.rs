//! Organizations written through `/api`: POST, PATCH (as itglue's `save()` sends it), bulk PATCH
//! and bulk DELETE, through the same rules as the web form and delete pages: validation as 422
//! with pointers, the similar-name warning, parents and their loops, one-way PSA, key scope,
//! audit events naming the key, all or nothing.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{audit_events, organizations};
use serde_json::{Value, json};

use crate::api_keys::{json as parse, key_as, key_for};
use crate::support::{Resp, TestApp};

/// A request to the API with a JSON body (`None`: no body).
pub async fn api(app: &TestApp, method: &str, path: &str, key: &str, body: Option<&Value>) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", app.base))
        .header("x-api-key", key)
        .header("content-type", "application/vnd.api+json");
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let res = request.send().await.unwrap();
    Resp {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.text().await.unwrap(),
    }
}

#[allow(clippy::needless_pass_by_value)]
pub fn org_doc(attributes: Value) -> Value {
    json!({ "data": { "type": "organizations", "attributes": attributes } })
}

pub async fn column(app: &TestApp, id: i64) -> (String, String, Option<i64>, Option<i64>) {
    app.db(move |c| {
        organizations::table
            .find(id)
            .select((
                organizations::name,
                organizations::alert,
                organizations::parent_id,
                organizations::type_id,
            ))
            .first(c)
            .unwrap()
    })
    .await
}

fn pointers(res: &Resp) -> Vec<String> {
    parse(res)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["source"]["pointer"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

async fn actors(app: &TestApp, action: &'static str) -> Vec<String> {
    app.db(move |c| {
        audit_events::table
            .filter(audit_events::action.eq(action))
            .select(audit_events::actor_email)
            .load(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn post_creates_as_the_form_does_and_warns_of_similar_names() {
    let app = TestApp::spawn().await;
    let (key, email) = key_for(&app, Role::Manager).await;
    let vendor = crate::psa::type_id(&app, "Vendor").await;
    let res = api(
        &app,
        "POST",
        "/api/organizations/",
        &key,
        Some(&org_doc(json!({"name": "Acme Corp", "short-name": "AC", "organization-type-id": vendor.to_string()}))),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let doc = parse(&res);
    let id: i64 = doc["data"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(doc["data"]["attributes"]["organization-type-id"], vendor);
    assert_eq!(doc["data"]["attributes"]["short-name"], "AC");
    assert!(
        doc.get("meta")
            .is_none_or(|m| m["warnings"].as_array().is_none_or(Vec::is_empty))
    );
    assert_eq!(column(&app, id).await.0, "Acme Corp");
    let who = actors(&app, "organization.create").await;
    assert!(
        who[0].starts_with(&email) && who[0].contains("API key rst_"),
        "{who:?}"
    );

    // A similar name: created, with a warning.
    let res = api(
        &app,
        "POST",
        "/api/organizations",
        &key,
        Some(&org_doc(json!({"name": "ACME corp."}))),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let warning = &parse(&res)["meta"]["warnings"][0];
    assert_eq!(warning["source"]["pointer"], "/data/attributes/name");
    assert_eq!(warning["organizations"][0]["id"], id.to_string());
    assert_eq!(app.org_count().await, 2);

    // Validation as the form's, with pointers; nothing created.
    let res = api(
        &app,
        "POST",
        "/api/organizations",
        &key,
        Some(&org_doc(
            json!({"name": " ", "organization_status_id": 999_999, "short_name": "s".repeat(101)}),
        )),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let found = pointers(&res);
    assert!(
        found.contains(&"/data/attributes/name".to_owned()),
        "{found:?}"
    );
    assert!(
        found.contains(&"/data/attributes/short_name".to_owned()),
        "{found:?}"
    );
    let res = api(
        &app,
        "POST",
        "/api/organizations",
        &key,
        Some(&org_doc(
            json!({"name": "X", "organization_status_id": 999_999}),
        )),
    )
    .await;
    assert_eq!(pointers(&res), ["/data/attributes/organization_status_id"]);
    let res = api(
        &app,
        "POST",
        "/api/organizations",
        &key,
        Some(&org_doc(json!({"name": "X", "parent_id": "abc"}))),
    )
    .await;
    assert_eq!(pointers(&res), ["/data/attributes/parent_id"]);
    assert_eq!(app.org_count().await, 2);

    // A Read-only key may not write; a key restricted to a list may not create.
    let (read_only, _) = key_for(&app, Role::ReadOnly).await;
    let res = api(
        &app,
        "POST",
        "/api/organizations",
        &read_only,
        Some(&org_doc(json!({"name": "Nope"}))),
    )
    .await;
    assert_eq!(res.status, 403);
    let limited = app.add_user(Role::Manager, "limited").await;
    crate::scope::restrict(&app, &limited, &[id]).await;
    let limited = key_as(&app, &limited).await;
    let res = api(
        &app,
        "POST",
        "/api/organizations",
        &limited,
        Some(&org_doc(json!({"name": "Nope"}))),
    )
    .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(app.org_count().await, 2);
}

#[tokio::test]
async fn patch_takes_what_itglue_save_sends_and_keeps_the_parent_rules() {
    let app = TestApp::spawn().await;
    let parent = app.add_org("Parent Co", None).await;
    let child = app.add_org("Child Co", Some("Parent Co")).await;
    let other = app.add_org("Other Co", None).await;
    let (key, _) = key_for(&app, Role::Editor).await;
    let shown = parse(
        &crate::api_keys::api_get(&app.client(), &key, &format!("/api/organizations/{child}"))
            .await,
    );
    // itglue's save(): every attribute it holds, snake_case, ids as strings, plus "id".
    let mut attributes = serde_json::Map::new();
    for (k, v) in shown["data"]["attributes"].as_object().unwrap() {
        let v = match v {
            Value::Number(n) => Value::String(n.to_string()),
            other => other.clone(),
        };
        attributes.insert(k.replace('-', "_"), v);
    }
    attributes.insert("id".into(), json!(child.to_string()));
    attributes.insert("alert".into(), json!("Call first"));
    attributes.insert("parent_id".into(), json!(other.to_string()));
    let body = json!({"data": {"type": "organizations", "id": child.to_string(), "attributes": attributes}});
    let res = api(
        &app,
        "PATCH",
        &format!("/api/organizations/{child}"),
        &key,
        Some(&body),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(parse(&res)["data"]["attributes"]["alert"], "Call first");
    let (name, alert, parent_now, _) = column(&app, child).await;
    assert_eq!(
        (name.as_str(), alert.as_str(), parent_now),
        ("Child Co", "Call first", Some(other))
    );

    // A loop is refused as the form refuses it; nothing changes.
    let res = api(
        &app,
        "PATCH",
        &format!("/api/organizations/{other}"),
        &key,
        Some(&org_doc(json!({"parent-id": child}))),
    )
    .await;
    assert_eq!(res.status, 422);
    assert_eq!(pointers(&res), ["/data/attributes/parent_id"]);
    assert_eq!(column(&app, other).await.2, None);
    // Attributes not given stay; null parent removes it.
    let res = api(
        &app,
        "PATCH",
        &format!("/api/organizations/{child}"),
        &key,
        Some(&org_doc(json!({"parent_id": null}))),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        column(&app, child).await,
        ("Child Co".into(), "Call first".into(), None, None)
    );

    // A restricted key: others are 404, and it cannot set a parent it cannot see.
    let limited = app.add_user(Role::Editor, "limited").await;
    crate::scope::restrict(&app, &limited, &[child]).await;
    let limited = key_as(&app, &limited).await;
    let res = api(
        &app,
        "PATCH",
        &format!("/api/organizations/{other}"),
        &limited,
        Some(&org_doc(json!({"alert": "x"}))),
    )
    .await;
    assert_eq!(res.status, 404);
    let res = api(
        &app,
        "PATCH",
        &format!("/api/organizations/{child}"),
        &limited,
        Some(&org_doc(json!({"parent_id": parent}))),
    )
    .await;
    assert_eq!(res.status, 422);
    assert_eq!(column(&app, child).await.2, None);
    let res = api(
        &app,
        "PATCH",
        "/api/organizations/999999",
        &key,
        Some(&org_doc(json!({"alert": "x"}))),
    )
    .await;
    assert_eq!(res.status, 404);
    let (read_only, _) = key_for(&app, Role::ReadOnly).await;
    let res = api(
        &app,
        "PATCH",
        &format!("/api/organizations/{child}"),
        &read_only,
        Some(&org_doc(json!({"alert": "x"}))),
    )
    .await;
    assert_eq!(res.status, 403);
    assert_eq!(actors(&app, "organization.update").await.len(), 1);
}

#[tokio::test]
async fn one_way_sync_allows_only_alert_description_and_quick_notes() {
    let app = crate::psa::spawn_without_worker().await;
    let cw = crate::psa_doubles::ConnectWiseDouble::start();
    let admin = app.login_as(Role::Administrator).await;
    let res = crate::psa::post_owned(
        &admin,
        "/settings/psa",
        &crate::psa::connectwise_form(&cw, "one_way"),
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let org = app.add_org("Linked Co", None).await;
    crate::deletion::set_syncing(&app, org).await;
    let (key, _) = key_for(&app, Role::Editor).await;
    let path = format!("/api/organizations/{org}");
    let res = api(
        &app,
        "PATCH",
        &path,
        &key,
        Some(&org_doc(json!({"name": "Renamed", "alert": "x"}))),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(pointers(&res), ["/data/attributes/name"]);
    assert!(res.body.contains("ConnectWise"));
    assert_eq!(column(&app, org).await.1, "");
    // The same name echoed back is no change; alert, description and quick notes are allowed.
    let res = api(
        &app,
        "PATCH",
        &path,
        &key,
        Some(&org_doc(
            json!({"name": "Linked Co", "alert": "x", "quick_notes": "y"}),
        )),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(column(&app, org).await.1, "x");
}

fn bulk(items: &[Value]) -> Value {
    json!({ "data": items.iter().map(|a| json!({"type": "organizations", "attributes": a})).collect::<Vec<_>>() })
}

#[tokio::test]
async fn bulk_patch_is_all_or_nothing_and_honours_filters_in_the_body() {
    let app = TestApp::spawn().await;
    let a = app.add_org("Alpha", None).await;
    let b = app.add_org("Beta", None).await;
    let (key, _) = key_for(&app, Role::Editor).await;
    let bad = bulk(&[
        json!({"id": a, "alert": "A"}),
        json!({"id": b.to_string(), "name": ""}),
    ]);
    let res = api(&app, "PATCH", "/api/organizations/", &key, Some(&bad)).await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(pointers(&res), ["/data/1/attributes/name"]);
    assert_eq!(column(&app, a).await.1, "", "nothing changed");
    let missing = bulk(&[
        json!({"id": a, "alert": "A"}),
        json!({"id": 999_999, "alert": "B"}),
    ]);
    assert_eq!(
        api(&app, "PATCH", "/api/organizations", &key, Some(&missing))
            .await
            .status,
        404
    );
    let no_id = bulk(&[json!({"alert": "A"})]);
    assert_eq!(
        api(&app, "PATCH", "/api/organizations", &key, Some(&no_id))
            .await
            .status,
        422
    );
    assert_eq!(column(&app, a).await.1, "");

    // ITGlueAPI's filters beside data: an id outside them is not found, and nothing changes.
    let mut filtered = bulk(&[
        json!({"id": a, "alert": "A"}),
        json!({"id": b, "alert": "B"}),
    ]);
    filtered["filter[name]"] = json!("Alpha");
    assert_eq!(
        api(&app, "PATCH", "/api/organizations/", &key, Some(&filtered))
            .await
            .status,
        404
    );
    assert_eq!(column(&app, a).await.1, "");
    filtered["filter[name]"] = Value::Null;
    filtered["filter[id]"] = json!(format!("{a},{b}"));
    let res = api(&app, "PATCH", "/api/organizations/", &key, Some(&filtered)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(parse(&res)["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        (column(&app, a).await.1, column(&app, b).await.1),
        ("A".into(), "B".into())
    );
    assert_eq!(actors(&app, "organization.update").await.len(), 2);
}

#[tokio::test]
async fn bulk_delete_goes_through_the_delete_pages_use_case() {
    let app = TestApp::spawn().await;
    let a = app.add_org("Alpha", None).await;
    let sub = app.add_org("Alpha Sub", Some("Alpha")).await;
    let b = app.add_org("Beta", None).await;
    let synced = app.add_org("Synced", None).await;
    crate::deletion::set_syncing(&app, synced).await;
    let (key, _) = key_for(&app, Role::Manager).await;
    let (editor, _) = key_for(&app, Role::Editor).await;
    let both = bulk(&[json!({"id": a}), json!({"id": b.to_string()})]);
    assert_eq!(
        api(&app, "DELETE", "/api/organizations", &editor, Some(&both))
            .await
            .status,
        403
    );

    // A syncing organization: 422 naming Disable sync, and nothing deleted.
    let with_synced = bulk(&[json!({"id": a}), json!({"id": synced})]);
    let res = api(
        &app,
        "DELETE",
        "/api/organizations/",
        &key,
        Some(&with_synced),
    )
    .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("Disable sync"), "{}", res.body);
    assert_eq!(pointers(&res), ["/data/1"]);
    assert_eq!(app.org_count().await, 4);

    let res = api(&app, "DELETE", "/api/organizations/", &key, Some(&both)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let doc = parse(&res);
    let ids: Vec<&str> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.to_string(), b.to_string()]);
    assert_eq!(doc["meta"]["deleted-count"], 3);
    let hidden: i64 = app
        .db(move |c| {
            organizations::table
                .filter(organizations::id.eq_any([a, sub, b]))
                .filter(organizations::deleted_at.is_not_null())
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(hidden, 3);
    let page = app
        .login_as(Role::Administrator)
        .await
        .get("/organizations")
        .await
        .body;
    assert!(
        !page.contains(">Alpha</a>") && !page.contains(">Beta</a>") && page.contains(">Synced</a>")
    );
    let who = actors(&app, "organization.deleted").await;
    assert!(who.iter().all(|w| w.contains("API key")), "{who:?}");
}
