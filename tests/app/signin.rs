//! Sign-in as an attacker tries it: off-site `next` targets, locks per account and client address
//! instead of per account, the account-wide slowdown, unknown emails, long emails and forwarded
//! addresses behind a proxy.

use std::time::Duration;

use roster::auth::Role;

use crate::support::{Client, PASSWORD, Resp, TestApp};

/// Values of `next` that must never leave the site (after the query or form is decoded).
const OFF_SITE: [&str; 7] = [
    "/\t/x",
    "/\n/x",
    "/%09/x",
    "/%0A/x",
    "/\\x",
    "//x",
    "https://x",
];

/// Every byte but letters and digits percent-encoded, as a form or query value.
fn encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn a_signed_in_login_page_redirects_to_this_site_only() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    for bad in OFF_SITE {
        let res = client.get(&format!("/login?next={}", encoded(bad))).await;
        assert_eq!(res.status, 303, "next={bad:?}: {}", res.body);
        assert_eq!(res.location(), "/", "next={bad:?}");
    }
    // The probe's own queries, exactly as sent.
    for raw in ["/%09/evil.example/x", "/%0A/x", "/%5C/x", "%2F%2Fx"] {
        let res = client.get(&format!("/login?next={raw}")).await;
        assert_eq!(res.status, 303, "next={raw}: {}", res.body);
        assert_eq!(res.location(), "/", "next={raw}");
    }
    let res = client.get("/login?next=%2Fusers%3Fx%3D1").await;
    assert_eq!(res.location(), "/users?x=1");
}

#[tokio::test]
async fn a_sign_in_carries_only_local_next_targets() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "nia").await;
    for bad in OFF_SITE {
        let client = app.client();
        let page = client.get(&format!("/login?next={}", encoded(bad))).await;
        assert_eq!(page.status, 200, "next={bad:?}");
        assert!(page.body.contains("name=\"next\" value=\"/\""), "{bad:?}");
        let fields = [
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("next", bad),
        ];
        let res = client.post("/login", &fields).await;
        assert_eq!(res.status, 303, "next={bad:?}: {}", res.body);
        assert_eq!(res.location(), "/", "next={bad:?}");
    }
}

/// A proxied app: the client address is the one in X-Forwarded-For.
async fn proxied() -> TestApp {
    TestApp::spawn_with(|s| s.trust_proxy = Some(true)).await
}

/// One sign-in attempt "from" `address`.
async fn attempt(client: &Client, email: &str, password: &str, address: &str) -> Resp {
    let token = client.csrf().await;
    let fields = [
        ("csrf_token", token.as_str()),
        ("email", email),
        ("password", password),
    ];
    client
        .post_with_headers("/login", &fields, &[("x-forwarded-for", address)])
        .await
}

/// Rows of `login_failures`.
pub async fn failure_rows(app: &TestApp) -> i64 {
    app.db(|c| {
        use diesel::prelude::*;
        use roster::db::schema::login_failures::dsl::*;
        login_failures.count().get_result(c).unwrap()
    })
    .await
}

