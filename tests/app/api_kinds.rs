//! Organization types and statuses written through `/api`: Managers' and Administrators' keys,
//! the Settings pages' name rules, the audit naming the key, and the lists' version bump (the
//! web's drop-downs show the change).

use roster::auth::Role;
use serde_json::json;

use crate::api_keys::{api_get, json as parse, key_for};
use crate::api_orgs_write::api;
use crate::support::TestApp;

#[tokio::test]
async fn types_and_statuses_are_created_and_renamed_through_the_api() {
    let app = TestApp::spawn().await;
    let (key, email) = key_for(&app, Role::Manager).await;
    let body =
        json!({"data": {"type": "organization_types", "attributes": {"name": "Pilot Site"}}});
    let res = api(&app, "POST", "/api/organization_types/", &key, Some(&body)).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = parse(&res)["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(parse(&res)["data"]["attributes"]["name"], "Pilot Site");
    // The same name again: 422 at the name.
    let res = api(&app, "POST", "/api/organization_types", &key, Some(&body)).await;
    assert_eq!(res.status, 422);
    assert_eq!(
        parse(&res)["errors"][0]["source"]["pointer"],
        "/data/attributes/name"
    );
    // Wrong type in the document.
    let wrong = json!({"data": {"type": "organizations", "attributes": {"name": "X"}}});
    assert_eq!(
        api(&app, "POST", "/api/organization_types", &key, Some(&wrong))
            .await
            .status,
        409
    );

    let rename =
        json!({"data": {"type": "organization-types", "id": id, "attributes": {"name": "Lead"}}});
    let res = api(
        &app,
        "PATCH",
        &format!("/api/organization_types/{id}"),
        &key,
        Some(&rename),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let shown = parse(
        &api_get(
            &app.client(),
            &key,
            &format!("/api/organization_types/{id}"),
        )
        .await,
    );
    assert_eq!(shown["data"]["attributes"]["name"], "Lead");
    let unknown = json!({"data": {"type": "organization_types", "attributes": {"name": "Nobody"}}});
    assert_eq!(
        api(
            &app,
            "PATCH",
            "/api/organization_types/999999",
            &key,
            Some(&unknown)
        )
        .await
        .status,
        404
    );

    let status = json!({"data": {"type": "organization_statuses", "attributes": {"name": "Onboarding", "synced": true}}});
    let res = api(
        &app,
        "POST",
        "/api/organization_statuses",
        &key,
        Some(&status),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(parse(&res)["data"]["attributes"]["synced"], true);
    let sid = parse(&res)["data"]["id"].as_str().unwrap().to_owned();
    let res = api(
        &app,
        "PATCH",
        &format!("/api/organization_statuses/{sid}"),
        &key,
        Some(&json!({"data": {"type": "organization_statuses", "attributes": {"synced": false}}})),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(parse(&res)["data"]["attributes"]["name"], "Onboarding");
    assert_eq!(parse(&res)["data"]["attributes"]["synced"], false);

    // The web's lists see the change (the version bump), and the audit names the key.
    let admin = app.login_as(Role::Administrator).await;
    let form = admin.get("/organizations/new").await.body;
    assert!(
        form.contains(">Lead<") && form.contains(">Onboarding<"),
        "{form}"
    );
    let actors: Vec<String> = app
        .db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::audit_events as a;
            a::table
                .filter(a::action.eq("settings.kind"))
                .select(a::actor_email)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(actors.len(), 4, "{actors:?}");
    assert!(
        actors
            .iter()
            .all(|a| a.starts_with(&email) && a.contains("API key")),
        "{actors:?}"
    );

    // Editors may not.
    let (editor, _) = key_for(&app, Role::Editor).await;
    let other = json!({"data": {"type": "organization_types", "attributes": {"name": "Other"}}});
    assert_eq!(
        api(
            &app,
            "POST",
            "/api/organization_types",
            &editor,
            Some(&other)
        )
        .await
        .status,
        403
    );
}
