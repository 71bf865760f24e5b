//! `/api/organizations` and the transport as IT Glue's clients use it: content types, trailing
//! slashes, `+` and `%20`, encoded brackets, JSON:API errors, the rate limit, every page of 120
//! organizations by `links.next`, and filters and sorts on real data.

use diesel::prelude::*;
use roster::auth::Role;
use serde_json::Value;

use crate::api_keys::{api_get, error_status, json, key_for};
use crate::support::TestApp;

const BASE: &str = "https://roster.example";

async fn spawn() -> TestApp {
    TestApp::spawn_with(|s| s.base_url = Some(BASE.into())).await
}

fn names(doc: &Value) -> Vec<String> {
    doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["attributes"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn transport_takes_what_the_clients_send() {
    let app = spawn().await;
    app.add_org("Acme Corp", None).await;
    app.add_org("Other Org", None).await;
    let (key, _) = key_for(&app, Role::ReadOnly).await;
    let client = app.client();
    for content_type in ["application/vnd.api+json", "application/json", ""] {
        let mut headers = vec![("x-api-key", key.as_str())];
        if !content_type.is_empty() {
            headers.push(("content-type", content_type));
        }
        let res = client
            .get_with_headers("/api/organizations/", &headers)
            .await;
        assert_eq!(res.status, 200, "{content_type}: {}", res.body);
        assert_eq!(
            res.header("content-type"),
            "application/vnd.api+json; charset=utf-8"
        );
        assert!(res.header("set-cookie").is_empty(), "no cookies in /api");
    }
    for query in [
        "filter[name]=Acme+Corp",
        "filter[name]=Acme%20Corp",
        "filter%5Bname%5D=Acme+Corp&&",
        "&filter%5bname%5d=Acme%20Corp&=&page%5Bsize%5D=10",
    ] {
        let doc = json(&api_get(&client, &key, &format!("/api/organizations?{query}")).await);
        assert_eq!(names(&doc), ["Acme Corp"], "{query}");
    }
    for bad in [
        "page[size]=abc",
        "page[size]=0",
        "page[number]=-1",
        "sort=colour",
        "filter[id]=x",
        "filter[created_at]=yesterday",
        "filter[psa_integration_type]=halo",
    ] {
        let res = api_get(&client, &key, &format!("/api/organizations?{bad}")).await;
        assert_eq!(res.status, 400, "{bad}");
        assert_eq!(error_status(&res), "400");
        assert!(
            json(&res)["errors"][0]["source"]["parameter"].is_string(),
            "{bad}"
        );
    }
    let res = api_get(&client, &key, "/api/no_such_thing").await;
    assert_eq!(res.status, 404);
    assert_eq!(error_status(&res), "404");
    let res = api_get(&client, &key, "/api/organizations/not-a-number").await;
    assert_eq!(error_status(&res), "404");
}

#[tokio::test]
async fn a_body_past_the_limit_is_a_json_api_413() {
    let app = spawn().await;
    let (key, _) = key_for(&app, Role::Manager).await;
    let body = vec![b'x'; 10 * 1024 * 1024 + 1];
    let res = reqwest::Client::new()
        .post(format!("{}/api/organizations", app.base))
        .header("x-api-key", &key)
        .header("content-type", "application/vnd.api+json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    let doc: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
    assert_eq!(doc["errors"][0]["status"], "413");
    assert_eq!(app.org_count().await, 0);
}

#[tokio::test]
async fn past_the_rate_limit_a_key_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(|s| s.api_rate_limit = Some(3)).await;
    let (key, _) = key_for(&app, Role::Editor).await;
    let (other, _) = key_for(&app, Role::Editor).await;
    let client = app.client();
    for _ in 0..3 {
        assert_eq!(
            api_get(&client, &key, "/api/organizations").await.status,
            200
        );
    }
    let res = api_get(&client, &key, "/api/organizations").await;
    assert_eq!(res.status, 429);
    assert_eq!(error_status(&res), "429");
    let wait: u64 = res.header("retry-after").parse().unwrap();
    assert!((1..=101).contains(&wait), "{wait}");
    assert_eq!(
        api_get(&client, &other, "/api/organizations").await.status,
        200,
        "per key"
    );
}

#[tokio::test]
async fn every_page_of_120_organizations_by_links_next() {
    let app = spawn().await;
    for i in 0..120 {
        app.add_org(&format!("Client {i:03}"), None).await;
    }
    let (key, _) = key_for(&app, Role::ReadOnly).await;
    let client = app.client();
    let mut path = "/api/organizations?page[size]=50&filter[name]=".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let res = api_get(&client, &key, &path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.body);
        let doc = json(&res);
        pages += 1;
        assert_eq!(doc["meta"]["total-pages"], 3);
        assert_eq!(doc["meta"]["total-count"], 120);
        assert_eq!(doc["meta"]["current-page"], pages);
        assert!(
            doc["links"]["self"]
                .as_str()
                .unwrap()
                .contains("page%5Bsize%5D=50")
        );
        assert_eq!(doc["links"]["prev"].is_string(), pages > 1);
        seen.extend(names(&doc));
        match doc["links"]["next"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&format!("{BASE}/api/organizations?")),
                    "{next}"
                );
                assert_eq!(doc["meta"]["next-page"], pages + 1);
                path = next.strip_prefix(BASE).unwrap().to_owned();
            }
            None => {
                assert!(doc["meta"]["next-page"].is_null());
                break;
            }
        }
    }
    assert_eq!(pages, 3);
    let wanted: Vec<String> = (0..120).map(|i| format!("Client {i:03}")).collect();
    assert_eq!(seen, wanted, "every organization once, by name");
    let all = json(&api_get(&client, &key, "/api/organizations?page[size]=1000").await);
    assert_eq!(all["data"].as_array().unwrap().len(), 120);
    assert_eq!(all["meta"]["total-pages"], 1);
    assert!(all["links"].get("next").is_none() && all["links"].get("prev").is_none());
}

