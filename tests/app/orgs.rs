//! Organizations (B1, B2, B6, B10): the list, search, filters and pages; + New and Edit with the
//! similar-name warning; Parent Organization; access lists; the audit history.

use roster::auth::Role;

use crate::sessions::user_id;
use crate::support::{Client, TestApp};

async fn id_of(app: &TestApp, name: &str) -> i64 {
    let name = name.to_owned();
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::organizations as o;
        o::table
            .filter(o::name.eq(name))
            .select(o::id)
            .first(c)
            .unwrap()
    })
    .await
}

async fn kind_id(app: &TestApp, table: &str, name: &str) -> i64 {
    let (table, name) = (table.to_owned(), name.to_owned());
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::{organization_statuses as s, organization_types as t};
        if table == "types" {
            t::table
                .filter(t::name.eq(name))
                .select(t::id)
                .first(c)
                .unwrap()
        } else {
            s::table
                .filter(s::name.eq(name))
                .select(s::id)
                .first(c)
                .unwrap()
        }
    })
    .await
}

async fn create(client: &Client, fields: &[(&str, &str)]) -> crate::support::Resp {
    client.post_multipart("/organizations", fields, None).await
}

/// Saves the organization form of `id` (multipart, as the browser sends it).
async fn edit(client: &Client, id: i64, fields: &[(&str, &str)]) -> crate::support::Resp {
    client
        .post_multipart(&format!("/organizations/{id}"), fields, None)
        .await
}

#[tokio::test]
async fn new_save_and_show_an_organization() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let list = client.get("/organizations").await;
    assert!(list.body.contains("No organizations yet."));
    assert!(list.body.contains("href=\"/organizations/new\">+ New</a>"));

    let form = client.get("/organizations/new").await;
    for label in [
        "for=\"name\"",
        "for=\"short_name\"",
        "for=\"type_id\"",
        "for=\"status_id\"",
        "for=\"parent_name\"",
        "for=\"description\"",
        "for=\"quick_notes\"",
        "for=\"alert\"",
    ] {
        assert!(form.body.contains(label), "{label}");
    }
    assert!(form.body.contains(">Parent Organization</label>"));
    assert!(form.body.contains(">Save</button>"));

    let customer = kind_id(&app, "types", "Customer").await.to_string();
    let active = kind_id(&app, "statuses", "Active").await.to_string();
    let bad = create(
        &client,
        &[
            ("name", "  "),
            ("short_name", "ACME"),
            ("quick_notes", "keep me"),
        ],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("id=\"name-error\""));
    assert!(
        bad.body.contains("value=\"ACME\"") && bad.body.contains("keep me"),
        "keeps what was typed"
    );

    let res = create(
        &client,
        &[
            ("name", " Acme Corp "),
            ("short_name", "ACME"),
            ("type_id", &customer),
            ("status_id", &active),
            ("alert", "VIP: call before visiting"),
            ("quick_notes", "Gate code 1234"),
            ("description", "Main client"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = client.get(res.location()).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Acme Corp was created."));
    assert!(page.body.contains("<h1>Acme Corp"));
    assert!(page.body.contains("<dd id=\"org-type\">Customer</dd>"));
    assert!(page.body.contains("<dd id=\"org-status\">Active</dd>"));
    assert!(
        page.body.contains("class=\"alert-banner\"")
            && page.body.contains("VIP: call before visiting")
    );
    assert!(page.body.contains("Gate code 1234") && page.body.contains("Main client"));
    assert!(page.body.contains("created Acme Corp"), "history");
    assert!(page.body.contains(">Edit</a>"));

    let list = client.get("/organizations").await;
    assert!(
        list.body.contains(">Acme Corp</a>")
            && list.body.contains(">ACME</td>")
            && list.body.contains("<td>Customer</td>")
    );
}

#[tokio::test]
async fn a_similar_name_needs_create_anyway() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Creator).await;
    assert_eq!(create(&client, &[("name", "ACME, Inc.")]).await.status, 303);
    let first = id_of(&app, "ACME, Inc.").await;

    let warned = create(&client, &[("name", "acme inc"), ("short_name", "dup")]).await;
    assert_eq!(warned.status, 409);
    assert!(
        warned
            .body
            .contains("An organization with a similar name already exists")
    );
    assert!(
        warned
            .body
            .contains(&format!("href=\"/organizations/{first}\">ACME, Inc.</a>"))
    );
    assert!(warned.body.contains("value=\"acme inc\"") && warned.body.contains("value=\"dup\""));
    assert!(warned.body.contains(">Create anyway</button>"));

    let anyway = create(
        &client,
        &[
            ("name", "acme inc"),
            ("short_name", "dup"),
            ("confirm_similar", "1"),
        ],
    )
    .await;
    assert_eq!(anyway.status, 303);
    let count = app.org_count().await;
    assert_eq!(count, 2);
}

