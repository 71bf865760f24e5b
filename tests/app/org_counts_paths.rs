//! The maintained organization counts through the ways `org_counts` does not take: the API's
//! writes, a merge and its undo, Disable sync, the bulk path an import takes (`orgs::bulk`), and
//! seed-demo writing while two instances create, re-type and delete on the same database.

use roster::auth::Role;
use roster::orgs::bulk;
use roster::orgs::store::OrgValues;
use roster::psa::sync::apply;
use roster::psa::{Company, PsaKind};
use serde_json::json;

use crate::api_keys::{json as parse, key_for};
use crate::api_orgs_write::{api, org_doc};
use crate::org_counts::{assert_counts_right, counts, create, kind_id, shown_total};
use crate::support::{Client, TestApp};

fn values(name: &str, type_id: i64, status_id: i64, parent_id: Option<i64>) -> OrgValues<'_> {
    OrgValues {
        name,
        short_name: "",
        type_id: Some(type_id),
        status_id: Some(status_id),
        parent_id,
        description: "",
        quick_notes: "",
        alert: "",
    }
}

/// Writes through `bulk::insert` as an import would: parents, then their children, in one
/// transaction; returns the ids.
async fn import(app: &TestApp, type_id: i64, status_id: i64) -> Vec<i64> {
    app.db(move |c| {
        roster::db::write(c, |c| {
            let parents = bulk::insert(
                c,
                &[
                    values("Imported Eta Dental", type_id, status_id, None),
                    values("Imported Theta Law", type_id, status_id, None),
                ],
                None,
            )?;
            let child = values(
                "Imported Eta Dental Annex",
                type_id,
                status_id,
                Some(parents[0].0),
            );
            let mut ids = parents;
            ids.extend(bulk::insert(c, &[child], None)?);
            Ok::<_, diesel::result::Error>(ids.into_iter().map(|id| id.0).collect())
        })
        .unwrap()
    })
    .await
}

