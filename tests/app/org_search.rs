//! The Organizations page's search (issue 13): a term with few matches is counted and every page
//! is reachable by number; a term with more than 20 pages of matches says "more than", shows the
//! pages up to the cap by number and the ones past it by Next and Previous, and every page holds
//! exactly the rows of an OFFSET query over the matches.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::organizations;
use roster::db::{Backend, DbConn};
use roster::orgs::store::{self, OrgValues};

use crate::org_counts::{ids_on, link, page_link};
use crate::support::{Client, TestApp};

/// Rows a page (small, so that the cap of 20 pages is 40 matches).
const PER: i64 = 2;

/// Organizations of these names, inserted as a bulk path does, 1,000 a statement.
pub fn insert_named(c: &mut DbConn, names: &[String]) {
    let values: Vec<OrgValues<'_>> = names
        .iter()
        .map(|name| OrgValues {
            name,
            short_name: "",
            type_id: None,
            status_id: None,
            parent_id: None,
            description: "",
            quick_notes: "",
            alert: "",
        })
        .collect();
    for chunk in values.chunks(1_000) {
        store::insert_many(c, chunk, None).unwrap();
    }
}

/// PostgreSQL's statistics of the organizations, as autovacuum would gather them after a load.
fn analyze(c: &mut DbConn) {
    if c.backend() == Backend::Postgres {
        diesel::sql_query("ANALYZE organizations")
            .execute(c)
            .unwrap();
    }
}

/// An app with a page of `PER` whose organizations are `names`, inserted as a bulk path does and
/// analysed.
pub async fn app_named(names: Vec<String>) -> TestApp {
    let app = TestApp::spawn_with(|s| s.list_page_size = Some(PER as u32)).await;
    app.db(move |c| {
        insert_named(c, &names);
        analyze(c);
    })
    .await;
    app
}

/// Page 1 of a search for "zebra", a term the sample calls common: shown as "more than" with the
/// first matches, in the walk's statements only (the session's and the walk's; on PostgreSQL its
/// ids, read from the index alone, then the page's rows): its matches are not read. Shown again,
/// its rows are read by the ids kept (`org_search_kept`).
async fn assert_zebra_walked(app: &TestApp, client: &Client) {
    // The sample is read by the first search.
    assert_eq!(client.get("/organizations?q=warm").await.status, 200);
    let path = "/organizations?q=zebra";
    let walked = match crate::support::backend() {
        crate::support::Backend::Postgres => 3,
        crate::support::Backend::Sqlite => 2,
    };
    let ran = crate::org_search_kept::first_and_again(app, client, path).await;
    assert_eq!(ran, (walked, 2), "statements for {path}");
    let body = client.get(path).await.body;
    assert_eq!(
        count_line(&body),
        "More than 40 organizations, page 1 of more than 20"
    );
    assert_eq!(ids_on(&body), matching(app, "zebra", "name").await[..2]);
}

/// 45 "Dental Care" organizations (one of them being deleted), 3 "Rare Widget" ones and some
/// others, inserted as a bulk path does.
async fn seeded() -> TestApp {
    let app = TestApp::spawn_with(|s| s.list_page_size = Some(PER as u32)).await;
    app.db(|c| {
        let mut names: Vec<String> = (0..45).map(|i| format!("Dental Care {i:02}")).collect();
        names.extend((0..3).map(|i| format!("Rare Widget {i}")));
        names.extend((0..10).map(|i| format!("Plain Company {i}")));
        insert_named(c, &names);
        diesel::update(organizations::table.filter(organizations::name.eq("Dental Care 07")))
            .set(organizations::deleted_at.eq(Some(roster::db::now())))
            .execute(c)
            .unwrap();
    })
    .await;
    app
}

