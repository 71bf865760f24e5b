//! Deletion benchmark (issue: deleting organizations). Builds, on SQLite, one organization with 50
//! sub-organizations (10 below it, 4 below each of those) and 280,000 records in all, next to 300
//! other organizations whose records must survive, then prints in one run:
//!
//! - the baseline: one transaction that deletes the organizations leaves first and lets
//!   `ON DELETE CASCADE` take the records and logos;
//! - our background delete of the same data: the delete request to the real server (grace 0),
//!   until the purge job is `done`, with the shipped purge settings (batch rows, pause, lease);
//! - during each, the longest wait of a one-row write (`app_settings`, in `BEGIN IMMEDIATE` like
//!   every write of Roster) that another connection makes every 5 ms;
//! - over HTTP, the delete request (default 15-minute grace, so only the request) next to an
//!   ordinary Save of the Edit form, the median of several of each.
//!
//! Each measurement starts from its own copy of the same database file.
//!
//!     cargo bench --bench delete
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use roster::Application;
use roster::auth::User;
use roster::auth::accounts::{self, NewUser};
use roster::config::{RawSettings, SecretKey, Settings};
use roster::db::schema::{app_settings, flexible_asset_types, logos, organizations, records};
use roster::db::{self, DbConn};
use roster::jobs::{JobId, State, queue};
use roster::orgs::logos::LogoChange;
use roster::orgs::model::OrgInput;
use roster::orgs::{OrgForm, OrgId, create, delete, demo, kinds};
use roster::records::Kind;

const TOP_SUBS: usize = 10;
const SUBS_EACH: usize = 4;
const RECORDS: usize = 280_000;
const OTHERS: usize = 300;
const OTHER_RECORDS: usize = 20;
const WRITE_EVERY: Duration = Duration::from_millis(5);
const REPS: usize = 7;
const ROOT: &str = "Bench Holdings Group";
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "a benchmark password";
const HEARTBEAT: &str = "bench.heartbeat";

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

// ----- the data -----

/// What was built, and where.
struct Fixture {
    dir: tempfile::TempDir,
    master: PathBuf,
    root: i64,
    /// The organizations to delete by depth, the root's level first.
    levels: Vec<Vec<i64>>,
    logos: usize,
    /// The type and status every organization of the subtree has.
    kinds: (i64, i64),
}

impl Fixture {
    fn copy(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::copy(&self.master, &path).unwrap();
        path.display().to_string()
    }

    fn settings(&self, url: &str, grace_seconds: Option<u64>) -> Settings {
        RawSettings {
            database_url: Some(url.to_owned()),
            data_dir: Some(self.dir.path().to_path_buf()),
            bind: Some("127.0.0.1:0".into()),
            delete_grace_seconds: grace_seconds,
            job_poll_ms: Some(20),
            ..RawSettings::default()
        }
        .resolve()
        .unwrap()
    }
}

fn admin(conn: &mut DbConn) -> User {
    let new = NewUser::parse(EMAIL, "Bench", "administrator", PASSWORD, PASSWORD).unwrap();
    let id = accounts::create(conn, None, &new).unwrap();
    roster::auth::users::find(conn, id).unwrap().unwrap().user()
}