#[tokio::test]
async fn sub_organizations_breadcrumbs_and_loops() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    create(&client, &[("name", "Globex")]).await;
    let globex = id_of(&app, "Globex").await;
    let res = create(
        &client,
        &[("name", "Globex East"), ("parent_name", "globex")],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let east = id_of(&app, "Globex East").await;
    create(
        &client,
        &[("name", "Globex East Lab"), ("parent_name", "Globex East")],
    )
    .await;
    let lab = id_of(&app, "Globex East Lab").await;

    let page = client.get(&format!("/organizations/{lab}")).await.body;
    let crumbs = format!(
        "<a href=\"/organizations/{globex}\">Globex</a> › <a href=\"/organizations/{east}\">Globex East</a> › <span aria-current=\"page\">Globex East Lab</span>"
    );
    assert!(page.contains(&crumbs), "{page}");
    let parent = client.get(&format!("/organizations/{globex}")).await.body;
    assert!(parent.contains(&format!(
        "<a href=\"/organizations/{east}\">Globex East</a>"
    )));
    assert!(parent.contains("Sub-organizations <span class=\"muted\">(1)</span>"));

    // The organization itself, or one below it, cannot become its parent.
    for (target, parent_name) in [
        (globex, "Globex"),
        (globex, "Globex East Lab"),
        (east, "Globex East Lab"),
    ] {
        let edit_page = client.get(&format!("/organizations/{target}/edit")).await;
        assert_eq!(edit_page.status, 200);
        let name = if target == globex {
            "Globex"
        } else {
            "Globex East"
        };
        let res = edit(
            &client,
            target,
            &[("name", name), ("parent_name", parent_name)],
        )
        .await;
        assert_eq!(res.status, 422, "{name} under {parent_name}");
        assert!(res.body.contains("cannot be its own parent"));
    }
    // A parent that does not exist.
    let res = create(
        &client,
        &[("name", "Orphan"), ("parent_name", "Nobody Inc")],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("No organization is named"));
    assert!(res.body.contains("value=\"Nobody Inc\""));
    let res = create(
        &client,
        &[
            ("name", "Orphan"),
            ("parent_name", "Globex"),
            ("parent_id", "999999"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "a stale id falls back to the typed name");

    // Moving works, and is recorded.
    let res = edit(
        &client,
        lab,
        &[
            ("name", "Globex East Lab"),
            ("parent_name", "Globex"),
            ("parent_id", &globex.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status, 303);
    let page = client.get(&format!("/organizations/{lab}")).await.body;
    assert!(page.contains("parent: Globex East → Globex"), "{page}");
}

#[tokio::test]
async fn a_parent_name_shared_by_several_asks_which() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    create(&client, &[("name", "Initech"), ("short_name", "INI-1")]).await;
    create(
        &client,
        &[
            ("name", "Initech"),
            ("short_name", "INI-2"),
            ("confirm_similar", "1"),
        ],
    )
    .await;
    let res = create(
        &client,
        &[("name", "Initech Branch"), ("parent_name", "Initech")],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("Several organizations are named"));
    assert!(res.body.contains("(INI-1)") && res.body.contains("(INI-2)"));
    let second: i64 = app
        .db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::organizations as o;
            o::table
                .filter(o::short_name.eq("INI-2"))
                .select(o::id)
                .first(c)
                .unwrap()
        })
        .await;
    let res = create(
        &client,
        &[
            ("name", "Initech Branch"),
            ("parent_name", "Initech"),
            ("parent_id", &second.to_string()),
        ],
    )
    .await;
    assert_eq!(res.status, 303);
    let page = client.get(res.location()).await.body;
    assert!(page.contains(&format!(
        "<dd id=\"org-parent\"><a href=\"/organizations/{second}\">Initech</a></dd>"
    )));
}

#[tokio::test]
async fn search_is_case_insensitive_literal_and_unicode() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    for (name, short) in [
        ("Ärzte Müller", "AEM"),
        ("50% Off Stores", "HALF"),
        ("Under_Score Ltd", "US"),
        ("Back\\slash Co", "BS"),
        ("Plain Company", "PLAIN"),
    ] {
        assert_eq!(
            create(&client, &[("name", name), ("short_name", short)])
                .await
                .status,
            303
        );
    }
    let found = |body: &str, name: &str| body.contains(&format!(">{name}</a>"));
    let search = |q: &'static str| {
        let client = &client;
        async move {
            client
                .get(&format!(
                    "/organizations?{}",
                    serde_urlencoded::to_string([("q", q)]).unwrap()
                ))
                .await
                .body
        }
    };

    let body = search("ärzte").await;
    assert!(found(&body, "Ärzte Müller") && !found(&body, "Plain Company"));
    assert!(found(&search("ÄRZTE MÜ").await, "Ärzte Müller"));
    assert!(found(&search("müller").await, "Ärzte Müller"));
    assert!(found(&search("aem").await, "Ärzte Müller"), "short name");
    let body = search("%").await;
    assert!(
        found(&body, "50% Off Stores") && !found(&body, "Plain Company"),
        "% is literal"
    );
    let body = search("_").await;
    assert!(
        found(&body, "Under_Score Ltd") && !found(&body, "Plain Company"),
        "_ is literal"
    );
    let body = search("\\").await;
    assert!(
        found(&body, "Back\\slash Co") && !found(&body, "Plain Company"),
        "backslash is literal"
    );
    let body = search("r_s").await;
    assert!(found(&body, "Under_Score Ltd"));
    assert!(!found(&search("r%s").await, "Under_Score Ltd"));
    let body = search("nothing like this").await;
    assert!(body.contains("No organization matches"));
    assert!(body.contains("+ New"), "the empty state offers + New");

    // Organizations being deleted never appear.
    let plain = id_of(&app, "Plain Company").await;
    app.mark_being_deleted(&[plain]).await;
    assert!(!found(&search("plain").await, "Plain Company"));
    assert!(!found(
        &client.get("/organizations").await.body,
        "Plain Company"
    ));
    assert_eq!(
        client.get(&format!("/organizations/{plain}")).await.status,
        404
    );
}

