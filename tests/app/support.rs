//! The test app is the real app on a random port, with a database of its own: a fresh SQLite
//! file, or a fresh PostgreSQL database when `ROSTER_TEST_BACKEND=postgres`.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use roster::Application;
use roster::auth::Role;
use roster::auth::accounts::{self, NewUser};
use roster::config::RawSettings;
use roster::db::DbPool;

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend this run tests; CI runs the suite once for each.
pub fn backend() -> Backend {
    match std::env::var("ROSTER_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("ROSTER_TEST_BACKEND={other}: use sqlite or postgres"),
    }
}

/// The PostgreSQL server used for throwaway databases (a role that may create databases).
pub fn pg_admin_url() -> String {
    std::env::var("ROSTER_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://roster_test:roster_test@127.0.0.1:5432/postgres".into())
}

/// A throwaway PostgreSQL database, dropped (with its connections) when this is dropped.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> Self {
        let admin = pg_admin_url();
        let mut conn = PgConnection::establish(&admin)
            .unwrap_or_else(|e| panic!("PostgreSQL is required for this test ({admin}): {e}"));
        static SWEPT: std::sync::Once = std::sync::Once::new();
        SWEPT.call_once(|| sweep_stale(&mut conn));
        let name = format!(
            "{PG_PREFIX}{}_{}",
            unix_now(),
            &roster::auth::token::hash(&roster::auth::token::generate())[..12]
        );
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

/// A test database's name: the prefix, the second it was made, a random part.
const PG_PREFIX: &str = "roster_test_";

