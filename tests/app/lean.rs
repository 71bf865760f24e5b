//! Lean requests: types and statuses come from the process's cache and follow changes made by
//! any instance; pages run few statements.

use roster::auth::Role;

use crate::support::TestApp;

/// Statements `path` runs once it has been seen (caches warm).
pub async fn statements(app: &TestApp, client: &crate::support::Client, path: &str) -> u64 {
    assert_eq!(client.get(path).await.status, 200, "{path}");
    let before = app.queries.get();
    assert_eq!(client.get(path).await.status, 200, "{path}");
    app.queries.get() - before
}

#[tokio::test]
async fn hot_pages_read_types_and_statuses_from_the_cache() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    app.add_org("Cached Parent", None).await;
    let org = app.add_org("Cached Kinds", Some("Cached Parent")).await;
    // The session (with the user and the kinds' version), then the rows with their logo sizes and
    // the count in one statement (parents not on the page would be one more).
    let list = statements(&app, &client, "/organizations").await;
    assert_eq!(list, 2, "statements for the Organizations page");
    // The session; the organization with its logo size and its parent's row (the breadcrumb
    // below the root); children, records' counts, history, PSA state.
    let page = statements(&app, &client, &format!("/organizations/{org}")).await;
    assert_eq!(page, 6, "statements for an organization's page");
}

#[tokio::test]
async fn a_page_reached_by_next_or_previous_reads_its_anchor_with_its_rows() {
    let app = TestApp::spawn_with(|s| s.list_page_size = Some(2)).await;
    let client = app.login_as(Role::Editor).await;
    for name in [
        "Anchor A", "Anchor B", "Anchor C", "Anchor D", "Anchor E", "Anchor F",
    ] {
        app.add_org(name, None).await;
    }
    let first = client.get("/organizations").await;
    let next = crate::org_counts::link(&first.body, "next").expect("a Next link");
    assert!(next.contains("after="), "{next}");
    // The session, then the rows after the anchor (its keys read by the same statement) with the
    // count.
    assert_eq!(statements(&app, &client, &next).await, 2, "{next}");
    let second = client.get(&next).await;
    assert!(second.body.contains("Anchor C") && !second.body.contains("Anchor B"));
    let third = crate::org_counts::link(&second.body, "next").expect("a Next link");
    let back =
        crate::org_counts::link(&client.get(&third).await.body, "prev").expect("a Previous link");
    assert!(back.contains("before="), "{back}");
    assert_eq!(statements(&app, &client, &back).await, 2, "{back}");
    let back = client.get(&back).await;
    assert!(back.body.contains("Anchor C") && back.body.contains("Anchor D"));
    assert!(!back.body.contains("Anchor E"));
}

/// An anchor the user may not see, or one being deleted, says nothing about where a page starts:
/// the page is read by its number, among what the user sees.
#[tokio::test]
async fn an_anchor_hidden_or_gone_leaves_the_page_to_its_number() {
    use crate::org_counts::ids_on;
    let app = TestApp::spawn_with(|s| s.list_page_size = Some(2)).await;
    let mut ids = Vec::new();
    for name in [
        "Anchor A", "Anchor B", "Anchor C", "Anchor D", "Anchor E", "Anchor F",
    ] {
        ids.push(app.add_org(name, None).await);
    }
    let (a, b, c, d, e, f) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]);
    // Sees B, D and E: page 2 is E, whatever the anchor says.
    let (restricted, _) =
        crate::scope::restricted(&app, Role::Editor, "anchor-reader", &[b, d, e]).await;
    for anchor in [
        format!("after={c}"),
        format!("before={f}"),
        format!("after={a}"),
    ] {
        let path = format!("/organizations?page=2&{anchor}");
        let res = restricted.get(&path).await;
        assert_eq!(res.status, 200, "{path}");
        // An Editor's list has no selection boxes: the names tell the rows.
        assert!(res.body.contains("Anchor E"), "{path}: {}", res.body);
        for hidden in ["Anchor A", "Anchor B", "Anchor C", "Anchor D", "Anchor F"] {
            assert!(!res.body.contains(hidden), "{path} shows {hidden}");
        }
    }
    // An Administrator's anchor being deleted: page 2 by number (C, D once B is gone).
    app.mark_being_deleted(&[b]).await;
    let admin = app.login_as(Role::Administrator).await;
    for anchor in [format!("after={b}"), format!("before={b}")] {
        let path = format!("/organizations?page=2&{anchor}");
        let res = admin.get(&path).await;
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(ids_on(&res.body), vec![d, e], "{path}");
    }
}

