//! Deleting organizations (B7, B8): confirmation, hiding at once, Restore in the grace period,
//! the purge in the background (leaves first, in batches, resumable), syncing organizations,
//! bulk delete, and several workers.

use std::time::Duration;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::DbConn;
use roster::db::schema::{audit_events, jobs, logos, organizations, records, user_organizations};
use roster::records::Kind;

use crate::support::TestApp;

/// An app whose purge starts at once, in small batches.
pub async fn spawn_purging(batch: u32, pause_ms: u64) -> TestApp {
    TestApp::spawn_with(|s| {
        s.delete_grace_seconds = Some(0);
        s.purge_batch_rows = Some(batch);
        s.purge_pause_ms = Some(pause_ms);
        s.job_poll_ms = Some(100);
    })
    .await
}

/// Records of every kind (and a logo) for `org`; returns how many records.
pub async fn fill(app: &TestApp, org: i64, each: usize) -> i64 {
    for i in 0..each {
        let n = i.to_string();
        app.add_record(
            org,
            Kind::Contact,
            None,
            &[("first_name", "Ann"), ("last_name", &n)],
        )
        .await;
        app.add_record(
            org,
            Kind::Configuration,
            None,
            &[
                ("name", &format!("PC {n}")),
                ("kind", "Workstation"),
                ("status", "Active"),
            ],
        )
        .await;
        app.add_record(
            org,
            Kind::Document,
            None,
            &[("title", &format!("Doc {n}")), ("body", "text")],
        )
        .await;
        app.add_record(
            org,
            Kind::Password,
            None,
            &[("name", &format!("Pw {n}")), ("secret", "s3cret")],
        )
        .await;
    }
    app.add_logo(org).await;
    i64::try_from(each * 4).unwrap()
}

fn rows_of(c: &mut DbConn, ids: &[i64]) -> (i64, i64, i64, i64) {
    let orgs = organizations::table
        .filter(organizations::id.eq_any(ids))
        .count()
        .get_result(c)
        .unwrap();
    let recs = records::table
        .filter(records::organization_id.eq_any(ids))
        .count()
        .get_result(c)
        .unwrap();
    let logos = logos::table
        .filter(logos::organization_id.eq_any(ids))
        .count()
        .get_result(c)
        .unwrap();
    let access = user_organizations::table
        .filter(user_organizations::organization_id.eq_any(ids))
        .count()
        .get_result(c)
        .unwrap();
    (orgs, recs, logos, access)
}

/// Organizations, records, logos and access rows of these organizations still stored.
pub async fn rows(app: &TestApp, ids: &[i64]) -> (i64, i64, i64, i64) {
    let ids = ids.to_vec();
    app.db(move |c| rows_of(c, &ids)).await
}

/// No row anywhere points at an organization that is not there (the database's own check).
pub async fn assert_no_dangling_rows(app: &TestApp) {
    let dangling: i64 = app
        .db(|c| {
            let orgs = organizations::table.select(organizations::id);
            let ids: Vec<i64> = orgs.load(c).unwrap();
            let parents = organizations::table
                .select(organizations::parent_id)
                .load::<Option<i64>>(c)
                .unwrap()
                .into_iter()
                .flatten()
                .filter(|p| !ids.contains(p))
                .count();
            let parents = i64::try_from(parents).unwrap();
            let recs: i64 = records::table
                .filter(records::organization_id.ne_all(orgs))
                .count()
                .get_result(c)
                .unwrap();
            let logos: i64 = logos::table
                .filter(logos::organization_id.ne_all(orgs))
                .count()
                .get_result(c)
                .unwrap();
            let access: i64 = user_organizations::table
                .filter(user_organizations::organization_id.ne_all(orgs))
                .count()
                .get_result(c)
                .unwrap();
            parents + recs + logos + access
        })
        .await;
    assert_eq!(dangling, 0, "rows point at deleted organizations");
}

