//! The request log names the client Roster trusts: a client-written `Forwarded` or
//! `X-Forwarded-For` header does not change the address in it (without a trusted proxy).

use roster::auth::Role;

use crate::bodies::ServerProcess;
use crate::support::{PASSWORD, TestApp, csrf_in};

#[tokio::test]
async fn the_log_names_the_peer_not_a_client_written_address() {
    let app = TestApp::spawn().await;
    let email = app.add_user(Role::Editor, "logged").await;
    let server = ServerProcess::start_logging(&app.store, "info").await;
    let client = server.client();
    let page = client.get("/login").await;
    let token = csrf_in(&page.body);
    let res = client
        .post_with_headers(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", email.as_str()),
                ("password", PASSWORD),
            ],
            &[
                ("Forwarded", "for=203.0.113.9"),
                ("X-Forwarded-For", "203.0.113.9"),
                ("X-Real-IP", "203.0.113.9"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("signed in"))
        .unwrap_or_else(|| panic!("no sign-in line in the log:\n{log}"));
    assert!(line.contains("http.client_ip=127.0.0.1"), "{line}");
    assert!(!log.contains("203.0.113.9"), "{log}");
}
