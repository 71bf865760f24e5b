//! Request bodies and the server's memory: compressed bodies are refused before they are read, and
//! `roster serve` as a process of its own, whose peak memory (VmHWM) the tests read.

use std::io::Write;
use std::process::{Child, Command};
use std::time::Duration;

use crate::support::{Client, Store};

/// `roster serve` in a process of its own on a store, stopped when dropped.
pub struct ServerProcess {
    child: Child,
    pub base: String,
    log: std::path::PathBuf,
}

impl ServerProcess {
    /// Starts the server and waits until it answers.
    pub async fn start(store: &Store) -> Self {
        Self::start_logging(store, "warn").await
    }

    /// Starts the server with `RUST_LOG` set to `filter`.
    pub async fn start_logging(store: &Store, filter: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = store.dir.path().join(format!("serve-{port}.log"));
        // Another build (the release binary, or an older one) can be tried through this variable.
        let binary = std::env::var("ROSTER_TEST_SERVE_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_roster").to_owned());
        // The log goes to standard output; both streams are kept.
        let output = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary)
            .arg("serve")
            .env("ROSTER_DATA_DIR", store.dir.path())
            .env("ROSTER_DATABASE_URL", &store.database_url)
            .env("ROSTER_BIND", format!("127.0.0.1:{port}"))
            .env("ROSTER_RUN_JOBS", "false")
            .env("RUST_LOG", filter)
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        // Stopped by `drop` whatever happens next.
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        for _ in 0..200 {
            if reqwest::get(format!("{}/healthz", server.base))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("roster serve did not start on {}", server.base);
    }

    /// What the server wrote to its standard output and error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    /// Posts a new organization with a logo as `client` (signed in here) and answers the status
    /// and the location; it waits as long as that takes (unoptimized builds decode slowly).
    pub async fn post_logo(&self, client: &Client, name: &str, logo: Vec<u8>) -> (u16, String) {
        let token = client.csrf().await;
        let cookies = client
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let form = reqwest::multipart::Form::new()
            .text("csrf_token", token)
            .text("name", name.to_owned())
            .part(
                "logo",
                reqwest::multipart::Part::bytes(logo).file_name("logo.png"),
            );
        let res = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap()
            .post(format!("{}/organizations", self.base))
            .header("cookie", cookies)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let location = res
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (res.status().as_u16(), location)
    }

    /// The process's peak resident memory so far, in MiB (VmHWM of /proc/<pid>/status).
    pub fn peak_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kib / 1024.0
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("roster serve wrote:\n{}", self.log());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// 60 MB of one byte, gzipped: about 58 KB on the wire.
fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b'a'; 1024 * 1024];
    for _ in 0..60 {
        encoder.write_all(&block).unwrap();
    }
    encoder.finish().unwrap()
}

async fn send_encoded(
    base: &str,
    method: reqwest::Method,
    path: &str,
    encoding: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, String) {
    let res = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("content-encoding", encoding)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn gzip_bodies_are_refused_before_they_are_inflated() {
    let store = Store::new(crate::support::backend());
    let server = ServerProcess::start(&store).await;
    // Warm up: a page and a sign-in attempt, so that the baseline holds what a request costs.
    let warm = server.client();
    assert_eq!(warm.get("/login").await.status, 200);
    let before = server.peak_mib();

    let bomb = gzip_bomb();
    assert!(bomb.len() < 64 * 1024, "the body is small: {}", bomb.len());
    let sends = (0..8).map(|_| {
        send_encoded(
            &server.base,
            reqwest::Method::POST,
            "/login",
            "gzip",
            "application/x-www-form-urlencoded",
            bomb.clone(),
        )
    });
    let answers = futures_util::future::join_all(sends).await;
    let growth = server.peak_mib() - before;
    assert!(
        answers.iter().all(|(status, _)| *status == 415),
        "{:?} (peak memory grew by {growth:.1} MiB)",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    let (_, page) = &answers[0];
    assert!(
        page.contains("<html") && page.contains("Content-Encoding"),
        "a page that says why: {page}"
    );
    assert!(
        growth < 20.0,
        "peak memory grew by {growth:.1} MiB for eight compressed bodies"
    );
}

#[tokio::test]
async fn any_content_encoding_is_refused_on_every_route() {
    let app = crate::support::TestApp::spawn().await;
    let base = app.base.clone();
    // A GET, with or without a body.
    let (status, _) = send_encoded(
        &base,
        reqwest::Method::GET,
        "/login",
        "gzip",
        "text/plain",
        vec![],
    )
    .await;
    assert_eq!(status, 415);
    let (status, _) = send_encoded(
        &base,
        reqwest::Method::GET,
        "/no-such-page",
        "br",
        "text/plain",
        vec![],
    )
    .await;
    assert_eq!(status, 415);
    // A multipart post (the organization form), whatever the encoding says.
    let boundary = "XyZ";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nZip Co\r\n--{boundary}--\r\n"
    );
    for encoding in ["gzip", "deflate", "x-gzip, identity", "GZIP"] {
        let (status, _) = send_encoded(
            &base,
            reqwest::Method::POST,
            "/organizations",
            encoding,
            &format!("multipart/form-data; boundary={boundary}"),
            multipart.clone().into_bytes(),
        )
        .await;
        assert_eq!(status, 415, "Content-Encoding: {encoding}");
    }
    assert_eq!(app.org_count().await, 0);
    // `identity` is no encoding at all.
    let (status, _) = send_encoded(
        &base,
        reqwest::Method::GET,
        "/login",
        "identity",
        "text/plain",
        vec![],
    )
    .await;
    assert_eq!(status, 200);
}