/// The error shown on the sign-in page, if any.
fn error_of(res: &Resp) -> String {
    let marker = "id=\"login-error\">";
    res.body
        .find(marker)
        .map(|at| {
            let rest = &res.body[at + marker.len()..];
            rest[..rest.find('<').unwrap_or(rest.len())].to_owned()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_attacker_elsewhere_does_not_lock_the_real_user_out() {
    let app = proxied().await;
    let email = app.add_user(Role::Administrator, "ola").await;
    let attacker = app.client();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            attempt(&attacker, &email, "wrong password!", "198.51.100.1")
                .await
                .status,
        );
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(&statuses[10..], &[429; 2]);

    let user = app.client();
    let res = attempt(&user, &email, PASSWORD, "203.0.113.9").await;
    assert_eq!(res.status, 303, "{}", error_of(&res));

    // The attacker's address stays locked, even with the right password.
    let res = attempt(&attacker, &email, PASSWORD, "198.51.100.1").await;
    assert_eq!(res.status, 429);
    assert!(attacker.cookie("__Host-roster-session").is_none());
}

#[tokio::test]
async fn an_unknown_email_answers_exactly_like_a_known_one() {
    let app = proxied().await;
    let known = app.add_user(Role::Editor, "pia").await;
    let mut answers = Vec::new();
    for (email, address) in [
        (known.as_str(), "198.51.100.2"),
        ("nobody@example.com", "198.51.100.3"),
    ] {
        let client = app.client();
        let mut seen = Vec::new();
        for _ in 0..12 {
            let res = attempt(&client, email, "wrong password!", address).await;
            seen.push((res.status, error_of(&res)));
        }
        // After a restart (fresh in-memory limits) the stored counters still answer alike.
        let restarted = TestApp::spawn_on(app.store.clone(), |s| s.trust_proxy = Some(true)).await;
        let res = attempt(&restarted.client(), email, "wrong password!", address).await;
        seen.push((res.status, error_of(&res)));
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1]);
    assert!(
        answers[0].iter().any(|(s, _)| *s == 429),
        "{:?}",
        answers[0]
    );
    // The unknown email is counted in the database like the known one.
    let rows = failure_rows(&app).await;
    assert_eq!(
        rows, 4,
        "a row per (email, address) and per email, for both"
    );
}

/// Failures for `email` from several addresses, each after the account's pause, until its
/// password checks are four seconds apart (13 failures: 1 s, 2 s, then 4 s). Returns after the
/// last failure, so the next four seconds are closed to browsers without a device token.
async fn slow_down(attacker: &Client, email: &str) {
    for i in 0..10 {
        let res = attempt(attacker, email, "wrong password!", "198.51.100.4").await;
        assert_eq!(res.status, 401, "attempt {i}");
    }
    for (address, pause) in [
        ("198.51.100.5", 0),
        ("198.51.100.6", 1100),
        ("198.51.100.7", 2100),
    ] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let res = attempt(attacker, email, "wrong password!", address).await;
        assert_eq!(res.status, 401, "from {address}: {}", error_of(&res));
    }
}

/// The N of "Wait N seconds" (or "1 second").
fn wait_of(res: &Resp) -> u64 {
    let error = error_of(res);
    let rest = error.split("Wait ").nth(1).unwrap_or_default();
    rest.split(' ')
        .next()
        .unwrap_or_default()
        .parse()
        .unwrap_or(0)
}

#[tokio::test]
async fn failures_at_once_are_all_counted() {
    let app = proxied().await;
    let email = app.add_user(Role::Editor, "sam").await;
    let clients: Vec<_> = (0..8).map(|_| app.client()).collect();
    let attempts = clients
        .iter()
        .map(|c| attempt(c, &email, "wrong password!", "198.51.100.40"));
    let results = futures_util::future::join_all(attempts).await;
    assert!(results.iter().all(|r| r.status == 401));
    let counts: Vec<i32> = app
        .db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::login_failures::dsl::*;
            login_failures.select(failures).load(c).unwrap()
        })
        .await;
    assert_eq!(counts, [8, 8], "per (email, address) and per email");
}

#[tokio::test]
async fn the_account_wide_slowdown_shows_and_ends() {
    let app = proxied().await;
    let email = app.add_user(Role::Editor, "quin").await;
    let attacker = app.client();
    slow_down(&attacker, &email).await;

    let user = app.client();
    let res = attempt(&user, &email, PASSWORD, "203.0.113.10").await;
    assert_eq!(res.status, 429);
    let wait = wait_of(&res);
    assert!((1..=4).contains(&wait), "{}", error_of(&res));
    assert_eq!(res.header("retry-after"), wait.to_string());

    // After the wait, the right password gets in; the success ends the slowdown.
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    let res = attempt(&user, &email, PASSWORD, "203.0.113.10").await;
    assert_eq!(res.status, 303, "{}", error_of(&res));
    let res = attempt(&attacker, &email, "wrong password!", "198.51.100.8").await;
    assert_eq!(res.status, 401);
    let again = app.client();
    let res = attempt(&again, &email, PASSWORD, "203.0.113.11").await;
    assert_eq!(res.status, 303, "{}", error_of(&res));
}

#[tokio::test]
async fn a_browser_that_signed_in_before_is_not_slowed_down() {
    let app = proxied().await;
    let email = app.add_user(Role::Editor, "rho").await;
    let user = app.client();
    assert_eq!(
        attempt(&user, &email, PASSWORD, "203.0.113.20")
            .await
            .status,
        303
    );
    assert!(user.cookie("__Host-roster-device").is_some());

    let attacker = app.client();
    slow_down(&attacker, &email).await;
    let stranger = app.client();
    let res = attempt(&stranger, &email, PASSWORD, "203.0.113.21").await;
    assert_eq!(res.status, 429, "a browser without a device token waits");

    // The owner's browser, from yet another address, gets in at once.
    let res = attempt(&user, &email, PASSWORD, "203.0.113.22").await;
    assert_eq!(res.status, 303, "{}", error_of(&res));
}

