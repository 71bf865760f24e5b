//! Test doubles of ConnectWise Manage and Autotask: real HTTP servers on 127.0.0.1 that speak the
//! part of each vendor's REST API that Roster uses (paths, authentication, paging, errors), with a
//! Rust API to fill, change, break and inspect them, and an HTML control page for the sandbox
//! (`examples/psa-sandbox.rs`). They know the vendors' APIs only, nothing of Roster.
//! This file holds what both share: the server thread, the request log and the faults.
#![allow(dead_code)]
#![allow(
    clippy::result_large_err,
    reason = "handlers return the refusal itself as the error; its size does not matter here"
)]

pub mod autotask;
pub mod connectwise;
pub mod recorder;
mod sandbox_page;

pub(crate) use autotask::AutotaskDouble;
pub(crate) use connectwise::ConnectWiseDouble;

use std::collections::BTreeSet;
use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, RETRY_AFTER};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

/// One request a double received (API calls only, not the control page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path as sent, without the query.
    pub path: String,
    pub query: String,
}

/// What a double answers instead of doing the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Refusal {
    status: u16,
    retry_after: Option<u64>,
}

/// The request log and the faults a test asked for; both doubles keep one in their state.
#[derive(Debug, Default)]
pub(crate) struct Harness {
    requests: Vec<Request>,
    down: bool,
    failing: Option<(usize, Refusal)>,
    malformed_pages: BTreeSet<usize>,
    /// Pages of the company list that answer this status instead.
    failing_pages: std::collections::BTreeMap<usize, u16>,
    latency: Option<Duration>,
}

impl Harness {
    /// Records the call and says whether it is to be refused, and after what delay.
    fn admit(&mut self, request: Request) -> (Option<Refusal>, Option<Duration>) {
        self.requests.push(request);
        let refusal = if self.down {
            Some(Refusal {
                status: 503,
                retry_after: None,
            })
        } else if let Some((left, refusal)) = self.failing {
            self.failing = (left > 1).then_some((left - 1, refusal));
            Some(refusal)
        } else {
            None
        };
        (refusal, self.latency)
    }

    pub fn fail_next(&mut self, n: usize, status: u16, retry_after: Option<u64>) {
        self.failing = (n > 0).then_some((
            n,
            Refusal {
                status,
                retry_after,
            },
        ));
    }

    pub fn set_down(&mut self, down: bool) {
        self.down = down;
    }

    pub fn malformed_page(&mut self, page: usize) {
        self.malformed_pages.insert(page);
    }

    pub fn is_malformed(&self, page: usize) -> bool {
        self.malformed_pages.contains(&page)
    }

    pub fn fail_page(&mut self, page: usize, status: u16) {
        self.failing_pages.insert(page, status);
    }

    /// The status page `page` of the company list answers instead of its companies, if any.
    pub fn page_failure(&self, page: usize) -> Option<HttpResponse> {
        let status = StatusCode::from_u16(*self.failing_pages.get(&page)?).ok()?;
        Some(HttpResponse::build(status).body("page unavailable"))
    }

    pub fn set_latency(&mut self, latency: Option<Duration>) {
        self.latency = latency;
    }

    pub fn clear_faults(&mut self) {
        self.down = false;
        self.failing = None;
        self.malformed_pages.clear();
        self.failing_pages.clear();
        self.latency = None;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.clone()
    }

    /// How many requests had this method and this path (compared without regard to case when
    /// `any_case`, as Autotask's server does).
    pub fn count(&self, method: &str, path: &str, any_case: bool) -> usize {
        self.requests
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method))
            .filter(|r| {
                if any_case {
                    r.path.eq_ignore_ascii_case(path)
                } else {
                    r.path == path
                }
            })
            .count()
    }

    pub fn forget_requests(&mut self) {
        self.requests.clear();
    }
}

/// A double: its state and its server; dropping it stops the server.
pub(crate) struct Double<S> {
    state: Arc<Mutex<S>>,
    server: Running,
}

impl<S: Api + Send> Double<S> {
    /// Serves `state` on 127.0.0.1:`port` (0: any free port) with `configure`, then tells the
    /// state its own origin (`http://127.0.0.1:{port}`) through `located`.
    fn launch(
        port: u16,
        state: S,
        configure: fn(&mut web::ServiceConfig, &Arc<Mutex<S>>),
        located: fn(&mut S, String),
    ) -> io::Result<Self> {
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let server = Running::start(port, move |cfg| configure(cfg, &shared))?;
        located(
            &mut lock(&state),
            format!("http://127.0.0.1:{}", server.port),
        );
        Ok(Self { state, server })
    }