#[tokio::test]
async fn filters_sorting_and_pages() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Administrator).await;
    for i in 0..60 {
        app.add_org(&format!("Company {i:03}"), None).await;
    }
    let vendor = kind_id(&app, "types", "Vendor").await;
    let inactive = kind_id(&app, "statuses", "Inactive").await;
    let v = id_of(&app, "Company 007").await;
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::organizations as o;
        diesel::update(o::table.find(v))
            .set((
                o::type_id.eq(vendor),
                o::status_id.eq(inactive),
                o::psa_kind.eq("connectwise"),
                o::psa_company_id.eq("42"),
            ))
            .execute(c)
            .unwrap();
    })
    .await;

    let first = client.get("/organizations").await.body;
    assert!(first.contains("60 organizations, page 1 of 2"));
    assert!(
        first.contains(">Company 000</a>")
            && first.contains(">Company 049</a>")
            && !first.contains(">Company 050</a>")
    );
    assert!(first.contains("href=\"/organizations?page=2\""));
    let second = client.get("/organizations?page=2").await.body;
    assert!(second.contains(">Company 059</a>") && !second.contains(">Company 049</a>"));
    let desc = client.get("/organizations?sort=-name").await.body;
    assert!(desc.find(">Company 059</a>").unwrap() < desc.find(">Company 058</a>").unwrap());

    let only = client
        .get(&format!("/organizations?type={vendor}"))
        .await
        .body;
    assert!(
        only.contains(">Company 007</a>")
            && only.contains("1 organization")
            && !only.contains(">Company 008</a>")
    );
    let only = client
        .get(&format!("/organizations?status={inactive}&psa=linked"))
        .await
        .body;
    assert!(only.contains(">Company 007</a>") && only.contains("title=\"Synced with the PSA\""));
    let unlinked = client.get("/organizations?psa=unlinked").await.body;
    assert!(unlinked.contains("59 organizations"));

    for bad in [
        "sort=password",
        "type=abc",
        "status=1;drop",
        "psa=maybe",
        "page=0",
        "page=-3",
        "page=x",
    ] {
        assert_eq!(
            client.get(&format!("/organizations?{bad}")).await.status,
            400,
            "{bad}"
        );
    }
    let far = client.get("/organizations?page=999999999").await;
    assert_eq!(far.status, 200);
    assert!(
        far.body
            .contains("There is no page 999999999: the last page is 2.")
    );
}

