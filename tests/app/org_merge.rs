//! Merging duplicate organizations (issue 16 item 3): "Fabrikam Inc" merged into "Fabrikam" moves
//! records, sub-organizations, access, logo, texts and the PSA link; the merged-away one is
//! deleted; Restore brings everything back as it was. And every refusal, with nothing changed.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{logos, organization_counts, organizations, records, user_organizations};
use roster::records::Kind;

use crate::scope::restricted;
use crate::support::{Client, TestApp};

/// Everything a merge may change, as stored: records (id, org), alive parents, access lists,
/// logos, the texts and PSA links of the given organizations, and which are deleted.
/// An organization's id, alert, quick notes, description, PSA company, sync, deleted.
type OrgState = (i64, String, String, String, Option<String>, bool, bool);

#[derive(Debug, PartialEq)]
pub struct Snapshot {
    records: Vec<(i64, i64)>,
    parents: Vec<(i64, Option<i64>)>,
    access: Vec<(i64, i64)>,
    logos: Vec<i64>,
    orgs: Vec<OrgState>,
}

pub async fn snapshot(app: &TestApp) -> Snapshot {
    app.db(|c| Snapshot {
        records: records::table
            .order_by(records::id)
            .select((records::id, records::organization_id))
            .load(c)
            .unwrap(),
        parents: organizations::table
            .order_by(organizations::id)
            .select((organizations::id, organizations::parent_id))
            .load(c)
            .unwrap(),
        access: user_organizations::table
            .order_by((
                user_organizations::user_id,
                user_organizations::organization_id,
            ))
            .select((
                user_organizations::user_id,
                user_organizations::organization_id,
            ))
            .load(c)
            .unwrap(),
        logos: logos::table
            .order_by(logos::organization_id)
            .select(logos::organization_id)
            .load(c)
            .unwrap(),
        orgs: organizations::table
            .order_by(organizations::id)
            .select((
                organizations::id,
                organizations::alert,
                organizations::quick_notes,
                organizations::description,
                organizations::psa_company_id,
                organizations::sync_enabled,
                organizations::deleted_at.is_not_null(),
            ))
            .load(c)
            .unwrap(),
    })
    .await
}

/// The maintained counts equal `count(*)` of visible organizations.
async fn assert_counts_right(app: &TestApp, after: &str) {
    let (kept, counted) = app
        .db(|c| {
            let rows: Vec<(bool, i64)> = organization_counts::table
                .select((organization_counts::psa_linked, organization_counts::total))
                .load(c)
                .unwrap();
            let kept: i64 = rows.iter().map(|r| r.1).sum();
            let linked: i64 = rows.iter().filter(|r| r.0).map(|r| r.1).sum();
            let alive = organizations::table.filter(organizations::deleted_at.is_null());
            let counted: i64 = alive.count().get_result(c).unwrap();
            let counted_linked: i64 = alive
                .filter(organizations::psa_company_id.is_not_null())
                .count()
                .get_result(c)
                .unwrap();
            ((kept, linked), (counted, counted_linked))
        })
        .await;
    assert_eq!(
        kept, counted,
        "maintained counts differ from count(*) after {after}"
    );
}

