//! Two-factor sign-in with TOTP and recovery codes: enrolment from My account, the second step
//! (codes once per step, the wrong secret, recovery codes once), the pending state (this browser
//! only, five minutes, not a session) and wrong codes counted like wrong passwords.

use diesel::prelude::*;
use roster::auth::Role;
use roster::db::schema::{pending_signins, totp_factors};

use crate::sessions::user_id;
use crate::support::{Client, PASSWORD, Resp, TestApp};

/// The code of `secret` (base32, spaces allowed) `steps` steps from now.
pub fn totp_code(secret: &str, steps: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret.replace(' ', "")).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    let now = chrono::Utc::now().timestamp() + steps * 30;
    totp.generate(u64::try_from(now).unwrap()).to_string()
}

/// The text of the element with `id` (its first text node).
fn text_of(body: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in:\n{body}"))
        + marker.len();
    body[start..].split('<').next().unwrap().trim().to_owned()
}

/// The recovery codes on a codes page.
pub fn codes_in(body: &str) -> Vec<String> {
    body.split("<code class=\"recovery-code\">")
        .skip(1)
        .map(|part| part.split('<').next().unwrap().to_owned())
        .collect()
}

/// Enrols `client`'s user in TOTP from My account; returns the secret and the recovery codes.
pub async fn enrol(client: &Client) -> (String, Vec<String>) {
    let page = client.get("/account/two-factor/totp").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<svg"), "no QR code: {}", page.body);
    // The QR code's markup (written |safe) holds only shapes: no text of the address it encodes.
    let qr = page.body.split("<div class=\"qr\"").nth(1).unwrap();
    let qr = &qr[..qr.find("</div>").unwrap()];
    assert!(
        !qr.contains("otpauth") && !qr.contains('@') && !qr.contains("<script"),
        "{qr}"
    );
    let secret = text_of(&page.body, "totp-secret");
    let done = client
        .post(
            "/account/two-factor/totp",
            &[("code", &totp_code(&secret, 0))],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes = codes_in(&done.body);
    assert_eq!(codes.len(), 10, "{}", done.body);
    (secret, codes)
}

/// A signed-in user of `role` enrolled in TOTP: (email, secret, recovery codes).
pub async fn enrolled_user(app: &TestApp, role: Role, name: &str) -> (String, String, Vec<String>) {
    let email = app.add_user(role, name).await;
    let client = app.client();
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
    let (secret, codes) = enrol(&client).await;
    (email, secret, codes)
}

/// A new browser past the password step of `email`: it was sent to `step`.
pub async fn past_password(app: &TestApp, email: &str, step: &str) -> Client {
    let client = app.client();
    let res = client.login(email, PASSWORD).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.location(), step);
    assert!(client.cookie("__Host-roster-session").is_none());
    client
}

/// A POST of the second step's form with the token of its page.
pub async fn verify(client: &Client, fields: &[(&str, &str)]) -> Resp {
    let page = client.get("/sign-in/verify").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let token = crate::support::csrf_in(&page.body);
    let mut all = vec![("csrf_token", token.as_str())];
    all.extend_from_slice(fields);
    client.post_raw("/sign-in/verify", &all).await
}

fn signed_in(res: &Resp, client: &Client) -> bool {
    res.status == 303 && client.cookie("__Host-roster-session").is_some()
}

#[tokio::test]
async fn a_code_works_once_within_its_step_and_another_secrets_code_is_refused() {
    let app = TestApp::spawn().await;
    let (email, secret, _) = enrolled_user(&app, Role::Editor, "totp").await;
    let client = past_password(&app, &email, "/sign-in/verify").await;
    // The pending state is not a session.
    assert!(
        client
            .get("/organizations")
            .await
            .location()
            .starts_with("/login")
    );
    let other = totp_rs::Secret::generate().to_base32();
    let wrong = verify(&client, &[("code", &totp_code(&other, 1))]).await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    assert!(wrong.body.contains("That code is not right"));
    // The next step's code (the enrolment used this step's).
    let code = totp_code(&secret, 1);
    let ok = verify(&client, &[("code", &code)]).await;
    assert!(signed_in(&ok, &client), "{ok:?}");
    assert_eq!(ok.location(), "/");
    assert_eq!(client.get("/organizations").await.status, 200);
    // The same code again, in another browser: refused.
    let again = past_password(&app, &email, "/sign-in/verify").await;
    let replay = verify(&again, &[("code", &code)]).await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert!(again.cookie("__Host-roster-session").is_none());
}

