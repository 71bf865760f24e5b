//! API keys: made on Settings > API keys or with `roster api-key`, shown once, stored hashed,
//! revocable, expiring; a key acts as its user (role and organization access). And the `/api`
//! routes' own authorization table.

use diesel::prelude::*;
use roster::api::keys::{self, NewKey};
use roster::auth::Role;
use roster::db::schema::{api_keys, audit_events};
use serde_json::Value;

use crate::support::{Client, Resp, TestApp, csrf_in};

/// A key acting as a new user of `role`; returns (key, the user's email).
pub async fn key_for(app: &TestApp, role: Role) -> (String, String) {
    let name = format!(
        "api-{}-{}",
        role.as_str(),
        &roster::auth::token::generate()[..6]
    )
    .to_lowercase();
    let email = app.add_user(role, &name).await;
    let key = key_as(app, &email).await;
    (key, email)
}

/// A key acting as the user `email`.
pub async fn key_as(app: &TestApp, email: &str) -> String {
    let new = NewKey::parse("script", email, false, "").unwrap();
    let secret = session_key(app);
    app.db(move |c| keys::create(c, &secret, None, &new).unwrap().1)
        .await
}

/// The session key of this app (API keys are stored as a MAC under it).
pub fn session_key(app: &TestApp) -> roster::config::SecretKey {
    app.store.settings().resolve().unwrap().session_key
}

pub async fn api_get(client: &Client, key: &str, path: &str) -> Resp {
    client.get_with_headers(path, &[("x-api-key", key)]).await
}