fn logo() -> roster::logo::Logo {
    let image = image::RgbImage::from_fn(600, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    roster::logo::process(&png).unwrap()
}

/// Creates one organization through the use case (as the Save of + New does).
fn add_org(
    conn: &mut DbConn,
    user: &User,
    (name, short_name): (&str, &str),
    parent: Option<(i64, &str)>,
    with_logo: bool,
) -> i64 {
    let mut first = |kind| kinds::all(conn, kind).unwrap()[0].0.to_string();
    let form = OrgForm {
        name: name.to_owned(),
        short_name: short_name.to_owned(),
        type_id: first(kinds::Kind::Type),
        status_id: first(kinds::Kind::Status),
        parent_id: parent.map(|p| p.0.to_string()).unwrap_or_default(),
        parent_name: parent.map(|p| p.1.to_owned()).unwrap_or_default(),
        description: "Head office and branches.".into(),
        quick_notes: "Call before visiting.".into(),
        alert: String::new(),
        confirm_similar: "1".into(),
    };
    let input = OrgInput::try_from(&form).unwrap();
    let change = if with_logo {
        LogoChange::Replace(logo())
    } else {
        LogoChange::Keep
    };
    create::create(conn, user, &input, &change).unwrap().0
}

/// The root and its 50 sub-organizations, by depth; root and top-level ones get a logo.
fn subtree(conn: &mut DbConn, user: &User) -> Vec<Vec<i64>> {
    let root = add_org(conn, user, (ROOT, "BHG"), None, true);
    let (mut top, mut below) = (Vec::new(), Vec::new());
    for i in 1..=TOP_SUBS {
        let name = format!("{ROOT} Branch {i:02}");
        let short = format!("BHG-{i:02}");
        let id = add_org(conn, user, (&name, &short), Some((root, ROOT)), true);
        top.push(id);
        for j in 1..=SUBS_EACH {
            let site = (format!("{name} Site {j}"), format!("{short}-{j}"));
            below.push(add_org(
                conn,
                user,
                (&site.0, &site.1),
                Some((id, &name)),
                false,
            ));
        }
    }
    vec![vec![root], top, below]
}

const FIRST: &[&str] = &[
    "Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Radia",
];
const LAST: &[&str] = &[
    "Lovelace", "Hopper", "Torvalds", "Hamilton", "Liskov", "Perlman",
];
const NOTES: &str = "Reachable weekdays 8-17. Escalate through the service desk first; \
                     the on-call number is in the runbook. Keys are with reception.";

/// A record's title, field values (as the record forms store them) and secret.
fn record_values(
    kind: Kind,
    n: usize,
    rng: &mut StdRng,
) -> (String, BTreeMap<String, String>, Option<String>) {
    let mut v = BTreeMap::new();
    let mut put = |k: &str, s: String| {
        v.insert(k.to_owned(), s);
    };
    let (title, secret) = match kind {
        Kind::Contact => {
            let first = FIRST[rng.random_range(0..FIRST.len())];
            let last = LAST[rng.random_range(0..LAST.len())];
            let mail = format!("{}.{}", first.to_lowercase(), last.to_lowercase());
            put("first_name", first.into());
            put("last_name", last.into());
            put("title", "Office manager".into());
            put(
                "emails",
                format!("{mail}@example.com\n{mail}{n}@example.org"),
            );
            put(
                "phones",
                format!("+1 555 01{:02}\n+1 555 02{:02}", n % 100, n % 97),
            );
            put("primary", if n.is_multiple_of(7) { "1" } else { "" }.into());
            put("notes", NOTES.into());
            (format!("{first} {last}"), None)
        }
        Kind::Configuration => {
            let name = format!("srv-{n:06}");
            put("name", name.clone());
            put("kind", "Server".into());
            put("hostname", format!("{name}.corp.example.com"));
            let ip = rng.random_range(1..255);
            put(
                "ip_address",
                format!("10.{}.{}.{ip}", n % 250, n / 250 % 250),
            );
            put(
                "serial_number",
                format!("SN{:010}", rng.random_range(0..u32::MAX)),
            );
            put("status", "Active".into());
            put("notes", NOTES.into());
            (name, None)
        }
        Kind::Document => {
            let title = format!("Runbook {n}");
            put("title", title.clone());
            put(
                "body",
                format!("# {title}\n\n1. Check the backups\n2. Apply the updates\n\n{NOTES}"),
            );
            (title, None)
        }
        Kind::Password => {
            let name = format!("Admin account {n}");
            put("name", name.clone());
            put("username", "administrator".into());
            put("url", format!("https://fw{n}.corp.example.com/login"));
            put("notes", NOTES.into());
            (
                name,
                Some(format!("pw-{}", rng.random_range(100_000..999_999))),
            )
        }
        Kind::FlexibleAsset => {
            let name = format!("Licence {n}");
            put("name", name.clone());
            put("f1", rng.random_range(1..200).to_string());
            put("f2", format!("2027-{:02}-01", rng.random_range(1..13)));
            (name, None)
        }
    };
    (title, v, secret)
}

/// `RECORDS` records spread over `orgs`, interleaved as years of typing would leave them.
fn fill(conn: &mut DbConn, user: &User, key: &SecretKey, orgs: &[i64], asset_type: i64) {
    let mut rng = StdRng::seed_from_u64(42);
    for start in (0..RECORDS).step_by(10_000) {
        db::write(conn, |conn| {
            for n in start..(start + 10_000).min(RECORDS) {
                let kind = Kind::ALL[n % Kind::ALL.len()];
                let (title, values, secret) = record_values(kind, n, &mut rng);
                let at = db::now();
                let id: i64 = diesel::insert_into(records::table)
                    .values((
                        records::organization_id.eq(orgs[n % orgs.len()]),
                        records::kind.eq(kind.slug()),
                        records::title.eq(&title),
                        records::field_values.eq(serde_json::to_string(&values).unwrap()),
                        records::asset_type_id
                            .eq((kind == Kind::FlexibleAsset).then_some(asset_type)),
                        records::created_by.eq(Some(user.id.0)),
                        records::created_at.eq(at),
                        records::updated_at.eq(at),
                    ))
                    .returning(records::id)
                    .get_result(conn)?;
                if let Some(secret) = secret {
                    roster::records::store::seal_into(conn, key, id, &secret).unwrap();
                }
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    }
}

fn build() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let master = dir.path().join("master.sqlite3");
    let url = master.display().to_string();
    let settings = RawSettings {
        database_url: Some(url.clone()),
        data_dir: Some(dir.path().to_path_buf()),
        ..RawSettings::default()
    }
    .resolve()
    .unwrap();
    let pool = db::build_pool(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    db::run_migrations(&mut conn).unwrap();
    let user = admin(&mut conn);
    demo::seed(&mut conn, OTHERS, 7, OTHER_RECORDS, &settings.data_key).unwrap();
    let asset_type: i64 = flexible_asset_types::table
        .select(flexible_asset_types::id)
        .first(&mut conn)
        .unwrap();
    let levels = subtree(&mut conn, &user);
    let all: Vec<i64> = levels.concat();
    fill(&mut conn, &user, &settings.data_key, &all, asset_type);
    diesel::insert_into(app_settings::table)
        .values((
            app_settings::key.eq(HEARTBEAT),
            app_settings::value.eq("0"),
            app_settings::updated_at.eq(db::now()),
        ))
        .execute(&mut conn)
        .unwrap();
    let logos = logos::table.count().get_result::<i64>(&mut conn).unwrap();
    let kinds: (Option<i64>, Option<i64>) = organizations::table
        .find(levels[0][0])
        .select((organizations::type_id, organizations::status_id))
        .first(&mut conn)
        .unwrap();
    conn.batch_execute("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    drop(conn);
    drop(pool);
    let wal = dir.path().join("master.sqlite3-wal");
    assert!(std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0);
    Fixture {
        root: levels[0][0],
        levels,
        logos: usize::try_from(logos).unwrap(),
        kinds: (kinds.0.unwrap(), kinds.1.unwrap()),
        master,
        dir,
    }
}

/// (organizations, records, logos) in the database.
fn counts(url: &str) -> (i64, i64, i64) {
    let mut conn = DbConn::open(url).unwrap();
    (
        organizations::table.count().get_result(&mut conn).unwrap(),
        records::table.count().get_result(&mut conn).unwrap(),
        logos::table.count().get_result(&mut conn).unwrap(),
    )
}

/// Only the other organizations and their records are left.
fn only_others_left(url: &str) -> bool {
    let others = (
        i64::try_from(OTHERS).unwrap(),
        i64::try_from(OTHERS * OTHER_RECORDS).unwrap(),
    );
    let (orgs, records, logos) = counts(url);
    (orgs, records, logos) == (others.0, others.1, 0)
}

// ----- the one-row writer -----

/// Another connection that writes one row every `WRITE_EVERY` and times each write.
struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<(Vec<Duration>, usize)>,
}

struct Waits {
    count: usize,
    failed: usize,
    p99: Duration,
    max: Duration,
}

impl Heartbeat {
    fn start(url: &str) -> Self {
        let mut conn = DbConn::open(url).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut waits, mut failed) = (Vec::new(), 0);
            let mut next = Instant::now();
            for n in 0u64.. {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                let start = Instant::now();
                let written = db::write(&mut conn, |c| {
                    diesel::update(app_settings::table.find(HEARTBEAT))
                        .set((
                            app_settings::value.eq(n.to_string()),
                            app_settings::updated_at.eq(db::now()),
                        ))
                        .execute(c)
                });
                waits.push(start.elapsed());
                failed += usize::from(written.is_err());
                next += WRITE_EVERY;
                let now = Instant::now();
                if next > now {
                    std::thread::sleep(next - now);
                } else {
                    next = now;
                }
            }
            (waits, failed)
        });
        Self { stop, thread }
    }

    fn finish(self) -> Waits {
        self.stop.store(true, Ordering::Relaxed);
        let (mut waits, failed) = self.thread.join().unwrap();
        waits.sort();
        let at = |p: usize| waits[(waits.len() * p / 100).min(waits.len() - 1)];
        Waits {
            count: waits.len(),
            failed,
            p99: at(99),
            max: at(100),
        }
    }
}

// ----- the server and a client -----

struct Server {
    base: String,
    handle: actix_web::dev::ServerHandle,
    thread: JoinHandle<()>,
}

impl Server {
    fn start(settings: Settings) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Application::build_on(listener, settings).unwrap();
        let handle = app.handle();
        let thread = std::thread::spawn(move || {
            let _ = actix_web::rt::System::new().block_on(app.run_until_stopped());
        });
        Self {
            base,
            handle,
            thread,
        }
    }

    fn stop(self) {
        let handle = self.handle;
        std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(false)))
            .join()
            .unwrap();
        self.thread.join().unwrap();
    }
}