#[tokio::test]
async fn a_300_character_email_gets_the_normal_refusal() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let long = format!("{}@example.com", "a".repeat(288));
    assert_eq!(long.len(), 300);
    // Refused like a wrong password, and never counted under the email: 25 quick tries (fewer
    // than the address allows) all get the same answer.
    for i in 0..25 {
        let res = client.login(&long, "wrong password!").await;
        assert_eq!(res.status, 401, "attempt {i}");
        assert_eq!(
            error_of(&res),
            "The email address or password is incorrect."
        );
    }
    let rows = failure_rows(&app).await;
    assert_eq!(rows, 0, "an email no account can have is not counted");
}

/// The client address a failed sign-in with these headers is counted under (read back from
/// `login_failures`, emptied first).
async fn address_taken(app: &TestApp, headers: &[(&str, &str)]) -> String {
    app.db(|c| {
        use diesel::prelude::*;
        diesel::delete(roster::db::schema::login_failures::table)
            .execute(c)
            .unwrap();
    })
    .await;
    let client = app.client();
    let token = client.csrf().await;
    let fields = [
        ("csrf_token", token.as_str()),
        ("email", "nobody@example.com"),
        ("password", "wrong password!"),
    ];
    let res = client.post_with_headers("/login", &fields, headers).await;
    assert_eq!(res.status, 401, "{}", error_of(&res));
    let addresses: Vec<String> = app
        .db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::login_failures::dsl::*;
            login_failures
                .filter(address.ne("*"))
                .select(address)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(addresses.len(), 1, "{addresses:?}");
    addresses[0].clone()
}

#[tokio::test]
async fn a_client_written_forwarded_header_is_ignored() {
    let app = proxied().await;
    let forwarded = [("forwarded", "for=203.0.113.1")];
    assert_eq!(address_taken(&app, &forwarded).await, "127.0.0.1");
    let both = [
        ("forwarded", "for=192.0.2.9"),
        ("x-forwarded-for", "203.0.113.5"),
    ];
    assert_eq!(address_taken(&app, &both).await, "203.0.113.5");
}

#[tokio::test]
async fn the_right_most_address_not_a_trusted_proxy_counts() {
    // The client writes any first entry it likes; the proxy appends the address it saw.
    let app = proxied().await;
    let spoofed = [("x-forwarded-for", "203.0.113.1, 198.51.100.7")];
    assert_eq!(address_taken(&app, &spoofed).await, "198.51.100.7");

    // Behind two proxies of ours, the address before them counts.
    let app = TestApp::spawn_with(|s| {
        s.trust_proxy = Some(true);
        s.trusted_proxies = Some("127.0.0.0/8, 10.0.0.0/8".into());
    })
    .await;
    let chain = [("x-forwarded-for", "192.0.2.1, 203.0.113.1, 10.1.2.3")];
    assert_eq!(address_taken(&app, &chain).await, "203.0.113.1");
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    let forwarded = [("x-forwarded-for", "203.0.113.1")];
    // The connection comes from 127.0.0.1, which is not in the configured list.
    let app = TestApp::spawn_with(|s| {
        s.trust_proxy = Some(true);
        s.trusted_proxies = Some("10.0.0.0/8".into());
    })
    .await;
    assert_eq!(address_taken(&app, &forwarded).await, "127.0.0.1");
    // Without trust_proxy, never.
    let app = TestApp::spawn().await;
    assert_eq!(address_taken(&app, &forwarded).await, "127.0.0.1");
}

#[test]
fn trusted_proxies_are_cidrs_or_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let raw = |list: &str| roster::config::RawSettings {
        data_dir: Some(dir.path().to_path_buf()),
        trusted_proxies: Some(list.into()),
        ..Default::default()
    };
    let settings = raw("10.0.0.0/8, 192.0.2.7 ,fd00::/8").resolve().unwrap();
    let listed: Vec<String> = settings
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(listed, ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"]);
    let message = raw("10.0.0.0/33").resolve().unwrap_err().to_string();
    assert!(
        message.contains("ROSTER_TRUSTED_PROXIES") && message.contains("10.0.0.0/33"),
        "{message}"
    );
}