/// The ids of the visible organizations whose search text contains `term`, in the order of
/// `sort`, by an OFFSET-free query over all of them.
pub async fn matching(app: &TestApp, term: &'static str, sort: &'static str) -> Vec<i64> {
    app.db(move |c| {
        let q = organizations::table
            .filter(organizations::deleted_at.is_null())
            .filter(organizations::search_text.like(format!("%{term}%")))
            .select(organizations::id);
        match sort {
            "name" => q
                .order_by((organizations::search_text.asc(), organizations::id.asc()))
                .load(c),
            _ => q
                .order_by((organizations::updated_at.desc(), organizations::id.desc()))
                .load(c),
        }
        .unwrap()
    })
    .await
}

pub fn count_line(body: &str) -> &str {
    let start = body.find("id=\"result-count\">").map_or(0, |i| i + 18);
    body[start..].split('<').next().unwrap_or_default()
}

/// Every page by Next from page 1, checked against the matches; returns the last page's body.
async fn forward(client: &Client, first: &str, expected: &[i64]) -> (String, i64) {
    let mut path = first.to_owned();
    let mut page = 1;
    loop {
        let res = client.get(&path).await;
        assert_eq!(res.status, 200, "{path}: {}", res.body);
        let from = usize::try_from((page - 1) * PER).unwrap();
        let to = (from + PER as usize).min(expected.len());
        assert_eq!(
            ids_on(&res.body),
            expected[from..to],
            "page {page} ({path})"
        );
        match link(&res.body, "next") {
            Some(next) => path = next,
            None => return (res.body, page),
        }
        page += 1;
    }
}

/// For a term with `more` matches (more than the cap), in both name orders: page 1 says "more
/// than", every page by Next from page 1 and the one before the last by Previous hold the
/// matches read by a query over all of them, and so does typed page 13; page 21 (past the
/// counted pages) is empty, with no Next.
pub async fn pages_match(app: &TestApp, client: &Client, term: &'static str, more: usize) {
    for sort in ["name", "-name"] {
        let mut expected = matching(app, term, "name").await;
        if sort == "-name" {
            expected.reverse();
        }
        assert_eq!(expected.len(), more, "{term}");
        let first = format!("/organizations?q={term}&sort={sort}");
        let body = client.get(&first).await.body;
        assert_eq!(
            count_line(&body),
            "More than 40 organizations, page 1 of more than 20",
            "{first}"
        );
        let (last, pages) = forward(client, &first, &expected).await;
        assert_eq!(pages, (more as i64 + PER - 1) / PER, "{first}");
        let prev = client.get(&link(&last, "prev").unwrap()).await.body;
        let before_last = usize::try_from((pages - 2) * PER).unwrap();
        assert_eq!(
            ids_on(&prev),
            expected[before_last..before_last + PER as usize],
            "{first}: Previous from the last page"
        );
        let typed = client.get(&format!("{first}&page=13")).await.body;
        assert_eq!(ids_on(&typed), expected[24..26], "{first}&page=13");
        let past = client.get(&format!("{first}&page=21")).await.body;
        assert!(ids_on(&past).is_empty(), "{first}&page=21");
        assert!(link(&past, "next").is_none(), "{first}&page=21");
    }
}

#[tokio::test]
async fn a_common_term_is_counted_up_to_a_cap_and_paged_past_it() {
    let app = seeded().await;
    let client = app.login_as(Role::Administrator).await;
    for sort in ["name", "-updated"] {
        let expected = matching(&app, "dental", sort).await;
        assert_eq!(expected.len(), 44);
        let first = format!("/organizations?q=Dental&sort={sort}");
        let body = client.get(&first).await.body;
        assert_eq!(
            count_line(&body),
            "More than 40 organizations, page 1 of more than 20"
        );
        assert!(!body.contains("Last &raquo;"), "no last page is known");
        let (last, pages) = forward(&client, &first, &expected).await;
        assert_eq!(pages, 22, "{sort}");
        assert_eq!(count_line(&last), "More than 40 organizations, page 22");
        // Back by Previous past the cap, and two pages back by the pager's number.
        let prev = client.get(&link(&last, "prev").unwrap()).await.body;
        assert_eq!(ids_on(&prev), expected[40..42]);
        let two_back = client.get(&page_link(&last, 20)).await.body;
        assert_eq!(ids_on(&two_back), expected[38..40]);
        // Typed page numbers up to the cap; past it a way on.
        let typed = client.get(&format!("{first}&page=13")).await.body;
        assert_eq!(ids_on(&typed), expected[24..26]);
        let past = client.get(&format!("{first}&page=21")).await;
        assert_eq!(past.status, 200);
        assert!(ids_on(&past.body).is_empty());
        assert!(
            past.body.contains("pages past 20 are reached with Next"),
            "{}",
            past.body
        );
        assert_eq!(
            ids_on(&client.get(&page_link(&past.body, 20)).await.body),
            expected[38..40]
        );
    }
}