    fn state(&self) -> MutexGuard<'_, S> {
        lock(&self.state)
    }

    pub fn port(&self) -> u16 {
        self.server.port
    }
}

impl<S: Api> Faults for Double<S> {
    fn with_harness<R>(&self, f: impl FnOnce(&mut Harness) -> R) -> R {
        f(lock(&self.state).harness())
    }
}

/// The faults and the request log of a double, for tests (both doubles have them).
pub(crate) trait Faults {
    /// Runs `f` on the double's harness, under its lock.
    fn with_harness<R>(&self, f: impl FnOnce(&mut Harness) -> R) -> R;

    /// The next `n` API calls answer `status` (with `Retry-After` when given).
    fn fail_next(&self, n: usize, status: u16, retry_after: Option<u64>) {
        self.with_harness(|h| h.fail_next(n, status, retry_after));
    }

    /// Every API call answers 503 while down.
    fn set_down(&self, down: bool) {
        self.with_harness(|h| h.set_down(down));
    }

    /// Page `page` (1-based) of the company list answers broken JSON until `clear_faults`.
    fn malformed_page(&self, page: usize) {
        self.with_harness(|h| h.malformed_page(page));
    }

    /// Page `page` (1-based) of the company list answers `status` (every attempt) until
    /// `clear_faults`: a PSA that fails half-way through a read.
    fn fail_page(&self, page: usize, status: u16) {
        self.with_harness(|h| h.fail_page(page, status));
    }

    /// Every API call waits this long before it answers.
    fn set_latency(&self, latency: Option<Duration>) {
        self.with_harness(|h| h.set_latency(latency));
    }

    fn clear_faults(&self) {
        self.with_harness(Harness::clear_faults);
    }

    /// Every API call received, in order (the control page's are not recorded).
    fn requests(&self) -> Vec<Request> {
        self.with_harness(|h| h.requests())
    }

    fn forget_requests(&self) {
        self.with_harness(Harness::forget_requests);
    }
}

/// What a double's state does for its API: the generic entry point [`api`] records each call,
/// applies the faults, then hands the call to `answer`.
pub(crate) trait Api: 'static {
    fn harness(&mut self) -> &mut Harness;

    /// Whether `path` is one of the API's; other paths (a browser's `/favicon.ico`) answer 404
    /// and are neither recorded nor refused.
    fn is_api_path(path: &str) -> bool;

    /// The body of a refused call, in the vendor's shape.
    fn refusal(status: StatusCode) -> HttpResponse;

    fn answer(&mut self, req: &HttpRequest, body: &[u8]) -> HttpResponse;
}

/// Every API call of a double (its default service).
pub(crate) async fn api<S: Api>(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Mutex<S>>,
) -> HttpResponse {
    if !S::is_api_path(req.path()) {
        return HttpResponse::NotFound().finish();
    }
    let (refusal, latency) = lock(&state).harness().admit(request_of(&req));
    if let Some(latency) = latency {
        actix_web::rt::time::sleep(latency).await;
    }
    if let Some(refusal) = refusal {
        let status =
            StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut response = S::refusal(status);
        if let Some(seconds) = refusal.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        return response;
    }
    lock(&state).answer(&req, &body)
}

/// Whether a request body is declared JSON (both vendors answer 415 otherwise).
pub(crate) fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"))
}

/// The request as the log keeps it.
fn request_of(req: &HttpRequest) -> Request {
    Request {
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
    }
}

/// Locks a double's state; a test that panicked while holding it must not hide the data.
pub(crate) fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The query string as (name, value) pairs; ASP.NET (both vendors) reads names in any case.
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
}

pub(crate) fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The current time as both vendors print it.
pub(crate) fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A double's HTTP server on its own thread and actix `System`; dropping it stops the server and
/// waits for the thread.
pub(crate) struct Running {
    pub port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Binds `127.0.0.1:{port}` (0: any free port) and serves `configure` there; returns once the
    /// socket listens.
    pub fn start<F>(port: u16, configure: F) -> io::Result<Running>
    where
        F: Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
    {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, is_ready) = std::sync::mpsc::channel::<io::Result<()>>();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || App::new().configure(configure.clone()))
                    .workers(1)
                    .disable_signals()
                    .listen(listener);
                let server = match server {
                    Ok(server) => server.run(),
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let handle = server.handle();
                let serving = actix_web::rt::spawn(server);
                let _ = ready.send(Ok(()));
                let _ = stopped.await;
                handle.stop(false).await;
                let _ = serving.await;
            });
        });
        match is_ready.recv() {
            Ok(Ok(())) => Ok(Running {
                port,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other(
                "the double's server thread ended at start",
            )),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