/// Waits (up to `secs`) until every job is finished; returns them.
pub async fn jobs_finished(app: &TestApp, secs: u64) -> Vec<roster::jobs::Job> {
    for _ in 0..secs * 10 {
        let all = all_jobs(app).await;
        if !all.is_empty()
            && all
                .iter()
                .all(|j| j.state == "done" || j.state == "cancelled")
        {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("jobs did not finish: {:#?}", all_jobs(app).await);
}

pub async fn all_jobs(app: &TestApp) -> Vec<roster::jobs::Job> {
    app.db(|c| {
        jobs::table
            .order_by(jobs::id)
            .select(roster::jobs::Job::as_select())
            .load(c)
            .unwrap()
    })
    .await
}

pub async fn set_syncing(app: &TestApp, org: i64) {
    app.db(move |c| {
        diesel::update(organizations::table.find(org))
            .set((
                organizations::psa_kind.eq(Some("connectwise")),
                organizations::psa_company_id.eq(Some("250")),
                organizations::sync_enabled.eq(true),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
}

async fn deleted_at(app: &TestApp, org: i64) -> Option<chrono::NaiveDateTime> {
    app.db(move |c| {
        organizations::table
            .find(org)
            .select(organizations::deleted_at)
            .first(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn an_organization_goes_with_its_sub_organizations_and_all_their_data() {
    let app = spawn_purging(7, 0).await;
    let parent = app.add_org("Globex", None).await;
    let east = app.add_org("Globex East", Some("Globex")).await;
    let west = app.add_org("Globex West", Some("Globex")).await;
    let branch = app.add_org("Globex East Branch", Some("Globex East")).await;
    let other = app.add_org("Initech", None).await;
    let mut records = 0;
    for org in [parent, east, west, branch, other] {
        records += fill(&app, org, 3).await;
    }
    let editor = app.login_as(Role::Editor).await;
    let limited = app.add_user(Role::Lite, "lite").await;
    let lite_id = crate::sessions::user_id(&app, &limited).await;
    app.db(move |c| {
        diesel::insert_into(user_organizations::table)
            .values((
                user_organizations::user_id.eq(lite_id),
                user_organizations::organization_id.eq(east),
            ))
            .execute(c)
            .unwrap();
    })
    .await;

    // Edit, bottom of the page: Delete Organization.
    let edit = editor.get(&format!("/organizations/{parent}/edit")).await;
    assert!(edit.body.contains("Not synced with a PSA"), "{}", edit.body);
    assert!(
        edit.body
            .contains(&format!("href=\"/organizations/{parent}/delete\""))
    );

    // The confirmation lists what goes.
    let confirm = editor.get(&format!("/organizations/{parent}/delete")).await;
    assert_eq!(confirm.status, 200);
    for text in [
        "Globex East",
        "Globex West",
        "Globex East Branch",
        "3 sub-organizations",
        "12 contacts",
        "12 passwords",
        "4 logos",
    ] {
        assert!(
            confirm.body.contains(text),
            "{text} missing:\n{}",
            confirm.body
        );
    }
    assert!(!confirm.body.contains("Initech"));

    let res = editor
        .post(
            &format!("/organizations/{parent}/delete"),
            &[("confirm_name", "Globex")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), "/organizations");
    let list = editor.get("/organizations").await;
    assert!(list.body.contains("being deleted"), "{}", list.body);
    assert!(!list.body.contains("Globex East"));
    assert!(list.body.contains("Initech"));
    let lookup = editor.get("/organizations/lookup?q=glob").await;
    assert_eq!(lookup.body, "[]");

    let jobs = jobs_finished(&app, 30).await;
    assert_eq!(jobs.len(), 1);
    let subtree = [parent, east, west, branch];
    assert_eq!(rows(&app, &subtree).await, (0, 0, 0, 0));
    assert_eq!(jobs[0].progress_done, 4 + 48 + 4);
    assert_eq!(jobs[0].progress_total, jobs[0].progress_done);
    assert_eq!(rows(&app, &[other]).await, (1, 12, 1, 0));
    assert_eq!(records, 60);
    assert_no_dangling_rows(&app).await;

    // The page says so; the trail is kept, with who and how many rows.
    let page = editor.get(&format!("/organizations/{parent}")).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("Deleted."), "{}", page.body);
    // Its history is kept, and shown there.
    assert!(
        page.body
            .contains("Purged Globex and its 3 sub-organizations: 56 rows"),
        "{}",
        page.body
    );
    let trail: Vec<(String, Option<String>, String)> = app
        .db(move |c| {
            audit_events::table
                .filter(audit_events::organization_id.eq(parent))
                .order_by(audit_events::id)
                .select((
                    audit_events::action,
                    audit_events::organization_name,
                    audit_events::actor_email,
                ))
                .load(c)
                .unwrap()
        })
        .await;
    let actions: Vec<&str> = trail.iter().map(|t| t.0.as_str()).collect();
    assert!(actions.contains(&"organization.deleted"), "{actions:?}");
    assert!(actions.contains(&"organization.purged"), "{actions:?}");
    // (The test helper that adds records names the organization "org".)
    assert!(
        trail
            .iter()
            .filter(|t| t.0.starts_with("organization."))
            .all(|t| t.1.as_deref() == Some("Globex")),
        "{trail:?}"
    );
    let summary: String = app
        .db(move |c| {
            audit_events::table
                .filter(audit_events::organization_id.eq(parent))
                .filter(audit_events::action.eq("organization.purged"))
                .select(audit_events::summary)
                .first(c)
                .unwrap()
        })
        .await;
    assert!(
        summary.contains("56 rows") && summary.contains("editor-"),
        "{summary}"
    );
}

#[tokio::test]
async fn restore_brings_everything_back_until_the_purge_starts() {
    let app = TestApp::spawn_with(|s| {
        s.purge_batch_rows = Some(1);
        s.purge_pause_ms = Some(300);
        s.job_poll_ms = Some(100);
    })
    .await;
    let parent = app.add_org("Hooli", None).await;
    let child = app.add_org("Hooli XYZ", Some("Hooli")).await;
    fill(&app, parent, 2).await;
    fill(&app, child, 2).await;
    let before = rows(&app, &[parent, child]).await;
    let manager = app.login_as(Role::Manager).await;

    let res = manager
        .post(
            &format!("/organizations/{parent}/delete"),
            &[("confirm_name", "Hooli")],
        )
        .await;
    assert_eq!(res.status, 303);
    let list = manager.get("/organizations").await;
    assert!(
        list.body.contains("You can restore it until"),
        "{}",
        list.body
    );
    assert!(
        list.body
            .contains(&format!("action=\"/organizations/{parent}/restore\""))
    );
    assert!(!list.body.contains("Hooli XYZ"));
    assert_eq!(
        manager
            .get(&format!("/organizations/{child}/records/contacts"))
            .await
            .status,
        404
    );
    // Manage Data lists it with Restore; its page says when the purge starts.
    let manage = manager.get("/manage-data").await;
    assert!(
        manage.body.contains("Hooli") && manage.body.contains("Restore"),
        "{}",
        manage.body
    );
    let page = manager.get(&format!("/organizations/{parent}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("The purge starts at"), "{}", page.body);

    let res = manager
        .post(&format!("/organizations/{parent}/restore"), &[])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let shown = manager.get(&format!("/organizations/{parent}")).await;
    assert!(
        shown
            .body
            .contains("Restored Hooli and its sub-organization."),
        "{}",
        shown.body
    );
    assert!(shown.body.contains("Hooli XYZ"));
    assert_eq!(rows(&app, &[parent, child]).await, before);
    assert_eq!(deleted_at(&app, child).await, None);
    assert_eq!(all_jobs(&app).await[0].state, "cancelled");
    let again = manager
        .post(&format!("/organizations/{parent}/restore"), &[])
        .await;
    assert_eq!(again.status, 409);
    assert!(again.body.contains("Hooli is not deleted."));

    // Deleted again, and the purge starts (its time is brought forward): too late to restore.
    manager
        .post(
            &format!("/organizations/{parent}/delete"),
            &[("confirm_name", "Hooli")],
        )
        .await;
    app.db(|c| {
        diesel::update(jobs::table.filter(jobs::state.eq("queued")))
            .set(jobs::run_after.eq(roster::db::now()))
            .execute(c)
            .unwrap();
    })
    .await;
    let mut running = false;
    for _ in 0..100 {
        if all_jobs(&app)
            .await
            .iter()
            .any(|j| j.state == "running" && j.progress_done > 0)
        {
            running = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        running,
        "the purge did not start: {:#?}",
        all_jobs(&app).await
    );
    let late = manager
        .post(&format!("/organizations/{parent}/restore"), &[])
        .await;
    assert_eq!(late.status, 409);
    assert!(
        late.body
            .contains("The purge of Hooli has started, so it can no longer be restored."),
        "{}",
        late.body
    );
    // Its page shows the progress bar, and refreshes itself.
    let progress = manager.get(&format!("/organizations/{parent}")).await;
    assert!(
        progress.body.contains("<progress id=\"deletion-progress\""),
        "{}",
        progress.body
    );
    assert!(progress.body.contains("http-equiv=\"refresh\""));
}

#[tokio::test]
async fn a_syncing_organization_is_deleted_only_after_disable_sync() {
    let app = spawn_purging(100, 0).await;
    let org = app.add_org("Vandelay Industries", None).await;
    set_syncing(&app, org).await;
    let editor = app.login_as(Role::Editor).await;

    let edit = editor.get(&format!("/organizations/{org}/edit")).await;
    assert!(
        edit.body
            .contains("This organization syncs with ConnectWise Manage"),
        "{}",
        edit.body
    );
    assert!(edit.body.contains("id=\"disable-sync\""));
    assert!(edit.body.contains("id=\"delete-org\" disabled"));
    assert!(
        edit.body
            .contains("A syncing organization cannot be deleted")
    );
    let confirm = editor.get(&format!("/organizations/{org}/delete")).await;
    assert!(
        confirm.body.contains("Click Disable sync"),
        "{}",
        confirm.body
    );
    assert!(!confirm.body.contains("id=\"confirm-delete\""));

    // Posted directly, whatever the browser sends: 409, nothing marked.
    let res = editor
        .post(
            &format!("/organizations/{org}/delete"),
            &[("confirm_name", "Vandelay Industries")],
        )
        .await;
    assert_eq!(res.status, 409);
    assert!(res.body.contains("syncs with ConnectWise Manage"));
    assert_eq!(deleted_at(&app, org).await, None);
    assert!(all_jobs(&app).await.is_empty());

    // A syncing sub-organization blocks its parent too.
    let parent = app.add_org("Kramerica", None).await;
    let sub = app.add_org("Kramerica Labs", Some("Kramerica")).await;
    set_syncing(&app, sub).await;
    let res = editor
        .post(
            &format!("/organizations/{parent}/delete"),
            &[("confirm_name", "Kramerica")],
        )
        .await;
    assert_eq!(res.status, 409);
    assert!(res.body.contains("Kramerica Labs"));

    let res = editor
        .post(&format!("/organizations/{org}/sync/disable"), &[])
        .await;
    assert_eq!(res.status, 303);
    let edit = editor.get(&format!("/organizations/{org}/edit")).await;
    assert!(
        edit.body
            .contains("Sync is disabled for Vandelay Industries"),
        "{}",
        edit.body
    );
    assert!(edit.body.contains("Not synced with a PSA"));
    let res = editor
        .post(
            &format!("/organizations/{org}/delete"),
            &[("confirm_name", "Vandelay Industries")],
        )
        .await;
    assert_eq!(res.status, 303);
    jobs_finished(&app, 30).await;
    assert_eq!(rows(&app, &[org]).await.0, 0);
}

#[tokio::test]
async fn a_wrong_name_deletes_nothing_and_a_double_confirm_queues_one_job() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Pied Piper", None).await;
    let editor = app.login_as(Role::Editor).await;

    let res = editor
        .post(
            &format!("/organizations/{org}/delete"),
            &[("confirm_name", "pied piper inc")],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(
        res.body
            .contains("Type the name exactly as shown: Pied Piper"),
        "{}",
        res.body
    );
    assert!(res.body.contains("value=\"pied piper inc\""));
    assert_eq!(deleted_at(&app, org).await, None);
    assert!(all_jobs(&app).await.is_empty());

    let path = format!("/organizations/{org}/delete");
    let (a, b) = tokio::join!(
        editor.post(&path, &[("confirm_name", "Pied Piper")]),
        editor.post(&path, &[("confirm_name", "Pied Piper")]),
    );
    assert_eq!((a.status, b.status), (303, 303));
    let again = editor
        .post(
            &format!("/organizations/{org}/delete"),
            &[("confirm_name", "Pied Piper")],
        )
        .await;
    assert_eq!(again.status, 303);
    let list = editor.get("/organizations").await;
    assert!(
        list.body.contains("Pied Piper is already deleted."),
        "{}",
        list.body
    );
    assert_eq!(all_jobs(&app).await.len(), 1);
    // An Editor cannot restore; the page says who can.
    let page = editor.get(&format!("/organizations/{org}")).await;
    assert!(
        page.body
            .contains("A Manager or Administrator can restore it"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("id=\"restore\""));
}

#[tokio::test]
async fn bulk_delete_skips_and_names_syncing_organizations() {
    let app = spawn_purging(50, 0).await;
    let a = app.add_org("Acme Anvils", None).await;
    let a_sub = app.add_org("Acme Rockets", Some("Acme Anvils")).await;
    let b = app.add_org("Bluth Company", None).await;
    let s = app.add_org("Sterling Cooper", None).await;
    let keep = app.add_org("Wonka", None).await;
    set_syncing(&app, s).await;
    fill(&app, a_sub, 1).await;
    let manager = app.login_as(Role::Manager).await;

    let list = manager.get("/organizations").await;
    assert!(list.body.contains(&format!("name=\"ids\" value=\"{a}\"")));
    assert!(list.body.contains("id=\"delete-selected\""));
    let editor = app.login_as(Role::Editor).await;
    assert!(
        !editor
            .get("/organizations")
            .await
            .body
            .contains("name=\"ids\"")
    );
    let res = editor
        .post(
            "/organizations/bulk-delete",
            &[("ids", &a.to_string()), ("confirm", "DELETE")],
        )
        .await;
    assert_eq!(res.status, 403);
    assert_eq!(deleted_at(&app, a).await, None);

    let confirm = manager
        .get(&format!(
            "/organizations/bulk-delete?ids={a}&ids={a_sub}&ids={b}&ids={s}"
        ))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(
        confirm.body.contains("Delete 2 organizations?"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("Acme Rockets"));
    assert!(
        confirm
            .body
            .contains("Skipped:</strong> Sterling Cooper syncs with ConnectWise Manage")
    );

    let wrong = manager
        .post(
            "/organizations/bulk-delete",
            &[
                ("ids", &a.to_string()),
                ("ids", &b.to_string()),
                ("confirm", "delete"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("Type DELETE in capitals to confirm."));
    assert!(all_jobs(&app).await.is_empty());

    let res = manager
        .post(
            "/organizations/bulk-delete",
            &[
                ("ids", &a.to_string()),
                ("ids", &a_sub.to_string()),
                ("ids", &b.to_string()),
                ("ids", &s.to_string()),
                ("confirm", "DELETE"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let list = manager.get("/organizations").await;
    assert!(
        list.body.contains("Deleted 2 organizations"),
        "{}",
        list.body
    );
    assert!(
        list.body.contains("Skipped: Sterling Cooper ("),
        "{}",
        list.body
    );
    jobs_finished(&app, 30).await;
    assert_eq!(all_jobs(&app).await.len(), 2);
    assert_eq!(rows(&app, &[a, a_sub, b]).await, (0, 0, 0, 0));
    assert_eq!(rows(&app, &[s, keep]).await.0, 2);
    assert_no_dangling_rows(&app).await;
}

#[tokio::test]
async fn a_parent_deleted_while_its_sub_organization_is_being_purged() {
    let app = spawn_purging(2, 20).await;
    let parent = app.add_org("Massive Dynamic", None).await;
    let child = app.add_org("Massive Labs", Some("Massive Dynamic")).await;
    let grandchild = app.add_org("Massive Labs West", Some("Massive Labs")).await;
    let other = app.add_org("Oscorp", None).await;
    for org in [parent, child, grandchild, other] {
        fill(&app, org, 3).await;
    }
    let editor = app.login_as(Role::Editor).await;
    let manager = app.login_as(Role::Manager).await;
    let child_path = format!("/organizations/{child}/delete");
    let parent_path = format!("/organizations/{parent}/delete");
    let (a, b) = tokio::join!(
        editor.post(&child_path, &[("confirm_name", "Massive Labs")]),
        async {
            tokio::time::sleep(Duration::from_millis(150)).await;
            manager
                .post(&parent_path, &[("confirm_name", "Massive Dynamic")])
                .await
        },
    );
    assert_eq!((a.status, b.status), (303, 303), "{}\n{}", a.body, b.body);
    let jobs = jobs_finished(&app, 60).await;
    assert!(
        jobs.iter()
            .all(|j| j.state == "done" && j.last_error.is_none()),
        "{jobs:#?}"
    );
    assert_eq!(rows(&app, &[parent, child, grandchild]).await, (0, 0, 0, 0));
    assert_eq!(rows(&app, &[other]).await, (1, 12, 1, 0));
    assert_no_dangling_rows(&app).await;
}

#[tokio::test]
async fn several_workers_run_each_job_exactly_once() {
    let first = spawn_purging(3, 0).await;
    let store = first.store.clone();
    let second = TestApp::spawn_on(store, |s| {
        s.delete_grace_seconds = Some(0);
        s.purge_batch_rows = Some(3);
        s.purge_pause_ms = Some(0);
        s.job_poll_ms = Some(50);
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let org = first.add_org(&format!("Tenant {i:02}"), None).await;
        fill(&first, org, 1).await;
        ids.push(org);
    }
    let manager = second.login_as(Role::Manager).await;
    let mut fields: Vec<(&str, String)> = ids.iter().map(|id| ("ids", id.to_string())).collect();
    fields.push(("confirm", "DELETE".into()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        manager
            .post("/organizations/bulk-delete", &fields)
            .await
            .status,
        303
    );
    let jobs = jobs_finished(&first, 60).await;
    assert_eq!(jobs.len(), 12);
    assert!(
        jobs.iter().all(|j| j.attempts == 1),
        "a job ran twice: {jobs:#?}"
    );
    let purged: i64 = first
        .db(|c| {
            audit_events::table
                .filter(audit_events::action.eq("organization.purged"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(purged, 12);
    assert_eq!(rows(&first, &ids).await, (0, 0, 0, 0));
}

/// `roster serve` as its own process on the store, with a fast, slow-paced purge.
fn serve_process(store: &crate::support::Store) -> std::process::Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("serve")
        .env("ROSTER_DATA_DIR", store.dir.path())
        .env("ROSTER_DATABASE_URL", &store.database_url)
        .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
        .env("ROSTER_DELETE_GRACE_SECONDS", "0")
        .env("ROSTER_PURGE_BATCH_ROWS", "5")
        .env("ROSTER_PURGE_PAUSE_MS", "100")
        .env("ROSTER_JOB_LEASE_SECONDS", "2")
        .env("ROSTER_JOB_POLL_MS", "50")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn a_worker_killed_in_the_middle_is_taken_over_and_nothing_is_left_behind() {
    // This instance serves the requests but runs no worker.
    let app = TestApp::spawn_with(|s| {
        s.delete_grace_seconds = Some(0);
        s.run_jobs = Some(false);
    })
    .await;
    let parent = app.add_org("Soylent", None).await;
    let mut subtree = vec![parent];
    for name in ["Soylent Green", "Soylent Red", "Soylent Blue"] {
        subtree.push(app.add_org(name, Some("Soylent")).await);
    }
    for org in &subtree {
        fill(&app, *org, 10).await;
    }
    let other = app.add_org("Tyrell", None).await;
    fill(&app, other, 2).await;
    let editor = app.login_as(Role::Editor).await;
    let res = editor
        .post(
            &format!("/organizations/{parent}/delete"),
            &[("confirm_name", "Soylent")],
        )
        .await;
    assert_eq!(res.status, 303);

    // Another process takes the job, deletes a few batches, and is killed.
    let mut worker = serve_process(&app.store);
    let mut progressed = false;
    for _ in 0..300 {
        let jobs = all_jobs(&app).await;
        if jobs[0].progress_done >= 15 {
            progressed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert!(
        progressed,
        "the worker did not start: {:#?}",
        all_jobs(&app).await
    );
    let job = all_jobs(&app).await.remove(0);
    assert_eq!(job.state, "running");
    assert!(job.progress_done < job.progress_total, "{job:#?}");
    let (orgs, records, _, _) = rows(&app, &subtree).await;
    assert_eq!(orgs, 4, "organizations go after their records");
    assert!(records > 0 && records < 160, "{records} records left");

    // A new instance takes the job up when the lease runs out, and finishes it.
    let restarted = TestApp::spawn_on(app.store.clone(), |s| {
        s.job_lease_seconds = Some(2);
        s.job_poll_ms = Some(100);
    })
    .await;
    let jobs = jobs_finished(&restarted, 60).await;
    assert_eq!(jobs[0].state, "done");
    assert_eq!(jobs[0].attempts, 2, "{:#?}", jobs[0]);
    assert_eq!(jobs[0].progress_done, jobs[0].progress_total);
    assert_eq!(jobs[0].progress_total, 4 + 160 + 4);
    assert_eq!(rows(&app, &subtree).await, (0, 0, 0, 0));
    assert_eq!(rows(&app, &[other]).await, (1, 8, 1, 0));
    assert_no_dangling_rows(&app).await;
}

#[tokio::test]
async fn jobs_that_ended_long_ago_are_forgotten() {
    let app = TestApp::spawn_with(|s| s.run_jobs = Some(false)).await;
    let ids = app
        .db(|c| {
            let mut ids = Vec::new();
            for (state, days) in [("done", 40), ("done", 2), ("queued", 40)] {
                let at = roster::db::now() - chrono::Duration::days(days);
                let id: i64 = diesel::insert_into(jobs::table)
                    .values((
                        jobs::kind.eq("purge_organizations"),
                        jobs::payload.eq("{}"),
                        jobs::state.eq(state),
                        jobs::run_after.eq(at),
                        jobs::created_at.eq(at),
                        jobs::updated_at.eq(at),
                        jobs::finished_at.eq((state == "done").then_some(at)),
                    ))
                    .returning(jobs::id)
                    .get_result(c)
                    .unwrap();
                ids.push(id);
            }
            let pruned =
                roster::jobs::queue::prune(c, Duration::from_secs(30 * 24 * 3600)).unwrap();
            assert_eq!(pruned, 1);
            ids
        })
        .await;
    let left: Vec<i64> = all_jobs(&app).await.iter().map(|j| j.id).collect();
    assert_eq!(left, ids[1..].to_vec());
}

/// Organizations saved under a deleted one after it was marked (a save that raced the delete) go
/// with it, and a loop of parents (damaged data) does not stop the purge.
#[tokio::test]
async fn the_purge_takes_latecomers_and_cuts_loops() {
    let app = TestApp::spawn_with(|s| {
        s.delete_grace_seconds = Some(0);
        s.run_jobs = Some(false);
    })
    .await;
    let parent = app.add_org("Umbrella", None).await;
    let child = app.add_org("Umbrella Labs", Some("Umbrella")).await;
    let editor = app.login_as(Role::Editor).await;
    let res = editor
        .post(
            &format!("/organizations/{parent}/delete"),
            &[("confirm_name", "Umbrella")],
        )
        .await;
    assert_eq!(res.status, 303);
    // A latecomer under the deleted parent, with a record, and a loop between parent and child.
    let late = app
        .db(move |c| {
            let id: i64 = diesel::insert_into(organizations::table)
                .values((
                    organizations::name.eq("Umbrella Late"),
                    organizations::name_key.eq("umbrellalate"),
                    organizations::search_text.eq("umbrella late\n"),
                    organizations::parent_id.eq(Some(parent)),
                    organizations::created_at.eq(roster::db::now()),
                    organizations::updated_at.eq(roster::db::now()),
                ))
                .returning(organizations::id)
                .get_result(c)
                .unwrap();
            diesel::update(organizations::table.find(parent))
                .set(organizations::parent_id.eq(Some(child)))
                .execute(c)
                .unwrap();
            id
        })
        .await;
    fill(&app, late, 1).await;
    let worker = TestApp::spawn_on(app.store.clone(), |s| s.job_poll_ms = Some(50)).await;
    let jobs = jobs_finished(&worker, 30).await;
    assert_eq!(jobs[0].state, "done");
    assert_eq!(rows(&app, &[parent, child, late]).await, (0, 0, 0, 0));
    assert_no_dangling_rows(&app).await;
}
