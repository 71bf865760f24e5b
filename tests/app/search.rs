//! The global search (issue 17): each kind of query finds its record first, marked; a restricted
//! user finds nothing of other organizations; a password's value is never a hit; a deleted
//! organization's records vanish; `roster reindex` rebuilds the index; the box in Chromium.

use diesel::prelude::*;
use roster::auth::Role;
use roster::records::Kind;
use thirtyfour::prelude::*;

use crate::browser::Browser;
use crate::scope::{delete_as_admin, restricted};
use crate::support::{Client, TestApp};

/// Two organizations with records of every kind; returns (acme, globex).
async fn filled() -> (TestApp, i64, i64) {
    let app = TestApp::spawn().await;
    let acme = app.add_org("Acme Müller GmbH", None).await;
    let globex = app.add_org("Globex", None).await;
    app.add_record(
        acme,
        Kind::Contact,
        None,
        &[
            ("first_name", "Jane"),
            ("last_name", "Doe"),
            ("emails", "jane.doe@acme.example"),
            ("phones", "+1 (555) 010-2030"),
        ],
    )
    .await;
    for (name, ip, serial) in [
        ("FW-ACME-01", "10.0.4.12", "SN-77Q4X"),
        ("SW-ACME-02", "10.0.4.120", "SN-88R5Y"),
        ("SRV-ACME-03", "10.0.5.1", "SN-99S6Z"),
    ] {
        app.add_record(
            acme,
            Kind::Configuration,
            None,
            &[
                ("name", name),
                ("kind", "Network device"),
                ("status", "Active"),
                ("hostname", &format!("{}.acme.local", name.to_lowercase())),
                ("ip_address", ip),
                ("serial_number", serial),
            ],
        )
        .await;
    }
    app.add_record(
        acme,
        Kind::Document,
        None,
        &[
            ("title", "Backup <script>alert(1)</script> runbook"),
            ("body", "Check the restic snapshot rotation every Monday."),
        ],
    )
    .await;
    app.add_record(
        globex,
        Kind::Password,
        None,
        &[
            ("name", "Globex VPN"),
            ("username", "vpnadmin"),
            ("secret", "Zebra-Secret-991"),
            ("url", "https://vpn.globex.example"),
        ],
    )
    .await;
    app.add_record(
        globex,
        Kind::Configuration,
        None,
        &[
            ("name", "Globex printer"),
            ("kind", "Printer"),
            ("status", "Active"),
            ("ip_address", "10.0.4.13"),
        ],
    )
    .await;
    (app, acme, globex)
}

