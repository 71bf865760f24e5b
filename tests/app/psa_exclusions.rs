//! Disable sync stays disabled (issue 16 item 1), against both doubles: the company is excluded,
//! data loads neither re-link nor re-create it nor match another organization to it, a delete
//! keeps it out (unless "bring it back" is ticked), Include again brings it back.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{organizations, psa_exclusions};

use crate::psa::{
    autotask_form, connectwise_form, customer_id, org_named, post_owned, spawn, sync_now,
};
use crate::psa_doubles::{AutotaskDouble, ConnectWiseDouble, Faults};
use crate::support::{Client, TestApp};

/// One of the two doubles, set up one-way (its companies of type "Client"/"Customer" and status
/// "Active" sync).
pub(crate) enum Double {
    Cw(ConnectWiseDouble),
    At(AutotaskDouble),
}

impl Double {
    pub(crate) fn add(&self, name: &str) -> i64 {
        match self {
            Double::Cw(cw) => cw.add_company(name, &name.replace(' ', ""), "Client", "Active"),
            Double::At(at) => at.add_company(name, &name.replace(' ', ""), "Customer", true),
        }
    }

    pub(crate) fn has(&self, id: i64) -> Option<String> {
        match self {
            Double::Cw(cw) => cw.company(id).map(|c| c.name),
            Double::At(at) => at.company(id).map(|c| c.name),
        }
    }

    pub(crate) fn remove(&self, id: i64) {
        match self {
            Double::Cw(cw) => cw.remove(id),
            Double::At(at) => at.remove(id),
        }
    }

    pub(crate) fn rename(&self, id: i64, name: &str) {
        match self {
            Double::Cw(cw) => cw.rename(id, name),
            Double::At(at) => at.rename(id, name),
        }
    }

    /// Company lists of `size` companies a page.
    pub(crate) fn set_page_size(&self, size: usize) {
        match self {
            Double::Cw(cw) => cw.set_page_size_cap(Some(size)),
            Double::At(at) => at.set_page_size(size),
        }
    }

    /// Page `page` of the company list answers `status`, every time.
    pub(crate) fn fail_page(&self, page: usize, status: u16) {
        match self {
            Double::Cw(cw) => cw.fail_page(page, status),
            Double::At(at) => at.fail_page(page, status),
        }
    }

    pub(crate) fn companies(&self) -> usize {
        match self {
            Double::Cw(cw) => cw.companies().len(),
            Double::At(at) => at.companies().len(),
        }
    }
}

pub(crate) async fn set_up(connectwise: bool) -> (Double, TestApp, Client) {
    let app = spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let double = if connectwise {
        let cw = ConnectWiseDouble::start();
        let res = post_owned(&manager, "/settings/psa", &connectwise_form(&cw, "one_way")).await;
        assert_eq!(res.status, 303, "{}", res.body);
        let customer = customer_id(&app).await;
        let field = format!("type_{customer}");
        let res = manager
            .post("/settings/psa/mapping", &[(field.as_str(), "Client")])
            .await;
        assert_eq!(res.status, 303);
        Double::Cw(cw)
    } else {
        let at = AutotaskDouble::start();
        let res = post_owned(&manager, "/settings/psa", &autotask_form(&at, "one_way")).await;
        assert_eq!(res.status, 303, "{}", res.body);
        Double::At(at)
    };
    (double, app, manager)
}

pub(crate) async fn live_named(app: &TestApp, name: &'static str) -> Vec<(i64, Option<String>)> {
    app.db(move |c| {
        organizations::table
            .filter(organizations::name.eq(name))
            .filter(organizations::deleted_at.is_null())
            .select((organizations::id, organizations::psa_company_id))
            .load(c)
            .unwrap()
    })
    .await
}

async fn exclusions(app: &TestApp) -> Vec<(i64, String, String)> {
    app.db(|c| {
        psa_exclusions::table
            .select((
                psa_exclusions::id,
                psa_exclusions::company_id,
                psa_exclusions::excluded_by,
            ))
            .load(c)
            .unwrap()
    })
    .await
}