#[tokio::test]
async fn markup_in_names_notes_and_search_is_escaped() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let evil = "\"><script>alert(1)</script>";
    let res = create(
        &client,
        &[
            ("name", evil),
            ("short_name", evil),
            ("quick_notes", evil),
            ("alert", evil),
            ("description", evil),
        ],
    )
    .await;
    assert_eq!(res.status, 303);
    let id = res.location().rsplit('/').next().unwrap().to_owned();
    for path in [
        format!("/organizations/{id}"),
        format!("/organizations/{id}/edit"),
        "/organizations".to_owned(),
        format!("/organizations?q={}", "%22%3E%3Cscript%3E"),
    ] {
        let body = client.get(&path).await.body;
        assert!(!body.contains("<script>alert(1)</script>"), "{path}");
        assert!(
            body.contains("&lt;script&gt;") || body.contains("&#60;script&#62;"),
            "{path}"
        );
    }
    let lookup = client.get("/organizations/lookup?q=script").await;
    assert_eq!(lookup.header("content-type"), "application/json");
    assert!(
        lookup.body.contains("\\\"><script>") || lookup.body.contains("\\u003cscript"),
        "JSON keeps the text as data: {}",
        lookup.body
    );
}

#[tokio::test]
async fn read_only_users_cannot_change_anything() {
    let app = TestApp::spawn().await;
    let org = app.add_org("Stable Co", None).await;
    let reader = app.login_as(Role::ReadOnly).await;
    let page = reader.get(&format!("/organizations/{org}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(">Edit</a>"));
    assert!(!reader.get("/organizations").await.body.contains("+ New"));
    assert_eq!(edit(&reader, org, &[("name", "Hacked")]).await.status, 403);
    assert_eq!(
        reader
            .post_multipart("/organizations", &[("name", "New By Reader")], None)
            .await
            .status,
        403
    );
    let names: Vec<String> = app
        .db(|c| {
            use diesel::prelude::*;
            use roster::db::schema::organizations as o;
            o::table.select(o::name).load(c).unwrap()
        })
        .await;
    assert_eq!(names, vec!["Stable Co".to_owned()]);
}

#[tokio::test]
async fn a_restricted_user_sees_only_their_organizations() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    let mut ids = Vec::new();
    for name in ["Alpha Co", "Beta Co", "Gamma Co", "Delta Co"] {
        ids.push(app.add_org(name, None).await);
    }
    let beta_child = app.add_org("Beta Child", Some("Beta Co")).await;
    let email = app.add_user(Role::Editor, "limited").await;
    let uid = user_id(&app, &email).await;
    assert_eq!(
        admin
            .post(&format!("/users/{uid}/access"), &[("all", "false")])
            .await
            .status,
        303
    );
    assert_eq!(
        admin
            .post(
                &format!("/users/{uid}/access/add"),
                &[("organization", "alpha co")]
            )
            .await
            .status,
        303
    );
    assert_eq!(
        admin
            .post(
                &format!("/users/{uid}/access/add"),
                &[("organization", "Beta Child")]
            )
            .await
            .status,
        303
    );
    let page = admin.get(&format!("/users/{uid}")).await.body;
    assert!(page.contains(">Alpha Co</a>") && page.contains(">Beta Child</a>"));

    let user = app.client();
    user.login(&email, crate::support::PASSWORD).await;
    let list = user.get("/organizations").await.body;
    assert!(list.contains("2 organizations"));
    assert!(list.contains(">Alpha Co</a>") && list.contains(">Beta Child</a>"));
    for hidden in ["Beta Co", "Gamma Co", "Delta Co"] {
        assert!(
            !list.contains(&format!(">{hidden}</a>")),
            "{hidden} in the list"
        );
        let found = user
            .get(&format!("/organizations?q={}", hidden.replace(' ', "+")))
            .await
            .body;
        assert!(
            !found.contains(&format!(">{hidden}</a>")),
            "{hidden} in search"
        );
        let lookup = user
            .get(&format!(
                "/organizations/lookup?q={}",
                hidden.replace(' ', "+")
            ))
            .await
            .body;
        assert!(!lookup.contains(hidden), "{hidden} in the chooser");
    }
    let max = ids.iter().chain([&beta_child]).max().copied().unwrap();
    for id in 1..=max + 2 {
        let status = user.get(&format!("/organizations/{id}")).await.status;
        let expected = if id == ids[0] || id == beta_child {
            200
        } else {
            404
        };
        assert_eq!(status, expected, "organization {id}");
    }
    // The breadcrumb does not name the parent they cannot see.
    let child = user.get(&format!("/organizations/{beta_child}")).await.body;
    assert!(!child.contains("Beta Co<"), "{child}");
    // They cannot create organizations, nor pick an invisible parent.
    assert_eq!(user.get("/organizations/new").await.status, 403);
    assert_eq!(
        user.post_multipart("/organizations", &[("name", "Sneaky")], None)
            .await
            .status,
        403
    );
    let res = edit(
        &user,
        ids[0],
        &[("name", "Alpha Co"), ("parent_name", "Gamma Co")],
    )
    .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("No organization is named"));
    // Saving the child keeps its invisible parent.
    let res = edit(
        &user,
        beta_child,
        &[("name", "Beta Child"), ("quick_notes", "edited")],
    )
    .await;
    assert_eq!(res.status, 303);
    let parent: Option<i64> = app
        .db(move |c| {
            use diesel::prelude::*;
            use roster::db::schema::organizations as o;
            o::table
                .find(beta_child)
                .select(o::parent_id)
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(parent, Some(ids[1]));
}

#[tokio::test]
async fn lite_users_get_at_most_five_organizations() {
    let app = TestApp::spawn().await;
    let admin = app.login_as(Role::Administrator).await;
    for i in 0..6 {
        app.add_org(&format!("Lite Org {i}"), None).await;
    }
    let email = app.add_user(Role::Lite, "lite").await;
    let uid = user_id(&app, &email).await;
    let lite = app.client();
    lite.login(&email, crate::support::PASSWORD).await;
    assert!(
        lite.get("/organizations")
            .await
            .body
            .contains("No organizations yet."),
        "a new Lite user sees none"
    );

    for i in 0..5 {
        admin
            .post(
                &format!("/users/{uid}/access/add"),
                &[("organization", &format!("Lite Org {i}"))],
            )
            .await;
    }
    let res = admin
        .post(
            &format!("/users/{uid}/access/add"),
            &[("organization", "Lite Org 5")],
        )
        .await;
    let page = admin.get(res.location()).await.body;
    assert!(page.contains("Lite users see at most 5 organizations."));
    let res = admin
        .post(&format!("/users/{uid}/access"), &[("all", "true")])
        .await;
    let page = admin.get(res.location()).await.body;
    assert!(page.contains("choose them from the list instead"));
    assert!(
        lite.get("/organizations")
            .await
            .body
            .contains("5 organizations")
    );
}

#[tokio::test]
async fn one_page_runs_the_same_number_of_statements_for_10_and_50_rows() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Administrator).await;
    let mut parent = None;
    for i in 0..10 {
        let id = app.add_org(&format!("Org {i:02}"), parent.as_deref()).await;
        assert!(id > 0);
        parent = Some(format!("Org {i:02}"));
    }
    client.get("/organizations").await;
    let before = app.queries.get();
    let ten = client.get("/organizations").await;
    let for_ten = app.queries.get() - before;
    assert!(ten.body.contains("10 organizations"));

    for i in 10..50 {
        app.add_org(&format!("Org {i:02}"), Some("Org 00")).await;
    }
    client.get("/organizations").await;
    let before = app.queries.get();
    let fifty = client.get("/organizations").await;
    let for_fifty = app.queries.get() - before;
    assert!(fifty.body.contains("50 organizations"));
    assert_eq!(for_ten, for_fifty, "statements for 10 rows vs 50 rows");
    // The session; the rows with their logo sizes and the maintained count; the parents not on
    // the page (no check-out pings; types and statuses from the cache).
    assert!(for_fifty <= 3, "{for_fifty} statements for one page");
}