#[tokio::test]
async fn rare_and_short_terms_and_filters_are_counted_exactly() {
    let app = seeded().await;
    let client = app.login_as(Role::Administrator).await;
    // A rare term: counted, its last page reachable by number and by the Last link.
    let expected = matching(&app, "widget", "name").await;
    let body = client.get("/organizations?q=widget").await.body;
    assert_eq!(count_line(&body), "3 organizations, page 1 of 2");
    assert_eq!(ids_on(&body), expected[..2]);
    let typed = client.get("/organizations?q=widget&page=2").await.body;
    assert_eq!(ids_on(&typed), expected[2..]);
    assert!(
        !client
            .get("/organizations?q=widget&page=3")
            .await
            .body
            .contains("Widget")
    );
    // Two letters: shorter than a trigram, rare and common.
    let body = client.get("/organizations?q=dg").await.body;
    assert_eq!(count_line(&body), "3 organizations, page 1 of 2");
    let expected = matching(&app, "ca", "name").await;
    let first = "/organizations?q=ca";
    assert_eq!(
        count_line(&client.get(first).await.body),
        "More than 40 organizations, page 1 of more than 20"
    );
    forward(&client, first, &expected).await;
    // A common term narrowed by a filter to a few: counted exactly.
    let vendor = app
        .db(|c| {
            use roster::db::schema::organization_types as t;
            let vendor: i64 = t::table
                .filter(t::name.eq("Vendor"))
                .select(t::id)
                .first(c)
                .unwrap();
            diesel::update(organizations::table.filter(organizations::name.like("Dental Care 1%")))
                .set(organizations::type_id.eq(vendor))
                .execute(c)
                .unwrap();
            vendor
        })
        .await;
    let body = client
        .get(&format!("/organizations?q=dental&type={vendor}"))
        .await
        .body;
    assert_eq!(count_line(&body), "10 organizations, page 1 of 5");
}

/// A term that the sample of names says most organizations hold is shown as "more than" without
/// reading its matches: the page runs the session's statement and the walk's (on PostgreSQL its
/// ids, then the page's rows), the estimate comes from the sample the process keeps
/// (PostgreSQL's statistics, SQLite's picked organizations).
#[tokio::test]
async fn a_term_the_statistics_call_common_reads_no_matches() {
    let app = app_named(
        (0..400)
            .map(|i| match i % 4 {
                3 => format!("Plain Company {i:03}"),
                _ => format!("Zebra Dental {i:03}"),
            })
            .collect(),
    )
    .await;
    let client = app.login_as(Role::Administrator).await;
    assert_zebra_walked(&app, &client).await;
    // Too few of the sample hold a rare term to estimate it: it is counted, its matches read and
    // ordered in one statement, then the page's rows; made again, the matches kept are sliced.
    let rare = "/organizations?q=plain+company+01";
    assert_eq!(
        crate::org_search_kept::first_and_again(&app, &client, rare).await,
        (3, 2)
    );
    let body = client.get(rare).await.body;
    assert_eq!(count_line(&body), "3 organizations, page 1 of 2");
    assert_eq!(
        ids_on(&body),
        matching(&app, "plain company 01", "name").await[..2]
    );
}

