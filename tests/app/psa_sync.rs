//! The data load's rules on the real database (the connectors are tested against the doubles in
//! `psa_connectors.rs` and `psa.rs`): match by PSA id, else by exactly the same name, else create;
//! the PSA wins; orphans and their return; twice in a row changes nothing.

use diesel::prelude::*;
use roster::db::schema::organizations;
use roster::psa::sync::{Outcome, apply};
use roster::psa::{Company, PsaKind};

use crate::support::TestApp;

fn company(id: &str, name: &str, kind: &str, status: &str) -> Company {
    Company {
        id: id.into(),
        name: name.into(),
        short_name: format!("{}X", &name[..3]),
        type_name: Some(kind.into()),
        status_name: Some(status.into()),
        deleted: false,
    }
}

async fn load(app: &TestApp, companies: Vec<Company>) -> Outcome {
    app.db(move |c| apply(c, PsaKind::ConnectWise, &companies, |_| Ok(())).unwrap())
        .await
}

/// (name, short name, PSA company id, orphan reason) of an organization.
async fn org(app: &TestApp, id: i64) -> (String, String, Option<String>, Option<String>) {
    app.db(move |c| {
        organizations::table
            .find(id)
            .select((
                organizations::name,
                organizations::short_name,
                organizations::psa_company_id,
                organizations::orphan_reason,
            ))
            .first(c)
            .unwrap()
    })
    .await
}

async fn named(app: &TestApp, name: &'static str) -> Vec<i64> {
    app.db(move |c| {
        organizations::table
            .filter(organizations::name.eq(name))
            .filter(organizations::deleted_at.is_null())
            .select(organizations::id)
            .load(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn a_data_load_matches_creates_updates_and_orphans() {
    let app = TestApp::spawn_with(|s| s.run_jobs = Some(false)).await;
    let acme = app.add_org("Acme Corp", None).await;
    let twin_a = app.add_org("Twin Peaks", None).await;
    let twin_b = app.add_org("Twin Peaks", None).await;
    let companies = vec![
        company("10", "Acme Corp", "Customer", "Active"),
        company("11", "Globex", "Customer", "Active"),
        company("12", "Twin Peaks", "Customer", "Active"),
        // Not a syncing status: not brought over.
        company("13", "Prospect Co", "Customer", "Inactive"),
        // Same name as company 11: matched once, the other reported.
        company("14", "Globex", "Customer", "Active"),
        company("15", "<script>alert(1)</script>", "Customer", "Active"),
    ];
    let first = load(&app, companies.clone()).await;
    assert_eq!(
        (
            first.created,
            first.matched,
            first.updated,
            first.orphaned,
            first.failed
        ),
        (3, 1, 0, 0, 1),
        "{first:?}"
    );
    assert!(
        first
            .report
            .iter()
            .any(|r| r.contains("Company 14") && r.contains("same name as company 11")),
        "{first:?}"
    );
    assert!(
        first
            .report
            .iter()
            .any(|r| r.contains("2 organizations are named")),
        "{first:?}"
    );
    assert_eq!(org(&app, acme).await.2.as_deref(), Some("10"));
    assert_eq!(
        org(&app, acme).await.1,
        "AcmX",
        "the PSA wins: its short name"
    );
    assert_eq!(named(&app, "Globex").await.len(), 1);
    assert_eq!(
        named(&app, "Twin Peaks").await.len(),
        3,
        "ambiguous: a new one, flagged in the report"
    );
    assert_eq!(org(&app, twin_a).await.2, None);
    assert_eq!(org(&app, twin_b).await.2, None);
    assert!(named(&app, "Prospect Co").await.is_empty());

    // Twice in a row: nothing changes the second time.
    let second = load(&app, companies.clone()).await;
    assert_eq!(
        (second.created, second.updated, second.orphaned),
        (0, 0, 0),
        "{second:?}"
    );
    assert_eq!(second.matched, 4);

    // The PSA wins; companies that go, are flagged deleted, or stop syncing make orphans.
    let mut changed = companies.clone();
    changed[0].name = "Acme Corporation".into();
    changed.retain(|c| c.id != "12");
    changed.iter_mut().find(|c| c.id == "11").unwrap().deleted = true;
    changed
        .iter_mut()
        .find(|c| c.id == "15")
        .unwrap()
        .status_name = Some("Inactive".into());
    let third = load(&app, changed.clone()).await;
    assert_eq!((third.updated, third.orphaned), (1, 3), "{third:?}");
    assert_eq!(org(&app, acme).await.0, "Acme Corporation");
    // Company 11's organization (company 14, also "Globex", may have one of its own).
    let globex = app
        .db(|c| {
            organizations::table
                .filter(organizations::psa_company_id.eq("11"))
                .filter(organizations::deleted_at.is_null())
                .select(organizations::id)
                .first::<i64>(c)
                .unwrap()
        })
        .await;
    assert!(named(&app, "Globex").await.contains(&globex));
    assert_eq!(
        org(&app, globex).await.3.as_deref(),
        Some("The company is marked deleted in ConnectWise Manage.")
    );
    let twin_new = app
        .db(|c| {
            organizations::table
                .filter(organizations::psa_company_id.eq("12"))
                .select(organizations::orphan_reason)
                .first::<Option<String>>(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        twin_new.as_deref(),
        Some("The company is no longer in ConnectWise Manage.")
    );
    let again = load(&app, changed.clone()).await;
    assert_eq!(
        (again.updated, again.orphaned, again.created),
        (0, 0, 0),
        "{again:?}"
    );

    // A company that comes back: no longer an orphan.
    let back = load(&app, companies).await;
    assert_eq!(back.orphaned, 0);
    assert_eq!(back.updated, 4, "{back:?}");
    assert_eq!(org(&app, globex).await.3, None);
}
