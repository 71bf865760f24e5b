//! Every route x every role (and anonymous) -> the exact status; a route missing from this table,
//! or listed here but not served, fails the test. Denied requests change nothing.

use std::collections::BTreeSet;

use roster::auth::Role;
use roster::web::routes::ROUTES;

use crate::sessions::user_id;
use crate::support::{Client, TestApp};

/// Columns: anonymous, Administrator, Manager, Editor, Creator, Lite, Read-only.
type Row = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    [u16; 7],
);

const OPEN: [u16; 7] = [200; 7];
const SIGNED_IN: [u16; 7] = [303, 200, 200, 200, 200, 200, 200];
const USERS_GET: [u16; 7] = [303, 200, 200, 403, 403, 403, 403];
const ADMINS_GET: [u16; 7] = [303, 200, 403, 403, 403, 403, 403];
const MANAGERS_REDIRECT: [u16; 7] = [303, 303, 303, 403, 403, 403, 403];
const CREATORS: [u16; 7] = [303, 200, 200, 200, 200, 403, 403];
const CREATORS_422: [u16; 7] = [303, 422, 422, 422, 422, 403, 403];

#[rustfmt::skip]
const TABLE: &[Row] = &[
    ("GET", "/healthz", &[], OPEN),
    ("GET", "/readyz", &[], OPEN),
    ("GET", "/static/roster.css", &[], OPEN),
    ("GET", "/static/roster.js", &[], OPEN),
    ("GET", "/static/passkeys.js", &[], OPEN),
    ("GET", "/static/search.js", &[], OPEN),
    ("GET", "/login", &[], [200, 303, 303, 303, 303, 303, 303]),
    ("POST", "/login", &[("email", "x@example.com"), ("password", "wrong password")], [401; 7]),
    // No password step in this browser: back to sign-in, signed in or not.
    ("GET", "/sign-in/verify", &[], [303; 7]),
    ("POST", "/sign-in/verify", &[("code", "123456")], [303; 7]),
    // No password step in this browser: refused (JSON for the script), signed in or not.
    ("POST", "/sign-in/passkey/options", &[], [403; 7]),
    // A form, not the script's JSON with its X-CSRF-Token header: refused as a forgery.
    ("POST", "/sign-in/passkey", &[], [403; 7]),
    // The same for adding a passkey under the policy: no pending sign-in, or no script token.
    ("POST", "/sign-in/enrol/passkey/options", &[("passkey_name", "Key")], [403; 7]),
    ("POST", "/sign-in/enrol/passkey", &[], [403; 7]),
    ("GET", "/sign-in/enrol", &[], [303; 7]),
    ("POST", "/sign-in/enrol", &[("code", "123456")], [303; 7]),
    ("GET", "/setup/{token}", &[], [404; 7]),
    ("POST", "/setup/{token}", &[], [404; 7]),
    ("GET", "/", &[], [303; 7]),
    ("GET", "/account", &[], SIGNED_IN),
    ("GET", "/search", &[], SIGNED_IN),
    ("GET", "/search/suggest", &[], SIGNED_IN),
    ("POST", "/account/name", &[("display_name", "")], [303, 422, 422, 422, 422, 422, 422]),
    ("POST", "/account/password", &[("current_password", "")], [303, 422, 422, 422, 422, 422, 422]),
    ("GET", "/account/two-factor/totp", &[], SIGNED_IN),
    // A wrong first code, a missing password: the form again with the message.
    ("POST", "/account/two-factor/totp", &[("code", "12345")], [303, 422, 422, 422, 422, 422, 422]),
    ("POST", "/account/two-factor/totp/remove", &[("remove_password", "")], [303, 422, 422, 422, 422, 422, 422]),
    ("POST", "/account/two-factor/recovery", &[("codes_password", "")], [303, 422, 422, 422, 422, 422, 422]),
    // No other session to end: back to the page with a message.
    ("POST", "/account/sessions/end-others", &[], [303; 7]),
    // Nobody's session: not found for everyone signed in.
    ("POST", "/account/sessions/{session}/end", &[], [303, 404, 404, 404, 404, 404, 404]),
    // The test server's address is an IP, so passkeys are off: 409 with the reason.
    ("POST", "/account/passkeys/options", &[("passkey_name", "Key")], [303, 409, 409, 409, 409, 409, 409]),
    // A form, not the script's JSON with its X-CSRF-Token header: refused as a forgery.
    ("POST", "/account/passkeys", &[], [303, 403, 403, 403, 403, 403, 403]),
    // Nobody's passkey: not found for everyone signed in.
    ("POST", "/account/passkeys/{passkey}/remove", &[], [303, 404, 404, 404, 404, 404, 404]),
    ("GET", "/users", &[], USERS_GET),
    ("GET", "/users/new", &[], USERS_GET),
    ("POST", "/users", &[("email", "")], [303, 422, 422, 403, 403, 403, 403]),
    ("GET", "/users/{id}", &[], USERS_GET),
    ("POST", "/users/{id}/role", &[("role", "editor")], MANAGERS_REDIRECT),
    ("POST", "/users/{id}/active", &[("active", "true")], MANAGERS_REDIRECT),
    ("POST", "/users/{id}/password", &[("password", "short")], [303, 422, 422, 403, 403, 403, 403]),
    ("POST", "/users/{id}/access", &[("all", "true")], MANAGERS_REDIRECT),
    ("POST", "/users/{id}/access/add", &[("organization", "No such organization")], MANAGERS_REDIRECT),
    ("POST", "/users/{id}/access/remove", &[("organization_id", "999999")], MANAGERS_REDIRECT),
    ("GET", "/users/{id}/two-factor/reset", &[], USERS_GET),
    ("POST", "/users/{id}/two-factor/reset", &[], MANAGERS_REDIRECT),
    ("GET", "/organizations", &[], SIGNED_IN),
    ("GET", "/organizations/new", &[], CREATORS),
    ("GET", "/organizations/lookup", &[], SIGNED_IN),
    ("POST", "/organizations", &[("name", "")], CREATORS_422),
    // Nothing selected: back to the list with a message.
    ("GET", "/organizations/bulk-delete", &[], MANAGERS_REDIRECT),
    // Not confirmed: the page again with the message, nothing deleted.
    ("POST", "/organizations/bulk-delete", &[("ids", "{org}"), ("confirm", "nope")], [303, 422, 422, 403, 403, 403, 403]),
    ("GET", "/organizations/{org}/delete", &[], [303, 200, 200, 200, 403, 403, 403]),
    // The wrong name typed: the page again with the message, nothing deleted.
    ("POST", "/organizations/{org}/delete", &[("confirm_name", "nope")], [303, 422, 422, 422, 403, 403, 403]),
    // Not deleted, so there is nothing to restore.
    ("POST", "/organizations/{org}/restore", &[], [303, 409, 409, 403, 403, 403, 403]),
    ("GET", "/organizations/{org}/merge", &[], USERS_GET),
    // Into itself: refused with the reason, nothing merged.
    ("POST", "/organizations/{org}/merge", &[("into", "{org}")], [303, 409, 409, 403, 403, 403, 403]),
    // Not syncing: nothing to disable, back to Edit.
    ("POST", "/organizations/{org}/sync/disable", &[], [303, 303, 303, 303, 403, 403, 403]),
    // Lite users see only the organizations on their list, and the target is not on it.
    ("GET", "/organizations/{org}", &[], [303, 200, 200, 200, 200, 404, 200]),
    ("GET", "/organizations/{org}/edit", &[], CREATORS),
    ("GET", "/organizations/{org}/logo", &[], [303, 200, 200, 200, 200, 404, 200]),
    ("POST", "/organizations/{org}", &[("name", "")], CREATORS_422),
    ("GET", "/organizations/{org}/records/{record_kind}", &[], [303, 200, 200, 200, 200, 404, 200]),
    ("GET", "/organizations/{org}/records/{record_kind}/new", &[], CREATORS),
    ("POST", "/organizations/{org}/records/{record_kind}", &[("name", "")], CREATORS_422),
    ("GET", "/organizations/{org}/records/{record_kind}/{record}", &[], [303, 200, 200, 200, 200, 404, 200]),
    ("GET", "/organizations/{org}/records/{record_kind}/{record}/edit", &[], CREATORS),
    ("POST", "/organizations/{org}/records/{record_kind}/{record}", &[("name", "")], CREATORS_422),
    ("GET", "/organizations/{org}/records/{record_kind}/{record}/delete", &[], [303, 200, 200, 200, 403, 403, 403]),
    // A record that does not exist: allowed roles get 404, the others 403, and nothing is deleted.
    ("POST", "/organizations/{org}/records/{record_kind}/{record}/delete", &[], [303, 404, 404, 404, 403, 403, 403]),
    ("POST", "/organizations/{org}/records/{record_kind}/{record}/reveal", &[], [303, 200, 200, 200, 200, 404, 200]),
    ("GET", "/manage-data", &[], USERS_GET),
    ("GET", "/manage-data/import", &[], ADMINS_GET),
    // Not multipart: refused as a bad request where allowed.
    ("POST", "/manage-data/import", &[], [303, 400, 403, 403, 403, 403, 403]),
    // No such upload.
    ("GET", "/manage-data/import/{token}", &[], [303, 404, 403, 403, 403, 403, 403]),
    ("POST", "/manage-data/import/{token}", &[("confirm", "1")], [303, 404, 403, 403, 403, 403, 403]),
    ("GET", "/manage-data/import/jobs/{job}", &[], [303, 404, 403, 403, 403, 403, 403]),
    ("GET", "/manage-data/export", &[], ADMINS_GET),
    // With passwords but without the password typed again: the form again with the error.
    ("POST", "/manage-data/export", &[("include_passwords", "1")], [303, 422, 403, 403, 403, 403, 403]),
    // Nobody's export: not found where allowed.
    ("GET", "/manage-data/export/jobs/{job}", &[], [303, 404, 404, 403, 403, 403, 403]),
    ("GET", "/manage-data/export/jobs/{job}/download", &[], [303, 404, 404, 403, 403, 403, 403]),
    ("POST", "/organizations/{org}/export", &[], [303, 303, 303, 403, 403, 403, 403]),
    ("GET", "/settings/psa", &[], USERS_GET),
    ("POST", "/settings/psa", &[("kind", "")], [303, 422, 422, 403, 403, 403, 403]),
    ("POST", "/settings/psa/mapping", &[], MANAGERS_REDIRECT),
    // Not set up yet: back to the page with a message.
    ("POST", "/settings/psa/test", &[], MANAGERS_REDIRECT),
    ("POST", "/settings/psa/sync", &[], MANAGERS_REDIRECT),
    // No such exclusion: back to the page with a message.
    ("POST", "/settings/psa/exclusions/{exclusion}/include", &[], MANAGERS_REDIRECT),
    // Not set up yet: back to the page with a message.
    ("POST", "/settings/psa/preview", &[], MANAGERS_REDIRECT),
    // No such preview.
    ("GET", "/settings/psa/previews/{preview}", &[], [303, 404, 404, 403, 403, 403, 403]),
    ("POST", "/settings/psa/previews/{preview}/apply", &[], [303, 404, 404, 403, 403, 403, 403]),
    ("GET", "/settings/security", &[], [303, 200, 403, 403, 403, 403, 403]),
    ("POST", "/settings/security", &[], [303, 303, 403, 403, 403, 403, 403]),
    ("GET", "/settings/asset-types", &[], USERS_GET),
    ("POST", "/settings/asset-types", &[("name", "")], [303, 422, 422, 403, 403, 403, 403]),
    // The type is in use, so removing it is refused (with a message) even where allowed.
    ("POST", "/settings/asset-types/{type}/delete", &[], MANAGERS_REDIRECT),
    ("GET", "/settings/api-keys", &[], [303, 200, 403, 403, 403, 403, 403]),
    ("POST", "/settings/api-keys", &[("name", "")], [303, 422, 403, 403, 403, 403, 403]),
    // No such key: not found where allowed.
    ("GET", "/settings/api-keys/{key}/revoke", &[], [303, 404, 403, 403, 403, 403, 403]),
    ("POST", "/settings/api-keys/{key}/revoke", &[], [303, 404, 403, 403, 403, 403, 403]),
    ("GET", "/settings/{kind}", &[], USERS_GET),
    ("POST", "/settings/{kind}", &[("name", "")], [303, 422, 422, 403, 403, 403, 403]),
    ("POST", "/settings/{kind}/{kind_id}", &[("name", "")], MANAGERS_REDIRECT),
    // The type is in use, so removing it is refused (with a message) even where allowed.
    ("POST", "/settings/{kind}/{kind_id}/delete", &[], MANAGERS_REDIRECT),
    // Last, because it ends the session.
    ("POST", "/logout", &[], [303; 7]),
];