#[tokio::test]
async fn the_second_step_needs_this_browsers_password_step_within_five_minutes() {
    let app = TestApp::spawn().await;
    let (email, secret, _) = enrolled_user(&app, Role::Editor, "pending").await;
    // Without the password step.
    let stranger = app.client();
    assert!(
        stranger
            .get("/sign-in/verify")
            .await
            .location()
            .starts_with("/login")
    );
    // Another browser with this browser's pending cookie (but its own pre-session cookie).
    let client = past_password(&app, &email, "/sign-in/verify").await;
    let thief = app.client();
    thief.get("/login").await;
    let pending = client.cookie("__Host-roster-pending").unwrap();
    thief.set_cookie("__Host-roster-pending", &pending);
    let res = thief.get("/sign-in/verify").await;
    assert!(res.location().starts_with("/login"), "{res:?}");
    let token = crate::support::csrf_in(&thief.get("/login").await.body);
    let code = totp_code(&secret, 1);
    let res = thief
        .post_raw(
            "/sign-in/verify",
            &[("csrf_token", &token), ("code", &code)],
        )
        .await;
    assert!(res.location().starts_with("/login"), "{res:?}");
    assert!(thief.cookie("__Host-roster-session").is_none());
    // After five minutes.
    app.db(|c| {
        let past = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
        diesel::update(pending_signins::table)
            .set(pending_signins::expires_at.eq(past))
            .execute(c)
            .unwrap();
    })
    .await;
    let late = client.get("/sign-in/verify").await;
    assert!(late.location().starts_with("/login"), "{late:?}");
    let page = client.get("/login").await;
    assert!(
        page.body.contains("took more than 5 minutes"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_recovery_code_works_once_and_says_how_many_are_left() {
    let app = TestApp::spawn().await;
    let (email, _, codes) = enrolled_user(&app, Role::Editor, "recover").await;
    let client = past_password(&app, &email, "/sign-in/verify").await;
    let ok = verify(&client, &[("recovery_code", &codes[3].to_uppercase())]).await;
    assert!(signed_in(&ok, &client), "{ok:?}");
    let home = client.get(ok.location()).await;
    let landed = client.get(home.location()).await;
    let text = format!("{}{}", home.body, landed.body);
    assert!(text.contains("9 are left"), "{text}");
    let again = past_password(&app, &email, "/sign-in/verify").await;
    let used = verify(&again, &[("recovery_code", &codes[3])]).await;
    assert_eq!(used.status, 401, "{}", used.body);
    assert!(used.body.contains("has been used"));
    // The user's page lists it in the account history.
    let admin = app.login_as(Role::Administrator).await;
    let id = user_id(&app, &email).await;
    let page = admin.get(&format!("/users/{id}")).await;
    assert!(
        page.body.contains("signed in with a recovery code; 9 left"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn wrong_codes_lock_the_address_like_wrong_passwords() {
    let app = TestApp::spawn_with(|s| s.login_max_failures = Some(3)).await;
    let (email, secret, _) = enrolled_user(&app, Role::Editor, "locked").await;
    let client = past_password(&app, &email, "/sign-in/verify").await;
    // Nothing typed is not an attempt.
    let empty = verify(&client, &[("code", " ")]).await;
    assert_eq!(empty.status, 422, "{}", empty.body);
    for _ in 0..3 {
        let res = verify(&client, &[("code", "000000")]).await;
        assert_eq!(res.status, 401, "{}", res.body);
    }
    let right = verify(&client, &[("code", &totp_code(&secret, 1))]).await;
    assert_eq!(right.status, 429, "{}", right.body);
    assert!(client.cookie("__Host-roster-session").is_none());
    // The password step is locked too, for this address.
    let res = app.client().login(&email, PASSWORD).await;
    assert_eq!(res.status, 429, "{}", res.body);
}

#[tokio::test]
async fn the_secret_is_in_no_log_no_later_page_and_no_plaintext_column() {
    let app = TestApp::spawn().await;
    let server = crate::bodies::ServerProcess::start_logging(&app.store, "debug").await;
    let client = server.client();
    let email = app.add_user(Role::Editor, "secretive").await;
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
    let (secret, _) = enrol(&client).await;
    let plain = secret.replace(' ', "");
    for path in ["/account", "/account/two-factor/totp"] {
        let res = client.get(path).await;
        assert!(
            !res.body.contains(&secret) && !res.body.contains(&plain),
            "{path}"
        );
    }
    let res = client.get("/account/two-factor/totp").await;
    assert_eq!(res.location(), "/account");
    let page = client.get("/account").await;
    assert!(
        page.body
            .contains("You already sign in with an authenticator app")
    );
    let log = server.log();
    assert!(
        log.contains("TOTP enrolment code"),
        "the log was not captured:\n{log}"
    );
    assert!(!log.contains(&plain) && !log.contains(&secret), "{log}");
    let raw = totp_rs::Secret::try_from_base32(&plain).unwrap();
    let rows: Vec<(Vec<u8>, Vec<u8>)> = app
        .db(|c| {
            totp_factors::table
                .select((totp_factors::secret_nonce, totp_factors::secret_sealed))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(rows.len(), 1);
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    for (nonce, sealed) in rows {
        for column in [nonce, sealed] {
            assert!(!contains(&column, plain.as_bytes()));
            assert!(!contains(&column, raw.as_bytes()));
        }
    }
}

#[tokio::test]
async fn a_wrong_password_of_an_enrolled_user_answers_like_an_unknown_email() {
    let app = TestApp::spawn().await;
    let (email, _, _) = enrolled_user(&app, Role::Editor, "alike").await;
    let wrong = app.client().login(&email, "not the password at all").await;
    let unknown = app
        .client()
        .login("nobody-here@example.com", "not the password at all")
        .await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    let error = |body: &str| {
        let start = body.find("id=\"login-error\">").unwrap();
        body[start..].split('<').next().unwrap().to_owned()
    };
    assert_eq!(error(&wrong.body), error(&unknown.body));
    assert!(
        wrong
            .headers
            .get("set-cookie")
            .is_none_or(|c| { !c.to_str().unwrap().contains("roster-pending") })
    );
}