async fn delete(client: &Client, org: i64, name: &str, bring_back: bool) {
    let path = format!("/organizations/{org}/delete");
    let confirm = client.get(&path).await;
    assert_eq!(confirm.status, 200);
    let mut form = vec![("confirm_name", name)];
    if bring_back {
        assert!(
            confirm.body.contains("Bring it back at the next data load"),
            "{}",
            confirm.body
        );
        form.push(("bring_back", "1"));
    }
    let res = client.post(&path, &form).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn disable_sync_then_delete_keeps_the_company_out(connectwise: bool) {
    let (double, app, manager) = set_up(connectwise).await;
    let company = double.add("Fabrikam");
    sync_now(&app, &manager).await;
    let (org, linked, _) = org_named(&app, "Fabrikam").await.expect("brought over");
    assert_eq!(linked, Some(company.to_string()));

    let res = manager
        .post(&format!("/organizations/{org}/sync/disable"), &[])
        .await;
    assert_eq!(res.status, 303);
    let excluded = exclusions(&app).await;
    assert_eq!(excluded.len(), 1, "{excluded:?}");
    assert_eq!(excluded[0].1, company.to_string());
    // Another organization of exactly that name is not matched to it either.
    let twin = app.add_org("Fabrikam", None).await;
    sync_now(&app, &manager).await;
    let mut named = live_named(&app, "Fabrikam").await;
    named.sort();
    assert_eq!(
        named,
        vec![(org, None), (twin, None)],
        "neither re-linked nor created"
    );

    // The settings page lists it, with who and Include again.
    let page = manager.get("/settings/psa").await.body;
    assert!(page.contains("id=\"exclusions\""), "{page}");
    assert!(page.contains(&excluded[0].2), "{page}");
    assert!(page.contains("Include again"), "{page}");

    // Delete (the delete is allowed now), a load: gone and still gone, the company untouched.
    delete(&manager, org, "Fabrikam", false).await;
    delete(&manager, twin, "Fabrikam", false).await;
    sync_now(&app, &manager).await;
    assert!(live_named(&app, "Fabrikam").await.is_empty());
    assert_eq!(double.has(company).as_deref(), Some("Fabrikam"));

    // Include again: the next load brings it back, as a new organization.
    let res = manager
        .post(
            &format!("/settings/psa/exclusions/{}/include", excluded[0].0),
            &[],
        )
        .await;
    assert_eq!(res.status, 303);
    assert!(exclusions(&app).await.is_empty());
    sync_now(&app, &manager).await;
    let back = live_named(&app, "Fabrikam").await;
    assert_eq!(back.len(), 1, "{back:?}");
    assert_eq!(back[0].1, Some(company.to_string()));
}

#[tokio::test]
async fn connectwise_disable_sync_then_delete_keeps_the_company_out() {
    disable_sync_then_delete_keeps_the_company_out(true).await;
}

#[tokio::test]
async fn autotask_disable_sync_then_delete_keeps_the_company_out() {
    disable_sync_then_delete_keeps_the_company_out(false).await;
}

async fn bring_it_back_and_include_a_gone_company(connectwise: bool) {
    let (double, app, manager) = set_up(connectwise).await;
    let kept = double.add("Contoso");
    let gone = double.add("Northwind");
    sync_now(&app, &manager).await;
    for name in ["Contoso", "Northwind"] {
        let (org, _, _) = org_named(&app, name).await.expect("brought over");
        let res = manager
            .post(&format!("/organizations/{org}/sync/disable"), &[])
            .await;
        assert_eq!(res.status, 303);
    }
    // "Bring it back at the next data load": the delete drops the exclusion.
    let (contoso, _, _) = org_named(&app, "Contoso").await.unwrap();
    delete(&manager, contoso, "Contoso", true).await;
    sync_now(&app, &manager).await;
    let back = live_named(&app, "Contoso").await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].1, Some(kept.to_string()));
    assert_ne!(back[0].0, contoso, "a new organization");

    // Include again of a company the PSA no longer has: the exclusion goes, nothing else.
    double.remove(gone);
    let companies = double.companies();
    let excluded = exclusions(&app).await;
    assert_eq!(excluded.len(), 1, "{excluded:?}");
    let res = manager
        .post(
            &format!("/settings/psa/exclusions/{}/include", excluded[0].0),
            &[],
        )
        .await;
    assert_eq!(res.status, 303);
    assert!(exclusions(&app).await.is_empty());
    sync_now(&app, &manager).await;
    let northwind = live_named(&app, "Northwind").await;
    assert_eq!(northwind.len(), 1, "the unlinked organization stays");
    assert_eq!(northwind[0].1, None);
    assert_eq!(double.companies(), companies, "the PSA is not changed");
}

#[tokio::test]
async fn connectwise_bring_back_and_include_a_gone_company() {
    bring_it_back_and_include_a_gone_company(true).await;
}

#[tokio::test]
async fn autotask_bring_back_and_include_a_gone_company() {
    bring_it_back_and_include_a_gone_company(false).await;
}

/// An orphan (still linked) can be deleted without Disable sync: its company is excluded too, so
/// that it does not come back when the PSA syncs it again.
#[tokio::test]
async fn deleting_an_orphan_excludes_its_company() {
    let (double, app, manager) = set_up(false).await;
    let company = double.add("Tailspin");
    sync_now(&app, &manager).await;
    let Double::At(at) = &double else {
        unreachable!()
    };
    at.set_active(company, false);
    sync_now(&app, &manager).await;
    let (org, _, reason) = org_named(&app, "Tailspin").await.unwrap();
    assert!(reason.is_some(), "an orphan");
    delete(&manager, org, "Tailspin", false).await;
    at.set_active(company, true);
    sync_now(&app, &manager).await;
    assert!(live_named(&app, "Tailspin").await.is_empty());
    assert_eq!(exclusions(&app).await.len(), 1);
}
