//! Deleted organizations and history never name an organization the reader cannot see (issue 11,
//! finding 5): the page of a deleted sub-organization, Restore, the delete refusal, History.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::organizations;
use roster::orgs::OrgId;

use crate::deletion::set_syncing;
use crate::scope::{delete_as_admin, restricted};
use crate::support::TestApp;

/// "Top Secret Parent" with "Visible Child" below it, deleted by the seed Administrator.
async fn a_deleted_parent(app: &TestApp) -> (i64, i64) {
    let parent = app.add_org("Top Secret Parent", None).await;
    let child = app
        .add_org("Visible Child", Some("Top Secret Parent"))
        .await;
    delete_as_admin(app, parent, "Top Secret Parent").await;
    (parent, child)
}

async fn is_deleted(app: &TestApp, org: i64) -> bool {
    app.db(move |c| {
        organizations::table
            .find(org)
            .select(organizations::deleted_at)
            .first::<Option<chrono::NaiveDateTime>>(c)
            .unwrap()
            .is_some()
    })
    .await
}

#[tokio::test]
async fn the_page_of_a_deleted_child_does_not_name_its_hidden_parent() {
    let app = TestApp::spawn().await;
    let (_, child) = a_deleted_parent(&app).await;
    let (reader, _) = restricted(&app, Role::ReadOnly, "reader", &[child]).await;
    let page = reader.get(&format!("/organizations/{child}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Visible Child"), "{}", page.body);
    for leak in [
        "Top Secret Parent",
        "seed@example.com",
        "created Top Secret",
    ] {
        assert!(!page.body.contains(leak), "{leak} in {}", page.body);
    }
}

#[tokio::test]
async fn a_restricted_manager_cannot_restore_a_deletion_with_a_hidden_organization() {
    let app = TestApp::spawn().await;
    let (parent, child) = a_deleted_parent(&app).await;
    let (manager, _) = restricted(&app, Role::Manager, "narrow", &[child]).await;
    let page = manager.get(&format!("/organizations/{child}")).await.body;
    assert!(!page.contains("/restore\""), "{page}");
    let res = manager
        .post(&format!("/organizations/{child}/restore"), &[])
        .await;
    assert!(res.status == 403 || res.status == 404, "{res:?}");
    assert!(!res.body.contains("Top Secret Parent"), "{}", res.body);
    assert!(is_deleted(&app, parent).await && is_deleted(&app, child).await);
    // Someone who sees both restores it.
    let admin = app.login_as(Role::Administrator).await;
    let res = admin
        .post(&format!("/organizations/{child}/restore"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(!is_deleted(&app, parent).await);
}

#[tokio::test]
async fn the_delete_refusal_does_not_name_a_hidden_syncing_sub_organization() {
    let app = TestApp::spawn().await;
    let parent = app.add_org("Open Parent", None).await;
    let secret = app.add_org("Syncing Secret", Some("Open Parent")).await;
    set_syncing(&app, secret).await;
    let (manager, _) = restricted(&app, Role::Manager, "narrow", &[parent]).await;
    let page = manager
        .get(&format!("/organizations/{parent}/delete"))
        .await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Syncing Secret"), "{}", page.body);
    assert!(page.body.contains("outside your access"), "{}", page.body);
    let res = manager
        .post(
            &format!("/organizations/{parent}/delete"),
            &[("confirm_name", "Open Parent")],
        )
        .await;
    assert!(!res.body.contains("Syncing Secret"), "{}", res.body);
    assert!(!is_deleted(&app, parent).await);
}

#[tokio::test]
async fn history_does_not_name_a_parent_the_reader_cannot_see() {
    let app = TestApp::spawn().await;
    app.add_org("Old Hidden Parent", None).await;
    app.add_org("New Hidden Parent", None).await;
    let open = app.add_org("Open Parent", None).await;
    let org = app.add_org("Moved Co", Some("Old Hidden Parent")).await;
    let admin = app.seed_admin().await;
    for parent in ["New Hidden Parent", "Open Parent"] {
        let form = roster::orgs::OrgForm {
            name: "Moved Co".into(),
            parent_name: parent.into(),
            ..Default::default()
        };
        let actor = admin.clone();
        app.db(move |c| {
            let input = roster::orgs::model::OrgInput::try_from(&form).unwrap();
            let fields = &roster::orgs::create::RosterOwns;
            roster::orgs::create::update(
                c,
                &actor,
                OrgId(org),
                &input,
                &Default::default(),
                fields,
            )
            .unwrap();
        })
        .await;
    }
    let (reader, _) = restricted(&app, Role::ReadOnly, "reader", &[org, open]).await;
    let page = reader.get(&format!("/organizations/{org}")).await.body;
    assert!(!page.contains("Old Hidden Parent"), "{page}");
    assert!(!page.contains("New Hidden Parent"), "{page}");
    assert!(
        page.contains("parent: a hidden organization \u{2192} a hidden organization"),
        "{page}"
    );
    assert!(
        page.contains("parent: a hidden organization \u{2192} Open Parent"),
        "{page}"
    );
    // Someone who sees everything reads the names.
    let admin = app.login_as(Role::Administrator).await;
    let page = admin.get(&format!("/organizations/{org}")).await.body;
    assert!(
        page.contains("parent: Old Hidden Parent \u{2192} New Hidden Parent"),
        "{page}"
    );
}

#[tokio::test]
async fn a_deletion_with_a_hidden_sub_organization_never_names_it() {
    let app = TestApp::spawn().await;
    let root = app.add_org("Open Root", None).await;
    app.add_org("Closed Sub", Some("Open Root")).await;
    let admin_user = app.seed_admin().await;
    delete_as_admin(&app, root, "Open Root").await;
    let (manager, _) = restricted(&app, Role::Manager, "narrow", &[root]).await;
    for path in [format!("/organizations/{root}"), "/manage-data".to_owned()] {
        let page = manager.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains("Open Root"), "{path}: {}", page.body);
        assert!(!page.body.contains("Closed Sub"), "{path}: {}", page.body);
        assert!(!page.body.contains("/restore\""), "{path}: {}", page.body);
    }
    // Restored by an Administrator: the root's history does not name it either.
    app.db(move |c| {
        roster::orgs::delete::restore(c, &admin_user, OrgId(root)).unwrap();
    })
    .await;
    let page = manager.get(&format!("/organizations/{root}")).await.body;
    assert!(
        page.contains("Deleted Open Root and 1 sub-organization"),
        "{page}"
    );
    assert!(!page.contains("Closed Sub"), "{page}");
}

#[tokio::test]
async fn older_history_lines_do_not_name_a_parent_to_a_restricted_reader() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Old Co", None).await;
    app.db(move |c| {
        use roster::db::schema::audit_events as a;
        diesel::insert_into(a::table)
            .values((
                a::at.eq(roster::db::now()),
                a::actor_email.eq("old@example.com"),
                a::action.eq("organization.update"),
                a::summary.eq("parent: Old Secret Parent \u{2192} none"),
                a::organization_id.eq(Some(org)),
                a::organization_name.eq(Some("Old Co")),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    let (reader, _) = restricted(&app, Role::ReadOnly, "reader", &[org]).await;
    let page = reader.get(&format!("/organizations/{org}")).await.body;
    assert!(!page.contains("Old Secret Parent"), "{page}");
    assert!(page.contains("including its parent"), "{page}");
    let admin = app.login_as(Role::Administrator).await;
    let page = admin.get(&format!("/organizations/{org}")).await.body;
    assert!(page.contains("Old Secret Parent"), "{page}");
}
