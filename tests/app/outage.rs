//! While the database cannot be reached, pages answer 503 with a page that says so and a
//! `Retry-After`; the log says it once per outage; the first request after it is back succeeds.
//! PostgreSQL is reached through a proxy in the test that is cut and restored (the shared
//! cluster itself is never stopped).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use roster::auth::Role;
use roster::auth::accounts::{self, NewUser};
use tokio::net::{TcpListener, TcpStream};

use crate::bodies::ServerProcess;
use crate::support::{Backend, PASSWORD, Store, backend};

/// A TCP proxy to PostgreSQL that can be cut (open connections closed, new ones refused).
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn to(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, cuts) = tokio::sync::watch::channel(0);
        let is_up = up.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !is_up.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees the server close at once
                }
                let target = target.clone();
                let mut cuts = cuts.clone();
                cuts.borrow_and_update(); // only a cut after this connection closes it
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Self {
            port,
            up,
            cut,
            accept,
        }
    }

    async fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
        // Let the proxy's tasks close their sockets before the next request.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// `postgres://user:pass@host:port/db` -> ("host:port", the URL through `port` on 127.0.0.1).
fn through(url: &str, port: u16) -> (String, String) {
    let (head, rest) = url.split_once('@').unwrap();
    let (address, database) = rest.split_once('/').unwrap();
    (
        address.to_owned(),
        format!("{head}@127.0.0.1:{port}/{database}"),
    )
}

async fn add_editor(database_url: String) -> String {
    tokio::task::spawn_blocking(move || {
        let pool = roster::db::build_pool(&database_url, 1).unwrap();
        let email = "outage@example.com".to_owned();
        let new =
            NewUser::parse(&email, "Outage", Role::Editor.as_str(), PASSWORD, PASSWORD).unwrap();
        accounts::create(&mut pool.get().unwrap(), None, &new).unwrap();
        email
    })
    .await
    .unwrap()
}

fn lines_with(log: &str, text: &str) -> usize {
    log.lines().filter(|l| l.contains(text)).count()
}

#[tokio::test]
async fn while_postgresql_cannot_be_reached_pages_answer_503_and_the_log_says_it_once() {
    if backend() != Backend::Postgres {
        return; // needs a database server to cut off; SQLite: `an_unopenable_sqlite_file_...`
    }
    let mut store = Store::new(Backend::Postgres);
    let direct = store.database_url.clone();
    let (target, _) = through(&direct, 0);
    let proxy = Proxy::to(target).await;
    store.database_url = through(&direct, proxy.port).1;
    let server = ServerProcess::start_logging(&store, "info").await;
    let email = add_editor(direct).await;
    let client = server.client();
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
    assert_eq!(client.get("/organizations").await.status, 200);

    proxy.down().await;
    let (first, second, third) = tokio::join!(
        client.get("/organizations"),
        client.get("/organizations/new"),
        client.get("/account"),
    );
    for res in [&first, &second, &third] {
        assert_eq!(res.status, 503, "{}", res.body);
        assert!(res.body.contains("Database unavailable"), "{}", res.body);
        assert!(
            res.body.contains("cannot reach its database"),
            "{}",
            res.body
        );
        assert_eq!(res.header("retry-after"), "10");
    }
    assert_eq!(client.get("/organizations").await.status, 503);

    proxy.restore();
    let back = client.get("/organizations").await;
    assert_eq!(
        back.status, 200,
        "the first request after the outage: {}",
        back.body
    );

    let log = server.log();
    assert_eq!(
        lines_with(&log, "the database cannot be reached"),
        1,
        "{log}"
    );
    assert_eq!(
        lines_with(&log, "the database can be reached again"),
        1,
        "{log}"
    );
    assert_eq!(
        lines_with(&log, "request failed"),
        0,
        "no error per request:\n{log}"
    );
}

#[tokio::test]
async fn a_connection_that_died_while_idle_is_replaced_without_an_error() {
    if backend() != Backend::Postgres {
        return;
    }
    let mut store = Store::new(Backend::Postgres);
    let direct = store.database_url.clone();
    let (target, _) = through(&direct, 0);
    let proxy = Proxy::to(target).await;
    store.database_url = through(&direct, proxy.port).1;
    let server = ServerProcess::start_logging(&store, "info").await;
    let email = add_editor(direct).await;
    let client = server.client();
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
    assert_eq!(client.get("/organizations").await.status, 200);

    // Every pooled connection dies while idle (a database restart, a firewall's idle timeout);
    // the server is reachable again before the next request.
    proxy.down().await;
    proxy.restore();
    let res = client.get("/organizations").await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[test]
fn an_unopenable_sqlite_file_is_unavailable_not_an_internal_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-directory").join("roster.sqlite3");
    let err = roster::db::build_pool(&missing.display().to_string(), 2)
        .err()
        .expect("a file in a missing directory cannot be opened");
    assert!(
        matches!(err, roster::db::DbError::Unavailable(_)),
        "{err:?}"
    );
    let web = roster::web::error::WebError::from(err);
    assert_eq!(actix_web::ResponseError::status_code(&web).as_u16(), 503);
    let response = actix_web::ResponseError::error_response(&web);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("10")
    );
}