#[tokio::test]
async fn a_type_added_or_renamed_on_another_instance_shows_at_once() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn_on(first.store.clone(), |_| {}).await;
    let manager = first.login_as(Role::Manager).await;
    let reader = second.login_as(Role::Editor).await;
    assert!(
        !reader
            .get("/organizations/new")
            .await
            .body
            .contains("Reseller")
    );

    let res = manager
        .post("/settings/types", &[("name", "Reseller")])
        .await;
    assert_eq!(res.status, 303);
    assert!(
        reader
            .get("/organizations/new")
            .await
            .body
            .contains("Reseller"),
        "the other instance's cache follows the change"
    );
    assert!(
        manager
            .get("/organizations/new")
            .await
            .body
            .contains("Reseller")
    );

    let id: i64 = first
        .db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::organization_types as t;
            t::table
                .filter(t::name.eq("Reseller"))
                .select(t::id)
                .first(c)
                .unwrap()
        })
        .await;
    let res = manager
        .post(
            &format!("/settings/types/{id}"),
            &[("name", "Channel Partner")],
        )
        .await;
    assert_eq!(res.status, 303);
    let form = reader.get("/organizations/new").await.body;
    assert!(
        form.contains("Channel Partner") && !form.contains("Reseller"),
        "renamed"
    );
}

#[tokio::test]
async fn an_organizations_page_takes_one_connection_for_the_session_and_the_page() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::ReadOnly).await;
    let org = app.add_org("One Trip", None).await;
    let path = format!("/organizations/{org}");
    assert_eq!(client.get(&path).await.status, 200);
    let before = app.queries.checkouts();
    let page = client.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("One Trip") && page.body.contains("Log out"));
    assert_eq!(
        app.queries.checkouts() - before,
        1,
        "one pooled connection, one trip"
    );

    // The rule still holds when the handler checks it: signed out, a dead session, out of scope.
    let anonymous = app.client();
    let res = anonymous.get(&path).await;
    assert_eq!(res.status, 303);
    assert!(
        res.location().starts_with("/login?next="),
        "{}",
        res.location()
    );
    let stale = app.client();
    stale.set_cookie(
        roster::web::guard::SESSION_COOKIE,
        &roster::auth::token::generate(),
    );
    let res = stale.get(&path).await;
    assert_eq!(res.status, 303);
    assert!(
        stale.cookie(roster::web::guard::SESSION_COOKIE).is_none(),
        "dropped"
    );
    // The Organizations list (also one trip) checks the session before its parameters: a
    // dead session with a malformed page number is sent to sign in, not told about the number.
    stale.set_cookie(
        roster::web::guard::SESSION_COOKIE,
        &roster::auth::token::generate(),
    );
    let res = stale.get("/organizations?page=abc").await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(res.location().starts_with("/login"), "{}", res.location());
    let missing = client.get("/organizations/999999").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("Log out"),
        "the error page has the navigation"
    );
}

#[derive(diesel::QueryableByName)]
struct Jit {
    #[diesel(sql_type = diesel::sql_types::Text)]
    jit: String,
}

#[tokio::test]
async fn postgresql_compiles_no_statement_just_in_time() {
    use diesel::RunQueryDsl;
    let app = TestApp::spawn().await;
    // A connection of the app's pool: JIT compiling cost 25 ms a statement the planner costs high
    // (the climb up a page's parents), for statements that run in a few.
    let jit = app
        .db(|c| match c {
            roster::db::DbConn::Pg(pg) => Some(
                diesel::sql_query("SHOW jit")
                    .get_result::<Jit>(pg)
                    .unwrap()
                    .jit,
            ),
            roster::db::DbConn::Sqlite(_) => None,
        })
        .await;
    match crate::support::backend() {
        crate::support::Backend::Postgres => assert_eq!(jit.as_deref(), Some("off")),
        crate::support::Backend::Sqlite => assert_eq!(jit, None),
    }
}
