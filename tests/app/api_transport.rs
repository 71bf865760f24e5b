//! The API's transport as the clients stress it: Windows-1252 bodies from Windows PowerShell 5.1,
//! compressed bodies, malformed documents, the look-up lists clients read at start,
//! `filter[exclude][...]`, and the PowerShell modules' request shapes replayed exactly.

use roster::auth::Role;
use serde_json::{Value, json};

use crate::api_keys::{api_get, error_status, json as parse, key_for};
use crate::api_orgs_write::{api, column, org_doc};
use crate::support::{Resp, TestApp};

async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    key: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", app.base))
        .header("x-api-key", key);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let res = request.body(body).send().await.unwrap();
    Resp {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.text().await.unwrap(),
    }
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
async fn bad_bodies_are_json_api_errors_and_change_nothing() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Acme", None).await;
    let (key, _) = key_for(&app, Role::Manager).await;
    let json_type = [("content-type", "application/vnd.api+json")];
    for (body, status) in [
        (&b"{\"data\": {\"type\": \"organizations\", "[..], 400),
        (&b"[1, 2]"[..], 400),
        (&b""[..], 400),
        (
            &b"{\"data\": {\"type\": \"contacts\", \"attributes\": {\"name\": \"X\"}}}"[..],
            409,
        ),
        (&b"{\"data\": 5}"[..], 422),
    ] {
        let res = raw(
            &app,
            "POST",
            "/api/organizations",
            &key,
            &json_type,
            body.to_vec(),
        )
        .await;
        assert_eq!(res.status, status, "{}", String::from_utf8_lossy(body));
        assert_eq!(error_status(&res), status.to_string());
    }
    let res = raw(
        &app,
        "PATCH",
        &format!("/api/organizations/{org}"),
        &key,
        &json_type,
        b"{oops".to_vec(),
    )
    .await;
    assert_eq!(error_status(&res), "400");
    // A compressed body is refused before it is read, as JSON:API.
    let gz = [
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
    ];
    let res = raw(
        &app,
        "POST",
        "/api/organizations",
        &key,
        &gz,
        vec![0x1f, 0x8b, 8, 0],
    )
    .await;
    assert_eq!(res.status, 415);
    assert_eq!(error_status(&res), "415");
    assert_eq!(app.org_count().await, 1);
    assert_eq!(column(&app, org).await.1, "");
}

