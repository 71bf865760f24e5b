//! Signing in: same answer for unknown email and wrong password, throttling, locks that survive
//! a restart, size limits and the `next` parameter.

use roster::auth::Role;

use crate::support::{PASSWORD, Resp, TestApp, timed};

/// The median time of five sign-in posts (the CSRF token fetched beforehand, not timed).
async fn median_login_time(client: &crate::support::Client, email: &str) -> (Resp, f64) {
    let token = client.csrf().await;
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let fields = [
            ("csrf_token", token.as_str()),
            ("email", email),
            ("password", "not the password"),
        ];
        let (res, took) = timed(client.post_raw("/login", &fields)).await;
        times.push(took.as_secs_f64());
        last = Some(res);
    }
    times.sort_by(f64::total_cmp);
    (last.unwrap(), times[2])
}

#[tokio::test]
async fn unknown_email_and_wrong_password_look_the_same() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "ann").await;
    let client = app.client();

    let (wrong, wrong_took) = median_login_time(&client, &email).await;
    let (unknown, unknown_took) = median_login_time(&client, "nobody@example.com").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    let message = "The email address or password is incorrect.";
    assert!(wrong.body.contains(message) && unknown.body.contains(message));
    // Both ran argon2: neither answer is several times faster than the other.
    assert!(
        wrong_took < unknown_took * 3.0 && unknown_took < wrong_took * 3.0,
        "wrong password {wrong_took}s, unknown email {unknown_took}s"
    );
    // The form keeps the email.
    assert!(unknown.body.contains("value=\"nobody@example.com\""));
}

#[tokio::test]
async fn twenty_quick_failures_throttle_even_the_right_password() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "bob").await;
    let client = app.client();
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(client.login(&email, "wrong password!").await.status);
    }
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(statuses.contains(&429), "never throttled: {statuses:?}");
    let right = client.login(&email, PASSWORD).await;
    assert_eq!(right.status, 429);
    assert!(right.body.contains("Too many sign-in attempts"));
    assert!(client.cookie("__Host-roster-session").is_none());
}

#[tokio::test]
async fn twenty_failures_at_once_do_not_all_reach_argon2() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "cat").await;
    let clients: Vec<_> = (0..20).map(|_| app.client()).collect();
    let mut tokens = Vec::new();
    for c in &clients {
        tokens.push(c.csrf().await);
    }
    let attempts = clients.iter().zip(&tokens).map(|(c, t)| async {
        let fields = [
            ("csrf_token", t.as_str()),
            ("email", email.as_str()),
            ("password", "wrong password!"),
        ];
        c.post_raw("/login", &fields).await
    });
    let results = futures_util::future::join_all(attempts).await;
    let hashed = results.iter().filter(|r| r.status == 401).count();
    let throttled = results.iter().filter(|r| r.status == 429).count();
    assert_eq!(hashed + throttled, 20);
    assert!(hashed <= 10, "{hashed} attempts reached the password check");
}

#[tokio::test]
async fn a_lock_survives_a_restart() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "dan").await;
    let client = app.client();
    for _ in 0..10 {
        assert_eq!(client.login(&email, "wrong password!").await.status, 401);
    }
    // A new instance on the same database has fresh in-memory limits, but the lock is stored.
    let restarted = TestApp::spawn_on(app.store.clone(), |_| {}).await;
    let res = restarted.client().login(&email, PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.body);
}

#[tokio::test]
async fn fewer_failures_than_the_limit_do_not_lock() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "eve").await;
    let client = app.client();
    for _ in 0..9 {
        assert_eq!(client.login(&email, "wrong password!").await.status, 401);
    }
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
}

#[tokio::test]
async fn a_one_megabyte_password_is_refused_by_size() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "fay").await;
    let client = app.client();
    let token = client.csrf().await;
    let huge = "x".repeat(1024 * 1024);
    let res = client
        .post_raw(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", email.as_str()),
                ("password", huge.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status, 413);
    assert!(res.body.contains("Too large"));
    // Not counted as a failure: it never reached the password check.
    assert_eq!(crate::signin::failure_rows(&app).await, 0);
}

#[tokio::test]
async fn next_goes_to_local_paths_only() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Administrator, "gus").await;

    let client = app.client();
    let fields = [
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("next", "https://elsewhere.example"),
    ];
    let res = client.post("/login", &fields).await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/");

    let client = app.client();
    let res = client.get("/users").await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/login?next=%2Fusers");
    let page = client.get(res.location()).await;
    assert!(page.body.contains("name=\"next\" value=\"/users\""));
    let fields = [
        ("email", email.as_str()),
        ("password", PASSWORD),
        ("next", "/users"),
    ];
    let res = client.post("/login", &fields).await;
    assert_eq!(res.location(), "/users");
}

/// Sign-in attempts for 35 unknown accounts from one client, each "forwarded for" another address.
async fn statuses_behind_a_proxy(app: &TestApp) -> Vec<u16> {
    let client = app.client();
    let token = client.csrf().await;
    let mut statuses = Vec::new();
    for i in 0..35 {
        let email = format!("nobody{i}@example.com");
        let forwarded = format!("203.0.113.{i}");
        let fields = [
            ("csrf_token", token.as_str()),
            ("email", email.as_str()),
            ("password", "wrong password!"),
        ];
        let res = client
            .post_with_headers(
                "/login",
                &fields,
                &[("x-forwarded-for", forwarded.as_str())],
            )
            .await;
        statuses.push(res.status);
    }
    statuses
}

#[tokio::test]
async fn the_address_limit_uses_forwarded_addresses_only_behind_a_trusted_proxy() {
    // A burst of 5 (then one every two seconds): 35 attempts are throttled however slow the
    // machine is (with the default 30 they need not be).
    let direct = TestApp::spawn_with(|s| s.login_address_burst = Some(5)).await;
    let statuses = statuses_behind_a_proxy(&direct).await;
    assert!(
        statuses.contains(&429),
        "one address, 35 attempts: throttled ({statuses:?})"
    );

    let proxied = TestApp::spawn_with(|s| {
        s.trust_proxy = Some(true);
        s.login_address_burst = Some(5);
    })
    .await;
    let statuses = statuses_behind_a_proxy(&proxied).await;
    assert!(
        statuses.iter().all(|s| *s == 401),
        "35 addresses: none throttled ({statuses:?})"
    );
}
