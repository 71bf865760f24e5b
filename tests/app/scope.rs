//! A user who does not see all organizations may not grant what he cannot see himself (issue 11,
//! finding 1): not "all organizations", not an organization outside his list, not a user wider
//! than himself; the pages he manages users and data from show only what he can see.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{organizations, user_organizations, users};

use crate::sessions::user_id;
use crate::support::{Client, PASSWORD, TestApp};

/// Limits the user `email` to the organizations `orgs`; returns the user's id.
pub async fn restrict(app: &TestApp, email: &str, orgs: &[i64]) -> i64 {
    let uid = user_id(app, email).await;
    let orgs = orgs.to_vec();
    app.db(move |c| {
        diesel::update(users::table.find(uid))
            .set(users::all_organizations.eq(false))
            .execute(c)
            .unwrap();
        for org in orgs {
            diesel::insert_into(user_organizations::table)
                .values((
                    user_organizations::user_id.eq(uid),
                    user_organizations::organization_id.eq(org),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    uid
}

/// A signed-in user of `role` who sees only `orgs`: the client and the user's id.
pub async fn restricted(app: &TestApp, role: Role, name: &str, orgs: &[i64]) -> (Client, i64) {
    let email = app.add_user(role, name).await;
    let uid = restrict(app, &email, orgs).await;
    let client = app.client();
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
    (client, uid)
}

/// The user's "all organizations" flag and access list.
pub async fn access_of(app: &TestApp, uid: i64) -> (bool, Vec<i64>) {
    app.db(move |c| {
        let all = users::table
            .find(uid)
            .select(users::all_organizations)
            .first(c)
            .unwrap();
        let list = user_organizations::table
            .filter(user_organizations::user_id.eq(uid))
            .order_by(user_organizations::organization_id)
            .select(user_organizations::organization_id)
            .load(c)
            .unwrap();
        (all, list)
    })
    .await
}

/// Deletes the organization `org` (named `name`) as the seed Administrator, with a 15-minute grace.
pub async fn delete_as_admin(app: &TestApp, org: i64, name: &str) {
    let admin = app.seed_admin().await;
    let name = name.to_owned();
    app.db(move |c| {
        roster::orgs::delete::request(
            c,
            &admin,
            roster::orgs::OrgId(org),
            &name,
            std::time::Duration::from_secs(900),
        )
        .unwrap();
    })
    .await;
}

/// Two organizations, "Seen Co" (on the Manager's list) and "Hidden Co", and a Manager who sees
/// only the first.
async fn a_restricted_manager() -> (TestApp, Client, i64, i64, i64) {
    let app = TestApp::spawn().await;
    let seen = app.add_org("Seen Co", None).await;
    let hidden = app.add_org("Hidden Co", None).await;
    let (manager, mid) = restricted(&app, Role::Manager, "narrow", &[seen]).await;
    (app, manager, mid, seen, hidden)
}

#[tokio::test]
async fn a_restricted_manager_cannot_give_himself_all_organizations() {
    let (app, manager, mid, seen, _) = a_restricted_manager().await;
    let res = manager
        .post(&format!("/users/{mid}/access"), &[("all", "true")])
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(access_of(&app, mid).await, (false, vec![seen]));
    let list = manager.get("/organizations").await.body;
    assert!(!list.contains("Hidden Co"), "{list}");
    // Nor add an organization he cannot see.
    let res = manager
        .post(
            &format!("/users/{mid}/access/add"),
            &[("organization", "Hidden Co")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(access_of(&app, mid).await, (false, vec![seen]));
}

#[tokio::test]
async fn a_user_created_by_a_restricted_manager_starts_restricted() {
    let (app, manager, _, _, _) = a_restricted_manager().await;
    let res = manager
        .post(
            "/users",
            &[
                ("email", "made@example.com"),
                ("display_name", "Made"),
                ("role", "editor"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let uid = user_id(&app, "made@example.com").await;
    assert_eq!(access_of(&app, uid).await, (false, vec![]));
    let made = app.client();
    assert_eq!(made.login("made@example.com", PASSWORD).await.status, 303);
    let list = made.get("/organizations").await.body;
    assert!(
        !list.contains("Hidden Co") && !list.contains("Seen Co"),
        "{list}"
    );
}

#[tokio::test]
async fn a_restricted_manager_cannot_set_the_password_of_a_wider_user() {
    let (app, manager, _, seen, hidden) = a_restricted_manager().await;
    let wide = app.add_user(Role::Editor, "wide").await;
    let wid = user_id(&app, &wide).await;
    let new = "a brand new passphrase 42";
    let res = manager
        .post(
            &format!("/users/{wid}/password"),
            &[("password", new), ("password_confirm", new)],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(app.client().login(&wide, new).await.status, 401);
    // A user restricted to more than the Manager sees is wider too.
    let other = app.add_user(Role::Editor, "other").await;
    let oid = restrict(&app, &other, &[seen, hidden]).await;
    let res = manager
        .post(
            &format!("/users/{oid}/password"),
            &[("password", new), ("password_confirm", new)],
        )
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    assert_eq!(app.client().login(&other, new).await.status, 401);
}

#[tokio::test]
async fn a_restricted_manager_cannot_change_the_role_or_status_of_a_wider_user() {
    let (app, manager, _, seen, _) = a_restricted_manager().await;
    let wide = app.add_user(Role::Editor, "wide").await;
    let wid = user_id(&app, &wide).await;
    let res = manager
        .post(&format!("/users/{wid}/role"), &[("role", "read_only")])
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    let res = manager
        .post(&format!("/users/{wid}/active"), &[("active", "false")])
        .await;
    assert_eq!(res.status, 403, "{}", res.body);
    let (role, active): (String, bool) = app
        .db(move |c| {
            users::table
                .find(wid)
                .select((users::role, users::active))
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!((role.as_str(), active), ("editor", true));
    // The Users list does not link the wider user; a narrower one it does.
    let narrow = app.add_user(Role::Editor, "narrower").await;
    let nid = restrict(&app, &narrow, &[seen]).await;
    let list = manager.get("/users").await.body;
    assert!(!list.contains(&format!("href=\"/users/{wid}\"")), "{list}");
    assert!(list.contains(&format!("href=\"/users/{nid}\"")), "{list}");
    let res = manager
        .post(&format!("/users/{nid}/role"), &[("role", "read_only")])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
}

#[tokio::test]
async fn manage_data_lists_only_what_a_restricted_manager_sees() {
    let (app, manager, _, seen, hidden) = a_restricted_manager().await;
    let gone = app.add_org("Gone Hidden Co", None).await;
    app.db(move |c| {
        diesel::update(organizations::table.filter(organizations::id.eq_any([seen, hidden])))
            .set((
                organizations::psa_kind.eq(Some("connectwise")),
                organizations::psa_company_id.eq(Some("7")),
                organizations::sync_enabled.eq(true),
                organizations::orphaned_at.eq(Some(roster::db::now())),
                organizations::orphan_reason.eq(Some("The PSA no longer has company 7.")),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    delete_as_admin(&app, gone, "Gone Hidden Co").await;
    let page = manager.get("/manage-data").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Seen Co"), "{}", page.body);
    assert!(!page.body.contains("Hidden Co"), "{}", page.body);
    assert!(!page.body.contains("seed@example.com"), "{}", page.body);
}

#[tokio::test]
async fn a_user_page_shows_only_the_organizations_the_manager_sees() {
    let (app, manager, _, seen, hidden) = a_restricted_manager().await;
    let other = app.add_user(Role::Editor, "other").await;
    let oid = restrict(&app, &other, &[seen, hidden]).await;
    let page = manager.get(&format!("/users/{oid}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(">Seen Co</a>"), "{}", page.body);
    assert!(!page.body.contains("Hidden Co"), "{}", page.body);
    assert!(
        page.body.contains("1 other organization is hidden"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn access_remove_takes_only_organizations_the_manager_sees() {
    let (app, manager, _, seen, hidden) = a_restricted_manager().await;
    let other = app.add_user(Role::Editor, "other").await;
    let oid = restrict(&app, &other, &[seen, hidden]).await;
    let res = manager
        .post(
            &format!("/users/{oid}/access/remove"),
            &[("organization_id", &hidden.to_string())],
        )
        .await;
    assert_eq!(res.status, 404, "{}", res.body);
    assert_eq!(access_of(&app, oid).await, (false, vec![seen, hidden]));
    let res = manager
        .post(
            &format!("/users/{oid}/access/remove"),
            &[("organization_id", &seen.to_string())],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(access_of(&app, oid).await, (false, vec![hidden]));
}

#[tokio::test]
async fn the_bulk_delete_confirmation_names_only_visible_sub_organizations() {
    let app = TestApp::spawn().await;
    let parent = app.add_org("Parent Co", None).await;
    let shown = app.add_org("Shown Child", Some("Parent Co")).await;
    app.add_org("Secret Child", Some("Parent Co")).await;
    let (manager, _) = restricted(&app, Role::Manager, "narrow", &[parent, shown]).await;
    let page = manager
        .get(&format!("/organizations/bulk-delete?ids={parent}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Shown Child"), "{}", page.body);
    assert!(!page.body.contains("Secret Child"), "{}", page.body);
    assert!(page.body.contains("outside your access"), "{}", page.body);
    let res = manager
        .post(
            "/organizations/bulk-delete",
            &[("ids", &parent.to_string()), ("confirm", "DELETE")],
        )
        .await;
    assert_eq!(res.status, 303);
    let deleted: i64 = app
        .db(|c| {
            organizations::table
                .filter(organizations::deleted_at.is_not_null())
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(deleted, 0);
}

#[tokio::test]
async fn setting_ones_own_password_ends_ones_other_sessions_only() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Manager, "self").await;
    let uid = user_id(&app, &email).await;
    let here = app.client();
    let elsewhere = app.client();
    assert_eq!(here.login(&email, PASSWORD).await.status, 303);
    assert_eq!(elsewhere.login(&email, PASSWORD).await.status, 303);
    let new = "my own new passphrase 7";
    let res = here
        .post(
            &format!("/users/{uid}/password"),
            &[("password", new), ("password_confirm", new)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(here.get("/users").await.status, 200, "kept this session");
    let res = elsewhere.get("/users").await;
    assert_eq!(res.status, 303, "the other session ended");
    assert!(res.location().starts_with("/login"));
}

/// A restricted user's list counts the visible organizations on their list: its length less
/// those on it being deleted (`counts::on_list`), the same as counting them, before and after
/// a restore; with a filter, counted from the rows.
#[tokio::test]
async fn a_restricted_list_counts_what_it_shows() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for name in ["One Co", "Two Co", "Three Co", "Four Co", "Elsewhere Co"] {
        ids.push(app.add_org(name, None).await);
    }
    let (tech, _) = restricted(&app, Role::Editor, "tech", &ids[..4]).await;
    assert_eq!(
        crate::org_counts::shown_total(&tech, "/organizations").await,
        "4"
    );
    app.mark_being_deleted(&[ids[1], ids[4]]).await;
    assert_eq!(
        crate::org_counts::shown_total(&tech, "/organizations").await,
        "3"
    );
    let page = tech.get("/organizations").await.body;
    assert!(
        page.contains(">One Co</a>") && !page.contains(">Two Co</a>"),
        "{page}"
    );
    let customer = crate::org_counts::kind_id(&app, true, "Customer").await;
    let (third, fourth) = (ids[2], ids[3]);
    app.db(move |c| {
        diesel::update(organizations::table.filter(organizations::id.eq_any([third, fourth])))
            .set(organizations::type_id.eq(customer))
            .execute(c)
            .unwrap()
    })
    .await;
    let typed = format!("/organizations?type={customer}");
    assert_eq!(crate::org_counts::shown_total(&tech, &typed).await, "2");
    let two = ids[1];
    app.db(move |c| {
        diesel::update(organizations::table.find(two))
            .set(organizations::deleted_at.eq(None::<chrono::NaiveDateTime>))
            .execute(c)
            .unwrap()
    })
    .await;
    assert_eq!(
        crate::org_counts::shown_total(&tech, "/organizations").await,
        "4"
    );
}
