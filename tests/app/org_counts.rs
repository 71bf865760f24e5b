//! The maintained organization counts (migration 000080) and the list's marks (000300) stay equal
//! to `count(*)` through every way organizations change, from two instances at once too; and the list's anchored pages hold
//! exactly the rows of an OFFSET query.

use std::collections::BTreeMap;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{
    organization_counts, organization_statuses, organization_types, organizations,
};
use roster::psa::sync::apply;
use roster::psa::{Company, PsaKind};

use crate::support::{Client, TestApp};

type Key = (i64, i64, bool);

/// The maintained counts and the counted rows, per (type, status, PSA link) of visible ones.
pub async fn counts(app: &TestApp) -> (BTreeMap<Key, i64>, BTreeMap<Key, i64>) {
    app.db(|c| {
        let kept: Vec<(i64, i64, bool, i64)> = organization_counts::table
            .filter(organization_counts::total.ne(0))
            .select((
                organization_counts::type_id,
                organization_counts::status_id,
                organization_counts::psa_linked,
                organization_counts::total,
            ))
            .load(c)
            .unwrap();
        let rows: Vec<(Option<i64>, Option<i64>, Option<String>)> = organizations::table
            .filter(organizations::deleted_at.is_null())
            .select((
                organizations::type_id,
                organizations::status_id,
                organizations::psa_company_id,
            ))
            .load(c)
            .unwrap();
        let mut counted = BTreeMap::new();
        for (t, s, psa) in rows {
            *counted
                .entry((t.unwrap_or(0), s.unwrap_or(0), psa.is_some()))
                .or_insert(0) += 1;
        }
        let kept = kept
            .into_iter()
            .map(|(t, s, l, n)| ((t, s, l), n))
            .collect();
        (kept, counted)
    })
    .await
}

pub async fn assert_counts_right(app: &TestApp, after: &str) {
    let (kept, counted) = counts(app).await;
    assert_eq!(
        kept, counted,
        "maintained counts differ from count(*) after {after}"
    );
    crate::org_marks::assert_marks_right(app, after).await;
}

pub async fn kind_id(app: &TestApp, types: bool, name: &'static str) -> i64 {
    app.db(move |c| {
        if types {
            organization_types::table
                .filter(organization_types::name.eq(name))
                .select(organization_types::id)
                .first(c)
                .unwrap()
        } else {
            organization_statuses::table
                .filter(organization_statuses::name.eq(name))
                .select(organization_statuses::id)
                .first(c)
                .unwrap()
        }
    })
    .await
}

