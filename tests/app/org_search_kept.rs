//! The matches a search read and sorted, and the pages it showed sorted by name, are kept by the
//! server (`orgs::search_matches`): the next pages of the search, and the same search again,
//! read their rows by id in one statement after the session's. Every change to the names, made through the server or straight in the database
//! (as another instance would), is seen by the next search; a restricted user never gets the
//! matches kept for a user who sees everything.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::organizations;

use crate::org_counts::ids_on;
use crate::org_search::{app_named, count_line, insert_named, matching};
use crate::support::{Client, TestApp};

/// Statements of a request for `path` the first time, then the second.
pub async fn first_and_again(app: &TestApp, client: &Client, path: &str) -> (u64, u64) {
    let before = app.queries.get();
    assert_eq!(client.get(path).await.status, 200, "{path}");
    let first = app.queries.get() - before;
    (first, crate::lean::statements(app, client, path).await)
}

/// Every page of "kestrel" by number holds the matches of a query over all of them, and the
/// count says how many there are.
async fn kestrel_pages(app: &TestApp, client: &Client, when: &str) {
    let expected = matching(app, "kestrel", "name").await;
    let pages = expected.len().div_ceil(2);
    let body = client.get("/organizations?q=kestrel").await.body;
    assert_eq!(
        count_line(&body),
        format!("{} organizations, page 1 of {pages}", expected.len()),
        "{when}"
    );
    for (i, want) in expected.chunks(2).enumerate() {
        let page = i + 1;
        let body = client
            .get(&format!("/organizations?q=kestrel&page={page}"))
            .await
            .body;
        assert_eq!(ids_on(&body), want, "{when}: page {page}");
    }
}

/// Saves the organization's form with a new name.
async fn rename(client: &Client, id: i64, name: &str) {
    let res = client
        .post_multipart(
            &format!("/organizations/{id}"),
            &[("name", name), ("confirm_similar", "1")],
            None,
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn set_deleted(app: &TestApp, name: &'static str, deleted: bool) {
    app.db(move |c| {
        let at = deleted.then(roster::db::now);
        let n = diesel::update(organizations::table.filter(organizations::name.eq(name)))
            .set(organizations::deleted_at.eq(at))
            .execute(c)
            .unwrap();
        assert_eq!(n, 1, "{name}");
    })
    .await;
}

#[tokio::test]
async fn kept_matches_are_sliced_until_a_name_changes() {
    let app = app_named(
        (0..300)
            .map(|i| format!("Plain Company {i:03}"))
            .chain((0..5).map(|i| format!("Kestrel Dental {i}")))
            .collect(),
    )
    .await;
    let admin = app.login_as(Role::Administrator).await;
    // The sample of names is read by the first search.
    assert_eq!(admin.get("/organizations?q=warm").await.status, 200);

    // Read and sorted once (the session, the matches, the page's rows), then sliced: the
    // session's statement and the page's rows, for the same page and for the next ones.
    let path = "/organizations?q=kestrel";
    assert_eq!(first_and_again(&app, &admin, path).await, (3, 2));
    for page in [
        "/organizations?q=kestrel&page=2",
        "/organizations?q=KESTREL",
    ] {
        let ran = crate::lean::statements(&app, &admin, page).await;
        assert_eq!(ran, 2, "statements for {page}");
    }
    // Backwards is a search of its own.
    let backwards = "/organizations?q=kestrel&sort=-name";
    assert_eq!(first_and_again(&app, &admin, backwards).await, (3, 2));
    kestrel_pages(&app, &admin, "kept").await;

    // Through the server: a new organization, a rename into the term and out of it, a deletion.
    let res = admin
        .post_multipart(
            "/organizations",
            &[("name", "Kestrel Dental 9"), ("confirm_similar", "1")],
            None,
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    kestrel_pages(&app, &admin, "created").await;
    let plain = app.add_org("Osprey Clinic", None).await;
    kestrel_pages(&app, &admin, "warmed").await;
    rename(&admin, plain, "Kestrel Clinic").await;
    assert_eq!(matching(&app, "kestrel", "name").await.len(), 7);
    kestrel_pages(&app, &admin, "renamed into the term").await;
    rename(&admin, plain, "Osprey Clinic").await;
    kestrel_pages(&app, &admin, "renamed out of the term").await;
    let gone = app
        .db(|c| {
            organizations::table
                .filter(organizations::name.eq("Kestrel Dental 2"))
                .select(organizations::id)
                .first::<i64>(c)
                .unwrap()
        })
        .await;
    let res = admin
        .post(
            &format!("/organizations/{gone}/delete"),
            &[("confirm_name", "Kestrel Dental 2")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(matching(&app, "kestrel", "name").await.len(), 5);
    kestrel_pages(&app, &admin, "deleted").await;

    // Straight in the database, as another instance would: a rename that keeps the name's place
    // in the order, a deletion, a restore, inserts.
    let body = admin.get("/organizations?q=kestrel+dental").await.body;
    assert_eq!(count_line(&body), "5 organizations, page 1 of 3");
    app.db(|c| {
        diesel::update(organizations::table.filter(organizations::name.eq("Kestrel Dental 3")))
            .set((
                organizations::name.eq("Kestrel Dentax 3"),
                organizations::search_text.eq("kestrel dentax 3"),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    let body = admin.get("/organizations?q=kestrel+dental").await.body;
    assert_eq!(count_line(&body), "4 organizations, page 1 of 2");
    kestrel_pages(&app, &admin, "renamed in the database").await;
    set_deleted(&app, "Kestrel Dental 4", true).await;
    kestrel_pages(&app, &admin, "deleted in the database").await;
    set_deleted(&app, "Kestrel Dental 4", false).await;
    kestrel_pages(&app, &admin, "restored in the database").await;
    app.db(|c| insert_named(c, &["Kestrel Dental 7".into(), "Kestrel Dental 8".into()]))
        .await;
    assert_eq!(matching(&app, "kestrel", "name").await.len(), 7);
    kestrel_pages(&app, &admin, "inserted in the database").await;

    // A user who sees two of them, after the administrator's search was kept: those two only.
    let mine = matching(&app, "kestrel", "name").await[..2].to_vec();
    let (narrow, _) = crate::scope::restricted(&app, Role::Manager, "narrow", &mine).await;
    assert_eq!(admin.get(path).await.status, 200);
    let body = narrow.get(path).await.body;
    assert_eq!(count_line(&body), "2 organizations");
    assert_eq!(ids_on(&body), mine);
}