#[tokio::test]
async fn filters_sorts_and_attributes_on_real_data() {
    let app = spawn().await;
    let parent = app.add_org("Zulu Holdings", None).await;
    let child = app.add_org("Alpha Branch", Some("Zulu Holdings")).await;
    let other = app.add_org("Mike Widgets", None).await;
    let (customer, vendor): (i64, i64) = app
        .db(|c| {
            use roster::db::schema::organization_types as t;
            let mut id = |name: &str| {
                t::table
                    .filter(t::name.eq(name))
                    .select(t::id)
                    .first::<i64>(c)
            };
            (id("Customer").unwrap(), id("Vendor").unwrap())
        })
        .await;
    let old = chrono::NaiveDate::from_ymd_opt(2020, 5, 1)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap();
    app.db(move |c| {
        use roster::db::schema::organizations as o;
        diesel::update(o::table.find(child))
            .set((
                o::type_id.eq(customer),
                o::quick_notes.eq("Door code 1234"),
                o::created_at.eq(old),
            ))
            .execute(c)
            .unwrap();
        diesel::update(o::table.find(other))
            .set(o::type_id.eq(vendor))
            .execute(c)
            .unwrap();
        diesel::update(o::table.find(parent))
            .set((o::psa_kind.eq("autotask"), o::psa_company_id.eq("AT-77")))
            .execute(c)
            .unwrap();
    })
    .await;
    let (key, _) = key_for(&app, Role::ReadOnly).await;
    let client = app.client();
    let get = |q: String| {
        let client = &client;
        let key = key.clone();
        async move { json(&api_get(client, &key, &format!("/api/organizations?{q}")).await) }
    };

    let doc = get(format!("filter[id]={child},{other}")).await;
    assert_eq!(names(&doc), ["Alpha Branch", "Mike Widgets"]);
    assert_eq!(doc["meta"]["filters"]["id"], format!("{child},{other}"));
    let doc = get(format!("filter[organization_type_id]={customer}")).await;
    assert_eq!(names(&doc), ["Alpha Branch"]);
    let doc = get("filter[name]=mike+widgets".into()).await;
    assert_eq!(names(&doc), ["Mike Widgets"]);
    let doc = get("filter[created_at]=*,2021-01-01".into()).await;
    assert_eq!(names(&doc), ["Alpha Branch"]);
    let doc = get("filter[created_at]=2021-01-01T00:00:00Z,*".into()).await;
    assert_eq!(names(&doc), ["Mike Widgets", "Zulu Holdings"]);
    let doc = get("filter[psa_id]=AT-77&filter[psa_integration_type]=autotask".into()).await;
    assert_eq!(names(&doc), ["Zulu Holdings"]);
    let doc = get("filter[psa_id]=AT-77&filter[psa_integration_type]=manage".into()).await;
    assert_eq!(names(&doc), Vec::<String>::new());

    assert_eq!(
        names(&get("sort=-name".into()).await),
        ["Zulu Holdings", "Mike Widgets", "Alpha Branch"]
    );
    assert_eq!(
        names(&get("sort=-id".into()).await),
        ["Mike Widgets", "Alpha Branch", "Zulu Holdings"]
    );
    assert_eq!(
        names(&get("sort=created_at".into()).await)[0],
        "Alpha Branch"
    );
    // Customer < Vendor < no type.
    assert_eq!(
        names(&get("sort=organization_type_name".into()).await),
        ["Alpha Branch", "Mike Widgets", "Zulu Holdings"]
    );
    assert_eq!(
        names(&get("sort=-organization_type_name".into()).await),
        ["Zulu Holdings", "Mike Widgets", "Alpha Branch"]
    );

    let show = json(&api_get(&client, &key, &format!("/api/organizations/{child}/")).await);
    let data = &show["data"];
    assert_eq!(data["id"], child.to_string());
    assert_eq!(data["type"], "organizations");
    let a = &data["attributes"];
    assert_eq!(a["organization-type-id"], customer);
    assert_eq!(a["organization-type-name"], "Customer");
    assert!(a["organization-status-id"].is_null());
    assert_eq!(a["quick-notes"], "Door code 1234");
    assert!(a["alert"].is_null() && a["description"].is_null() && a["short-name"].is_null());
    assert_eq!(a["parent-id"], parent);
    assert_eq!(a["ancestor-ids"], parent.to_string());
    assert_eq!(a["created-at"], "2020-05-01T08:00:00.000Z");
    assert_eq!(a["logo"], "");
    app.add_logo(child).await;
    let show = json(&api_get(&client, &key, &format!("/api/organizations/{child}")).await);
    assert_eq!(
        show["data"]["attributes"]["logo"],
        format!("{BASE}/organizations/{child}/logo")
    );

    let types = json(&api_get(&client, &key, "/api/organization_types").await);
    assert!(names(&types).contains(&"Customer".to_owned()));
    assert_eq!(types["data"][0]["type"], "organization-types");
    let one = json(
        &api_get(
            &client,
            &key,
            &format!("/api/organization_types/{customer}/"),
        )
        .await,
    );
    assert_eq!(one["data"]["attributes"]["name"], "Customer");
    let statuses = api_get(&client, &key, "/api/organization_statuses").await;
    assert_eq!(statuses.status, 200);
    assert_eq!(
        api_get(&client, &key, "/api/organization_statuses/999999")
            .await
            .status,
        404
    );
}