pub fn json(res: &Resp) -> Value {
    serde_json::from_str(&res.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", res.body))
}

/// The status of a JSON:API error document, checked for its shape.
pub fn error_status(res: &Resp) -> String {
    assert!(
        res.header("content-type")
            .starts_with("application/vnd.api+json"),
        "{}: {}",
        res.status,
        res.header("content-type")
    );
    let doc = json(res);
    let error = &doc["errors"][0];
    assert!(
        error["title"].is_string() && error["detail"].is_string(),
        "{doc}"
    );
    error["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn the_page_shows_a_key_once_and_the_database_holds_only_its_hash() {
    let app = TestApp::spawn().await;
    let target = app.add_user(Role::Editor, "scripted").await;
    let admin = app.login_as(Role::Administrator).await;
    let page = admin.get("/settings/api-keys").await;
    assert_eq!(page.status, 200);
    let res = admin
        .post(
            "/settings/api-keys",
            &[("name", "Nightly sync"), ("user", &target), ("expires", "")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let start = res.body.find("rst_").expect("the key is shown");
    let key: String = res.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert!(key.len() > 40, "{key}");
    assert_eq!(res.header("cache-control"), "no-store");

    let again = admin.get("/settings/api-keys").await;
    assert!(!again.body.contains(&key), "shown only once");
    assert!(again.body.contains(&key[..12]), "the prefix is listed");

    let secret = session_key(&app);
    let key2 = key.clone();
    let (hash, wanted, prefix): (String, String, String) = app
        .db(move |c| {
            let (hash, prefix) = api_keys::table
                .select((api_keys::key_hash, api_keys::prefix))
                .first::<(String, String)>(c)
                .unwrap();
            (hash, keys::hash(&secret, &key2), prefix)
        })
        .await;
    assert_ne!(hash, key);
    assert_eq!(hash, wanted);
    assert!(key.starts_with(&prefix));

    let client = app.client();
    assert_eq!(
        api_get(&client, &key, "/api/organizations").await.status,
        200
    );
    let used: Option<chrono::NaiveDateTime> = app
        .db(|c| {
            api_keys::table
                .select(api_keys::last_used_at)
                .first(c)
                .unwrap()
        })
        .await;
    assert!(used.is_some(), "last use is noted");
    let page = admin.get("/settings/api-keys").await;
    assert!(page.body.contains("127.0.0.1"), "with the address");
}

#[tokio::test]
async fn missing_wrong_revoked_and_expired_keys_are_refused() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let res = client.get("/api/organizations").await;
    assert_eq!(res.status, 401);
    assert_eq!(error_status(&res), "401");
    let res = api_get(&client, "rst_not-a-key", "/api/organizations").await;
    assert_eq!(res.status, 403);
    assert_eq!(error_status(&res), "403");

    let (key, _) = key_for(&app, Role::Manager).await;
    assert_eq!(
        api_get(&client, &key, "/api/organizations").await.status,
        200
    );
    let admin = app.login_as(Role::Administrator).await;
    let id: i64 = app
        .db(|c| api_keys::table.select(api_keys::id).first(c).unwrap())
        .await;
    let confirm = admin.get(&format!("/settings/api-keys/{id}/revoke")).await;
    assert_eq!(confirm.status, 200);
    let res = admin
        .post_raw(
            &format!("/settings/api-keys/{id}/revoke"),
            &[("csrf_token", &csrf_in(&confirm.body))],
        )
        .await;
    assert_eq!(res.status, 303);
    let res = api_get(&client, &key, "/api/organizations").await;
    assert_eq!(res.status, 403);
    assert!(
        json(&res)["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );

    let (expiring, _) = key_for(&app, Role::Manager).await;
    assert_eq!(
        api_get(&client, &expiring, "/api/organizations")
            .await
            .status,
        200
    );
    app.db(|c| {
        diesel::update(api_keys::table.filter(api_keys::revoked_at.is_null()))
            .set(api_keys::expires_at.eq(roster::db::now() - chrono::Duration::minutes(1)))
            .execute(c)
            .unwrap()
    })
    .await;
    let res = api_get(&client, &expiring, "/api/organizations").await;
    assert_eq!(res.status, 403);
    assert!(
        json(&res)["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let actions: Vec<String> = app
        .db(|c| {
            audit_events::table
                .filter(audit_events::action.like("api_key.%"))
                .order_by(audit_events::id)
                .select(audit_events::action)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        actions,
        ["api_key.create", "api_key.revoke", "api_key.create"]
    );
}

#[tokio::test]
async fn a_key_of_a_restricted_user_sees_only_its_organizations() {
    let app = TestApp::spawn().await;
    let a = app.add_org("Alpha Dental", None).await;
    let b = app.add_org("Beta Legal", None).await;
    let hidden = app.add_org("Gamma Hidden", None).await;
    let email = app.add_user(Role::Lite, "lite-api").await;
    let admin = app.seed_admin().await;
    let who = email.clone();
    app.db(move |c| {
        let user = roster::auth::users::find_by_email(c, &who)
            .unwrap()
            .unwrap()
            .user();
        roster::orgs::access::grant(c, &admin, user.id, "Alpha Dental").unwrap();
        roster::orgs::access::grant(c, &admin, user.id, "Beta Legal").unwrap();
    })
    .await;
    let key = key_as(&app, &email).await;
    let client = app.client();
    let doc = json(&api_get(&client, &key, "/api/organizations").await);
    assert_eq!(doc["meta"]["total-count"], 2);
    let ids: Vec<&str> = doc["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [a.to_string(), b.to_string()]);
    let hidden_res = api_get(&client, &key, &format!("/api/organizations/{hidden}")).await;
    let missing_res = api_get(&client, &key, "/api/organizations/99999999").await;
    assert_eq!(hidden_res.status, 404);
    assert_eq!(error_status(&hidden_res), "404");
    assert_eq!(
        hidden_res.body, missing_res.body,
        "hidden looks exactly like missing"
    );
    let filtered = json(
        &api_get(
            &client,
            &key,
            &format!("/api/organizations?filter[id]={hidden}"),
        )
        .await,
    );
    assert_eq!(filtered["meta"]["total-count"], 0);
}

#[tokio::test]
async fn api_key_cli_adds_lists_and_revokes() {
    let store = std::sync::Arc::new(crate::support::Store::new(crate::support::backend()));
    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    let email = app.add_user(Role::ReadOnly, "cli-api").await;
    let out = crate::cli::roster(
        &store,
        &["api-key", "add", "--user", &email, "--name", "PowerShell"],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(key.starts_with("rst_"), "{key}");
    let client = app.client();
    assert_eq!(
        api_get(&client, &key, "/api/organizations").await.status,
        200
    );

    let out = crate::cli::roster(&store, &["api-key", "list"], "");
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        listing.contains("PowerShell") && listing.contains(&email) && listing.contains("Active"),
        "{listing}"
    );
    assert!(!listing.contains(&key), "the list never shows a key");

    let out = crate::cli::roster(&store, &["api-key", "revoke", &key[..12]], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        api_get(&client, &key, "/api/organizations").await.status,
        403
    );
    let out = crate::cli::roster(
        &store,
        &[
            "api-key",
            "add",
            "--user",
            "nobody@example.com",
            "--name",
            "x",
        ],
        "",
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("No active user"));
}

/// Every `/api` route x anonymous and each role's key -> the status the role's table allows.
#[tokio::test]
async fn every_api_route_answers_every_role_as_its_rule_says() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Api Target", None).await;
    let client = app.client();
    let mut callers = vec![(String::from("anonymous"), None)];
    for role in Role::ALL {
        callers.push((role.label().to_owned(), Some(key_for(&app, role).await.0)));
    }
    let record = app
        .add_record(
            org,
            roster::records::Kind::Configuration,
            None,
            &[("name", "srv"), ("kind", "Server"), ("status", "Active")],
        )
        .await;
    let mut failures = Vec::new();
    // Reads first; then writes with an empty document: refused by the rule (403, nothing
    // written), or past it whatever the handler says of that document (bodies are checked in
    // api_records.rs and api_orgs_write.rs).
    let reads = roster::web::api::ROUTES
        .iter()
        .filter(|r| r.method == "GET");
    let writes = roster::web::api::ROUTES
        .iter()
        .filter(|r| r.method != "GET");
    for route in reads.chain(writes) {
        let path = concrete(route.path, org, record);
        let path = if route.path.starts_with("/organization_")
            || route.path.starts_with("/flexible_asset_types/")
        {
            path.replace(&org.to_string(), "1")
        } else {
            path
        };
        let flexible_types = route.path.starts_with("/flexible_asset_types/");
        for (who, key) in &callers {
            let res = match (key, route.method) {
                (Some(key), "GET") => api_get(&client, key, &path).await,
                (None, "GET") => client.get(&path).await,
                // A write, with an empty document.
                (key, method) => {
                    let key = key.as_deref().unwrap_or_default();
                    let body = serde_json::json!({});
                    crate::api_orgs_write::api(&app, method, &path, key, Some(&body)).await
                }
            };
            let refused = Role::ALL
                .iter()
                .any(|r| r.label() == who && !roster::auth::allowed(*r, route.action));
            if key.is_some() && route.method != "GET" && !refused {
                if matches!(res.status, 401 | 403) || res.status >= 500 {
                    failures.push(format!("{} {path} as {who}: {}", route.method, res.status));
                }
                continue;
            }
            let want = match (key, route.method) {
                (None, _) => 401,
                (Some(_), _) if refused => 403,
                // Lite users see only the organizations on their list (none here).
                (Some(_), _)
                    if who == "Lite"
                        && (route.path == "/organizations/{id}"
                            || route.path.contains("{org}")
                            || route.path.contains("}/{id}")) =>
                {
                    404
                }
                // No flexible asset type 1 here.
                (Some(_), _) if flexible_types && who != "anonymous" => 404,
                _ => 200,
            };
            if res.status != want {
                failures.push(format!(
                    "{} {path} as {who}: {} (expected {want})",
                    route.method, res.status
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A route's path with its parameters filled: `{kind:a|b}` the first kind, `{org}` the
/// organization, `{id}` the record under a kind (else the organization).
pub fn concrete(path: &str, org: i64, record: i64) -> String {
    let mut out = String::new();
    let mut rest = path;
    let record_route = path.contains("{kind:");
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').unwrap();
        let name = &rest[start + 1..end];
        match name.split_once(':') {
            Some((_, alternatives)) => out.push_str(alternatives.split('|').next().unwrap()),
            None if name == "org" => out.push_str(&org.to_string()),
            None if record_route => out.push_str(&record.to_string()),
            None => out.push_str(&org.to_string()),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    format!("/api{out}")
}
