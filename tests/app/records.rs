//! An organization's records: the five kinds, tabs with counts, and every bad input of the issue.

use roster::auth::Role;
use roster::records::Kind;

use crate::support::{Client, TestApp};

async fn add(
    client: &Client,
    org: i64,
    kind: &str,
    fields: &[(&str, &str)],
) -> crate::support::Resp {
    client
        .post(&format!("/organizations/{org}/records/{kind}"), fields)
        .await
}

async fn record_count(app: &TestApp) -> i64 {
    app.db(|c| {
        use diesel::prelude::*;
        roster::db::schema::records::table
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn each_kind_is_added_shown_edited_and_deleted_with_counts() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Records Co", None).await;
    let editor = app.login_as(Role::Editor).await;

    let res = add(
        &editor,
        org,
        "contacts",
        &[
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("emails", "grace@example.com\n grace@navy.example "),
            ("primary", "yes"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let contact = editor.get(res.location()).await.body;
    assert!(
        contact.contains("Grace Hopper")
            && contact.contains("grace@navy.example")
            && contact.contains("The contact was added.")
    );

    let res = add(
        &editor,
        org,
        "configurations",
        &[
            ("name", "fw01"),
            ("kind", "Network device"),
            ("status", "Active"),
            ("ip_address", "192.0.2.1"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let res = add(
        &editor,
        org,
        "documents",
        &[
            ("title", "Runbook"),
            ("body", "# Restart\n\n1. Log in\n2. **Reboot**"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let doc = editor.get(res.location()).await.body;
    assert!(doc.contains("<h1>Restart</h1>") && doc.contains("<strong>Reboot</strong>"));
    let res = add(
        &editor,
        org,
        "passwords",
        &[
            ("name", "Router"),
            ("username", "admin"),
            ("secret", "correct-battery-9"),
            ("url", "https://192.0.2.1"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let password_page = res.location().to_owned();
    assert!(
        !editor
            .get(&password_page)
            .await
            .body
            .contains("correct-battery-9"),
        "secrets are not shown until revealed"
    );

    let page = editor.get(&format!("/organizations/{org}")).await.body;
    for (kind, n) in [
        ("Contacts", 1),
        ("Configurations", 1),
        ("Documents", 1),
        ("Passwords", 1),
        ("Flexible assets", 0),
    ] {
        assert!(
            page.contains(&format!("{kind}</a> <span class=\"muted\">({n})</span>")),
            "{kind} ({n})"
        );
    }
    let list = editor
        .get(&format!("/organizations/{org}/records/passwords"))
        .await
        .body;
    assert!(
        list.contains(">Router</a>") && !list.contains("correct-battery-9"),
        "never in lists"
    );

    // Edit keeps the secret when the field is left empty.
    let res = editor
        .post(
            &password_page,
            &[("name", "Core router"), ("username", "admin")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let revealed = editor.post(&format!("{password_page}/reveal"), &[]).await;
    assert_eq!(revealed.status, 200);
    assert!(
        revealed
            .body
            .contains("<code id=\"revealed-secret\">correct-battery-9</code>")
    );
    let history = editor.get(&format!("/organizations/{org}")).await.body;
    assert!(
        history.contains("revealed the password Core router"),
        "who revealed which password is recorded"
    );

    // Delete asks first, then deletes.
    let contacts = editor
        .get(&format!("/organizations/{org}/records/contacts"))
        .await
        .body;
    let id: String = contacts
        .split(&format!("/organizations/{org}/records/contacts/"))
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .find(|digits| !digits.is_empty())
        .unwrap();
    let confirm = editor
        .get(&format!(
            "/organizations/{org}/records/contacts/{id}/delete"
        ))
        .await;
    assert!(confirm.body.contains("Delete this contact?"));
    let res = editor
        .post(
            &format!("/organizations/{org}/records/contacts/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(record_count(&app).await, 3);
    crate::demo::assert_values_indexed(&app, "records edited and deleted").await;
}

#[tokio::test]
async fn documents_are_rendered_harmless() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Doc Co", None).await;
    let editor = app.login_as(Role::Editor).await;
    let body =
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))";
    let res = add(
        &editor,
        org,
        "documents",
        &[("title", "Evil"), ("body", body)],
    )
    .await;
    let page = editor.get(res.location()).await.body;
    assert!(
        !page.contains("<script>alert(1)")
            && !page.contains("onerror")
            && !page.contains("javascript:alert(3)"),
        "{page}"
    );
}

#[tokio::test]
async fn bad_values_are_refused_beside_their_fields() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Bad Co", None).await;
    let editor = app.login_as(Role::Editor).await;
    let res = add(
        &editor,
        org,
        "passwords",
        &[
            ("name", "Portal"),
            ("secret", "x-secret-x"),
            ("url", "javascript:alert(1)"),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"url-error\"") && res.body.contains("https://"));
    assert!(
        res.body.contains("value=\"Portal\"") && !res.body.contains("x-secret-x"),
        "keeps the name, never echoes the secret"
    );
    let res = add(
        &editor,
        org,
        "configurations",
        &[
            ("name", "srv"),
            ("kind", "Server"),
            ("status", "Active"),
            ("ip_address", "300.1.1.1"),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"ip_address-error\""));
    let res = add(
        &editor,
        org,
        "contacts",
        &[("first_name", "Al"), ("emails", "not an email")],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("id=\"emails-error\""));

    let manager = app.login_as(Role::Manager).await;
    let res = manager
        .post(
            "/settings/asset-types",
            &[
                ("name", "Licence"),
                (
                    "definition",
                    "Seats: number\nRenews: date\nTier: choice: Basic, Pro",
                ),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let bad = manager
        .post(
            "/settings/asset-types",
            &[("name", "Broken"), ("definition", "Seats: numbr")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("is not a kind"));
    let type_id: i64 = app
        .db(|c| roster::records::flex::all(c).unwrap().remove(0).id)
        .await;
    let form = editor
        .get(&format!(
            "/organizations/{org}/records/flexible-assets/new?type={type_id}"
        ))
        .await;
    assert!(form.body.contains(">Seats</label>") && form.body.contains("type=\"date\""));
    let res = add(
        &editor,
        org,
        "flexible-assets",
        &[
            ("asset_type_id", &type_id.to_string()),
            ("name", "O365"),
            ("f1", "many"),
            ("f2", "soon"),
            ("f3", "Gold"),
        ],
    )
    .await;
    assert_eq!(res.status, 422);
    for field in ["f1", "f2", "f3"] {
        assert!(
            res.body.contains(&format!("id=\"{field}-error\"")),
            "{field}"
        );
    }
    let res = add(
        &editor,
        org,
        "flexible-assets",
        &[
            ("asset_type_id", &type_id.to_string()),
            ("name", "O365"),
            ("f1", "25"),
            ("f2", "2027-01-31"),
            ("f3", "Pro"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(record_count(&app).await, 1);
}

#[tokio::test]
async fn secrets_are_not_stored_or_logged_in_plain_text() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Vault Co", None).await;
    let secret = "plain-text-canary-4711";
    let id = app
        .add_record(
            org,
            Kind::Password,
            None,
            &[("name", "Canary"), ("secret", secret)],
        )
        .await;
    let sealed: Option<Vec<u8>> = app
        .db(move |c| {
            use diesel::prelude::*;
            use roster::db::schema::records as r;
            r::table.find(id).select(r::secret_sealed).first(c).unwrap()
        })
        .await;
    assert!(
        !sealed
            .unwrap()
            .windows(secret.len())
            .any(|w| w == secret.as_bytes())
    );
    if crate::support::backend() == crate::support::Backend::Sqlite {
        // The database files themselves (main file and write-ahead log).
        for entry in std::fs::read_dir(app.store.dir.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "plaintext in a database file"
            );
        }
    }
    let admin = app.login_as(Role::Administrator).await;
    let res = admin
        .post(
            &format!("/organizations/{org}/records/passwords/{id}/reveal"),
            &[],
        )
        .await;
    assert!(res.body.contains(secret));
}

#[tokio::test]
async fn records_of_other_organizations_and_forbidden_roles() {
    let app = TestApp::spawn().await;
    let mine = app.add_org("Mine Co", None).await;
    let other = app.add_org("Other Co", None).await;
    let id = app
        .add_record(other, Kind::Contact, None, &[("first_name", "Hidden")])
        .await;
    let editor = app.login_as(Role::Editor).await;
    assert_eq!(
        editor
            .get(&format!("/organizations/{mine}/records/contacts/{id}"))
            .await
            .status,
        404
    );
    assert_eq!(
        editor
            .post(
                &format!("/organizations/{mine}/records/contacts/{id}"),
                &[("first_name", "Changed")]
            )
            .await
            .status,
        404
    );
    assert_eq!(
        editor
            .post(
                &format!("/organizations/{mine}/records/contacts/{id}/reveal"),
                &[]
            )
            .await
            .status,
        404
    );
    assert_eq!(
        editor
            .get(&format!("/organizations/{mine}/records/gadgets"))
            .await
            .status,
        404
    );

    for role in [Role::Lite, Role::ReadOnly] {
        let client = app.login_as(role).await;
        let res = add(&client, mine, "contacts", &[("first_name", "Sneaky")]).await;
        assert_eq!(res.status, 403, "{role:?}");
    }
    // A type id sent with another kind is ignored.
    let res = add(
        &editor,
        mine,
        "contacts",
        &[("first_name", "Typed"), ("asset_type_id", "1")],
    )
    .await;
    assert_eq!(res.status, 303);
    let typed: Option<i64> = app
        .db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::records as r;
            r::table
                .filter(r::title.eq("Typed"))
                .select(r::asset_type_id)
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(typed, None);
    let creator = app.login_as(Role::Creator).await;
    assert_eq!(
        creator
            .post(
                &format!("/organizations/{other}/records/contacts/{id}/delete"),
                &[]
            )
            .await
            .status,
        403
    );
    assert_eq!(
        record_count(&app).await,
        2,
        "nothing stored, nothing deleted"
    );
}

#[tokio::test]
async fn the_server_log_never_holds_a_secret() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let store = crate::support::Store::new(crate::support::backend());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = store.dir.path().join("server.log");
    let env = |cmd: &mut Command| {
        cmd.env("ROSTER_DATA_DIR", store.dir.path())
            .env("ROSTER_DATABASE_URL", &store.database_url)
            .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "debug");
    };
    let mut add = Command::new(env!("CARGO_BIN_EXE_roster"));
    env(&mut add);
    let mut child = add
        .args([
            "user",
            "add",
            "--email",
            "logs@example.com",
            "--role",
            "administrator",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(crate::support::PASSWORD.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());

    let mut serve = Command::new(env!("CARGO_BIN_EXE_roster"));
    env(&mut serve);
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = serve
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let client = crate::support::Client::new(&format!("http://127.0.0.1:{port}"));
    for _ in 0..100 {
        if reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let secret = "log-canary-secret-90210";
    assert_eq!(
        client
            .login("logs@example.com", crate::support::PASSWORD)
            .await
            .status,
        303
    );
    let res = client
        .post_multipart("/organizations", &[("name", "Log Co")], None)
        .await;
    assert_eq!(res.status, 303);
    let org = res.location().to_owned();
    let res = client
        .post(
            &format!("{org}/records/passwords"),
            &[("name", "Canary"), ("secret", secret)],
        )
        .await;
    assert_eq!(res.status, 303);
    let revealed = client
        .post(&format!("{}/reveal", res.location()), &[])
        .await;
    assert!(revealed.body.contains(secret));
    let _ = server.kill();
    let _ = server.wait();

    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        text.contains("signed in"),
        "the server logged this session:\n{text}"
    );
    assert!(!text.contains(secret), "a secret reached the log");
    assert!(
        !text.contains(crate::support::PASSWORD),
        "a password reached the log"
    );
}

#[tokio::test]
async fn a_long_list_says_how_much_it_shows() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Many Co", None).await;
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::records as r;
        let at = roster::db::now();
        for n in 0..=roster::records::store::LIST_LIMIT {
            diesel::insert_into(r::table)
                .values((
                    r::organization_id.eq(org),
                    r::kind.eq("documents"),
                    r::title.eq(format!("Doc {n:04}")),
                    r::field_values.eq("{}"),
                    r::created_at.eq(at),
                    r::updated_at.eq(at),
                ))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    let editor = app.login_as(Role::Editor).await;
    let page = editor
        .get(&format!("/organizations/{org}/records/documents"))
        .await
        .body;
    assert!(
        page.contains("Showing the first 500 of 501, by name."),
        "{page}"
    );
    assert!(page.contains(">Doc 0499</a>") && !page.contains(">Doc 0500</a>"));
}