/// Creates an organization through the form; returns its id.
pub async fn create(client: &Client, name: &str, type_id: i64, status_id: i64) -> i64 {
    let (t, s) = (type_id.to_string(), status_id.to_string());
    let res = client
        .post_multipart(
            "/organizations",
            &[
                ("name", name),
                ("type_id", &t),
                ("status_id", &s),
                ("confirm_similar", "1"),
            ],
            None,
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    res.location()
        .trim_start_matches("/organizations/")
        .parse()
        .unwrap()
}

fn company(id: &str, name: &str, kind: &str) -> Company {
    Company {
        id: id.into(),
        name: name.into(),
        short_name: String::new(),
        type_name: Some(kind.into()),
        status_name: Some("Active".into()),
        deleted: false,
    }
}

/// Waits until organization `id` is purged (the other deletions wait out their grace period).
async fn purged(app: &TestApp, id: i64) {
    for _ in 0..300 {
        let left: i64 = app
            .db(move |c| {
                organizations::table
                    .filter(organizations::id.eq(id))
                    .count()
                    .get_result(c)
                    .unwrap()
            })
            .await;
        if left == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("organization {id} was not purged within 30 s");
}

/// The "N organizations" a list page shows.
pub async fn shown_total(client: &Client, path: &str) -> String {
    let body = client.get(path).await.body;
    let from = body.find("id=\"result-count\">").expect("a result count") + 18;
    body[from..]
        .split(" organization")
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn counts_follow_every_way_organizations_change() {
    let app = TestApp::spawn_with(|s| s.run_jobs = Some(false)).await;
    let admin = app.login_as(Role::Administrator).await;
    let (customer, vendor) = (
        kind_id(&app, true, "Customer").await,
        kind_id(&app, true, "Vendor").await,
    );
    let (active, inactive) = (
        kind_id(&app, false, "Active").await,
        kind_id(&app, false, "Inactive").await,
    );
    assert_counts_right(&app, "the migration").await;

    // Created through the form, and through the use case (sub-organizations too).
    let a = create(&admin, "Alpha Dental", customer, active).await;
    let b = create(&admin, "Beta Law", vendor, inactive).await;
    let c = create(&admin, "Gamma Freight", customer, inactive).await;
    let parent = app.add_org("Delta Group", None).await;
    let child = app.add_org("Delta Group East", Some("Delta Group")).await;
    app.add_org("Delta Group East Lab", Some("Delta Group East"))
        .await;
    assert_counts_right(&app, "creates").await;
    assert_eq!(shown_total(&admin, "/organizations").await, "6");
    assert_eq!(
        shown_total(&admin, &format!("/organizations?type={customer}")).await,
        "2"
    );
    assert_eq!(
        shown_total(&admin, &format!("/organizations?status={inactive}")).await,
        "2"
    );
    assert_eq!(
        shown_total(
            &admin,
            &format!("/organizations?type={customer}&status={inactive}&psa=unlinked")
        )
        .await,
        "1"
    );
    assert_eq!(shown_total(&admin, "/organizations?q=delta").await, "3");

    // Re-typed and re-statused through Edit.
    let (v, i) = (vendor.to_string(), inactive.to_string());
    let res = admin
        .post_multipart(
            &format!("/organizations/{a}"),
            &[
                ("name", "Alpha Dental"),
                ("type_id", &v),
                ("status_id", &i),
                ("confirm_similar", "1"),
            ],
            None,
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_counts_right(&app, "an edit").await;
    assert_eq!(
        shown_total(&admin, &format!("/organizations?type={vendor}")).await,
        "2"
    );

    // Deleted with its sub-organizations, restored, and deleted in bulk.
    let res = admin
        .post(
            &format!("/organizations/{parent}/delete"),
            &[("confirm_name", "Delta Group")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_counts_right(&app, "a delete").await;
    assert_eq!(shown_total(&admin, "/organizations").await, "3");
    let res = admin
        .post(&format!("/organizations/{child}/restore"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_counts_right(&app, "a restore").await;
    assert_eq!(shown_total(&admin, "/organizations").await, "6");
    let res = admin
        .post(
            "/organizations/bulk-delete",
            &[
                ("ids", &b.to_string()),
                ("ids", &c.to_string()),
                ("confirm", "DELETE"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_counts_right(&app, "a bulk delete").await;
    assert_eq!(shown_total(&admin, "/organizations").await, "4");

    // The PSA's data load creates, links and re-types.
    app.db(|c| {
        diesel::update(organization_types::table.filter(organization_types::name.eq("Partner")))
            .set(organization_types::synced.eq(true))
            .execute(c)
            .unwrap();
    })
    .await;
    let first = vec![
        company("10", "Alpha Dental", "Customer"),
        company("11", "Epsilon Realty", "Customer"),
        company("12", "Zeta Brewing", "Customer"),
    ];
    let out = app
        .db(move |c| apply(c, PsaKind::ConnectWise, &first, |_| Ok(())).unwrap())
        .await;
    assert_eq!((out.created, out.matched), (2, 1), "{out:?}");
    assert_counts_right(&app, "a PSA load that creates").await;
    assert_eq!(shown_total(&admin, "/organizations?psa=linked").await, "3");
    let second = vec![
        company("10", "Alpha Dental", "Partner"),
        company("11", "Epsilon Realty", "Partner"),
        company("12", "Zeta Brewing", "Customer"),
    ];
    let out = app
        .db(move |c| apply(c, PsaKind::ConnectWise, &second, |_| Ok(())).unwrap())
        .await;
    assert_eq!(out.updated, 2, "{out:?}");
    assert_counts_right(&app, "a PSA load that re-types").await;

    // seed-demo, from the command line, on the same database.
    let out = crate::cli::roster(&app.store, &["seed-demo", "--organizations", "40"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_counts_right(&app, "seed-demo").await;
    assert_eq!(shown_total(&admin, "/organizations").await, "46");

    // A restricted user's count is that of their list.
    let lite = app.login_as(Role::Lite).await;
    let lite_id: i64 = app
        .db(|c| {
            use roster::db::schema::users;
            users::table
                .filter(users::role.eq("lite"))
                .select(users::id)
                .first(c)
                .unwrap()
        })
        .await;
    app.db(move |c| {
        use roster::db::schema::user_organizations as uo;
        for org in [a, child] {
            diesel::insert_into(uo::table)
                .values((uo::user_id.eq(lite_id), uo::organization_id.eq(org)))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    assert_eq!(shown_total(&lite, "/organizations").await, "2");

    // The purge, by a second instance that runs the jobs at once.
    let worker = TestApp::spawn_on(app.store.clone(), |s| {
        s.delete_grace_seconds = Some(0);
        s.job_poll_ms = Some(50);
    })
    .await;
    let manager = worker.login_as(Role::Manager).await;
    let res = manager
        .post(
            &format!("/organizations/{parent}/delete"),
            &[("confirm_name", "Delta Group")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    purged(&worker, parent).await;
    assert_counts_right(&app, "a purge").await;
    crate::demo::assert_values_indexed(&app, "a purge").await;
    assert_eq!(shown_total(&admin, "/organizations").await, "43");
}

/// Two instances create, re-type and delete at the same time.
#[tokio::test]
async fn counts_stay_right_with_two_instances_writing_at_once() {
    let first = TestApp::spawn_with(|s| s.run_jobs = Some(false)).await;
    let second = TestApp::spawn_on(first.store.clone(), |s| s.run_jobs = Some(false)).await;
    let (one, two) = (
        first.login_as(Role::Administrator).await,
        second.login_as(Role::Administrator).await,
    );
    let customer = kind_id(&first, true, "Customer").await;
    let vendor = kind_id(&first, true, "Vendor").await;
    let active = kind_id(&first, false, "Active").await;
    let work = |client: Client, who: &'static str| async move {
        let mut ids = Vec::new();
        for i in 0..12 {
            let kind = if i % 2 == 0 { customer } else { vendor };
            ids.push(create(&client, &format!("{who} {i:02}"), kind, active).await);
        }
        for id in ids.iter().step_by(3) {
            let t = vendor.to_string();
            let name = format!("{who} re-typed {id}");
            let res = client
                .post_multipart(
                    &format!("/organizations/{id}"),
                    &[("name", &name), ("type_id", &t), ("confirm_similar", "1")],
                    None,
                )
                .await;
            assert_eq!(res.status, 303, "{}", res.body);
        }
        let mut fields: Vec<(&str, String)> = ids
            .iter()
            .step_by(4)
            .map(|id| ("ids", id.to_string()))
            .collect();
        fields.push(("confirm", "DELETE".into()));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = client.post("/organizations/bulk-delete", &fields).await;
        assert_eq!(res.status, 303, "{}", res.body);
    };
    tokio::join!(work(one, "North"), work(two, "South"));
    assert_counts_right(&first, "writes from two instances").await;
    let (kept, _) = counts(&first).await;
    assert_eq!(kept.values().sum::<i64>(), 24 - 6);
}

/// Ids of the organizations a list page shows, in order.
pub(crate) fn ids_on(body: &str) -> Vec<i64> {
    body.split("name=\"ids\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().parse().unwrap())
        .collect()
}

/// The link of a page with this `rel` (next, prev), unescaped.
pub(crate) fn link(body: &str, rel: &str) -> Option<String> {
    let end = body.find(&format!("\" rel=\"{rel}\""))?;
    let start = body[..end].rfind("href=\"")? + 6;
    Some(body[start..end].replace("&amp;", "&").replace("&#38;", "&"))
}

/// The link to page `n` in the pager.
pub(crate) fn page_link(body: &str, n: i64) -> String {
    let text = format!("\">{n}</a>");
    let end = body
        .find(&text)
        .unwrap_or_else(|| panic!("no link to page {n}"));
    let start = body[..end].rfind("href=\"").unwrap() + 6;
    body[start..end].replace("&amp;", "&").replace("&#38;", "&")
}

/// The ids of page `page` (of `per` rows) by an OFFSET query, for the sort given.
pub(crate) async fn by_offset(
    app: &TestApp,
    sort: &'static str,
    type_id: Option<i64>,
    page: i64,
    per: i64,
) -> Vec<i64> {
    app.db(move |c| {
        let mut q = organizations::table
            .filter(organizations::deleted_at.is_null())
            .select(organizations::id)
            .into_boxed();
        if let Some(t) = type_id {
            q = q.filter(organizations::type_id.eq(t));
        }
        let q = match sort {
            "name" => q.order_by((organizations::search_text.asc(), organizations::id.asc())),
            "-name" => q.order_by((organizations::search_text.desc(), organizations::id.desc())),
            "updated" => q.order_by((organizations::updated_at.asc(), organizations::id.asc())),
            _ => q.order_by((organizations::updated_at.desc(), organizations::id.desc())),
        };
        q.limit(per).offset((page - 1) * per).load(c).unwrap()
    })
    .await
}

#[tokio::test]
async fn anchored_pages_hold_the_rows_of_an_offset_query() {
    const PER: i64 = 7;
    let app = TestApp::spawn_with(|s| s.list_page_size = Some(PER as u32)).await;
    let key = app.data_key.clone();
    app.db(move |c| roster::orgs::demo::seed(c, 200, 3, 0, &key).unwrap())
        .await;
    // Some rows share a name (the key's tie-break is the id) and some are deleted.
    for _ in 0..5 {
        app.add_org("Same Name Co", None).await;
    }
    app.mark_being_deleted(&(1..=10).collect::<Vec<_>>()).await;
    let admin = app.login_as(Role::Administrator).await;
    let customer = kind_id(&app, true, "Customer").await;
    let filters = [
        ("name", None),
        ("-name", None),
        ("updated", None),
        ("-updated", None),
        ("name", Some(customer)),
    ];
    for (sort, type_id) in filters {
        let filter = type_id.map_or(String::new(), |t| format!("&type={t}"));
        let mut path = format!("/organizations?sort={sort}{filter}");
        let mut page = 1;
        let mut last;
        // Forwards through every page by "Next".
        loop {
            let res = admin.get(&path).await;
            assert_eq!(res.status, 200, "{path}: {}", res.body);
            let ids = ids_on(&res.body);
            assert_eq!(
                ids,
                by_offset(&app, sort, type_id, page, PER).await,
                "{sort} page {page} ({path})"
            );
            if page == 3 {
                // Two pages on, by the pager's number (an anchor and a skip).
                let two_on = admin.get(&page_link(&res.body, 5)).await;
                assert_eq!(
                    ids_on(&two_on.body),
                    by_offset(&app, sort, type_id, 5, PER).await
                );
            }
            last = res.body;
            match link(&last, "next") {
                Some(next) => path = next,
                None => break,
            }
            page += 1;
        }
        assert!(page > 10, "{sort}: only {page} pages");
        // Backwards by "Previous", and two pages back by the pager.
        let two_back = admin.get(&page_link(&last, page - 2)).await;
        assert_eq!(
            ids_on(&two_back.body),
            by_offset(&app, sort, type_id, page - 2, PER).await
        );
        let mut n = page;
        while let Some(prev) = link(&last, "prev") {
            n -= 1;
            last = admin.get(&prev).await.body;
            if n > 1 {
                assert_eq!(
                    ids_on(&last),
                    by_offset(&app, sort, type_id, n, PER).await,
                    "{sort} back to {n}"
                );
            }
            if n == page - 4 {
                break;
            }
        }
        // A page number typed without an anchor, near the start and near the end.
        for typed in [4, page - 3, page] {
            let res = admin
                .get(&format!("/organizations?sort={sort}{filter}&page={typed}"))
                .await;
            assert_eq!(
                ids_on(&res.body),
                by_offset(&app, sort, type_id, typed, PER).await,
                "{sort} typed {typed}"
            );
        }
    }
}

#[derive(QueryableByName)]
struct PgPlanLine {
    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct SqlitePlanStep {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

/// The plan of `walk` on the app's database: PostgreSQL's with every other way of answering
/// turned off (its statistics of a few thousand rows favour reading the table whole), SQLite's
/// as it is.
fn plan_of(c: &mut roster::db::DbConn, walk: &str) -> Vec<String> {
    match c {
        roster::db::DbConn::Pg(pg) => pg
            .transaction(|pg| {
                for setting in ["enable_seqscan", "enable_bitmapscan", "enable_sort"] {
                    diesel::sql_query(format!("SET LOCAL {setting} = off")).execute(pg)?;
                }
                diesel::sql_query(format!("EXPLAIN {walk}")).load::<PgPlanLine>(pg)
            })
            .unwrap()
            .into_iter()
            .map(|p| p.line)
            .collect(),
        roster::db::DbConn::Sqlite(c) => diesel::sql_query(format!("EXPLAIN QUERY PLAN {walk}"))
            .load::<SqlitePlanStep>(c)
            .unwrap()
            .into_iter()
            .map(|p| p.detail)
            .collect(),
    }
}

/// A page the type, status and PSA filters narrow, in name and update order: the sort index
/// itself tests the filters (migration 000270), so the rows a walk passes over are never read
/// from the table.
#[tokio::test]
async fn the_sort_indexes_test_the_lists_filters() {
    let app = TestApp::spawn().await;
    let key = app.data_key.clone();
    app.db(move |c| roster::orgs::demo::seed(c, 2000, 5, 0, &key).unwrap())
        .await;
    for (order, index) in [
        ("search_text, id", "organizations_alive_by_name"),
        ("updated_at DESC, id DESC", "organizations_alive_by_update"),
    ] {
        let walk = format!(
            "SELECT id FROM organizations WHERE deleted_at IS NULL AND type_id = 2 \
             AND status_id = 2 AND psa_company_id IS NOT NULL ORDER BY {order} LIMIT 50 OFFSET 500"
        );
        let plan = app.db(move |c| plan_of(c, &walk)).await;
        let text = plan.join("\n");
        match crate::support::backend() {
            crate::support::Backend::Postgres => {
                assert!(
                    plan.iter()
                        .any(|l| l.contains("Index Only Scan") && l.contains(index)),
                    "{text}"
                );
                let cond = plan
                    .iter()
                    .find(|l| l.contains("Index Cond"))
                    .unwrap_or_else(|| panic!("no index condition: {text}"));
                for column in ["type_id", "status_id", "psa_company_id"] {
                    assert!(cond.contains(column), "{column} not in the index: {text}");
                }
                assert!(!text.contains("Filter"), "{text}");
            }
            crate::support::Backend::Sqlite => assert!(
                text.contains(&format!("USING COVERING INDEX {index}")),
                "{text}"
            ),
        }
    }
}

/// Manage Data's synced organizations, by type and status: the linked ones (from the maintained
/// counts) less orphans and those whose sync is off, each once (one both orphaned and with its
/// sync off too), none being deleted, none unlinked; the same for an administrator and a
/// Manager of every organization.
#[tokio::test]
async fn manage_data_counts_the_synced_organizations_by_type_and_status() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let customer = kind_id(&app, true, "Customer").await;
    let vendor = kind_id(&app, true, "Vendor").await;
    let active = kind_id(&app, false, "Active").await;
    let mut ids = Vec::new();
    for (i, (type_id, status_id)) in [
        (customer, active),
        (customer, active),
        (customer, active),
        (customer, active),
        (customer, active),
        (customer, active),
        (customer, active),
        (vendor, active),
    ]
    .into_iter()
    .enumerate()
    {
        ids.push(create(&admin, &format!("Linked {i}"), type_id, status_id).await);
    }
    create(&admin, "Not linked", customer, active).await;
    let vendor_org = ids[7];
    app.db(move |c| {
        diesel::update(organizations::table.find(vendor_org))
            .set(organizations::status_id.eq(None::<i64>))
            .execute(c)
            .unwrap()
    })
    .await;
    // 0-2 and 7 synced; 3 orphaned; 4 sync off; 5 both; 6 being deleted.
    let link = |ids: Vec<i64>, synced: bool, orphaned: bool| {
        app.db(move |c| {
            diesel::update(organizations::table.filter(organizations::id.eq_any(ids)))
                .set((
                    organizations::psa_kind.eq(Some("connectwise")),
                    organizations::psa_company_id.eq(Some("42")),
                    organizations::sync_enabled.eq(synced),
                    organizations::orphaned_at.eq(orphaned.then(roster::db::now)),
                ))
                .execute(c)
                .unwrap()
        })
    };
    link(vec![ids[0], ids[1], ids[2], ids[6], ids[7]], true, false).await;
    link(vec![ids[3]], true, true).await;
    link(vec![ids[4]], false, false).await;
    link(vec![ids[5]], false, true).await;
    app.mark_being_deleted(&[ids[6]]).await;
    assert_counts_right(&app, "linking").await;
    let manager = app.login_as(Role::Manager).await;
    for client in [&admin, &manager] {
        let page = client.get("/manage-data").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let start = page.body.find("id=\"synced\"").expect("the synced table");
        let end = start + page.body[start..].find("</table>").unwrap();
        let rows: Vec<&str> = page.body[start..end]
            .split("<tr>")
            .skip(2)
            .map(|r| r.split("</tr>").next().unwrap())
            .collect();
        assert_eq!(
            rows,
            [
                "<td>Customer</td><td>Active</td><td>3</td>",
                "<td>Vendor</td><td>(none)</td><td>1</td>"
            ],
            "{}",
            &page.body[start..end]
        );
    }
}