#[test]
fn the_table_lists_every_route_and_nothing_else() {
    let served: BTreeSet<_> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
    let tested: BTreeSet<_> = TABLE.iter().map(|r| (r.0, r.1)).collect();
    let untested: Vec<_> = served.difference(&tested).collect();
    let unknown: Vec<_> = tested.difference(&served).collect();
    assert!(
        untested.is_empty(),
        "routes without a row in the permission table: {untested:?}"
    );
    assert!(
        unknown.is_empty(),
        "rows for routes that do not exist: {unknown:?}"
    );
    assert_eq!(TABLE.len(), ROUTES.len(), "a route is listed twice");
}

#[tokio::test]
async fn every_route_answers_every_role_as_the_table_says() {
    let app = TestApp::spawn().await;
    let target = app.add_user(Role::Editor, "target").await;
    let id = user_id(&app, &target).await.to_string();
    let org = app.add_org("Target Org", None).await;
    let password = app
        .add_record(
            org,
            roster::records::Kind::Password,
            None,
            &[("name", "Router admin"), ("secret", "s3cret-value")],
        )
        .await;
    let asset_type = app
        .db(|c| {
            let actor = roster::auth::users::list(c).unwrap().remove(0);
            roster::records::flex::add(c, &actor, "Licence", "Key: text").unwrap()
        })
        .await;
    app.add_record(
        org,
        roster::records::Kind::FlexibleAsset,
        Some(asset_type),
        &[("name", "Office 365"), ("f1", "ABC")],
    )
    .await;
    app.add_logo(org).await;
    let customer: i64 = app
        .db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::organization_types as t;
            t::table
                .filter(t::name.eq("Customer"))
                .select(t::id)
                .first(c)
                .unwrap()
        })
        .await;
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::organizations as o;
        diesel::update(o::table.find(org))
            .set(o::type_id.eq(customer))
            .execute(c)
            .unwrap();
    })
    .await;

    let mut clients: Vec<(String, Client)> = vec![("anonymous".into(), app.client())];
    for role in Role::ALL {
        clients.push((role.label().into(), app.login_as(role).await));
    }
    let mut failures = Vec::new();
    for (method, path, fields, expected) in TABLE {
        let url = path
            .replace("{id}", &id)
            .replace("{token}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .replace("{org}", &org.to_string())
            .replace("{kind}", "types")
            .replace("{kind_id}", &customer.to_string())
            .replace("{record_kind}", "passwords")
            .replace(
                "{record}",
                &if *method == "POST" && path.ends_with("/delete") {
                    "999999".to_owned()
                } else {
                    password.to_string()
                },
            )
            .replace("{type}", &asset_type.to_string())
            .replace("{session}", "999999")
            .replace("{passkey}", "999999")
            .replace("{key}", "999999")
            .replace("{exclusion}", "999999")
            .replace("{preview}", "999999")
            .replace("{job}", "999999");
        let org_id = org.to_string();
        let owned: Vec<(&str, String)> = fields
            .iter()
            .map(|(k, v)| (*k, v.replace("{org}", &org_id)))
            .collect();
        let fields: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let fields = fields.as_slice();
        for ((who, client), want) in clients.iter().zip(expected) {
            let multipart =
                *method == "POST" && (*path == "/organizations" || *path == "/organizations/{org}");
            let res = if multipart {
                client.post_multipart(&url, fields, None).await
            } else if *method == "GET" {
                client.get(&url).await
            } else {
                client.post(&url, fields).await
            };
            if res.status != *want {
                failures.push(format!(
                    "{method} {url} as {who}: {} (expected {want})",
                    res.status
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The denied requests changed nothing: the target is still an active Editor with its password.
    let row = app
        .db(move |c| {
            roster::auth::users::find_by_email(c, &target)
                .unwrap()
                .unwrap()
        })
        .await;
    assert_eq!(row.role, "editor");
    assert!(row.active);
    assert!(roster::auth::password::verify(
        crate::support::PASSWORD,
        &row.password_hash
    ));
    // Nor did they change the organization or the types.
    let (name, types): (String, i64) = app
        .db(move |c| {
            use diesel::prelude::*;
            use roster::db::schema::{organization_types, organizations};
            let name = organizations::table
                .find(org)
                .select(organizations::name)
                .first(c)
                .unwrap();
            (
                name,
                organization_types::table.count().get_result(c).unwrap(),
            )
        })
        .await;
    assert_eq!(name, "Target Org");
    assert_eq!(types, 5);
    // And nothing was deleted or queued for deletion.
    let (deleted, jobs): (Option<chrono::NaiveDateTime>, i64) = app
        .db(move |c| {
            use diesel::prelude::*;
            use roster::db::schema::{jobs, organizations};
            let deleted = organizations::table
                .find(org)
                .select(organizations::deleted_at)
                .first(c)
                .unwrap();
            // The allowed organization exports queue their job; nothing else does.
            let jobs = jobs::table
                .filter(jobs::kind.ne("roster-export"))
                .count()
                .get_result(c)
                .unwrap();
            (deleted, jobs)
        })
        .await;
    assert_eq!(deleted, None);
    assert_eq!(jobs, 0);
}