/// The suggestions for `q`: (kind, title as written, organization) in order.
async fn suggested(client: &Client, q: &str) -> Vec<(String, String, String)> {
    let url = format!(
        "/search/suggest?{}",
        serde_urlencoded::to_string([("q", q)]).unwrap()
    );
    let res = client.get(&url).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let json: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    json["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let t = &h["title"];
            let title = format!(
                "{}{}{}",
                t["before"].as_str().unwrap(),
                t["hit"].as_str().unwrap(),
                t["after"].as_str().unwrap()
            );
            (
                h["kind"].as_str().unwrap().to_owned(),
                title,
                h["organization"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Asserts that `q` suggests `title` alone among `kind`, and that its page (searched as `page_q`,
/// the same text in other letters' case) counts one result; the suggestions, for more checks.
async fn one_hit(
    client: &Client,
    q: &str,
    page_q: &str,
    kind: &str,
    title: &str,
) -> Vec<(String, String, String)> {
    let hits = suggested(client, q).await;
    assert_eq!(titles(&hits, kind), vec![title], "{q}: {hits:?}");
    let url = format!(
        "/search?{}",
        serde_urlencoded::to_string([("q", page_q)]).unwrap()
    );
    let page = client.get(&url).await.body;
    assert!(page.contains("1 result<"), "{page_q}: {page}");
    hits
}

fn titles(hits: &[(String, String, String)], kind: &str) -> Vec<String> {
    hits.iter()
        .filter(|h| h.0 == kind)
        .map(|h| h.1.clone())
        .collect()
}

#[tokio::test]
async fn each_kind_of_query_finds_its_record_first() {
    let (app, _, _) = filled().await;
    let admin = app.login_as(Role::Administrator).await;

    let exact_ip = suggested(&admin, "10.0.4.12").await;
    let configs = titles(&exact_ip, "configurations");
    assert_eq!(
        configs.first().map(String::as_str),
        Some("FW-ACME-01"),
        "{exact_ip:?}"
    );
    assert!(
        configs.contains(&"SW-ACME-02".to_owned()),
        "a prefix match follows: {configs:?}"
    );

    let cidr = titles(&suggested(&admin, "10.0.4.0/24").await, "configurations");
    assert_eq!(cidr.len(), 3, "{cidr:?}");
    assert!(
        !cidr.contains(&"SRV-ACME-03".to_owned()),
        "10.0.5.1 is outside: {cidr:?}"
    );

    let prefix = titles(&suggested(&admin, "10.0.4.").await, "configurations");
    assert_eq!(prefix.len(), 3, "{prefix:?}");

    let serial = suggested(&admin, "sn-88r5y").await;
    assert_eq!(
        titles(&serial, "configurations"),
        vec!["SW-ACME-02"],
        "{serial:?}"
    );

    let email = suggested(&admin, "JANE.DOE@acme.example").await;
    assert_eq!(titles(&email, "contacts"), vec!["Jane Doe"], "{email:?}");
    assert_eq!(
        email[0].2, "Acme Müller GmbH",
        "each hit names its organization"
    );

    let phone = suggested(&admin, "555.010.2030").await;
    assert_eq!(titles(&phone, "contacts"), vec!["Jane Doe"], "{phone:?}");

    let word = suggested(&admin, "snapshot").await;
    assert_eq!(
        titles(&word, "documents"),
        vec!["Backup <script>alert(1)</script> runbook"],
        "{word:?}"
    );

    let accents = suggested(&admin, "MULLER").await;
    assert_eq!(
        titles(&accents, "organizations"),
        vec!["Acme Müller GmbH"],
        "{accents:?}"
    );

    let host = suggested(&admin, "fw-acme-01.acme").await;
    assert_eq!(
        titles(&host, "configurations"),
        vec!["FW-ACME-01"],
        "{host:?}"
    );

    let user = suggested(&admin, "vpnadmin").await;
    assert_eq!(titles(&user, "passwords"), vec!["Globex VPN"], "{user:?}");

    // The page: grouped, the match marked, text escaped.
    let page = admin.get("/search?q=10.0.4.12").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("id=\"results-configurations\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<mark>10.0.4.12</mark>"),
        "{}",
        page.body
    );
    let page = admin.get("/search?q=runbook").await;
    assert!(
        page.body.contains("alert(1)") && page.body.contains("&#60;script&#62;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"), "{}", page.body);
    assert!(page.body.contains("<mark>runbook</mark>"), "{}", page.body);
}

#[tokio::test]
async fn more_and_the_filters_narrow_the_results() {
    let (app, acme, globex) = filled().await;
    let admin = app.login_as(Role::Administrator).await;
    let all = admin.get("/search?q=10.0.4.").await.body;
    assert!(
        all.contains("Globex printer") && all.contains("FW-ACME-01"),
        "{all}"
    );
    let only = admin
        .get(&format!("/search?q=10.0.4.&org={globex}"))
        .await
        .body;
    assert!(
        only.contains("Globex printer") && !only.contains("FW-ACME-01"),
        "{only}"
    );
    let kind = admin
        .get(&format!("/search?q=acme&kind=configurations&org={acme}"))
        .await
        .body;
    assert!(
        kind.contains("FW-<mark>ACME</mark>-01")
            && !kind.contains("id=\"results-organizations\"")
            && kind.contains("Organizations (1)"),
        "{kind}"
    );
    assert_eq!(admin.get("/search?q=acme&kind=toasters").await.status, 400);
}

#[tokio::test]
async fn a_passwords_value_is_never_a_hit() {
    let (app, _, _) = filled().await;
    let admin = app.login_as(Role::Administrator).await;
    assert!(suggested(&admin, "Zebra-Secret-991").await.is_empty());
    assert!(suggested(&admin, "secret-991").await.is_empty());
    let page = admin.get("/search?q=Zebra-Secret-991").await;
    assert!(page.body.contains("id=\"no-results\""), "{}", page.body);
    let stored: Vec<String> = app
        .db(|c| {
            roster::db::schema::search_terms::table
                .select(roster::db::schema::search_terms::terms)
                .load(c)
                .unwrap()
        })
        .await;
    assert!(stored.iter().all(|t| !t.contains("zebra")), "{stored:?}");
}

/// A serial, an email or an address typed whole is looked up as a value (fast at a million
/// records): its record and the values it starts, not every text mentioning it; a part of it
/// still finds every mention.
#[tokio::test]
async fn a_whole_value_finds_its_record_not_every_mention() {
    let (app, acme, _) = filled().await;
    app.add_record(
        acme,
        Kind::Document,
        None,
        &[
            ("title", "Fan replacement"),
            ("body", "Replace the fan of SN-77Q4X next week."),
        ],
    )
    .await;
    let admin = app.login_as(Role::Administrator).await;

    let whole = one_hit(
        &admin,
        "sn-77q4x",
        "SN-77Q4X",
        "configurations",
        "FW-ACME-01",
    )
    .await;
    assert!(titles(&whole, "documents").is_empty(), "{whole:?}");

    let part = suggested(&admin, "77q4x").await;
    assert_eq!(
        titles(&part, "configurations"),
        vec!["FW-ACME-01"],
        "{part:?}"
    );
    assert_eq!(
        titles(&part, "documents"),
        vec!["Fan replacement"],
        "{part:?}"
    );
}

/// The needles of a whole value are bound as one list (JSON on SQLite, an array on PostgreSQL):
/// quotes, backslashes and letters beyond ASCII come through whole.
#[tokio::test]
async fn a_whole_value_with_quotes_and_backslashes_is_still_whole() {
    let (app, acme, _) = filled().await;
    let serial = r#"Q"7\Ü-[x]"#;
    app.add_record(
        acme,
        Kind::Configuration,
        None,
        &[
            ("name", "Odd label"),
            ("kind", "Printer"),
            ("status", "Active"),
            ("serial_number", serial),
        ],
    )
    .await;
    app.add_record(
        acme,
        Kind::Document,
        None,
        &[
            ("title", "Odd mention"),
            ("body", &format!("The printer {serial} jams.")),
        ],
    )
    .await;
    let admin = app.login_as(Role::Administrator).await;

    let whole = suggested(&admin, serial).await;
    assert_eq!(
        titles(&whole, "configurations"),
        vec!["Odd label"],
        "{whole:?}"
    );
    assert!(titles(&whole, "documents").is_empty(), "{whole:?}");
}

/// A name whose host name starts with it: the row holds two values starting with the text
/// typed, and is one hit, counted once.
#[tokio::test]
async fn a_row_with_two_values_starting_with_the_text_is_one_hit() {
    let (app, _, _) = filled().await;
    let admin = app.login_as(Role::Administrator).await;
    one_hit(
        &admin,
        "fw-acme-01",
        "fw-acme-01",
        "configurations",
        "FW-ACME-01",
    )
    .await;
}

#[tokio::test]
async fn a_restricted_user_finds_nothing_of_another_organization() {
    let (app, acme, globex) = filled().await;
    let (editor, _) = restricted(&app, Role::Editor, "narrow", &[acme]).await;
    let hits = suggested(&editor, "10.0.4.").await;
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h.2 == "Acme Müller GmbH"), "{hits:?}");
    assert!(suggested(&editor, "globex").await.is_empty());
    let page = editor.get("/search?q=10.0.4.").await.body;
    assert!(!page.contains("Globex"), "{page}");
    assert!(
        page.contains("2 results"),
        "counts say nothing of the rest: {page}"
    );
    let hidden = editor.get(&format!("/search?q=10.0.4.&org={globex}")).await;
    assert_eq!(hidden.status, 404);
    // The links an unrestricted user is given to Globex's hits are 404 to him.
    let admin = app.login_as(Role::Administrator).await;
    let all = admin.get("/search?q=10.0.4.").await.body;
    let prefix = format!("href=\"/organizations/{globex}");
    let links: Vec<&str> = all
        .match_indices(&prefix)
        .map(|(at, _)| {
            let rest = &all[at + 6..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert!(
        links.iter().any(|l| l.contains("/records/")),
        "{links:?} in {all}"
    );
    for link in links {
        assert_eq!(editor.get(link).await.status, 404, "{link}");
    }
}

#[tokio::test]
async fn a_deleted_organizations_records_vanish_at_once() {
    let (app, acme, _) = filled().await;
    let admin = app.login_as(Role::Administrator).await;
    assert!(!suggested(&admin, "snapshot").await.is_empty());
    delete_as_admin(&app, acme, "Acme Müller GmbH").await;
    assert!(suggested(&admin, "snapshot").await.is_empty());
    assert!(suggested(&admin, "acme").await.is_empty());
    assert_eq!(
        titles(&suggested(&admin, "10.0.4.").await, "configurations"),
        vec!["Globex printer"]
    );
}

#[tokio::test]
async fn edits_and_renames_are_searched_at_once() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Initech", None).await;
    let admin = app.login_as(Role::Administrator).await;
    let res = admin
        .post_multipart(
            &format!("/organizations/{org}"),
            &[("name", "Initrode"), ("short_name", "IR")],
            None,
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    crate::demo::assert_values_indexed(&app, "a rename").await;
    assert!(suggested(&admin, "initech").await.is_empty());
    assert_eq!(
        titles(&suggested(&admin, "initrode").await, "organizations"),
        vec!["Initrode"]
    );
}

#[tokio::test]
async fn reindex_rebuilds_the_index() {
    let (app, _, _) = filled().await;
    let admin = app.login_as(Role::Administrator).await;
    app.db(|c| {
        diesel::delete(roster::db::schema::search_terms::table)
            .execute(c)
            .unwrap();
    })
    .await;
    assert!(suggested(&admin, "snapshot").await.is_empty());
    let values: i64 = app
        .db(|c| {
            roster::db::schema::search_values::table
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(values, 0, "whole values left of deleted index rows");
    let out = crate::cli::roster(&app.store, &["reindex"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Indexed 2 organizations and 7 records"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        titles(&suggested(&admin, "snapshot").await, "documents").len(),
        1
    );
    assert_eq!(
        titles(&suggested(&admin, "muller").await, "organizations").len(),
        1
    );
    crate::demo::assert_values_indexed(&app, "reindex").await;
}

#[tokio::test]
async fn the_box_suggests_while_typing_and_slash_focuses_it() {
    let (app, _, _) = filled().await;
    let email = app.add_user(Role::Editor, "searcher").await;
    let browser = Browser::start().await;
    browser.sign_in(&app, &email).await;
    // "/" anywhere outside a field focuses the box.
    let body = browser.driver.find(By::Tag("body")).await.unwrap();
    body.send_keys("/").await.unwrap();
    let focused = browser.driver.active_element().await.unwrap();
    assert_eq!(focused.id().await.unwrap().as_deref(), Some("top-search"));
    focused.send_keys("fw-acme").await.unwrap();
    let mut shown = String::new();
    for _ in 0..50 {
        if let Ok(list) = browser.driver.find(By::Id("top-search-list")).await {
            shown = list.text().await.unwrap_or_default();
            if shown.contains("FW-ACME-01") {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        shown.contains("FW-ACME-01") && shown.contains("Acme Müller GmbH"),
        "{shown}"
    );
    focused.send_keys(Key::Down).await.unwrap();
    focused.send_keys(Key::Enter).await.unwrap();
    browser
        .wait_for_prefix("/organizations/", "FW-ACME-01")
        .await;
    assert!(browser.path().await.contains("/records/configurations/"));
    // Without suggestions, Enter opens the results page.
    let box_ = browser.driver.find(By::Id("top-search")).await.unwrap();
    box_.send_keys("snapshot").await.unwrap();
    box_.send_keys(Key::Enter).await.unwrap();
    browser.wait_for("/search", "Backup").await;
    browser.stop().await;
}

#[tokio::test]
async fn seed_demo_records_are_indexed() {
    let app = crate::demo::seeded_by_cli("30", "10").await;
    let (indexed, ip, email): (i64, String, String) = app
        .db(|c| {
            use roster::db::schema::{records as r, search_terms as st};
            let indexed = st::table.count().get_result(c).unwrap();
            let mut values = |kind: &str| -> serde_json::Value {
                let json: String = r::table
                    .filter(r::kind.eq(kind))
                    .order_by(r::id.desc())
                    .select(r::field_values)
                    .first(c)
                    .unwrap();
                serde_json::from_str(&json).unwrap()
            };
            let ip = values("configurations")["ip_address"]
                .as_str()
                .unwrap()
                .to_owned();
            let email = values("contacts")["emails"].as_str().unwrap().to_owned();
            (indexed, ip, email)
        })
        .await;
    assert_eq!(indexed, 30 + 300);
    let admin = app.login_as(Role::Administrator).await;
    let hits = suggested(&admin, &ip).await;
    assert_eq!(
        hits.first().map(|h| h.0.as_str()),
        Some("configurations"),
        "{hits:?}"
    );
    let hits = suggested(&admin, &email).await;
    assert_eq!(
        hits.first().map(|h| h.0.as_str()),
        Some("contacts"),
        "{hits:?}"
    );
}

/// A word in more documents than a search reads (1,000) is counted as "more than": the matches
/// are not all read and counted, and the page still shows the first of them.
#[tokio::test]
async fn a_common_word_has_a_capped_count() {
    let store = std::sync::Arc::new(crate::support::Store::new(crate::support::backend()));
    // Three records each: a contact, a configuration, a document "... the backups of ...".
    let out = crate::cli::roster(
        &store,
        &["seed-demo", "--organizations", "1005", "--records", "3"],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app = TestApp::spawn_on(store.clone(), |_| {}).await;
    let admin = app.login_as(Role::Administrator).await;
    let page = admin.get("/search?q=backups").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("More than 1,000 results"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Documents (1,000+)") && page.body.contains("<mark>backups</mark>"),
        "{}",
        page.body
    );
    let one_kind = admin.get("/search?q=backups&kind=documents&page=2").await;
    assert_eq!(one_kind.status, 200);
    assert!(
        one_kind.body.contains("<mark>backups</mark>") && one_kind.body.contains("rel=\"next\""),
        "{}",
        one_kind.body
    );
    // A whole value that more rows hold than are counted (every runbook's second line): read
    // up to the cap from the values' index (on PostgreSQL from the values outwards), capped too.
    let whole = admin.get("/search?q=2.+Apply+the+updates").await.body;
    assert!(
        whole.contains("More than 1,000 results") && whole.contains("Documents (1,000+)"),
        "{whole}"
    );
    // Fewer matches are counted exactly.
    let few = admin.get("/search?q=-01004").await.body;
    assert!(
        !few.contains("More than") && few.contains("<mark>-01004</mark>"),
        "{few}"
    );
}

/// A word is looked up by a few of its three-letter windows (`conds::cover`); a text holding
/// those windows apart is no hit.
#[tokio::test]
async fn a_word_is_found_where_it_is_written_not_where_its_pieces_are() {
    let (app, acme, _) = filled().await;
    for (title, body) in [
        ("Firewall ticket", "Closed ticket T418668 after the update."),
        ("Scattered codes", "Codes t41, x866 and y668 are unrelated."),
    ] {
        app.add_record(
            acme,
            Kind::Document,
            None,
            &[("title", title), ("body", body)],
        )
        .await;
    }
    let admin = app.login_as(Role::Administrator).await;

    one_hit(&admin, "T418668", "t418668", "documents", "Firewall ticket").await;
}
