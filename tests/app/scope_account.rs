//! Actions that show or change every organization (the PSA settings and their data loads, API
//! keys, which may act as any user, the import and the whole export) are refused to a user restricted to some
//! organizations, whatever his role, with the reason; users who see all organizations keep them.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{api_keys, jobs};

use crate::scope::restricted;
use crate::support::TestApp;

const REASON: &str = "only users with access to all organizations can use it";

#[tokio::test]
async fn a_restricted_manager_can_neither_open_nor_run_the_psa_settings() {
    let app = TestApp::spawn_with(|s| s.run_jobs = Some(false)).await;
    let own = app.add_org("Own Org", None).await;
    let (client, _) = restricted(&app, Role::Manager, "psa-scope", &[own]).await;
    for path in ["/settings/psa", "/settings/psa/previews/1"] {
        let res = client.get(path).await;
        assert_eq!(res.status, 403, "GET {path}");
        assert!(res.body.contains(REASON), "GET {path}: {}", res.body);
    }
    for path in [
        "/settings/psa",
        "/settings/psa/mapping",
        "/settings/psa/test",
        "/settings/psa/sync",
        "/settings/psa/preview",
        "/settings/psa/exclusions/1/include",
        "/settings/psa/previews/1/apply",
    ] {
        let res = client.post(path, &[("kind", "connectwise")]).await;
        assert_eq!(res.status, 403, "POST {path}");
    }
    let queued: i64 = app.db(|c| jobs::table.count().get_result(c).unwrap()).await;
    assert_eq!(queued, 0, "a refused Sync now or Preview queued a job");
    let settings = client.get("/settings/types").await;
    assert_eq!(settings.status, 200);
    assert!(!settings.body.contains("href=\"/settings/psa\""));

    let manager = app.login_as(Role::Manager).await;
    assert_eq!(manager.get("/settings/psa").await.status, 200);
    let settings = manager.get("/settings/types").await;
    assert!(settings.body.contains("href=\"/settings/psa\""));
}

#[tokio::test]
async fn a_restricted_administrator_cannot_make_a_key_for_a_wider_user_or_import() {
    let app = TestApp::spawn().await;
    let own = app.add_org("Own Org", None).await;
    let wide = app.add_user(Role::Administrator, "wide-admin").await;
    let (client, _) = restricted(&app, Role::Administrator, "narrow-admin", &[own]).await;
    let res = client.get("/settings/api-keys").await;
    assert_eq!(res.status, 403);
    assert!(res.body.contains(REASON), "{}", res.body);
    let res = client
        .post(
            "/settings/api-keys",
            &[("name", "escalate"), ("user", &wide), ("expires", "")],
        )
        .await;
    assert_eq!(res.status, 403);
    let keys: i64 = app
        .db(|c| api_keys::table.count().get_result(c).unwrap())
        .await;
    assert_eq!(keys, 0, "a restricted Administrator made a key");
    assert_eq!(client.get("/manage-data/import").await.status, 403);
    assert_eq!(client.get("/manage-data/export").await.status, 403);

    let admin = app.login_as(Role::Administrator).await;
    assert_eq!(admin.get("/settings/api-keys").await.status, 200);
    assert_eq!(admin.get("/manage-data/import").await.status, 200);
}