/// Databases older than this were left by a run that ended without dropping them (a run lasts
/// well under it).
const STALE_SECS: u64 = 6 * 3600;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[derive(diesel::QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

/// Drops the test databases that a run left behind (a process killed before its drops ran):
/// those whose name says they were made more than `STALE_SECS` ago.
fn sweep_stale(conn: &mut PgConnection) {
    let names: Vec<DatabaseName> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind::<diesel::sql_types::Text, _>(PG_PREFIX)
            .load(conn)
            .unwrap_or_default();
    for db in names {
        let made = db
            .datname
            .strip_prefix(PG_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(secs, _)| secs.parse::<u64>().ok());
        if made.is_some_and(|at| unix_now().saturating_sub(at) > STALE_SECS) {
            let _ = drop_database(conn, &db.datname);
        }
    }
}

fn drop_database(conn: &mut PgConnection, name: &str) -> diesel::QueryResult<usize> {
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(conn)
}

impl Drop for PgDatabase {
    /// Tries again for a few seconds (a backend being ended may keep it busy), and says so when
    /// the database stays behind.
    fn drop(&mut self) {
        let mut last = String::new();
        for _ in 0..5 {
            let dropped = PgConnection::establish(&pg_admin_url())
                .map_err(|e| e.to_string())
                .and_then(|mut conn| {
                    drop_database(&mut conn, &self.name).map_err(|e| e.to_string())
                });
            match dropped {
                Ok(_) => return,
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        eprintln!("test database {} left behind: {last}", self.name);
    }
}

/// Where a test app keeps its data.
pub struct Store {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    _pg: Option<PgDatabase>,
}

impl Store {
    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => Self {
                database_url: dir.path().join("roster.sqlite3").display().to_string(),
                dir,
                _pg: None,
            },
            Backend::Postgres => {
                let pg = PgDatabase::create();
                Self {
                    database_url: pg.url.clone(),
                    dir,
                    _pg: Some(pg),
                }
            }
        }
    }

    pub fn settings(&self) -> RawSettings {
        RawSettings {
            database_url: Some(self.database_url.clone()),
            data_dir: Some(self.dir.path().to_path_buf()),
            bind: Some("127.0.0.1:0".into()),
            workers: Some(2),
            pool_size: Some(4),
            ..RawSettings::default()
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub setup_link: Option<String>,
    pub pool: DbPool,
    pub store: std::sync::Arc<Store>,
    pub queries: roster::db::QueryCounter,
    /// The server's Organizations list caches (the name blocks of searches, `name_blocks`).
    pub lists: std::sync::Arc<roster::orgs::ListCaches>,
    pub data_key: roster::config::SecretKey,
    server: Option<(actix_web::dev::ServerHandle, std::thread::JoinHandle<()>)>,
}

impl Drop for TestApp {
    /// Stops the server and waits for it, so that no worker holds a database connection when the
    /// test database is dropped or the process exits (libpq does not like being torn down under
    /// a live connection).
    fn drop(&mut self) {
        if let Some((handle, thread)) = self.server.take() {
            let stopper = std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(handle.stop(false));
            });
            let _ = stopper.join();
            let _ = thread.join();
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut RawSettings)) -> Self {
        Self::spawn_on(std::sync::Arc::new(Store::new(backend())), adjust).await
    }

    /// A second instance on the same database and keys (a restart, or another server).
    pub async fn spawn_on(
        store: std::sync::Arc<Store>,
        adjust: impl FnOnce(&mut RawSettings),
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        Self::spawn_listening(store, listener, adjust)
    }

    /// An app reached as `http://localhost:PORT` (`ROSTER_BASE_URL` too): WebAuthn needs a host
    /// name, and browsers treat localhost as a secure context.
    pub async fn spawn_localhost() -> Self {
        Self::spawn_localhost_with(|_| {}).await
    }

    pub async fn spawn_localhost_with(adjust: impl FnOnce(&mut RawSettings)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://localhost:{}", listener.local_addr().unwrap().port());
        let store = std::sync::Arc::new(Store::new(backend()));
        let url = base.clone();
        let mut app = Self::spawn_listening(store, listener, move |s| {
            adjust(s);
            s.base_url = Some(url);
        });
        app.base = base;
        app
    }

    fn spawn_listening(
        store: std::sync::Arc<Store>,
        listener: TcpListener,
        adjust: impl FnOnce(&mut RawSettings),
    ) -> Self {
        let mut raw = store.settings();
        adjust(&mut raw);
        let settings = raw.resolve().unwrap();
        let data_key = settings.data_key.clone();
        let port = listener.local_addr().unwrap().port();
        let app = Application::build_on(listener, settings).unwrap();
        let setup_link = app
            .setup_link
            .clone()
            .map(|l| l.replace("http://127.0.0.1:0", &format!("http://127.0.0.1:{port}")));
        let pool = app.pool.clone();
        let queries = app.queries.clone();
        let lists = app.lists.clone();
        let handle = app.handle();
        let server = std::thread::spawn(move || {
            let _ = actix_web::rt::System::new().block_on(app.run_until_stopped());
        });
        Self {
            base: format!("http://127.0.0.1:{port}"),
            setup_link,
            pool,
            store,
            queries,
            lists,
            data_key,
            server: Some((handle, server)),
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Adds a user straight through the use case; returns the email.
    pub async fn add_user(&self, role: Role, name: &str) -> String {
        let email = format!("{name}@example.com");
        let new = NewUser::parse(&email, name, role.as_str(), PASSWORD, PASSWORD).unwrap();
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            accounts::create(&mut pool.get().unwrap(), None, &new).unwrap()
        })
        .await
        .unwrap();
        email
    }

    /// A client signed in as a new user of `role`.
    pub async fn login_as(&self, role: Role) -> Client {
        let name = format!(
            "{}-{}",
            role.as_str(),
            &roster::auth::token::generate()[..8]
        )
        .to_lowercase();
        let email = self.add_user(role, &name).await;
        let client = self.client();
        let res = client.login(&email, PASSWORD).await;
        assert_eq!(res.status, 303, "login as {role:?} failed: {}", res.body);
        client
    }

    /// Creates an organization through the use case, as the first Administrator; returns its id.
    pub async fn add_org(&self, name: &str, parent: Option<&str>) -> i64 {
        let form = roster::orgs::OrgForm {
            name: name.to_owned(),
            parent_name: parent.unwrap_or_default().to_owned(),
            confirm_similar: "1".into(),
            ..Default::default()
        };
        let actor = self.seed_admin().await;
        self.db(move |c| {
            let input = roster::orgs::model::OrgInput::try_from(&form).unwrap();
            roster::orgs::create::create(c, &actor, &input, &Default::default())
                .unwrap()
                .0
        })
        .await
    }

    /// The first Administrator with access to everything (created if there is none).
    pub async fn seed_admin(&self) -> roster::auth::User {
        self.db(|c| {
            let found = roster::auth::users::list(c)
                .unwrap()
                .into_iter()
                .find(|u| u.all_organizations && u.role == Role::Administrator);
            found.unwrap_or_else(|| {
                let new = NewUser::parse(
                    "seed@example.com",
                    "Seed",
                    "administrator",
                    PASSWORD,
                    PASSWORD,
                )
                .unwrap();
                let id = accounts::create(c, None, &new).unwrap();
                roster::auth::users::find(c, id).unwrap().unwrap().user()
            })
        })
        .await
    }

    /// Adds a record of `kind` to organization `org` through the use case; returns its id.
    pub async fn add_record(
        &self,
        org: i64,
        kind: roster::records::Kind,
        asset_type: Option<i64>,
        fields: &[(&str, &str)],
    ) -> i64 {
        let actor = self.seed_admin().await;
        let key = self.data_key.clone();
        let form: std::collections::HashMap<String, String> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.db(move |c| {
            let mut all = roster::records::fields::of(kind);
            if let Some(t) = asset_type {
                all.extend(roster::records::flex::find(c, t).unwrap().unwrap().fields);
            }
            let checked = roster::records::values::check(&all, &form, false).unwrap();
            let org = roster::orgs::OrgRef {
                id: org,
                name: "org".into(),
                short_name: String::new(),
            };
            let new = roster::records::store::NewRecord {
                org: &org,
                kind,
                asset_type_id: asset_type,
                checked: &checked,
            };
            roster::records::store::create(c, &actor, &key, &new)
                .unwrap()
                .0
        })
        .await
    }

    /// Gives organization `org` a small logo.
    pub async fn add_logo(&self, org: i64) {
        let logo = roster::logo::process(&crate::images::png(40, 20, false)).unwrap();
        self.db(move |c| {
            roster::orgs::logos::apply(
                c,
                roster::orgs::OrgId(org),
                &roster::orgs::logos::LogoChange::Replace(logo),
            )
            .unwrap();
        })
        .await;
    }

    /// How many organizations are stored (deleted or not).
    pub async fn org_count(&self) -> i64 {
        self.db(|c| {
            use diesel::prelude::*;
            roster::db::schema::organizations::table
                .count()
                .get_result(c)
                .unwrap()
        })
        .await
    }

    /// Marks these organizations as being deleted (as a deletion's first step does), by hand.
    pub async fn mark_being_deleted(&self, ids: &[i64]) {
        use diesel::prelude::*;
        use roster::db::schema::organizations;
        let ids = ids.to_vec();
        self.db(move |c| {
            diesel::update(organizations::table.filter(organizations::id.eq_any(ids)))
                .set(organizations::deleted_at.eq(Some(roster::db::now())))
                .execute(c)
                .unwrap()
        })
        .await;
    }

    /// Runs diesel work against the app's database.
    pub async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut roster::db::DbConn) -> T + Send + 'static,
    ) -> T {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || work(&mut pool.get().unwrap()))
            .await
            .unwrap()
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// An HTTP client with its own cookie jar, kept by hand so tests can read, copy and tamper with
/// cookies. Redirects are not followed.
pub struct Client {
    http: reqwest::Client,
    base: String,
    pub cookies: Mutex<BTreeMap<String, String>>,
}

/// The CSRF token in a page's first form.
pub fn csrf_in(body: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in:\n{body}"))
        + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

impl Client {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            // Drop idle connections well before the server's 5 s keep-alive closes them: a request
            // sent on a connection the server is closing fails with IncompleteMessage (seen on a
            // loaded machine).
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        Self {
            http,
            base: base.to_owned(),
            cookies: Mutex::default(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.cookies
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }

    fn cookie_header(&self) -> String {
        let jar = self.cookies.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Resp {
        let request = request.header("cookie", self.cookie_header());
        let res = request.send().await.unwrap();
        for set in res.headers().get_all("set-cookie") {
            let text = set.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let removed = value.is_empty() || text.to_ascii_lowercase().contains("max-age=0");
            let mut jar = self.cookies.lock().unwrap();
            if removed {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.text().await.unwrap();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// A GET with extra headers.
    pub async fn get_with_headers(&self, path: &str, extra: &[(&str, &str)]) -> Resp {
        let mut request = self.http.get(format!("{}{path}", self.base));
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        self.send(request).await
    }

    /// A form post exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.send(self.http.post(format!("{}{path}", self.base)).form(fields))
            .await
    }

    /// A form post with `extra` headers, exactly as given.
    pub async fn post_with_headers(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(fields);
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        self.send(request).await
    }

    /// The CSRF token this client's session (or pre-session) gets in its forms.
    pub async fn csrf(&self) -> String {
        let mut page = self.get("/organizations").await;
        if page.status != 200 {
            page = self.get("/login").await;
        }
        assert_eq!(page.status, 200, "no page with a CSRF token: {page:?}");
        csrf_in(&page.body)
    }

    /// A form post with this client's CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.csrf().await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// A multipart form post (the organization form) with this client's CSRF token and, when
    /// given, a file in the `logo` field.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        logo: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        let token = self.csrf().await;
        self.post_multipart_raw(path, Some(&token), fields, logo)
            .await
    }

    /// The same, with the token given (or none).
    pub async fn post_multipart_raw(
        &self,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
        logo: Option<(&str, Vec<u8>)>,
    ) -> Resp {
        let mut form = reqwest::multipart::Form::new();
        if let Some(token) = token {
            form = form.text("csrf_token", token.to_owned());
        }
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        if let Some((file_name, bytes)) = logo {
            form = form.part(
                "logo",
                reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
            );
        }
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .multipart(form),
        )
        .await
    }

    /// A multipart post with this client's CSRF token first, `fields`, then one file
    /// `(field, file name, bytes)`.
    pub async fn post_multipart_file(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        (field, file_name, bytes): (&str, &str, Vec<u8>),
    ) -> Resp {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", self.csrf().await);
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        form = form.part(
            field.to_owned(),
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
        );
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .multipart(form),
        )
        .await
    }

    /// A JSON post (the passkey script's), with `token` in the X-CSRF-Token header when given.
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &str) -> Resp {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        self.send(request).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post("/login", &[("email", email), ("password", password)])
            .await
    }
}

/// How long `work` takes.
pub async fn timed<T>(work: impl std::future::Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let out = work.await;
    (out, start.elapsed())
}
