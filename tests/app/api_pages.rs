//! `GET /api/organizations` as a whole page (issue 14's benchmark): the document byte for byte as
//! the clients have read it (attribute order, nulls, escapes, times, links), and a fixed, small
//! number of statements whatever the page's length and the depth of the tree.

use diesel::prelude::*;
use roster::auth::Role;

use crate::api_keys::{api_get, json, key_for};
use crate::support::TestApp;

const BASE: &str = "https://roster.example";

async fn spawn() -> TestApp {
    TestApp::spawn_with(|s| s.base_url = Some(BASE.into())).await
}

/// The id of the type (or status) named `name`.
async fn kind_id(app: &TestApp, status: bool, name: &'static str) -> i64 {
    app.db(move |c| {
        use roster::db::schema::{organization_statuses as s, organization_types as t};
        if status {
            s::table.filter(s::name.eq(name)).select(s::id).first(c)
        } else {
            t::table.filter(t::name.eq(name)).select(t::id).first(c)
        }
        .unwrap()
    })
    .await
}

/// Root > Branch > Desk, with every attribute the API writes set on one of them.
async fn a_tree(app: &TestApp) -> (i64, i64, i64, i64, i64) {
    let root = app.add_org("Root \"Holdings\"", None).await;
    let branch = app
        .add_org("Branch Ünïcode", Some("Root \"Holdings\""))
        .await;
    let desk = app.add_org("Desk", Some("Branch Ünïcode")).await;
    let customer = kind_id(app, false, "Customer").await;
    let active = kind_id(app, true, "Active").await;
    let at = |y, s| {
        chrono::NaiveDate::from_ymd_opt(y, 5, 1)
            .unwrap()
            .and_hms_micro_opt(8, 0, s, 123_456)
            .unwrap()
    };
    app.db(move |c| {
        use roster::db::schema::organizations as o;
        diesel::update(o::table)
            .set((o::created_at.eq(at(2020, 1)), o::updated_at.eq(at(2021, 2))))
            .execute(c)
            .unwrap();
        diesel::update(o::table.find(root))
            .set((
                o::psa_kind.eq("connectwise"),
                o::psa_company_id.eq("CW-1"),
                o::description.eq("Line one\nline \"two\"\t\\ </script>"),
            ))
            .execute(c)
            .unwrap();
        diesel::update(o::table.find(branch))
            .set((
                o::type_id.eq(customer),
                o::status_id.eq(active),
                o::short_name.eq("BR"),
                o::alert.eq("Call first \u{1F4DE}"),
            ))
            .execute(c)
            .unwrap();
        diesel::update(o::table.find(desk))
            .set((
                o::quick_notes.eq("Door code 1234\u{7}"),
                o::psa_kind.eq("autotask"),
                o::psa_company_id.eq("AT-9"),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    app.add_logo(branch).await;
    (root, branch, desk, customer, active)
}

#[tokio::test]
async fn a_page_is_the_same_document_byte_for_byte() {
    let app = spawn().await;
    let (root, branch, desk, customer, active) = a_tree(&app).await;
    let (key, _) = key_for(&app, Role::ReadOnly).await;
    let client = app.client();
    let res = api_get(
        &client,
        &key,
        "/api/organizations?page%5Bsize%5D=2&filter[name]=&sort=name",
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let times =
        r#""created-at":"2020-05-01T08:00:01.123Z","updated-at":"2021-05-01T08:00:02.123Z""#;
    let page = "https://roster.example/api/organizations?page%5Bsize%5D=2&filter%5Bname%5D=&sort=name&page%5Bnumber%5D=";
    let expected = format!(
        r#"{{"data":[{{"id":"{branch}","type":"organizations","attributes":{{"name":"Branch Ünïcode","alert":"Call first 📞","description":null,"organization-type-id":{customer},"organization-type-name":"Customer","organization-status-id":{active},"organization-status-name":"Active","primary":false,"logo":"https://roster.example/organizations/{branch}/logo","quick-notes":null,"short-name":"BR",{times},"parent-id":{root},"ancestor-ids":"{root}","psa-integration":null,"psa-id":null}}}},{{"id":"{desk}","type":"organizations","attributes":{{"name":"Desk","alert":null,"description":null,"organization-type-id":null,"organization-type-name":null,"organization-status-id":null,"organization-status-name":null,"primary":false,"logo":"","quick-notes":"Door code 1234\u0007","short-name":null,{times},"parent-id":{branch},"ancestor-ids":"{root},{branch}","psa-integration":"autotask","psa-id":"AT-9"}}}}],"meta":{{"current-page":1,"next-page":2,"prev-page":null,"total-pages":2,"total-count":3,"filters":{{"name":""}}}},"links":{{"self":"{page}1","first":"{page}1","next":"{page}2","last":"{page}2"}}}}"#
    );
    assert_eq!(res.body, expected);

    let last = api_get(
        &client,
        &key,
        "/api/organizations?page[size]=2&page[number]=2",
    )
    .await;
    let page = "https://roster.example/api/organizations?page%5Bsize%5D=2&page%5Bnumber%5D=";
    let expected = format!(
        r#"{{"data":[{{"id":"{root}","type":"organizations","attributes":{{"name":"Root \"Holdings\"","alert":null,"description":"Line one\nline \"two\"\t\\ </script>","organization-type-id":null,"organization-type-name":null,"organization-status-id":null,"organization-status-name":null,"primary":false,"logo":"","quick-notes":null,"short-name":null,{times},"parent-id":null,"ancestor-ids":null,"psa-integration":"manage","psa-id":"CW-1"}}}}],"meta":{{"current-page":2,"next-page":null,"prev-page":1,"total-pages":2,"total-count":3,"filters":{{}}}},"links":{{"self":"{page}2","first":"{page}1","prev":"{page}1","last":"{page}2"}}}}"#
    );
    assert_eq!(last.body, expected);

    // One organization reads as the same resource as in the list.
    let one = json(&api_get(&client, &key, &format!("/api/organizations/{desk}")).await);
    let listed = json(&res);
    assert_eq!(one["data"], listed["data"][1]);
    // Past the last page: no rows, the same meta.
    let past = json(&api_get(&client, &key, "/api/organizations?page[number]=9").await);
    assert_eq!(past["data"], serde_json::json!([]));
    assert_eq!(past["meta"]["total-count"], 3);
}

#[tokio::test]
async fn a_page_of_a_thousand_runs_a_fixed_number_of_statements() {
    let app = spawn().await;
    let (_, branch, _, _, _) = a_tree(&app).await;
    // Deeper still, so that an ancestor walk per level would show.
    let mut parent = "Desk".to_owned();
    for depth in 0..4 {
        let name = format!("Level {depth}");
        app.add_org(&name, Some(&parent)).await;
        parent = name;
    }
    for i in 0..40 {
        let org = app.add_org(&format!("Client {i:02}"), None).await;
        if i % 10 == 0 {
            app.add_logo(org).await;
        }
    }
    let (key, _) = key_for(&app, Role::ReadOnly).await;
    let client = app.client();
    // Once, so that the key's last use is noted (a write at most once a minute).
    assert_eq!(
        api_get(&client, &key, "/api/organizations").await.status,
        200
    );
    let counted = |path: &'static str| {
        let (app, client, key) = (&app, &client, &key);
        async move {
            let before = app.queries.get();
            let res = api_get(client, key, path).await;
            assert_eq!(res.status, 200, "{path}: {}", res.body);
            (json(&res), app.queries.get() - before)
        }
    };
    let ancestors_of_level_3 = |doc: &serde_json::Value| {
        let data = doc["data"].as_array().unwrap();
        let deepest = data
            .iter()
            .find(|o| o["attributes"]["name"] == "Level 3")
            .unwrap();
        deepest["attributes"]["ancestor-ids"]
            .as_str()
            .unwrap()
            .split(',')
            .count()
    };

    let (doc, statements) = counted("/api/organizations?page[size]=1000").await;
    assert_eq!(doc["data"].as_array().unwrap().len(), 47);
    assert_eq!(ancestors_of_level_3(&doc), 6);
    assert!(
        doc["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["attributes"]["logo"] == format!("{BASE}/organizations/{branch}/logo"))
    );
    // The key (with the version of the cached types and statuses), the total, the page's rows
    // with their logos, the ancestors.
    assert!(
        statements <= 4,
        "{statements} statements for a page of 47 organizations"
    );
    // Ancestors that are not on the page: still one statement for all of them, however deep.
    let (doc, statements) =
        counted("/api/organizations?page[size]=1000&filter[name]=Level+3").await;
    assert_eq!(doc["data"].as_array().unwrap().len(), 1);
    assert_eq!(ancestors_of_level_3(&doc), 6);
    assert!(
        statements <= 4,
        "{statements} statements for an organization 7 deep"
    );
    // A page without sub-organizations reads no ancestors; a sort without an index reads the
    // page's ids, then their rows.
    let (doc, statements) =
        counted("/api/organizations?page[size]=1000&filter[name]=Client+07").await;
    assert_eq!(doc["data"].as_array().unwrap().len(), 1);
    assert!(
        statements <= 3,
        "{statements} statements for one root organization"
    );
    let (doc, statements) = counted("/api/organizations?page[size]=1000&sort=-short_name").await;
    assert_eq!(doc["data"].as_array().unwrap().len(), 47);
    assert!(
        statements <= 5,
        "{statements} statements sorted by short name"
    );
}

/// Sets `table.name` of `id` and marks the change as another instance does (the version row
/// that every key check reads).
async fn renamed_elsewhere(app: &TestApp, id: i64, name: &'static str) {
    app.db(move |c| {
        use roster::db::schema::{app_settings as a, organization_types as t};
        diesel::update(t::table.find(id))
            .set(t::name.eq(name))
            .execute(c)
            .unwrap();
        diesel::delete(a::table.filter(a::key.eq(roster::orgs::kinds::VERSION_KEY)))
            .execute(c)
            .unwrap();
        diesel::insert_into(a::table)
            .values((
                a::key.eq(roster::orgs::kinds::VERSION_KEY),
                a::value.eq(name),
                a::updated_at.eq(roster::db::now()),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_page_names_types_as_they_are_now() {
    let app = spawn().await;
    let (_, branch, _, customer, _) = a_tree(&app).await;
    let (key, _) = key_for(&app, Role::Administrator).await;
    let client = app.client();
    let branch_id = branch.to_string();
    let type_of_branch = |doc: serde_json::Value| {
        let data = doc["data"].as_array().unwrap().clone();
        let row = data
            .into_iter()
            .find(|o| o["id"] == branch_id.as_str())
            .unwrap();
        row["attributes"]["organization-type-name"].clone()
    };
    let page = || async { json(&api_get(&client, &key, "/api/organizations").await) };
    assert_eq!(type_of_branch(page().await), "Customer");
    // Renamed through the API: the next page says so.
    let rename = serde_json::json!({"data": {"type": "organization-types", "id": customer.to_string(),
        "attributes": {"name": "Client"}}});
    let res = crate::api_orgs_write::api(
        &app,
        "PATCH",
        &format!("/api/organization_types/{customer}"),
        &key,
        Some(&rename),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(type_of_branch(page().await), "Client");
    // Renamed by another instance (the version row moved): the next page says so too.
    renamed_elsewhere(&app, customer, "Account").await;
    assert_eq!(type_of_branch(page().await), "Account");
    // Sorted without an index (by the type's name), the same.
    let sorted = json(
        &api_get(
            &client,
            &key,
            "/api/organizations?sort=organization_type_name",
        )
        .await,
    );
    assert_eq!(
        sorted["data"][0]["attributes"]["organization-type-name"],
        "Account"
    );
}

#[tokio::test]
async fn times_stored_in_other_shapes_read_as_before() {
    let app = spawn().await;
    let (root, branch, desk, _, _) = a_tree(&app).await;
    let (key, _) = key_for(&app, Role::ReadOnly).await;
    // Written by hand rather than by Roster: no fraction, one digit of it, ISO's T.
    for (id, at) in [
        (root, "2020-05-01 08:00:01"),
        (branch, "2020-05-01 08:00:01.5"),
        (desk, "2020-05-01T08:00:01.123456"),
    ] {
        let sql = format!("UPDATE organizations SET created_at = '{at}' WHERE id = {id}");
        app.db(move |c| diesel::sql_query(sql).execute(c).unwrap())
            .await;
    }
    let doc = json(&api_get(&app.client(), &key, "/api/organizations?sort=id").await);
    let created: Vec<&str> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["attributes"]["created-at"].as_str().unwrap())
        .collect();
    assert_eq!(
        created,
        [
            "2020-05-01T08:00:01.000Z",
            "2020-05-01T08:00:01.500Z",
            "2020-05-01T08:00:01.123Z"
        ]
    );
}