#[tokio::test]
async fn counts_follow_the_api_merges_unlinking_and_the_bulk_path() {
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

    // The bulk path, sub-organization included.
    let imported = import(&app, vendor, inactive).await;
    assert_counts_right(&app, "a bulk insert").await;
    crate::demo::assert_values_indexed(&app, "a bulk insert").await;
    assert_eq!(
        shown_total(
            &admin,
            &format!("/organizations?type={vendor}&status={inactive}")
        )
        .await,
        "3"
    );

    // The API: create, re-type, delete in bulk.
    let (key, _) = key_for(&app, Role::Administrator).await;
    let res = api(
        &app,
        "POST",
        "/api/organizations",
        &key,
        Some(&org_doc(json!({
            "name": "Iota Realty",
            "organization-type-id": customer.to_string(),
            "organization-status-id": active.to_string(),
        }))),
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let iota: i64 = parse(&res)["data"]["id"].as_str().unwrap().parse().unwrap();
    assert_counts_right(&app, "an API create").await;
    let res = api(
        &app,
        "PATCH",
        &format!("/api/organizations/{iota}"),
        &key,
        Some(&org_doc(
            json!({"organization-type-id": vendor.to_string()}),
        )),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_counts_right(&app, "an API re-type").await;
    let both = json!({"data": [
        {"type": "organizations", "attributes": {"id": imported[1]}},
        {"type": "organizations", "attributes": {"id": iota}},
    ]});
    let res = api(&app, "DELETE", "/api/organizations", &key, Some(&both)).await;
    assert!(res.status < 300, "{}: {}", res.status, res.body);
    assert_counts_right(&app, "an API bulk delete").await;
    assert_eq!(shown_total(&admin, "/organizations").await, "2");

    // A PSA-linked organization merged into an unlinked one (the link moves), then the merge
    // undone by restoring it; Disable sync; a company the PSA marks deleted.
    let kept = create(&admin, "Kappa Freight", customer, active).await;
    let linked = vec![
        company("20", "Kappa Freight LLC", false),
        company("21", "Lambda Brewing", false),
    ];
    let out = app
        .db(move |c| apply(c, PsaKind::ConnectWise, &linked, |_| Ok(())).unwrap())
        .await;
    assert_eq!(out.created, 2, "{out:?}");
    assert_counts_right(&app, "a PSA load").await;
    let merged = org_named(&app, "Kappa Freight LLC").await;
    let res = admin
        .post(
            &format!("/organizations/{merged}/merge"),
            &[("into", &kept.to_string())],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_counts_right(&app, "a merge").await;
    assert_eq!(shown_total(&admin, "/organizations?psa=linked").await, "2");
    let res = admin
        .post(&format!("/organizations/{merged}/restore"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_counts_right(&app, "a merge undone").await;
    let lambda = org_named(&app, "Lambda Brewing").await;
    let res = admin
        .post(&format!("/organizations/{lambda}/sync/disable"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_counts_right(&app, "Disable sync").await;
    assert_eq!(shown_total(&admin, "/organizations?psa=linked").await, "1");
    assert_eq!(shown_total(&admin, "/organizations").await, "5");
    let gone = vec![company("20", "Kappa Freight LLC", true)];
    app.db(move |c| apply(c, PsaKind::ConnectWise, &gone, |_| Ok(())).unwrap())
        .await;
    assert_counts_right(&app, "a PSA load with a deleted company").await;
}

fn company(id: &str, name: &str, deleted: bool) -> Company {
    Company {
        id: id.into(),
        name: name.into(),
        short_name: String::new(),
        type_name: Some("Customer".into()),
        status_name: Some("Active".into()),
        deleted,
    }
}

async fn org_named(app: &TestApp, name: &'static str) -> i64 {
    use diesel::prelude::*;
    use roster::db::schema::organizations;
    app.db(move |c| {
        organizations::table
            .filter(organizations::name.eq(name))
            .select(organizations::id)
            .first(c)
            .unwrap()
    })
    .await
}

/// seed-demo's bulk path writes while two instances create, re-type and delete by the web form;
/// on PostgreSQL the three write at once (SQLite takes them in turn).
#[tokio::test]
async fn counts_stay_right_with_a_seed_and_two_instances_writing_at_once() {
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
        for i in 0..8 {
            let kind = if i % 2 == 0 { customer } else { vendor };
            ids.push(create(&client, &format!("{who} {i:02}"), kind, active).await);
        }
        let mut fields: Vec<(&str, String)> = ids
            .iter()
            .step_by(2)
            .map(|id| ("ids", id.to_string()))
            .collect();
        fields.push(("confirm", "DELETE".into()));
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = client.post("/organizations/bulk-delete", &fields).await;
        assert_eq!(res.status, 303, "{}", res.body);
    };
    let key = first.data_key.clone();
    let seed = first.db(move |c| roster::orgs::demo::seed(c, 12_000, 7, 0, &key).unwrap());
    tokio::join!(seed, work(one, "North"), work(two, "South"));
    assert_counts_right(&first, "a seed and writes from two instances").await;
    let (kept, _) = counts(&first).await;
    assert_eq!(kept.values().sum::<i64>(), 12_000 + 16 - 8);
}

#[tokio::test]
async fn a_save_during_a_seed_waits_for_one_batch_not_for_the_whole_seed() {
    const SEEDED: i64 = 24_000;
    let app = TestApp::spawn_with(|s| s.run_jobs = Some(false)).await;
    let admin = app.login_as(Role::Administrator).await;
    let (customer, active) = (
        kind_id(&app, true, "Customer").await,
        kind_id(&app, false, "Active").await,
    );
    let living = || {
        app.db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::organizations;
            organizations::table.count().get_result::<i64>(c).unwrap()
        })
    };
    let key = app.data_key.clone();
    let seed = app.db(move |c| roster::orgs::demo::seed(c, SEEDED as usize, 11, 0, &key).unwrap());
    let save = async {
        // Once the seed's first batch is in, a person saves an organization.
        while living().await == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        create(&admin, "Saved Mid Seed", customer, active).await;
        living().await
    };
    let (_, seen) = tokio::join!(seed, save);
    // SQLite's busy wait let the seed take the lock back batch after batch: the save waited for
    // all of them (or failed after 10 s). In the writers' queue it waits for one.
    assert!(
        seen < SEEDED,
        "the save came back after the whole seed ({seen} organizations)"
    );
    assert_eq!(living().await, SEEDED + 1);
}
