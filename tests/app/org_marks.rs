//! The marks along the list's sort orders (migrations 000300 and 000310): each interval's
//! maintained count stays equal to the visible organizations between its mark and the next,
//! through every way organizations change (`assert_counts_right` checks them too), intervals
//! split as they grow, and a page number typed far from both ends shows the rows of an OFFSET
//! query, on the Organizations page and in the API, also after a write the server did not make
//! (its kept marks are read again).

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use roster::auth::Role;
use roster::db::schema::organizations;

use crate::api_keys::{api_get, json, key_for};
use crate::org_counts::{by_offset, ids_on};
use crate::support::TestApp;

#[derive(QueryableByName, Debug, PartialEq)]
struct Marks {
    #[diesel(sql_type = BigInt)]
    marks: i64,
    #[diesel(sql_type = BigInt)]
    wrong: i64,
    #[diesel(sql_type = BigInt)]
    empty: i64,
    #[diesel(sql_type = BigInt)]
    largest: i64,
}

/// For one order: how many marks, how many whose count differs from the visible organizations
/// of their interval (counted in the database, in its own collation), how many (but the first)
/// mark an empty interval, and the largest count.
fn marks_of(c: &mut roster::db::DbConn, table: &str, column: &str) -> Marks {
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS marks, \
         CAST(COALESCE(SUM(CASE WHEN total <> (\
            SELECT COUNT(*) FROM organizations o WHERE o.deleted_at IS NULL \
            AND (o.{column}, o.id) >= (m.k, m.id) \
            AND (m.nk IS NULL OR (o.{column}, o.id) < (m.nk, m.nid))) THEN 1 ELSE 0 END), 0) AS BIGINT) AS wrong, \
         CAST(COALESCE(SUM(CASE WHEN total = 0 AND id <> 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS empty, \
         CAST(COALESCE(MAX(total), 0) AS BIGINT) AS largest \
         FROM (SELECT {column} AS k, id, total, LEAD({column}) OVER w AS nk, LEAD(id) OVER w AS nid \
               FROM {table} WINDOW w AS (ORDER BY {column}, id)) AS m"
    );
    roster::native!(c, |c| diesel::sql_query(&sql).get_result(c)).unwrap()
}

/// Both orders' marks, each `(marks, largest count)`, after checking their counts.
pub async fn assert_marks_right(app: &TestApp, after: &str) -> [(i64, i64); 2] {
    let after = after.to_owned();
    app.db(move |c| {
        [
            ("organization_name_marks", "search_text"),
            ("organization_update_marks", "updated_at"),
        ]
        .map(|(table, column)| {
            let m = marks_of(c, table, column);
            assert_eq!((m.wrong, m.empty), (0, 0), "{table}: {m:?} after {after}");
            (m.marks, m.largest)
        })
    })
    .await
}

#[tokio::test]
async fn typed_pages_far_from_both_ends_are_read_from_their_marks() {
    const PER: i64 = 50;
    let app = TestApp::spawn_with(|s| {
        s.list_page_size = Some(PER as u32);
        s.run_jobs = Some(false);
    })
    .await;
    let key = app.data_key.clone();
    app.db(move |c| roster::orgs::demo::seed(c, 12_000, 7, 0, &key).unwrap())
        .await;
    let [(by_name, _), (by_update, _)] = assert_marks_right(&app, "a seed").await;
    assert!(by_name >= 3 && by_update >= 3, "{by_name} {by_update}");

    // 3,000 organizations renamed to the front of the name order and edited (the newest in the
    // order by update): the first interval of one and the last of the other split.
    app.db(|c| {
        diesel::update(organizations::table.filter(organizations::id.le(3_000)))
            .set((
                organizations::search_text.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
                    "'aaa ' || search_text",
                )),
                organizations::updated_at.eq(roster::db::now()),
            ))
            .execute(c)
            .unwrap()
    })
    .await;
    let [(renamed, largest), (edited, newest)] = assert_marks_right(&app, "renames").await;
    assert!(renamed > by_name && edited > by_update);
    assert!(largest < 1_000 && newest < 1_000, "{largest} {newest}");
    // 8,000 being deleted and one of them restored (purges are in `org_counts`).
    app.mark_being_deleted(&(3_001..=11_000).collect::<Vec<_>>())
        .await;
    app.db(|c| {
        diesel::update(organizations::table.filter(organizations::id.eq(5_000)))
            .set(organizations::deleted_at.eq(None::<chrono::NaiveDateTime>))
            .execute(c)
            .unwrap()
    })
    .await;
    // The first 8,000 in the order by update (the renamed ones are the newest): the intervals
    // there, of less than 1,000 each, are left empty but the first, and their marks are gone.
    let [_, (left, _)] = assert_marks_right(&app, "deletions").await;
    assert!(left < edited, "{left} {edited}");

    let admin = app.login_as(Role::Administrator).await;
    let visible = 12_000 - 8_000 + 1;
    let last = (visible + PER - 1) / PER;
    let pages = [2, 17, 31, last / 2, last - 7, last - 1, last];
    typed_pages_match(&app, &admin, PER, last, &pages).await;
    // Past the end: no rows, and the list still says how many there are.
    for sort in ["name", "-name", "updated", "-updated"] {
        let res = admin
            .get(&format!("/organizations?sort={sort}&page={}", last + 1))
            .await;
        assert_eq!(res.status, 200);
        assert!(ids_on(&res.body).is_empty());
    }

    // 400 restored by a writer other than this instance (another instance, a script): the marks
    // it kept are read again, and its typed pages follow.
    app.db(|c| {
        diesel::update(organizations::table.filter(organizations::id.between(3_001, 3_400)))
            .set(organizations::deleted_at.eq(None::<chrono::NaiveDateTime>))
            .execute(c)
            .unwrap()
    })
    .await;
    let visible = visible + 400;
    let last = (visible + PER - 1) / PER;
    typed_pages_match(&app, &admin, PER, last, &[17, last / 2, last - 7]).await;

    // The API's pages of every organization sorted by name or update are read from the marks.
    let (key, _) = key_for(&app, Role::Administrator).await;
    let client = app.client();
    let pages = (visible + 99) / 100;
    for (sort, web) in [
        ("name", "name"),
        ("-name", "-name"),
        ("updated_at", "updated"),
        ("-updated_at", "-updated"),
    ] {
        for page in [2, 9, pages / 2, pages - 1, pages] {
            let path = format!("/api/organizations?sort={sort}&page[size]=100&page[number]={page}");
            let res = api_get(&client, &key, &path).await;
            assert_eq!(res.status, 200, "{path}: {}", res.body);
            let doc = json(&res);
            let ids: Vec<i64> = doc["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().parse().unwrap())
                .collect();
            assert_eq!(ids, by_offset(&app, web, None, page, 100).await, "{path}");
            assert_eq!(doc["meta"]["total-count"], visible, "{path}");
        }
    }
}

/// Each `pages` typed in each order shows the rows of an OFFSET query and says it is one of
/// `last`.
async fn typed_pages_match(
    app: &TestApp,
    client: &crate::support::Client,
    per: i64,
    last: i64,
    pages: &[i64],
) {
    for sort in ["name", "-name", "updated", "-updated"] {
        for &page in pages {
            let res = client
                .get(&format!("/organizations?sort={sort}&page={page}"))
                .await;
            assert_eq!(res.status, 200, "{sort} {page}: {}", res.body);
            assert!(
                res.body.contains(&format!("page {page} of {last}")),
                "{sort} {page}: {:?}",
                res.body.find("page ").map(|i| &res.body[i..i + 30])
            );
            let expected = by_offset(app, sort, None, page, per).await;
            assert!(!expected.is_empty());
            assert_eq!(ids_on(&res.body), expected, "{sort} typed {page}");
        }
    }
}