#[tokio::test]
async fn a_windows_1252_body_from_powershell_5_is_read_not_refused() {
    let app = TestApp::spawn().await;
    let (key, _) = key_for(&app, Role::Manager).await;
    // "Müller – Bäckerei €" in Windows-1252 (ü FC, en dash 96, ä E4, euro 80): not valid UTF-8.
    let mut body = b"{\"data\":{\"type\":\"organizations\",\"attributes\":{\"name\":\"M".to_vec();
    body.extend([0xFC]);
    body.extend(b"ller ");
    body.extend([0x96]);
    body.extend(b" B");
    body.extend([0xE4]);
    body.extend(b"ckerei ");
    body.extend([0x80]);
    body.extend(b"\"}}}");
    assert!(std::str::from_utf8(&body).is_err());
    let res = raw(
        &app,
        "POST",
        "/api/organizations/",
        &key,
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id: i64 = parse(&res)["data"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(column(&app, id).await.0, "Müller – Bäckerei €");
}

/// Records read their bodies through the same reader: a contact from PowerShell 5.1.
#[tokio::test]
async fn a_windows_1252_record_body_is_read_not_refused() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Records 1252", None).await;
    let (key, _) = key_for(&app, Role::Manager).await;
    // "Jürgen" with ü as FC, and a BOM-less body: not valid UTF-8.
    let mut body = format!(
        "{{\"data\":{{\"type\":\"contacts\",\"attributes\":{{\"organization-id\":{org},\"first-name\":\"J"
    )
    .into_bytes();
    body.extend([0xFC]);
    body.extend(b"rgen\",\"last-name\":\"Stra");
    body.extend([0xDF]);
    body.extend(b"e\"}}}");
    assert!(std::str::from_utf8(&body).is_err());
    let res = raw(
        &app,
        "POST",
        "/api/contacts",
        &key,
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let id = parse(&res)["data"]["id"].as_str().unwrap().to_owned();
    let shown = api_get(&app.client(), &key, &format!("/api/contacts/{id}")).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let attributes = &parse(&shown)["data"]["attributes"];
    assert_eq!(attributes["first-name"], "Jürgen", "{}", shown.body);
    assert_eq!(attributes["last-name"], "Straße", "{}", shown.body);
}

#[tokio::test]
async fn look_up_lists_answer_empty_in_the_organizations_shape() {
    let app = TestApp::spawn_with(|s| s.base_url = Some("https://roster.example".into())).await;
    let (key, _) = key_for(&app, Role::ReadOnly).await;
    let client = app.client();
    for list in [
        "regions",
        "countries",
        "manufacturers",
        "models",
        "operating_systems",
        "configuration_types",
        "configuration_statuses",
        "contact_types",
        "password_categories",
        "platforms",
    ] {
        let res = client
            .get_with_headers(
                &format!("/api/{list}/"),
                &[("x-api-key", &key), ("content-type", "application/json")],
            )
            .await;
        assert_eq!(res.status, 200, "{list}: {}", res.body);
        let doc = parse(&res);
        assert_eq!(doc["data"], json!([]), "{list}");
        assert_eq!(doc["meta"]["total-count"], 0);
        assert!(doc["meta"]["next-page"].is_null());
        assert!(doc["links"].get("next").is_none());
        assert!(
            doc["links"]["self"]
                .as_str()
                .unwrap()
                .starts_with(&format!("https://roster.example/api/{list}?"))
        );
    }
    assert_eq!(client.get("/api/regions").await.status, 401);
}

#[tokio::test]
async fn filter_exclude_leaves_out_by_id_name_type_and_status() {
    let app = TestApp::spawn().await;
    let a = app.add_org("Alpha", None).await;
    let b = app.add_org("Beta", None).await;
    app.add_org("Gamma", None).await;
    let (key, _) = key_for(&app, Role::Editor).await;
    let vendor = crate::psa::type_id(&app, "Vendor").await;
    assert_eq!(
        api(
            &app,
            "PATCH",
            &format!("/api/organizations/{b}"),
            &key,
            Some(&org_doc(json!({"organization_type_id": vendor})))
        )
        .await
        .status,
        200
    );
    let client = app.client();
    let get = |q: String| {
        let (client, key) = (&client, &key);
        async move {
            names(&parse(
                &api_get(client, key, &format!("/api/organizations?{q}")).await,
            ))
        }
    };
    assert_eq!(
        get(format!("filter[exclude][id]={a}")).await,
        ["Beta", "Gamma"]
    );
    assert_eq!(
        get("filter%5Bexclude%5D%5Bname%5D=gamma".into()).await,
        ["Alpha", "Beta"]
    );
    assert_eq!(
        get(format!("filter[exclude][organization_type_id]={vendor}")).await,
        ["Alpha", "Gamma"]
    );
    assert_eq!(get(format!("filter[exclude][id]={a},{b}")).await, ["Gamma"]);
    let res = api_get(&client, &key, "/api/organizations?filter[exclude][id]=x").await;
    assert_eq!(res.status, 400);
}

/// ITGlueAPI 2.2.0's shapes: paths ending in `/organizations/`, `Content-Type` on every request
/// (GET too), `+` for spaces, Int64 ids, `filter[...]` keys in the JSON body of bulk PATCH and
/// DELETE beside `data`.
#[tokio::test]
async fn powershell_request_shapes_replayed() {
    let app = TestApp::spawn().await;
    let (key, _) = key_for(&app, Role::Manager).await;
    let ct = [("content-type", "application/json; charset=utf-8")];
    let body = |v: Value| v.to_string().into_bytes();
    let res = raw(
        &app,
        "POST",
        "/api/organizations/",
        &key,
        &ct,
        body(org_doc(json!({"name": "Contoso Ltd", "alert": ""}))),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let contoso: i64 = parse(&res)["data"]["id"].as_str().unwrap().parse().unwrap();
    let res = raw(
        &app,
        "POST",
        "/api/organizations/",
        &key,
        &ct,
        body(org_doc(json!({"name": "Fabrikam Inc"}))),
    )
    .await;
    let fabrikam: i64 = parse(&res)["data"]["id"].as_str().unwrap().parse().unwrap();
    let res = raw(
        &app,
        "GET",
        "/api/organizations/?filter[name]=Contoso+Ltd&page[size]=1000",
        &key,
        &ct,
        Vec::new(),
    )
    .await;
    assert_eq!(names(&parse(&res)), ["Contoso Ltd"]);
    let res = raw(
        &app,
        "GET",
        &format!("/api/organizations/{contoso}/"),
        &key,
        &ct,
        Vec::new(),
    )
    .await;
    assert_eq!(res.status, 200);

    let bulk = json!({
        "filter[id]": contoso,
        "data": [{"type": "organizations", "attributes": {"id": contoso, "quick_notes": "from PS"}}],
    });
    let res = raw(&app, "PATCH", "/api/organizations/", &key, &ct, body(bulk)).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let outside = json!({
        "filter[id]": contoso,
        "data": [{"type": "organizations", "attributes": {"id": fabrikam}}],
    });
    let res = raw(
        &app,
        "DELETE",
        "/api/organizations/",
        &key,
        &ct,
        body(outside),
    )
    .await;
    assert_eq!(res.status, 404);
    assert_eq!(app.org_count().await, 2);
    let delete = json!({
        "filter[name]": "Fabrikam Inc",
        "data": [{"type": "organizations", "attributes": {"id": fabrikam}}],
    });
    let res = raw(
        &app,
        "DELETE",
        "/api/organizations/",
        &key,
        &ct,
        body(delete),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(parse(&res)["data"][0]["id"], fabrikam.to_string());
    let res = raw(&app, "GET", "/api/organizations/", &key, &ct, Vec::new()).await;
    assert_eq!(names(&parse(&res)), ["Contoso Ltd"]);
}
