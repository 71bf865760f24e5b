//! Headless Chromium through ChromeDriver (Debian's packages; nothing is downloaded). A missing
//! browser or driver fails these tests: it never skips them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use thirtyfour::common::capabilities::chromium::ChromiumLikeCapabilities;
use thirtyfour::prelude::*;

use crate::support::TestApp;

const PASSWORD: &str = "a long browser password";

pub struct Browser {
    pub driver: WebDriver,
    chromedriver: Child,
}

impl Browser {
    pub async fn start() -> Self {
        let driver_path =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let chromedriver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "ChromeDriver is required ({driver_path}): {e}; run the README's test command"
                )
            });
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,900",
        ] {
            caps.add_arg(arg).unwrap();
        }
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..50 {
            match WebDriver::new(&url, caps.clone()).await {
                Ok(driver) => {
                    return Self {
                        driver,
                        chromedriver,
                    };
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("Chromium did not start through {driver_path}: {last:?}");
    }

    /// Types `text` into the field `id`, retrying while the page is still being replaced.
    pub async fn fill(&self, id: &str, text: &str) {
        let mut last = None;
        for _ in 0..50 {
            let typed = async {
                let field = self.driver.find(By::Id(id)).await?;
                field.clear().await?;
                field.send_keys(text).await
            };
            match typed.await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not type into #{id}: {last:?}");
    }

    /// Clicks the element `css`, retrying while the page is still being replaced.
    pub async fn submit(&self, css: &str) {
        let mut last = None;
        for _ in 0..50 {
            match async { self.driver.find(By::Css(css)).await?.click().await }.await {
                Ok(()) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not click {css}: {last:?}");
    }

    pub async fn path(&self) -> String {
        self.driver.current_url().await.unwrap().path().to_owned()
    }

    /// Waits (up to ten seconds) until the page at `path` shows `text`.
    pub async fn wait_for(&self, path: &str, text: &str) {
        for _ in 0..100 {
            if self.path().await == path && self.text().await.contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "expected {text:?} at {path}, found {} showing:\n{}",
            self.path().await,
            self.text().await
        );
    }

    /// The page's text; empty while the page is being replaced.
    pub async fn text(&self) -> String {
        match self.driver.find(By::Tag("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn stop(self) {
        let _ = self.driver.clone().quit().await;
    }
}

impl Drop for Browser {
    /// Also after a failed assertion: no browser is left behind.
    fn drop(&mut self) {
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
    }
}

#[tokio::test]
async fn first_administrator_signs_in_and_out_in_a_browser() {
    let app = TestApp::spawn().await;
    let link = app.setup_link.clone().unwrap();
    let browser = Browser::start().await;

    browser.driver.goto(&link).await.unwrap();
    assert!(
        browser
            .text()
            .await
            .contains("Create the first Administrator")
    );
    browser.fill("email", "admin@example.com").await;
    browser.fill("display_name", "Ada Admin").await;
    browser.fill("password", PASSWORD).await;
    browser
        .fill("password_confirm", "a different password")
        .await;
    let setup_path = link.trim_start_matches(&app.base).to_owned();
    browser.submit("button[type=submit].primary").await;
    browser
        .wait_for(&setup_path, "The two passwords differ.")
        .await;
    assert_eq!(
        browser
            .driver
            .find(By::Id("email"))
            .await
            .unwrap()
            .value()
            .await
            .unwrap()
            .as_deref(),
        Some("admin@example.com")
    );

    browser.fill("password", PASSWORD).await;
    browser.fill("password_confirm", PASSWORD).await;
    browser.submit("button[type=submit].primary").await;
    browser
        .wait_for("/login", "is ready. Sign in with that account.")
        .await;

    browser.fill("email", "admin@example.com").await;
    browser.fill("password", PASSWORD).await;
    browser.submit("button[type=submit].primary").await;
    browser
        .wait_for("/organizations", "Ada Admin (Administrator)")
        .await;
    let session = browser
        .driver
        .get_named_cookie("__Host-roster-session")
        .await
        .unwrap()
        .value;

    browser.submit("form[action='/logout'] button").await;
    browser.wait_for("/login", "You have signed out.").await;
    browser
        .driver
        .goto(format!("{}/users", app.base))
        .await
        .unwrap();
    browser.wait_for("/login", "Sign in").await;
    browser.stop().await;

    // The old cookie no longer opens anything.
    let replay = app.client();
    replay.set_cookie("__Host-roster-session", &session);
    let res = replay.get("/organizations").await;
    assert_eq!(res.status, 303);
    assert!(res.location().starts_with("/login"));
}

impl Browser {
    pub async fn sign_in(&self, app: &TestApp, email: &str) {
        self.driver
            .goto(format!("{}/login", app.base))
            .await
            .unwrap();
        self.fill("email", email).await;
        self.fill("password", crate::support::PASSWORD).await;
        self.submit("button[type=submit].primary").await;
        self.wait_for("/organizations", "Organizations").await;
    }

    /// Waits (up to ten seconds) until a page whose path starts with `prefix` shows `text`.
    pub async fn wait_for_prefix(&self, prefix: &str, text: &str) {
        for _ in 0..100 {
            if self.path().await.starts_with(prefix) && self.text().await.contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "expected {text:?} under {prefix}, found {} showing:\n{}",
            self.path().await,
            self.text().await
        );
    }

    /// The value of a form field, waiting (up to five seconds) until it is not empty.
    pub async fn value_soon(&self, css: &str) -> String {
        for _ in 0..50 {
            let value = self
                .driver
                .find(By::Css(css))
                .await
                .unwrap()
                .value()
                .await
                .unwrap()
                .unwrap_or_default();
            if !value.is_empty() {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        String::new()
    }
}

#[tokio::test]
async fn find_create_and_nest_organizations_in_a_browser() {
    let app = TestApp::spawn().await;
    let email = app.add_user(roster::auth::Role::Editor, "tech").await;
    app.add_org("Umbrella Health", None).await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;

    // Check first that it is not entered yet.
    browser.fill("q", "acme").await;
    browser.submit("form.filters button[type=submit]").await;
    browser
        .wait_for("/organizations", "No organization matches")
        .await;

    browser
        .submit("a.button.primary[href='/organizations/new']")
        .await;
    browser
        .wait_for("/organizations/new", "New organization")
        .await;
    browser.fill("name", "Acme Corp").await;
    browser.fill("short_name", "ACME").await;
    browser.fill("quick_notes", "Front desk opens at 8").await;
    browser.submit("#save").await;
    browser
        .wait_for_prefix("/organizations/", "Acme Corp was created.")
        .await;
    let acme = browser.path().await;

    // A sub-organization, choosing the parent in the Parent Organization chooser.
    browser
        .driver
        .goto(format!("{}/organizations/new", app.base))
        .await
        .unwrap();
    browser.fill("name", "Acme Labs").await;
    browser.fill("parent_name", "Acme Corp").await;
    let chosen = browser
        .value_soon("input[type=hidden][name=parent_id]")
        .await;
    assert_eq!(
        format!("/organizations/{chosen}"),
        acme,
        "the chooser attached the parent's id"
    );
    browser.submit("#save").await;
    browser
        .wait_for_prefix("/organizations/", "Acme Labs was created.")
        .await;
    let crumbs = browser
        .driver
        .find(By::Css("nav.crumbs"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        crumbs.contains("Organizations › Acme Corp › Acme Labs"),
        "{crumbs}"
    );
    browser
        .driver
        .goto(format!("{}{acme}", app.base))
        .await
        .unwrap();
    browser.wait_for(&acme, "Acme Labs").await;
    let children = browser
        .driver
        .find(By::Id("children"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(children.contains("Acme Labs"));

    // The same name again, in other case: listed while typing, and a warning on Save.
    browser
        .driver
        .goto(format!("{}/organizations/new", app.base))
        .await
        .unwrap();
    browser.fill("name", "ACME CORP").await;
    browser
        .wait_for(
            "/organizations/new",
            "Already entered? Organizations with similar names:",
        )
        .await;
    browser.submit("#save").await;
    browser
        .wait_for(
            "/organizations",
            "An organization with a similar name already exists",
        )
        .await;
    let link = browser
        .driver
        .find(By::Css("#similar-warning a"))
        .await
        .unwrap();
    assert_eq!(
        link.attr("href").await.unwrap().as_deref(),
        Some(acme.as_str())
    );
    browser.stop().await;
}

#[tokio::test]
async fn a_logo_chosen_in_the_browser_is_shown_260_wide() {
    let app = TestApp::spawn().await;
    let email = app.add_user(roster::auth::Role::Editor, "designer").await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, crate::images::jpeg(1200, 800)).unwrap();
    let small = dir.path().join("small.png");
    std::fs::write(&small, crate::images::png(200, 100, false)).unwrap();

    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    for (name, file, size) in [
        ("Photo Corp", &photo, (260, 173)),
        ("Small Corp", &small, (200, 100)),
    ] {
        browser
            .driver
            .goto(format!("{}/organizations/new", app.base))
            .await
            .unwrap();
        browser.fill("name", name).await;
        let input = browser.driver.find(By::Id("logo")).await.unwrap();
        input.send_keys(file.display().to_string()).await.unwrap();
        browser.submit("#save").await;
        browser
            .wait_for_prefix("/organizations/", &format!("{name} was created."))
            .await;
        let logo = browser.driver.find(By::Id("org-logo")).await.unwrap();
        let natural: (i64, i64) = (
            browser
                .driver
                .execute(
                    "return document.getElementById('org-logo').naturalWidth",
                    vec![],
                )
                .await
                .unwrap()
                .convert()
                .unwrap(),
            browser
                .driver
                .execute(
                    "return document.getElementById('org-logo').naturalHeight",
                    vec![],
                )
                .await
                .unwrap()
                .convert()
                .unwrap(),
        );
        assert_eq!(
            natural,
            (i64::from(size.0), i64::from(size.1)),
            "{name}: the image as stored"
        );
        let shown = logo.rect().await.unwrap();
        assert_eq!(
            (shown.width.round() as u32, shown.height.round() as u32),
            size,
            "{name}: as shown"
        );
    }
    browser.stop().await;
}

/// A record kind, the fields to type, and the title that shows it was saved.
type Entry = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

#[tokio::test]
async fn records_of_each_kind_in_a_browser() {
    let app = TestApp::spawn().await;
    let email = app.add_user(roster::auth::Role::Editor, "keeper").await;
    let org = app.add_org("Tabs Co", None).await;
    let admin = app.seed_admin().await;
    let type_id = app
        .db(move |c| roster::records::flex::add(c, &admin, "Licence", "Seats: number").unwrap())
        .await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    let base = format!("{}/organizations/{org}/records", app.base);

    let entries: [Entry; 4] = [
        (
            "contacts",
            &[("first_name", "Grace"), ("last_name", "Hopper")],
            "Grace Hopper",
        ),
        (
            "configurations",
            &[("name", "fw01"), ("hostname", "fw01.local")],
            "fw01",
        ),
        (
            "documents",
            &[("title", "Runbook"), ("body", "# Steps")],
            "Runbook",
        ),
        (
            "passwords",
            &[("name", "Router"), ("secret", "pw-in-browser-1")],
            "Router",
        ),
    ];
    for (kind, fields, title) in entries {
        browser
            .driver
            .goto(format!("{base}/{kind}/new"))
            .await
            .unwrap();
        for (id, text) in fields {
            browser.fill(id, text).await;
        }
        for (select, option) in [("kind", "Server"), ("status", "Active")] {
            if kind == "configurations" {
                let element = browser.driver.find(By::Id(select)).await.unwrap();
                element.send_keys(option).await.unwrap();
            }
        }
        browser.submit("#save").await;
        browser
            .wait_for_prefix(&format!("/organizations/{org}/records/{kind}/"), title)
            .await;
    }
    browser
        .driver
        .goto(format!("{base}/flexible-assets/new?type={type_id}"))
        .await
        .unwrap();
    browser.fill("name", "Office").await;
    browser.fill("f1", "25").await;
    browser.submit("#save").await;
    browser
        .wait_for_prefix(
            &format!("/organizations/{org}/records/flexible-assets/"),
            "Office",
        )
        .await;

    browser
        .driver
        .goto(format!("{}/organizations/{org}", app.base))
        .await
        .unwrap();
    let page = browser.text().await;
    for tab in [
        "Contacts (1)",
        "Configurations (1)",
        "Documents (1)",
        "Passwords (1)",
        "Flexible assets (1)",
    ] {
        assert!(page.contains(tab), "{tab} in\n{page}");
    }

    // Edit one, then delete one.
    browser
        .driver
        .goto(format!("{base}/contacts"))
        .await
        .unwrap();
    browser.submit("table.list a").await;
    browser
        .wait_for_prefix(
            &format!("/organizations/{org}/records/contacts/"),
            "Grace Hopper",
        )
        .await;
    browser.submit("a.button[href$='/edit']").await;
    browser
        .wait_for_prefix(
            &format!("/organizations/{org}/records/contacts/"),
            "Edit contact",
        )
        .await;
    browser.fill("title", "Rear Admiral").await;
    browser.submit("#save").await;
    browser
        .wait_for_prefix(
            &format!("/organizations/{org}/records/contacts/"),
            "Rear Admiral",
        )
        .await;
    browser.submit("a.button[href$='/delete']").await;
    browser
        .wait_for_prefix(
            &format!("/organizations/{org}/records/contacts/"),
            "Delete this contact?",
        )
        .await;
    browser.submit("button.danger").await;
    browser
        .wait_for(
            &format!("/organizations/{org}/records/contacts"),
            "No contacts yet.",
        )
        .await;
    browser.stop().await;
}

/// B7 as the seed tells it: Organizations, the name, Edit, bottom of the page, Delete
/// Organization, confirm; a syncing organization only after Disable sync.
#[tokio::test]
async fn delete_organizations_as_the_seed_says_in_a_browser() {
    use crate::deletion::{fill, jobs_finished, rows, set_syncing, spawn_purging};

    let app = spawn_purging(20, 0).await;
    let email = app.add_user(roster::auth::Role::Editor, "deleter").await;
    let cyberdyne = app.add_org("Cyberdyne Systems", None).await;
    let labs = app
        .add_org("Cyberdyne Labs", Some("Cyberdyne Systems"))
        .await;
    fill(&app, cyberdyne, 2).await;
    fill(&app, labs, 2).await;
    let tyrell = app.add_org("Tyrell Corporation", None).await;
    set_syncing(&app, tyrell).await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;

    // "Click Organizations from the top navigation bar. Click the name of the organization."
    browser.submit("nav a[href='/organizations']").await;
    browser.wait_for("/organizations", "Cyberdyne Labs").await;
    browser
        .submit(&format!("td a[href='/organizations/{cyberdyne}']"))
        .await;
    let page = format!("/organizations/{cyberdyne}");
    browser.wait_for(&page, "Sub-organizations").await;
    // "Click the Edit button. Scroll to the bottom... click Delete Organization."
    browser.submit(&format!("a[href='{page}/edit']")).await;
    browser
        .wait_for(&format!("{page}/edit"), "Not synced with a PSA")
        .await;
    browser.submit("#delete-org").await;
    browser
        .wait_for(&format!("{page}/delete"), "What will be deleted")
        .await;
    let text = browser.text().await;
    assert!(
        text.contains("Cyberdyne Labs") && text.contains("1 sub-organization"),
        "{text}"
    );
    // "Confirm the deletion."
    browser.fill("confirm_name", "Cyberdyne Systems").await;
    browser.submit("#confirm-delete").await;
    browser.wait_for("/organizations", "being deleted").await;
    assert!(!browser.text().await.contains("Cyberdyne Labs"));
    browser.submit(".flash a.flash-action").await;
    // The page follows the purge by itself, then says it is deleted.
    browser.wait_for(&page, "Deleted.").await;
    jobs_finished(&app, 30).await;
    assert_eq!(rows(&app, &[cyberdyne, labs]).await, (0, 0, 0, 0));

    // A syncing organization: Delete Organization is disabled until Disable sync.
    browser
        .driver
        .goto(format!("{}/organizations/{tyrell}/edit", app.base))
        .await
        .unwrap();
    browser
        .wait_for(
            &format!("/organizations/{tyrell}/edit"),
            "syncs with ConnectWise Manage",
        )
        .await;
    let button = browser.driver.find(By::Id("delete-org")).await.unwrap();
    assert!(!button.is_enabled().await.unwrap());
    browser.submit("#disable-sync").await;
    browser
        .wait_for(&format!("/organizations/{tyrell}/edit"), "Sync is disabled")
        .await;
    browser.submit("#delete-org").await;
    browser.fill("confirm_name", "Tyrell Corporation").await;
    browser.submit("#confirm-delete").await;
    browser.wait_for("/organizations", "being deleted").await;
    jobs_finished(&app, 30).await;
    assert_eq!(rows(&app, &[tyrell]).await.0, 0);
    browser.stop().await;
}

/// With the default grace period, Restore in the message brings everything back unchanged.
#[tokio::test]
async fn restore_a_deleted_organization_in_a_browser() {
    use crate::deletion::{fill, rows};

    let app = TestApp::spawn().await;
    let email = app.add_user(roster::auth::Role::Manager, "restorer").await;
    let org = app.add_org("Wayne Enterprises", None).await;
    let sub = app
        .add_org("Wayne Foundation", Some("Wayne Enterprises"))
        .await;
    fill(&app, org, 2).await;
    let before = rows(&app, &[org, sub]).await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    browser
        .driver
        .goto(format!("{}/organizations/{org}/delete", app.base))
        .await
        .unwrap();
    browser.fill("confirm_name", "Wayne Enterprises").await;
    browser.submit("#confirm-delete").await;
    browser
        .wait_for("/organizations", "You can restore it until")
        .await;
    assert!(!browser.text().await.contains("Wayne Foundation"));
    browser.submit(".flash button.flash-action").await;
    browser
        .wait_for(
            &format!("/organizations/{org}"),
            "Restored Wayne Enterprises and its sub-organization.",
        )
        .await;
    assert!(browser.text().await.contains("Wayne Foundation"));
    assert_eq!(rows(&app, &[org, sub]).await, before);
    browser.stop().await;
}

/// B9 in a browser: a company deleted in the PSA is an orphan after Sync now; a Manager finds it
/// on Manage Data and deletes it from there.
#[tokio::test]
async fn orphans_on_manage_data_in_a_browser() {
    use crate::psa::{connectwise_form, org_named, post_owned};
    use crate::psa_doubles::ConnectWiseDouble;

    let cw = ConnectWiseDouble::start();
    let app = TestApp::spawn_with(|s| {
        s.psa_allow_http = Some(true);
        s.psa_allow_private = Some(true);
        s.job_poll_ms = Some(50);
        s.delete_grace_seconds = Some(0);
    })
    .await;
    let email = app.add_user(roster::auth::Role::Manager, "orphans").await;
    let setup = app.login_as(roster::auth::Role::Administrator).await;
    assert_eq!(
        post_owned(&setup, "/settings/psa", &connectwise_form(&cw, "one_way"))
            .await
            .status,
        303
    );
    let customer = crate::psa::type_id(&app, "Customer").await;
    setup
        .post(
            "/settings/psa/mapping",
            &[(&format!("type_{customer}") as &str, "Client")],
        )
        .await;
    let company = cw.add_company("Orphan Dental", "OrphanDental", "Client", "Active");

    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    browser.submit("nav a[href='/settings/types']").await;
    browser.submit("a[href='/settings/psa']").await;
    browser.wait_for("/settings/psa", "Last data loads").await;
    browser.submit("#sync-now").await;
    browser
        .wait_for("/settings/psa", "The data load has started")
        .await;
    for _ in 0..100 {
        if org_named(&app, "Orphan Dental").await.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        org_named(&app, "Orphan Dental").await.is_some(),
        "not brought over"
    );

    // Deleted in the PSA, then Sync now: an orphan on Manage Data.
    cw.remove(company);
    browser.submit("#sync-now").await;
    for _ in 0..100 {
        if org_named(&app, "Orphan Dental")
            .await
            .and_then(|o| o.2)
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.submit("nav a[href='/manage-data']").await;
    browser
        .wait_for(
            "/manage-data",
            "The company is no longer in ConnectWise Manage.",
        )
        .await;
    let (id, _, _) = org_named(&app, "Orphan Dental").await.unwrap();
    browser.submit(&format!("#orphan-{id}")).await;
    browser.submit("#delete-orphans").await;
    browser
        .wait_for("/organizations/bulk-delete", "Delete 1 organization?")
        .await;
    browser.fill("confirm", "DELETE").await;
    browser.submit("#confirm-bulk").await;
    browser
        .wait_for("/organizations", "Deleted 1 organization")
        .await;
    assert!(org_named(&app, "Orphan Dental").await.is_none());
    browser.stop().await;
}

#[tokio::test]
async fn my_account_from_the_top_bar_changes_the_name_in_a_browser() {
    let app = TestApp::spawn().await;
    let email = app.add_user(roster::auth::Role::ReadOnly, "rita").await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;

    browser.submit("#my-account").await;
    browser.wait_for("/account", "My account").await;
    let text = browser.text().await;
    assert!(text.contains("Chrome on Linux (this session)"), "{text}");
    assert!(text.contains("127.0.0.1"), "{text}");

    // A refusal is the form again, at the address it was posted to.
    browser.fill("display_name", "").await;
    browser.submit("#save-name").await;
    browser
        .wait_for("/account/name", "This field is required.")
        .await;

    browser.fill("display_name", "Rita Reader").await;
    browser.submit("#save-name").await;
    browser
        .wait_for("/account", "Your display name is now Rita Reader.")
        .await;
    let top = browser
        .driver
        .find(By::Id("my-account"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(top.contains("Rita Reader"), "{top}");
    browser.stop().await;
}
