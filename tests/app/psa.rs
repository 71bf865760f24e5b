//! PSA sync end to end: the real server, the real connectors and the test doubles of ConnectWise
//! Manage and Autotask (`tests/support/psa/`), as a user would set it up.

use std::time::Duration;

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{
    organization_statuses, organization_types, organizations, psa_loads, psa_settings,
};

use crate::psa_doubles::{AutotaskDouble, ConnectWiseDouble, Faults, autotask, connectwise};
use crate::support::{Client, TestApp};

pub async fn spawn() -> TestApp {
    TestApp::spawn_with(|s| {
        s.psa_allow_http = Some(true);
        s.psa_allow_private = Some(true);
        s.job_poll_ms = Some(50);
        s.psa_timeout_seconds = Some(5);
    })
    .await
}

/// An app that may reach the doubles and runs no background work (no data load unless a test
/// runs one).
pub async fn spawn_without_worker() -> TestApp {
    TestApp::spawn_with(|s| {
        s.psa_allow_http = Some(true);
        s.psa_allow_private = Some(true);
        s.run_jobs = Some(false);
    })
    .await
}

pub fn connectwise_form(cw: &ConnectWiseDouble, direction: &str) -> Vec<(&'static str, String)> {
    vec![
        ("kind", "connectwise".into()),
        ("base_url", cw.base_url()),
        ("codebase", connectwise::CODEBASE.into()),
        ("account", connectwise::COMPANY_ID.into()),
        ("public_key", connectwise::PUBLIC_KEY.into()),
        ("private_key", connectwise::PRIVATE_KEY.into()),
        ("client_id", connectwise::CLIENT_ID.into()),
        ("direction", direction.into()),
        ("interval_minutes", "60".into()),
        ("default_site", connectwise::DEFAULT_SITE.into()),
        ("default_address", connectwise::DEFAULT_ADDRESS.into()),
    ]
}

pub fn autotask_form(at: &AutotaskDouble, direction: &str) -> Vec<(&'static str, String)> {
    vec![
        ("kind", "autotask".into()),
        ("base_url", at.base_url()),
        ("account", autotask::USERNAME.into()),
        ("secret", autotask::SECRET.into()),
        ("integration_code", autotask::INTEGRATION_CODE.into()),
        ("direction", direction.into()),
        ("interval_minutes", "60".into()),
        ("default_owner", autotask::OWNER_RESOURCE_ID.to_string()),
    ]
}