/// A term whose matches all lie at the end of the name order (the sample of names says so) is
/// paged from its matches, read and sorted, rather than by walking every organization before
/// them: the same pages as a walk would show, both ways, with a page reached by Next read in one
/// statement after the session's (the matches kept from page 1, `org_search_kept`).
#[tokio::test]
async fn a_term_whose_matches_lie_deep_in_the_name_order_pages_the_same() {
    let app = app_named(
        (0..6_000)
            .map(|i| format!("Alpha Company {i:04}"))
            .chain((0..60).map(|i| format!("Zulu Northwind {i:02}")))
            .collect(),
    )
    .await;
    app.db(|c| {
        diesel::update(organizations::table.filter(organizations::name.eq("Zulu Northwind 07")))
            .set(organizations::deleted_at.eq(Some(roster::db::now())))
            .execute(c)
            .unwrap();
    })
    .await;
    let client = app.login_as(Role::Administrator).await;
    pages_match(&app, &client, "northwind", 59).await;
    let page_one = client.get("/organizations?q=northwind").await.body;
    let next = link(&page_one, "next").unwrap();
    let ran = crate::lean::statements(&app, &client, &next).await;
    assert_eq!(ran, 2, "statements for {next}");
}

/// A rare term among enough organizations for a sample is found through its rarest trigrams,
/// and only names that hold the whole term are shown and counted: "Ab Cx B Cd" holds every
/// trigram of "ab cd" but not the term.
#[tokio::test]
async fn a_rare_term_is_matched_whole_not_by_its_trigrams() {
    let app = app_named(
        (0..300)
            .map(|i| format!("Plain Company {i:03}"))
            .chain((0..3).map(|i| format!("Ab Cd {i}")))
            .chain((0..3).map(|i| format!("Ab Cx B Cd {i}")))
            .collect(),
    )
    .await;
    let client = app.login_as(Role::Administrator).await;
    let path = "/organizations?q=ab+cd";
    assert_eq!(client.get("/organizations?q=warm").await.status, 200);
    assert_eq!(
        crate::org_search_kept::first_and_again(&app, &client, path).await,
        (3, 2)
    );
    let body = client.get(path).await.body;
    assert_eq!(count_line(&body), "3 organizations, page 1 of 2");
    let expected = matching(&app, "ab cd", "name").await;
    assert_eq!(expected.len(), 3);
    assert_eq!(ids_on(&body), expected[..2]);
    let last = client.get(&format!("{path}&page=2")).await.body;
    assert_eq!(ids_on(&last), expected[2..]);
}

/// SQLite's sample reads organizations not being deleted however few of the ids they hold: with
/// 19 of every 20 organizations being deleted, a term most of the others hold is still called
/// common (its matches are not read: the walk's statements only). PostgreSQL's statistics are
/// of every row, those being deleted too: there the term looks rare, its 300 matches are read
/// and sorted once, and the same search again slices them.
#[tokio::test]
async fn the_sample_finds_the_organizations_left_between_deleted_ones() {
    let app = app_named(
        (0..8_000)
            .map(|i| match (i % 20, i % 80) {
                (0, 0) => format!("Plain Company {i:04}"),
                (0, _) => format!("Zebra Dental {i:04}"),
                _ => format!("Filler Org {i:04}"),
            })
            .collect(),
    )
    .await;
    app.db(|c| {
        diesel::update(organizations::table.filter(organizations::name.like("Filler%")))
            .set(organizations::deleted_at.eq(Some(roster::db::now())))
            .execute(c)
            .unwrap();
        analyze(c);
    })
    .await;
    let client = app.login_as(Role::Administrator).await;
    if crate::support::backend() == crate::support::Backend::Sqlite {
        return assert_zebra_walked(&app, &client).await;
    }
    // The statistics are read by the first search.
    assert_eq!(client.get("/organizations?q=warm").await.status, 200);
    let path = "/organizations?q=zebra";
    let ran = crate::org_search_kept::first_and_again(&app, &client, path).await;
    assert_eq!(ran, (3, 2), "statements for {path}");
    let body = client.get(path).await.body;
    assert_eq!(
        count_line(&body),
        "More than 40 organizations, page 1 of more than 20"
    );
    assert_eq!(ids_on(&body), matching(&app, "zebra", "name").await[..2]);
}