#[tokio::test]
async fn types_and_statuses_are_managed_in_settings() {
    let app = TestApp::spawn().await;
    let manager = app.login_as(Role::Manager).await;
    let page = manager.get("/settings/types").await;
    assert_eq!(page.status, 200);
    for name in ["Customer", "Prospect", "Vendor", "Partner", "Internal"] {
        assert!(page.body.contains(&format!("value=\"{name}\"")), "{name}");
    }
    assert!(
        manager
            .get("/settings/statuses")
            .await
            .body
            .contains("value=\"Inactive\"")
    );
    assert_eq!(manager.get("/settings/colours").await.status, 404);

    let res = manager
        .post("/settings/types", &[("name", "Reseller"), ("synced", "1")])
        .await;
    assert_eq!(res.status, 303);
    let dup = manager
        .post("/settings/types", &[("name", "reseller")])
        .await;
    assert_eq!(dup.status, 422);
    assert!(dup.body.contains("There is already a type named reseller."));

    let reseller = kind_id(&app, "types", "Reseller").await;
    let res = manager
        .post(
            &format!("/settings/types/{reseller}"),
            &[("name", "Channel Partner")],
        )
        .await;
    assert_eq!(res.status, 303);
    let synced: bool = app
        .db(move |c| {
            use diesel::prelude::*;
            use roster::db::schema::organization_types as t;
            t::table.find(reseller).select(t::synced).first(c).unwrap()
        })
        .await;
    assert!(!synced, "unchecked means no sync");

    let org = app.add_org("Uses Channel", None).await;
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::organizations as o;
        diesel::update(o::table.find(org))
            .set(o::type_id.eq(reseller))
            .execute(c)
            .unwrap();
    })
    .await;
    let res = manager
        .post(&format!("/settings/types/{reseller}/delete"), &[])
        .await;
    let page = manager.get(res.location()).await.body;
    assert!(
        page.contains("Channel Partner cannot be removed: 1 organization uses it."),
        "{page}"
    );
    // An organization being deleted holds its type and status until it is purged: counted
    // beside the visible ones (kept in `organization_counts`), a status held by it alone too.
    let res = manager
        .post("/settings/statuses", &[("name", "Dormant")])
        .await;
    assert_eq!(res.status, 303);
    let dormant = kind_id(&app, "statuses", "Dormant").await;
    let leaving = app.add_org("Leaving Channel", None).await;
    app.db(move |c| {
        use diesel::prelude::*;
        use roster::db::schema::organizations as o;
        diesel::update(o::table.find(leaving))
            .set((o::type_id.eq(reseller), o::status_id.eq(dormant)))
            .execute(c)
            .unwrap();
    })
    .await;
    app.mark_being_deleted(&[leaving]).await;
    for (path, expected) in [
        (
            format!("/settings/types/{reseller}/delete"),
            "Channel Partner cannot be removed: 2 organizations use it.",
        ),
        (
            format!("/settings/statuses/{dormant}/delete"),
            "Dormant cannot be removed: 1 organization uses it.",
        ),
    ] {
        let res = manager.post(&path, &[]).await;
        let page = manager.get(res.location()).await.body;
        assert!(page.contains(expected), "{expected}: {page}");
    }

    let prospect = kind_id(&app, "types", "Prospect").await;
    let res = manager
        .post(&format!("/settings/types/{prospect}/delete"), &[])
        .await;
    assert!(
        manager
            .get(res.location())
            .await
            .body
            .contains("Removed Prospect.")
    );
}