pub async fn post_owned(
    client: &Client,
    path: &str,
    fields: &[(&'static str, String)],
) -> crate::support::Resp {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.post(path, &fields).await
}

/// The id of the organization type named `name`.
pub async fn type_id(app: &TestApp, name: &'static str) -> i64 {
    app.db(move |c| {
        organization_types::table
            .filter(organization_types::name.eq(name))
            .select(organization_types::id)
            .first(c)
            .unwrap()
    })
    .await
}

/// The id of the organization status named `name`.
async fn status_id(app: &TestApp, name: &'static str) -> i64 {
    app.db(move |c| {
        organization_statuses::table
            .filter(organization_statuses::name.eq(name))
            .select(organization_statuses::id)
            .first(c)
            .unwrap()
    })
    .await
}

pub async fn customer_id(app: &TestApp) -> i64 {
    type_id(app, "Customer").await
}

/// Sync now, and wait until that load is finished; returns the settings page after it.
pub async fn sync_now(app: &TestApp, client: &Client) -> String {
    let asked = roster::db::now();
    assert_eq!(client.post("/settings/psa/sync", &[]).await.status, 303);
    for _ in 0..200 {
        let finished: i64 = app
            .db(move |c| {
                psa_loads::table
                    .filter(psa_loads::finished_at.is_not_null())
                    .filter(psa_loads::started_at.ge(asked))
                    .count()
                    .get_result(c)
                    .unwrap()
            })
            .await;
        if finished > 0 {
            return client.get("/settings/psa").await.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the data load did not finish");
}

async fn loads_finished(app: &TestApp) -> i64 {
    app.db(|c| {
        psa_loads::table
            .filter(psa_loads::finished_at.is_not_null())
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// (id, PSA company, orphan reason) of the live organization named `name`.
pub async fn org_named(app: &TestApp, name: &str) -> Option<(i64, Option<String>, Option<String>)> {
    let name = name.to_owned();
    app.db(move |c| {
        organizations::table
            .filter(organizations::name.eq(name))
            .filter(organizations::deleted_at.is_null())
            .select((
                organizations::id,
                organizations::psa_company_id,
                organizations::orphan_reason,
            ))
            .first(c)
            .optional()
            .unwrap()
    })
    .await
}

async fn create_org(app: &TestApp, client: &Client, name: &str) -> crate::support::Resp {
    let customer = customer_id(app).await.to_string();
    let active = status_id(app, "Active").await;
    let active = active.to_string();
    let res = client
        .post_multipart(
            "/organizations",
            &[
                ("name", name),
                ("type_id", &customer),
                ("status_id", &active),
            ],
            None,
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    client.get(res.location()).await
}

#[tokio::test]
async fn connectwise_two_way_as_a_new_user_would_set_it_up() {
    let cw = ConnectWiseDouble::start();
    let app = spawn().await;
    let manager = app.login_as(Role::Manager).await;

    let res = post_owned(&manager, "/settings/psa", &connectwise_form(&cw, "two_way")).await;
    assert_eq!(res.status, 303, "{}", res.body);
    // The sandbox calls customers "Client".
    let customer = customer_id(&app).await;
    let res = manager
        .post(
            "/settings/psa/mapping",
            &[(&format!("type_{customer}") as &str, "Client")],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = manager.get("/settings/psa").await;
    assert!(page.body.contains("value=\"Client\""), "{}", page.body);
    // The keys are never shown again, nor stored in plain text.
    assert!(
        !page.body.contains(connectwise::PRIVATE_KEY)
            && !page.body.contains(connectwise::PUBLIC_KEY)
    );
    let stored: Vec<u8> = app
        .db(|c| {
            psa_settings::table
                .select(psa_settings::credentials_sealed)
                .first(c)
                .unwrap()
        })
        .await;
    assert!(
        !stored
            .windows(14)
            .any(|w| w == connectwise::PRIVATE_KEY.as_bytes())
    );

    let res = manager.post("/settings/psa/test", &[]).await;
    assert_eq!(res.status, 303);
    let page = manager.get("/settings/psa").await;
    assert!(
        page.body.contains("Connected to ConnectWise Manage"),
        "{}",
        page.body
    );

    // Created in Roster: the company appears in the PSA.
    let editor = app.login_as(Role::Editor).await;
    let shown = create_org(&app, &editor, "Roster Made").await;
    assert!(
        shown.body.contains("added to ConnectWise Manage (company"),
        "{}",
        shown.body
    );
    let made = cw
        .companies()
        .into_iter()
        .find(|c| c.name == "Roster Made")
        .expect("pushed");
    assert_eq!(made.types, vec!["Client".to_owned()]);
    let (id, company, _) = org_named(&app, "Roster Made").await.unwrap();
    assert_eq!(company, Some(made.id.to_string()));
    // An edit of the name is pushed too.
    let res = editor
        .post_multipart(
            &format!("/organizations/{id}"),
            &[
                ("name", "Roster Made Inc"),
                ("type_id", &customer.to_string()),
                ("status_id", &made_status(&app).await),
            ],
            None,
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(cw.company(made.id).unwrap().name, "Roster Made Inc");

    // Added in the PSA: Sync now brings it over.
    let added = cw.add_company("Sandbox Dental", "SandboxDental", "Client", "Active");
    let page = sync_now(&app, &manager).await;
    assert!(page.contains("<td>done"), "{page}");
    let (sandbox_org, company, _) = org_named(&app, "Sandbox Dental")
        .await
        .expect("brought over");
    assert_eq!(company, Some(added.to_string()));

    // Deleted in the PSA: an orphan on Manage Data, which only Managers and Administrators see.
    cw.remove(added);
    sync_now(&app, &manager).await;
    let (_, _, reason) = org_named(&app, "Sandbox Dental").await.unwrap();
    assert_eq!(
        reason.as_deref(),
        Some("The company is no longer in ConnectWise Manage.")
    );
    let manage = manager.get("/manage-data").await;
    assert!(
        manage
            .body
            .contains(&format!("name=\"ids\" value=\"{sandbox_org}\"")),
        "{}",
        manage.body
    );
    assert!(
        manage
            .body
            .contains("The company is no longer in ConnectWise Manage.")
    );
    // The synced ones, by type and status (the orphan is not among them).
    assert!(
        manage
            .body
            .contains("<tr><td>Customer</td><td>Active</td><td>1</td></tr>"),
        "{}",
        manage.body
    );
    assert_eq!(editor.get("/manage-data").await.status, 403);
    assert_eq!(editor.post("/settings/psa/sync", &[]).await.status, 403);
    // Deleted from there, with the deletion's confirmation.
    let confirm = manager
        .get(&format!("/organizations/bulk-delete?ids={sandbox_org}"))
        .await;
    assert!(
        confirm.body.contains("Delete 1 organization?"),
        "{}",
        confirm.body
    );
    let res = manager
        .post(
            "/organizations/bulk-delete",
            &[("ids", &sandbox_org.to_string()), ("confirm", "DELETE")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert!(org_named(&app, "Sandbox Dental").await.is_none());
}

async fn made_status(app: &TestApp) -> String {
    status_id(app, "Active").await.to_string()
}

#[tokio::test]
async fn autotask_one_way_reads_and_the_psa_wins() {
    let at = AutotaskDouble::start();
    let app = spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let res = post_owned(&manager, "/settings/psa", &autotask_form(&at, "one_way")).await;
    assert_eq!(res.status, 303, "{}", res.body);
    at.add_company("Initrode", "INIT01", "Customer", true);
    at.add_company("<script>alert(1)</script>", "XSS01", "Customer", true);
    at.add_company("Lead Co", "LEAD01", "Lead", true);
    let page = sync_now(&app, &manager).await;
    assert!(page.contains("<td>done"), "{page}");
    let (id, company, _) = org_named(&app, "Initrode").await.expect("brought over");
    assert!(company.is_some());
    assert!(
        org_named(&app, "Lead Co").await.is_none(),
        "Lead does not sync"
    );
    let list = manager.get("/organizations").await;
    assert!(
        list.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || list.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{}",
        list.body
    );
    assert!(!list.body.contains("<script>alert(1)"));

    // One-way: the PSA's fields are read-only, and a changed name does not stick.
    let editor = app.login_as(Role::Editor).await;
    let edit = editor.get(&format!("/organizations/{id}/edit")).await;
    assert!(
        edit.body.contains("come from Autotask (one-way sync)"),
        "{}",
        edit.body
    );
    let res = editor
        .post_multipart(
            &format!("/organizations/{id}"),
            &[
                ("name", "Renamed Here"),
                ("short_name", "INIT01"),
                ("quick_notes", "Door code 1234"),
            ],
            None,
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(org_named(&app, "Initrode").await.is_some());
    // The page says the rename was ignored, not that it "was saved".
    let shown = editor.get(res.location()).await;
    assert!(
        shown.body.contains("Initrode was saved, but not its name")
            && shown.body.contains("Autotask owns them under one-way sync"),
        "{}",
        shown.body
    );
    assert!(!shown.body.contains("Renamed Here was saved"));
    // Only the notes changed (what the Edit form sends for a one-way organization): was saved.
    let res = editor
        .post_multipart(
            &format!("/organizations/{id}"),
            &[
                ("name", "Initrode"),
                ("short_name", "INIT01"),
                ("quick_notes", "Door code 4321"),
            ],
            None,
        )
        .await;
    let shown = editor.get(res.location()).await;
    assert!(shown.body.contains("Initrode was saved."), "{}", shown.body);
    // The New form says where syncing organizations belong; nothing is pushed.
    let new = editor.get("/organizations/new").await;
    assert!(
        new.body.contains("should be added in Autotask instead"),
        "{}",
        new.body
    );
    let shown = create_org(&app, &editor, "Made Here").await;
    assert!(
        shown.body.contains("add it in Autotask too"),
        "{}",
        shown.body
    );
    assert_eq!(
        at.request_count("POST", "/atservicesrest/v1.0/Companies"),
        0
    );

    // Inactive in the PSA: an orphan.
    let initrode = at
        .companies()
        .into_iter()
        .find(|c| c.name == "Initrode")
        .unwrap();
    at.set_active(initrode.id, false);
    sync_now(&app, &manager).await;
    let (_, _, reason) = org_named(&app, "Initrode").await.unwrap();
    assert!(reason.unwrap().contains("no longer syncs"));
}

#[tokio::test]
async fn bad_credentials_malformed_pages_and_a_psa_that_is_down() {
    let cw = ConnectWiseDouble::start();
    let app = spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let customer = customer_id(&app).await;
    manager
        .post(
            "/settings/psa/mapping",
            &[(&format!("type_{customer}") as &str, "Client")],
        )
        .await;
    for i in 0..30 {
        cw.add_company(
            &format!("Company {i:02}"),
            &format!("C{i:02}"),
            "Client",
            "Active",
        );
    }
    // Wrong credentials: the load fails with the reason, nothing changes.
    let mut form = connectwise_form(&cw, "two_way");
    form.iter_mut()
        .find(|(k, _)| *k == "private_key")
        .unwrap()
        .1 = "wrong".into();
    assert_eq!(
        post_owned(&manager, "/settings/psa", &form).await.status,
        303
    );
    let page = sync_now(&app, &manager).await;
    assert!(page.contains("the PSA refused the credentials"), "{page}");
    assert_eq!(app.org_count().await, 0);

    // A malformed page: the load stops with a reason and nothing is half-applied.
    assert_eq!(
        post_owned(&manager, "/settings/psa", &connectwise_form(&cw, "two_way"))
            .await
            .status,
        303
    );
    cw.set_page_size_cap(Some(10));
    cw.malformed_page(2);
    let page = sync_now(&app, &manager).await;
    assert!(page.contains("could not be read"), "{page}");
    assert_eq!(app.org_count().await, 0);
    cw.clear_faults();
    sync_now(&app, &manager).await;
    assert_eq!(app.org_count().await, 30);

    // Down during a two-way save: saved, waiting, then pushed exactly once.
    cw.set_down(true);
    let editor = app.login_as(Role::Editor).await;
    let shown = create_org(&app, &editor, "Offline Save").await;
    assert!(shown.body.contains("Waiting to sync"), "{}", shown.body);
    assert!(org_named(&app, "Offline Save").await.is_some());
    cw.set_down(false);
    let mut linked = None;
    for _ in 0..150 {
        if let Some((_, Some(company), _)) = org_named(&app, "Offline Save").await {
            linked = Some(company);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(linked.is_some(), "not pushed after the PSA came back");
    assert_eq!(
        cw.companies()
            .iter()
            .filter(|c| c.name == "Offline Save")
            .count(),
        1
    );

    // An address that is not https: refused unless plain http is allowed (it is here, for the
    // doubles; the metadata address is refused by the settings check in another test).
    let strict = TestApp::spawn_on(app.store.clone(), |_| {}).await;
    let admin = strict.login_as(Role::Administrator).await;
    let mut form = connectwise_form(&cw, "one_way");
    form.iter_mut().find(|(k, _)| *k == "base_url").unwrap().1 = "http://169.254.169.254/".into();
    let res = post_owned(&admin, "/settings/psa", &form).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("https://"), "{}", res.body);
    assert!(!res.body.contains(connectwise::PRIVATE_KEY));
}

/// The worker in its own process, logging everything (`RUST_LOG=trace`), runs a data load: neither
/// the keys nor the Authorization header they make appear in its output.
#[tokio::test]
async fn the_credentials_never_reach_the_logs() {
    use base64::Engine;

    let cw = ConnectWiseDouble::start();
    let app = spawn_without_worker().await;
    let manager = app.login_as(Role::Manager).await;
    assert_eq!(
        post_owned(&manager, "/settings/psa", &connectwise_form(&cw, "two_way"))
            .await
            .status,
        303
    );
    let customer = customer_id(&app).await;
    manager
        .post(
            "/settings/psa/mapping",
            &[(&format!("type_{customer}") as &str, "Client")],
        )
        .await;
    cw.add_company("Logged Dental", "LoggedDental", "Client", "Active");
    assert_eq!(manager.post("/settings/psa/sync", &[]).await.status, 303);

    let log_path = app.store.dir.path().join("worker.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut worker = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("serve")
        .env("ROSTER_DATA_DIR", app.store.dir.path())
        .env("ROSTER_DATABASE_URL", &app.store.database_url)
        .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
        .env("ROSTER_PSA_ALLOW_HTTP", "true")
        .env("ROSTER_PSA_ALLOW_PRIVATE", "true")
        .env("ROSTER_JOB_POLL_MS", "50")
        .env("RUST_LOG", "trace")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut finished = false;
    for _ in 0..200 {
        if loads_finished(&app).await > 0 {
            finished = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert!(finished, "the worker process did not run the load");
    assert!(org_named(&app, "Logged Dental").await.is_some());

    let output = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        output.len() > 1_000 && output.contains("TRACE"),
        "the log is not verbose: {output}"
    );
    let header = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}+{}:{}",
        connectwise::COMPANY_ID,
        connectwise::PUBLIC_KEY,
        connectwise::PRIVATE_KEY
    ));
    for secret in [
        connectwise::PRIVATE_KEY,
        connectwise::PUBLIC_KEY,
        header.as_str(),
    ] {
        assert!(!output.contains(secret), "{secret} is in the log");
    }
}

/// A refusal for invalid data is final: the organization is saved, the user is told why, and
/// nothing is retried.
#[tokio::test]
async fn a_refusal_is_shown_and_not_retried() {
    let cw = ConnectWiseDouble::start();
    let app = spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let customer = customer_id(&app).await;
    manager
        .post(
            "/settings/psa/mapping",
            &[(&format!("type_{customer}") as &str, "Client")],
        )
        .await;
    let mut form = connectwise_form(&cw, "two_way");
    form.retain(|(k, _)| *k != "default_address");
    assert_eq!(
        post_owned(&manager, "/settings/psa", &form).await.status,
        303
    );
    let shown = create_org(&app, &manager, "No Address Ltd").await;
    assert!(
        shown.body.contains("ConnectWise Manage refused it"),
        "{}",
        shown.body
    );
    let (_, company, _) = org_named(&app, "No Address Ltd")
        .await
        .expect("saved anyway");
    assert_eq!(company, None);
    assert!(!shown.body.contains("Waiting to sync"));
    assert!(cw.companies().iter().all(|c| c.name != "No Address Ltd"));
}

/// The mapping: a PSA name that would mean two types is refused beside the field, and the
/// form comes back as typed.
#[tokio::test]
async fn a_psa_name_cannot_mean_two_types() {
    let app = spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let customer = customer_id(&app).await;
    let vendor = type_id(&app, "Vendor").await;
    let (customer_field, vendor_field) = (format!("type_{customer}"), format!("type_{vendor}"));
    let res = manager
        .post(
            "/settings/psa/mapping",
            &[
                (&customer_field as &str, "Client, Key Account"),
                (&vendor_field, "client"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    let beside = format!("id=\"{vendor_field}-error\">");
    let message = res.body.split(&beside).nth(1).unwrap_or_default();
    assert!(
        message.contains("client") && message.contains("already means Customer."),
        "{}",
        res.body
    );
    assert!(res.body.contains("value=\"Client, Key Account\""));
    // Nothing was saved.
    let page = manager.get("/settings/psa").await;
    assert!(!page.body.contains("Key Account"));
}
