//! The PSA settings as an attacker with a Manager's account would use them: saved keys sent to
//! another address, the server's own network reached through the PSA address (SSRF), Test
//! connection read as an oracle, and a hostile PSA that answers without end.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::psa_loads;

use crate::psa::{autotask_form, connectwise_form, post_owned};
use crate::psa_doubles::recorder::{Recorder, response};
use crate::psa_doubles::{AutotaskDouble, ConnectWiseDouble};
use crate::support::{Client, TestApp};

/// The form with `field` set to `value`.
fn with(
    mut form: Vec<(&'static str, String)>,
    field: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    form.retain(|(k, _)| *k != field);
    form.push((field, value.to_owned()));
    form
}

/// The form without its secret fields (as a browser sends it when they are left empty).
fn without_secrets(form: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    let secret = [
        "public_key",
        "private_key",
        "client_id",
        "secret",
        "integration_code",
    ];
    form.into_iter()
        .filter(|(k, _)| !secret.contains(k))
        .collect()
}

/// Gives the worker time to run whatever a save queued.
async fn let_the_worker_run() {
    tokio::time::sleep(Duration::from_millis(600)).await;
}

/// Test connection and the worker had their chance: none of the keys' headers reached `recorder`.
async fn assert_no_secret_reached(manager: &Client, recorder: &Recorder) {
    let _ = manager.post("/settings/psa/test", &[]).await;
    let_the_worker_run().await;
    for header in [
        "authorization",
        "clientid",
        "secret",
        "apiintegrationcode",
        "username",
    ] {
        assert!(
            !recorder.saw_header(header),
            "{header} reached the new address: {:?}",
            recorder.heads()
        );
    }
}

/// Sends the saved `form` again without its keys and with `field` set to `value`: the form comes
/// back (422) asking for the keys and saying `why`. Returns the page.
async fn change_without_keys(
    manager: &Client,
    form: &[(&'static str, String)],
    (field, value): (&'static str, &str),
    why: &str,
) -> String {
    let changed = without_secrets(with(form.to_vec(), field, value));
    let res = post_owned(manager, "/settings/psa", &changed).await;
    assert_eq!(res.status, 422, "{field}: {}", res.body);
    let expected = format!("{why}, so the saved keys are not kept");
    assert!(res.body.contains(&expected), "{field}: {}", res.body);
    res.body
}

/// Saves `form` (303).
async fn save(manager: &Client, form: &[(&'static str, String)]) {
    let res = post_owned(manager, "/settings/psa", form).await;
    assert_eq!(res.status, 303, "{}", res.body);
}

/// An app with `form` saved by a Manager, and another server that records what reaches it.
async fn saved(form: &[(&'static str, String)]) -> (TestApp, Client, Recorder) {
    let other = Recorder::answering("200 OK", "{}");
    let app = crate::psa::spawn().await;
    let manager = app.login_as(Role::Manager).await;
    save(&manager, form).await;
    (app, manager, other)
}

#[tokio::test]
async fn saved_connectwise_keys_are_not_sent_to_a_changed_address() {
    let cw = ConnectWiseDouble::start();
    let form = connectwise_form(&cw, "one_way");
    let (_app, manager, other) = saved(&form).await;

    // Only the address changes, to a server of the Manager's choosing; the keys are left empty.
    let to_other = ("base_url", other.url());
    let page = change_without_keys(
        &manager,
        &form,
        (to_other.0, &to_other.1),
        "The address changed",
    )
    .await;
    assert!(page.contains("enter the private key again"), "{page}");
    // What was typed stays in the form.
    assert!(page.contains(&other.url()), "{page}");
    assert_no_secret_reached(&manager, &other).await;

    // Another codebase, the same address: the keys are asked for too.
    change_without_keys(
        &manager,
        &form,
        ("codebase", "v2025_1"),
        "The codebase changed",
    )
    .await;

    // Same origin, other path: the keys stay (the PSA is the same server).
    let same = format!("{}/", cw.base_url());
    save(
        &manager,
        &without_secrets(with(form.clone(), "base_url", &same)),
    )
    .await;
    // With the keys typed again, the new address is taken.
    save(&manager, &with(form, "base_url", &other.url())).await;
}

#[tokio::test]
async fn a_saved_autotask_secret_is_not_sent_to_a_changed_address() {
    let at = AutotaskDouble::start();
    let form = autotask_form(&at, "one_way");
    let (_app, manager, other) = saved(&form).await;

    let lookup = format!("{}/atservicesrest", other.url());
    let page = change_without_keys(
        &manager,
        &form,
        ("base_url", &lookup),
        "The address changed",
    )
    .await;
    assert!(page.contains("secret again"), "{page}");
    assert_no_secret_reached(&manager, &other).await;
    // Another API user: the same.
    change_without_keys(
        &manager,
        &form,
        ("account", "someone@else.test"),
        "The API user changed",
    )
    .await;
}

#[tokio::test]
async fn private_addresses_are_refused_without_the_setting() {
    let listener = Recorder::answering("200 OK", "{}");
    let app = TestApp::spawn_with(|s| {
        s.psa_allow_http = Some(true);
        s.job_poll_ms = Some(50);
    })
    .await;
    let manager = app.login_as(Role::Manager).await;
    let cw = ConnectWiseDouble::start();
    let port = listener.port();
    let addresses = [
        format!("http://127.0.0.1:{port}"),
        format!("http://127.1.2.3:{port}"),
        format!("http://10.0.0.1:{port}"),
        format!("http://192.168.1.20:{port}"),
        format!("http://[fd00::1]:{port}"),
        format!("http://[64:ff9b::7f00:1]:{port}"),
        format!("http://[::ffff:127.0.0.1]:{port}"),
        format!("http://[::1]:{port}"),
        format!("http://localhost:{port}"),
    ];
    for address in &addresses {
        let form = with(connectwise_form(&cw, "one_way"), "base_url", address);
        let res = post_owned(&manager, "/settings/psa", &form).await;
        assert_eq!(res.status, 422, "{address}: {}", res.body);
        assert!(
            res.body.contains("ROSTER_PSA_ALLOW_PRIVATE"),
            "{address}: {}",
            res.body
        );
    }
    let_the_worker_run().await;
    assert_eq!(listener.connections(), 0, "{:?}", listener.heads());
}

#[tokio::test]
async fn the_setting_allows_a_psa_on_the_own_network() {
    let cw = ConnectWiseDouble::start();
    let app = crate::psa::spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let form = with(
        connectwise_form(&cw, "one_way"),
        "base_url",
        &format!("http://localhost:{}", cw.port()),
    );
    save(&manager, &form).await;
    manager.post("/settings/psa/test", &[]).await;
    let page = manager.get("/settings/psa").await;
    assert!(
        page.body.contains("Connected to ConnectWise Manage"),
        "{}",
        page.body
    );
}

const MARKER: &str = "INTERNAL-7f3a9c";

/// Test connection against a server answering `status` with `body`: the flash, and how many
/// requests reached the server.
async fn test_connection_against(status: &'static str, body: &'static str) -> (String, usize) {
    let psa = Recorder::answering(status, body);
    // No data load runs: the requests counted are those of Test connection alone.
    let app = crate::psa::spawn_without_worker().await;
    let manager = app.login_as(Role::Manager).await;
    let cw = ConnectWiseDouble::start();
    let form = with(connectwise_form(&cw, "one_way"), "base_url", &psa.url());
    save(&manager, &form).await;
    let before = psa.heads().len();
    let res = manager.post("/settings/psa/test", &[]).await;
    assert_eq!(res.status, 303);
    let page = manager.get("/settings/psa").await.body;
    let flash = page
        .split("class=\"flash")
        .nth(1)
        .and_then(|f| f.split("</div>").next())
        .unwrap_or_default()
        .to_owned();
    (flash, psa.heads().len() - before)
}

#[tokio::test]
async fn a_failing_test_connection_does_not_show_the_answer() {
    let cases = [
        ("400 Bad Request", r#"{"message":"INTERNAL-7f3a9c"}"#, "400"),
        ("409 Conflict", "INTERNAL-7f3a9c", "409"),
        ("200 OK", "<html>INTERNAL-7f3a9c</html>", "200"),
        (
            "500 Internal Server Error",
            r#"{"errors":["INTERNAL-7f3a9c"]}"#,
            "500",
        ),
        ("503 Service Unavailable", "INTERNAL-7f3a9c", "503"),
    ];
    for (status, body, code) in cases {
        let (flash, requests) = test_connection_against(status, body).await;
        assert!(
            flash.contains("The connection to ConnectWise Manage failed"),
            "{status}: {flash}"
        );
        assert!(!flash.contains(MARKER), "{status}: {flash}");
        assert!(
            flash.contains(code),
            "{status}: the status is named: {flash}"
        );
        assert_eq!(requests, 1, "{status}: one attempt");
    }
}

/// A PSA that answers every page with one company of a 7 MB name and a link to the next page.
fn endless_pages() -> Recorder {
    let name = "N".repeat(7 * 1024 * 1024);
    Recorder::start(move |head| {
        let page: usize = head
            .split("page=")
            .nth(1)
            .and_then(|p| p.split('&').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        if page > 40 {
            return response("500 Internal Server Error", &[], b"enough");
        }
        let body = format!(
            r#"[{{"id":{page},"name":"{name}","identifier":"C{page}","types":[{{"name":"Client"}}],"status":{{"name":"Active"}}}}]"#
        );
        let next = format!("<http://x/?page={}>; rel=\"next\"", page + 1);
        response("200 OK", &[("Link", next)], body.as_bytes())
    })
}

/// The error of the first data load against `psa` (saved as a ConnectWise address), once it ended.
async fn first_load_error(psa: &Recorder) -> (TestApp, Client, String) {
    let app = crate::psa::spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let cw = ConnectWiseDouble::start();
    save(
        &manager,
        &with(connectwise_form(&cw, "one_way"), "base_url", &psa.url()),
    )
    .await;
    let started = Instant::now();
    loop {
        let done: Option<Option<String>> = app
            .db(|c| {
                psa_loads::table
                    .filter(psa_loads::finished_at.is_not_null())
                    .select(psa_loads::error)
                    .first(c)
                    .optional()
                    .unwrap()
            })
            .await;
        if let Some(error) = done {
            return (app, manager, error.unwrap_or_default());
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the load did not end"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_hostile_psa_cannot_fill_the_workers_memory() {
    let psa = endless_pages();
    let (_app, manager, error) = first_load_error(&psa).await;
    assert!(error.contains("at most"), "{error}");
    assert!(error.contains("MB"), "{error}");
    let pages = psa.heads().len();
    assert!(pages <= 12, "{pages} pages were read");
    let page = manager.get("/settings/psa").await.body;
    assert!(page.contains("at most"), "{page}");
}

/// A page of far more companies than asked for (300,000 tiny ones, 3 MB): decoding stops past the
/// PSA's maximum page, and the load ends on the first page.
#[tokio::test]
async fn a_page_larger_than_asked_for_ends_the_load() {
    let entries: Vec<String> = (1..=300_000).map(|i| format!(r#"{{"id":{i}}}"#)).collect();
    let body = format!("[{}]", entries.join(","));
    let psa = Recorder::start(move |_| response("200 OK", &[], body.as_bytes()));
    let (_app, _manager, error) = first_load_error(&psa).await;
    // Refused as a page (not decoded whole and then found to be too many companies).
    assert!(error.contains("other than the JSON expected"), "{error}");
    assert_eq!(psa.heads().len(), 1);
}

/// Sync now is no oracle either: a failed load names the status, not what was answered.
#[tokio::test]
async fn a_failed_data_load_does_not_show_the_answer() {
    for (status, body) in [
        ("200 OK", "<html>INTERNAL-7f3a9c</html>"),
        ("400 Bad Request", r#"{"message":"INTERNAL-7f3a9c"}"#),
    ] {
        let psa = Recorder::answering(status, body);
        let (_app, manager, error) = first_load_error(&psa).await;
        assert!(
            !error.is_empty() && !error.contains(MARKER),
            "{status}: {error}"
        );
        let code = &status[..3];
        assert!(error.contains(code), "{status}: {error}");
        let page = manager.get("/settings/psa").await.body;
        assert!(!page.contains(MARKER), "{status}: {page}");
    }
}
