//! The Lite cap and the last Administrator hold under concurrent requests (issue 11, finding 8):
//! the cap counts every row of the list, deleted organizations too; grants to one user and
//! demotions of Administrators are serialized on the users' rows.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::users;

use crate::scope::{access_of, delete_as_admin, restrict};
use crate::sessions::user_id;
use crate::support::{PASSWORD, TestApp};

#[tokio::test]
async fn the_lite_cap_counts_deleted_organizations_on_the_list() {
    let app = TestApp::spawn().await;
    let mut orgs = Vec::new();
    for i in 0..6 {
        orgs.push(app.add_org(&format!("Lite Org {i}"), None).await);
    }
    let lite = app.add_user(Role::Lite, "lite").await;
    let uid = restrict(&app, &lite, &orgs[..5]).await;
    let gone = orgs[4];
    delete_as_admin(&app, gone, "Lite Org 4").await;
    let admin = app.login_as(Role::Administrator).await;
    let res = admin
        .post(
            &format!("/users/{uid}/access/add"),
            &[("organization", "Lite Org 5")],
        )
        .await;
    let page = admin.get(res.location()).await.body;
    assert!(page.contains("Lite users see at most 5"), "{page}");
    assert_eq!(access_of(&app, uid).await.1.len(), 5);
    // A Restore then cannot bring the user to six.
    let res = admin
        .post(&format!("/organizations/{gone}/restore"), &[])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(access_of(&app, uid).await.1.len(), 5);
}

#[tokio::test]
async fn concurrent_grants_never_take_a_lite_user_past_five() {
    let app = TestApp::spawn_with(|s| s.pool_size = Some(8)).await;
    let mut orgs = Vec::new();
    for i in 0..12 {
        orgs.push(app.add_org(&format!("Race Org {i}"), None).await);
    }
    let admin = app.login_as(Role::Administrator).await;
    for round in 0..3 {
        let lite = app.add_user(Role::Lite, &format!("lite{round}")).await;
        let uid = restrict(&app, &lite, &orgs[..4]).await;
        let path = format!("/users/{uid}/access/add");
        let names: Vec<String> = (4..12).map(|i| format!("Race Org {i}")).collect();
        let tries = names
            .iter()
            .map(|name| async { admin.post(&path, &[("organization", name.as_str())]).await });
        for res in futures_util::future::join_all(tries).await {
            assert_eq!(res.status, 303, "{}", res.body);
        }
        let list = access_of(&app, uid).await.1;
        assert_eq!(list.len(), 5, "round {round}: {list:?}");
    }
}

#[tokio::test]
async fn two_administrators_demoting_each_other_leave_one() {
    let app = TestApp::spawn_with(|s| s.pool_size = Some(8)).await;
    let one = app.add_user(Role::Administrator, "admin-one").await;
    let two = app.add_user(Role::Administrator, "admin-two").await;
    let (id_one, id_two) = (user_id(&app, &one).await, user_id(&app, &two).await);
    let (first, second) = (app.client(), app.client());
    assert_eq!(first.login(&one, PASSWORD).await.status, 303);
    assert_eq!(second.login(&two, PASSWORD).await.status, 303);
    for round in 0..10 {
        let (a, b) = (
            format!("/users/{id_two}/role"),
            format!("/users/{id_one}/role"),
        );
        let _ = tokio::join!(
            first.post(&a, &[("role", "manager")]),
            second.post(&b, &[("role", "manager")]),
        );
        let admins: i64 = app
            .db(|c| {
                users::table
                    .filter(users::role.eq("administrator"))
                    .filter(users::active.eq(true))
                    .count()
                    .get_result(c)
                    .unwrap()
            })
            .await;
        assert_eq!(admins, 1, "round {round}");
        app.db(move |c| {
            diesel::update(users::table.filter(users::id.eq_any([id_one, id_two])))
                .set(users::role.eq("administrator"))
                .execute(c)
                .unwrap();
        })
        .await;
    }
}