async fn set_texts(app: &TestApp, org: i64, alert: &'static str, notes: &'static str) {
    app.db(move |c| {
        diesel::update(organizations::table.find(org))
            .set((
                organizations::alert.eq(alert),
                organizations::quick_notes.eq(notes),
                organizations::description.eq(format!("About {notes}")),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
}

async fn link(app: &TestApp, org: i64, company: &'static str) {
    app.db(move |c| {
        diesel::update(organizations::table.find(org))
            .set((
                organizations::psa_kind.eq(Some("connectwise")),
                organizations::psa_company_id.eq(Some(company)),
                organizations::sync_enabled.eq(true),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
}

pub async fn contact(app: &TestApp, org: i64, name: &str) -> i64 {
    let (first, last) = name.split_once(' ').unwrap_or((name, ""));
    app.add_record(
        org,
        Kind::Contact,
        None,
        &[("first_name", first), ("last_name", last)],
    )
    .await
}

async fn merge(client: &Client, merged: i64, kept: i64) -> crate::support::Resp {
    client
        .post(
            &format!("/organizations/{merged}/merge"),
            &[("into", &kept.to_string())],
        )
        .await
}

#[tokio::test]
async fn merging_fabrikam_inc_into_fabrikam_moves_everything_and_restore_undoes_it() {
    let app = TestApp::spawn().await;
    let kept = app.add_org("Fabrikam", None).await;
    let merged = app.add_org("Fabrikam Inc", None).await;
    let lab = app.add_org("Fabrikam Lab", Some("Fabrikam Inc")).await;
    contact(&app, kept, "Kim Kept").await;
    contact(&app, merged, "Mia Merged").await;
    contact(&app, merged, "Max Merged").await;
    app.add_record(
        merged,
        Kind::Password,
        None,
        &[("name", "Router"), ("secret", "s3cret-router")],
    )
    .await;
    app.add_logo(merged).await;
    set_texts(&app, kept, "", "Kept notes").await;
    set_texts(&app, merged, "Call first", "Merged notes").await;
    link(&app, merged, "77").await;
    // An Editor who sees only Fabrikam Inc will see Fabrikam.
    let (editor, editor_id) = restricted(&app, Role::Editor, "ed", &[merged]).await;
    let before = snapshot(&app).await;
    assert_counts_right(&app, "setup").await;
    let manager = app.login_as(Role::Manager).await;

    // From the organization's page to the chooser, where the similar name comes first.
    let page = manager.get(&format!("/organizations/{merged}")).await;
    assert!(
        page.body
            .contains(&format!("href=\"/organizations/{merged}/merge\"")),
        "{}",
        page.body
    );
    let choose = manager.get(&format!("/organizations/{merged}/merge")).await;
    assert_eq!(choose.status, 200, "{}", choose.body);
    let similar = choose
        .body
        .find("Similar names")
        .expect("similar names listed");
    assert!(choose.body[similar..].contains(&format!("value=\"{kept}\">Fabrikam<")));

    // The confirmation lists what moves, with counts.
    let confirm = manager
        .get(&format!("/organizations/{merged}/merge?into={kept}"))
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    for text in [
        "Merge Fabrikam Inc into Fabrikam?",
        "2 contacts",
        "1 password",
        "1 sub-organization",
        "Fabrikam Lab",
        "1 access-list entry",
        "the logo moves",
        "alert, quick notes, description",
        "ConnectWise Manage company 77 moves",
    ] {
        assert!(
            confirm.body.contains(text),
            "{text:?} missing:\n{}",
            confirm.body
        );
    }

    let res = merge(&manager, merged, kept).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), format!("/organizations/{kept}"));
    assert_counts_right(&app, "the merge").await;

    // The kept page shows every record, the sub-organization, the joined notes, the PSA link.
    let page = manager.get(&format!("/organizations/{kept}")).await;
    assert!(
        page.body
            .contains("Merged Fabrikam Inc into this organization"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Fabrikam Lab"));
    assert!(page.body.contains("--- From Fabrikam Inc (merged) ---"));
    assert!(page.body.contains("company 77"));
    let contacts = manager
        .get(&format!("/organizations/{kept}/records/contacts"))
        .await;
    for name in ["Kim Kept", "Mia Merged", "Max Merged"] {
        assert!(contacts.body.contains(name), "{name} missing");
    }
    let passwords = manager
        .get(&format!("/organizations/{kept}/records/passwords"))
        .await;
    assert!(passwords.body.contains("Router"));
    assert_eq!(
        manager
            .get(&format!("/organizations/{kept}/logo"))
            .await
            .status,
        200
    );
    // The other one is deleted (hidden, its purge queued), and the Editor now sees Fabrikam.
    let list = manager.get("/organizations").await;
    assert!(!list.body.contains(">Fabrikam Inc<"), "{}", list.body);
    let after = snapshot(&app).await;
    assert!(after.orgs.iter().any(|o| o.0 == merged && o.6));
    assert!(after.access.contains(&(editor_id, kept)));
    assert_eq!(
        editor.get(&format!("/organizations/{kept}")).await.status,
        200
    );
    let sub_parent = after.parents.iter().find(|p| p.0 == lab).unwrap().1;
    assert_eq!(sub_parent, Some(kept));
    // The moved records are still found by the search, now under the kept organization.
    let found = manager.get("/search?q=Mia+Merged").await;
    assert!(
        found.body.contains("<mark>Mia Merged</mark>")
            && found.body.contains("title=\"Only results in Fabrikam\""),
        "moved contact not found under Fabrikam: {}",
        found.body
    );

    // Restore brings everything back as before.
    let res = manager
        .post(&format!("/organizations/{merged}/restore"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(snapshot(&app).await, before);
    assert_counts_right(&app, "the restore").await;
    let found = manager.get("/search?q=Mia+Merged").await;
    assert!(
        found.body.contains("<mark>Mia Merged</mark>")
            && found
                .body
                .contains("title=\"Only results in Fabrikam Inc\""),
        "restored contact not found under Fabrikam Inc: {}",
        found.body
    );
    assert_eq!(
        editor.get(&format!("/organizations/{kept}")).await.status,
        404
    );
    let page = manager.get(&format!("/organizations/{merged}")).await;
    assert!(
        page.body.contains("Restore undid the merge into Fabrikam"),
        "{}",
        page.body
    );
    let contacts = manager
        .get(&format!("/organizations/{merged}/records/contacts"))
        .await;
    assert!(contacts.body.contains("Mia Merged") && !contacts.body.contains("Kim Kept"));
}

/// The organization is unchanged and not deleted: nothing of a refused merge happened.
async fn assert_unchanged(app: &TestApp, before: &Snapshot, what: &str) {
    assert_eq!(&snapshot(app).await, before, "{what} changed something");
}

#[tokio::test]
async fn merges_that_cannot_be_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let parent = app.add_org("Contoso", None).await;
    let child = app.add_org("Contoso Branch", Some("Contoso")).await;
    let other = app.add_org("Northwind", None).await;
    let doomed = app.add_org("Doomed Co", None).await;
    contact(&app, parent, "Pat Parent").await;
    contact(&app, other, "Otto Other").await;
    let admin = app.login_as(Role::Administrator).await;
    crate::scope::delete_as_admin(&app, doomed, "Doomed Co").await;
    let before = snapshot(&app).await;

    // Into itself.
    let res = merge(&admin, parent, parent).await;
    assert_eq!(res.status, 409);
    assert!(
        res.body.contains("cannot be merged into itself"),
        "{}",
        res.body
    );
    // Into its own sub-organization (its sub-organizations would loop).
    let res = merge(&admin, parent, child).await;
    assert_eq!(res.status, 409);
    assert!(
        res.body.contains("is a sub-organization of Contoso"),
        "{}",
        res.body
    );
    let page = admin
        .get(&format!("/organizations/{parent}/merge?into={child}"))
        .await;
    assert_eq!(page.status, 409);
    // A sub-organization into its parent is fine (checked by the confirmation page only).
    let page = admin
        .get(&format!("/organizations/{child}/merge?into={parent}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    // While the other one is being deleted.
    let res = merge(&admin, other, doomed).await;
    assert_eq!(res.status, 409);
    assert!(
        res.body.contains("Doomed Co is being deleted"),
        "{}",
        res.body
    );
    let res = merge(&admin, doomed, other).await;
    assert_eq!(res.status, 409);
    assert_unchanged(&app, &before, "the refusals so far").await;

    // Two different PSA companies.
    link(&app, parent, "11").await;
    link(&app, other, "22").await;
    let before = snapshot(&app).await;
    let res = merge(&admin, other, parent).await;
    assert_eq!(res.status, 409);
    assert!(
        res.body.contains("ConnectWise Manage company 22")
            && res.body.contains("two different PSA companies"),
        "{}",
        res.body
    );
    assert_unchanged(&app, &before, "a merge of two PSA companies").await;

    // Without the form's token: refused, nothing merged.
    let res = admin
        .post_raw(
            &format!("/organizations/{child}/merge"),
            &[("into", &parent.to_string())],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_unchanged(&app, &before, "a forged merge").await;
}

#[tokio::test]
async fn a_restricted_manager_gets_404_for_the_organization_he_cannot_see() {
    let app = TestApp::spawn().await;
    let seen = app.add_org("Seen Fabrikam", None).await;
    let hidden = app.add_org("Hidden Fabrikam", None).await;
    contact(&app, hidden, "Hal Hidden").await;
    let (manager, _) = restricted(&app, Role::Manager, "restricted", &[seen]).await;
    let before = snapshot(&app).await;

    let choose = manager.get(&format!("/organizations/{seen}/merge")).await;
    assert_eq!(choose.status, 200);
    assert!(!choose.body.contains("Hidden Fabrikam"), "{}", choose.body);
    for path in [
        format!("/organizations/{seen}/merge?into={hidden}"),
        format!("/organizations/{hidden}/merge?into={seen}"),
        format!("/organizations/{hidden}/merge"),
    ] {
        let res = manager.get(&path).await;
        assert_eq!(res.status, 404, "{path}");
        assert!(
            !res.body.contains("Hidden Fabrikam"),
            "{path}: {}",
            res.body
        );
    }
    for (from, to) in [(seen, hidden), (hidden, seen)] {
        let res = merge(&manager, from, to).await;
        assert_eq!(res.status, 404);
        assert!(!res.body.contains("Hidden Fabrikam"));
    }
    assert_unchanged(&app, &before, "a restricted merge").await;
}

#[tokio::test]
async fn the_duplicate_name_warning_offers_the_merge_to_managers() {
    let app = TestApp::spawn().await;
    let first = app.add_org("Fabrikam", None).await;
    let second = app.add_org("Fabrikam Two", None).await;
    let manager = app.login_as(Role::Manager).await;
    let editor = app.login_as(Role::Editor).await;

    // Renaming the second to a name like the first's: merge this one into the first.
    let link = format!("/organizations/{second}/merge?into={first}");
    let res = manager
        .post_multipart(
            &format!("/organizations/{second}"),
            &[("name", "FABRIKAM")],
            None,
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(res.body.contains(&link), "{}", res.body);
    let res = editor
        .post_multipart(
            &format!("/organizations/{second}"),
            &[("name", "FABRIKAM")],
            None,
        )
        .await;
    assert_eq!(res.status, 409);
    assert!(!res.body.contains("/merge"), "{}", res.body);

    // A new one like two that exist already: merge those.
    app.add_org("fabrikam,", None).await;
    let res = manager
        .post_multipart("/organizations", &[("name", "Fabrikam.")], None)
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    assert!(
        res.body
            .contains(&format!("href=\"/organizations/{first}/merge\"")),
        "{}",
        res.body
    );
    assert_eq!(manager.get(&link).await.status, 200);
}