/// A signed-in browser: its own cookie jar, no redirects followed.
struct Browser {
    http: reqwest::Client,
    base: String,
    jar: BTreeMap<String, String>,
    csrf: String,
}

fn csrf_in(body: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker).expect("a CSRF field") + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

impl Browser {
    async fn sign_in(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut browser = Self {
            http,
            base: base.to_owned(),
            jar: BTreeMap::new(),
            csrf: String::new(),
        };
        let (_, page) = browser.get("/login").await;
        browser.csrf = csrf_in(&page);
        let status = browser
            .post("/login", &[("email", EMAIL), ("password", PASSWORD)])
            .await;
        assert_eq!(status, 303, "sign-in failed");
        let (_, page) = browser.get("/organizations").await;
        browser.csrf = csrf_in(&page);
        browser
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> (u16, String) {
        let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let res = request
            .header("cookie", cookies.join("; "))
            .send()
            .await
            .unwrap();
        for set in res.headers().get_all("set-cookie") {
            let text = set.to_str().unwrap();
            let (name, value) = text.split(';').next().unwrap().split_once('=').unwrap();
            if value.is_empty() || text.to_ascii_lowercase().contains("max-age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn get(&mut self, path: &str) -> (u16, String) {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// An URL-encoded form with the CSRF token; the status.
    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> u16 {
        let mut all = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let request = self.http.post(format!("{}{path}", self.base)).form(&all);
        self.send(request).await.0
    }

    /// A multipart form (the organization form) with the CSRF token; the status.
    async fn post_multipart(&mut self, path: &str, fields: &[(&str, String)]) -> u16 {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", self.csrf.clone());
        for (k, v) in fields {
            form = form.text((*k).to_owned(), v.clone());
        }
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .multipart(form);
        self.send(request).await.0
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ----- the measurements -----

/// One transaction that deletes the subtree leaves first; the cascade takes records and logos.
fn baseline(url: &str, levels: &[Vec<i64>]) -> Duration {
    let mut conn = DbConn::open(url).unwrap();
    let start = Instant::now();
    db::write(&mut conn, |c| {
        for level in levels.iter().rev() {
            diesel::delete(organizations::table.filter(organizations::id.eq_any(level)))
                .execute(c)?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
    start.elapsed()
}

struct Background {
    total: Duration,
    request: Duration,
    rows: i64,
}

/// The delete request to a server that purges at once, until its job is done.
fn background(fixture: &Fixture, url: &str) -> (Background, Waits) {
    let server = Server::start(fixture.settings(url, Some(0)));
    let rt = runtime();
    let mut browser = rt.block_on(Browser::sign_in(&server.base));
    let path = format!("/organizations/{}/delete", fixture.root);
    let mut conn = DbConn::open(url).unwrap();
    let heartbeat = Heartbeat::start(url);
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    let status = rt.block_on(browser.post(&path, &[("confirm_name", ROOT)]));
    let request = start.elapsed();
    assert_eq!(status, 303, "the delete request failed");
    let job: i64 = organizations::table
        .find(fixture.root)
        .select(organizations::deletion_job_id)
        .first::<Option<i64>>(&mut conn)
        .unwrap()
        .expect("a purge job");
    let job = loop {
        let job = queue::find(&mut conn, JobId(job)).unwrap().unwrap();
        match job.state() {
            State::Done => break job,
            State::Failed | State::Cancelled => panic!("the purge ended {:?}", job.last_error),
            State::Queued | State::Running => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let total = start.elapsed();
    let waits = heartbeat.finish();
    drop(browser);
    server.stop();
    let done = Background {
        total,
        request,
        rows: job.progress_done,
    };
    (done, waits)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Medians of the delete request (default grace, then Restore) and of a Save of the Edit form.
fn request_and_save(fixture: &Fixture, url: &str) -> (Duration, Duration) {
    let server = Server::start(fixture.settings(url, None));
    let rt = runtime();
    let (deletes, saves) = rt.block_on(async {
        let mut browser = Browser::sign_in(&server.base).await;
        let root = fixture.root;
        let (status, _) = browser.get(&format!("/organizations/{root}/edit")).await;
        assert_eq!(status, 200);
        let (mut deletes, mut saves) = (Vec::new(), Vec::new());
        for rep in 0..=REPS {
            let fields = [
                ("name", ROOT.to_owned()),
                ("short_name", "BHG".to_owned()),
                ("type_id", fixture.kinds.0.to_string()),
                ("status_id", fixture.kinds.1.to_string()),
                ("parent_id", String::new()),
                ("parent_name", String::new()),
                ("description", "Head office and branches.".to_owned()),
                ("quick_notes", format!("Call before visiting ({rep}).")),
                ("alert", String::new()),
            ];
            let start = Instant::now();
            let status = browser
                .post_multipart(&format!("/organizations/{root}"), &fields)
                .await;
            let save = start.elapsed();
            assert_eq!(status, 303, "the Save failed");
            let start = Instant::now();
            let status = browser
                .post(
                    &format!("/organizations/{root}/delete"),
                    &[("confirm_name", ROOT)],
                )
                .await;
            let delete = start.elapsed();
            assert_eq!(status, 303, "the delete request failed");
            let status = browser
                .post(&format!("/organizations/{root}/restore"), &[])
                .await;
            assert_eq!(status, 303, "Restore failed");
            // The first of each warms the caches and is not counted.
            if rep > 0 {
                saves.push(save);
                deletes.push(delete);
            }
        }
        (deletes, saves)
    });
    server.stop();
    let mut conn = DbConn::open(url).unwrap();
    let notes: String = organizations::table
        .find(fixture.root)
        .select(organizations::quick_notes)
        .first(&mut conn)
        .unwrap();
    assert_eq!(
        notes,
        format!("Call before visiting ({REPS})."),
        "the Save saved"
    );
    (median(deletes), median(saves))
}

/// With DELETE_BENCH_PARTS set: the same use cases in-process, and the part of the delete
/// request that works out what will be deleted (`delete::plan`).
fn parts(fixture: &Fixture, url: &str) {
    let mut conn = DbConn::open(url).unwrap();
    let user = roster::auth::users::find_by_email(&mut conn, EMAIL)
        .unwrap()
        .unwrap()
        .user();
    let (root, scope) = (OrgId(fixture.root), roster::orgs::Scope::of(&user));
    let grace = Duration::from_secs(15 * 60);
    let (mut plans, mut requests, mut updates) = (Vec::new(), Vec::new(), Vec::new());
    for rep in 0..=REPS {
        let start = Instant::now();
        delete::plan(&mut conn, scope, root).unwrap();
        plans.push(start.elapsed());
        let start = Instant::now();
        delete::request(&mut conn, &user, root, ROOT, grace).unwrap();
        requests.push(start.elapsed());
        delete::restore(&mut conn, &user, root).unwrap();
        let form = OrgForm {
            name: ROOT.to_owned(),
            short_name: "BHG".to_owned(),
            type_id: fixture.kinds.0.to_string(),
            status_id: fixture.kinds.1.to_string(),
            quick_notes: format!("In-process ({rep})."),
            ..OrgForm::default()
        };
        let input = OrgInput::try_from(&form).unwrap();
        let start = Instant::now();
        let fields = &create::RosterOwns;
        create::update(&mut conn, &user, root, &input, &LogoChange::Keep, fields).unwrap();
        updates.push(start.elapsed());
    }
    println!(
        "(in-process medians: delete::request {:.1} ms, of which delete::plan alone {:.1} ms; \
         create::update {:.2} ms)",
        ms(median(requests)),
        ms(median(plans)),
        ms(median(updates))
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets" } else { "MISSES" }
}

fn main() {
    let started = Instant::now();
    let fixture = build();
    let size = std::fs::metadata(&fixture.master).unwrap().len() / (1024 * 1024);
    let subs = fixture.levels.iter().skip(1).map(Vec::len).sum::<usize>();
    println!(
        "data: 1 organization + {subs} sub-organizations (2 levels), {RECORDS} records, {} logos; \
         {OTHERS} other organizations with {} records to keep; {size} MiB; built in {:.1} s",
        fixture.logos,
        OTHERS * OTHER_RECORDS,
        started.elapsed().as_secs_f64()
    );
    let jobs = fixture
        .settings(&fixture.master.display().to_string(), None)
        .jobs;
    println!(
        "purge settings (shipped defaults): {} rows a batch, {} ms pause, lease {} s; worker poll {} ms",
        jobs.purge_batch_rows,
        jobs.purge_pause.as_millis(),
        jobs.lease.as_secs(),
        jobs.poll.as_millis()
    );

    let url = fixture.copy("baseline.sqlite3");
    let heartbeat = Heartbeat::start(&url);
    std::thread::sleep(Duration::from_millis(100));
    let base = baseline(&url, &fixture.levels);
    let base_waits = heartbeat.finish();
    let base_ok = only_others_left(&url);

    let url = fixture.copy("background.sqlite3");
    let (ours, ours_waits) = background(&fixture, &url);
    let ours_ok = only_others_left(&url);

    let url = fixture.copy("requests.sqlite3");
    let (delete_ms, save_ms) = request_and_save(&fixture, &url);

    let waits = |w: &Waits| {
        format!(
            "{} one-row writes, p99 {:.1} ms, longest {:.1} ms{}",
            w.count,
            ms(w.p99),
            ms(w.max),
            if w.failed > 0 {
                format!(", {} FAILED (busy)", w.failed)
            } else {
                String::new()
            }
        )
    };
    println!(
        "baseline, one transaction with ON DELETE CASCADE: {:9.1} ms   ({}; only the others left: {})",
        ms(base),
        waits(&base_waits),
        verdict(base_ok)
    );
    println!(
        "background delete, request to job done:          {:9.1} ms   ({}; only the others left: {})",
        ms(ours.total),
        waits(&ours_waits),
        verdict(ours_ok)
    );
    println!(
        "  of which the delete request (grace 0):          {:9.1} ms; the job counted {} rows",
        ms(ours.request),
        ours.rows
    );
    println!(
        "delete request over HTTP (15-minute grace), median of {REPS}: {:7.1} ms",
        ms(delete_ms)
    );
    println!(
        "Save of the Edit form over HTTP, median of {REPS}:              {:7.1} ms",
        ms(save_ms)
    );

    let slower = ms(ours.total) / ms(base);
    let wait = ms(ours_waits.max) / ms(base);
    let request = ms(delete_ms) / ms(save_ms);
    println!(
        "background / baseline:                 {slower:7.3}x (target <= 10: {})",
        verdict(slower <= 10.0)
    );
    println!(
        "longest write wait (ours) / baseline:  {wait:7.3}x (target <= 0.10: {})",
        verdict(wait <= 0.1)
    );
    println!(
        "delete request / Save:                 {request:7.3}x (target <= 2: {})",
        verdict(request <= 2.0)
    );
    if std::env::var_os("DELETE_BENCH_PARTS").is_some() {
        parts(&fixture, &url);
    }
    println!("whole run: {:.1} s", started.elapsed().as_secs_f64());
}
