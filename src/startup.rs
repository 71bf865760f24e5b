//! Builds the application: pool, migrations, the setup link, and the HTTP server on a given
//! listener. `main` and the tests both start Roster through `Application::build`.

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_ENCODING;
use actix_web::middleware::{Compress, DefaultHeaders, Next, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tracing_actix_web::TracingLogger;

use crate::auth::passkeys::{RelyingParty, Unavailable};
use crate::auth::{password, setup, throttle::LoginThrottle};
use crate::config::Settings;
use crate::db::{self, DbPool, QueryCounter};
use crate::jobs::{Registry, Worker};
use crate::web::error::{WebError, not_found, render_errors};
use crate::web::guard::{Rule, authorize};
use crate::web::request_span::RequestSpan;
use crate::web::routes;
use crate::web::state::AppState;

/// Largest form body accepted; a bigger one gets a 413 before it is read.
pub const FORM_LIMIT: usize = 64 * 1024;

const CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

pub struct Application {
    port: u16,
    server: Server,
    /// The one-time link that creates the first Administrator, while there is no user.
    pub setup_link: Option<String>,
    pub pool: DbPool,
    /// Statements run so far by this application's connections.
    pub queries: QueryCounter,
    /// What the Organizations list keeps between requests (shared with the handlers).
    pub lists: std::sync::Arc<crate::orgs::ListCaches>,
    /// The background worker (stopped when the server stops).
    worker: Option<Worker>,
}

impl Application {
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        Self::build_on(listener, settings)
    }

    pub fn build_on(listener: TcpListener, settings: Settings) -> anyhow::Result<Self> {
        let (pool, queries) = prepare_database(&settings)?;
        let token = setup::prepare(&mut *pool.get()?)?;
        let setup_link = token.map(|t| format!("{}/setup/{t}", settings.base_url));
        if let Some(link) = &setup_link {
            tracing::warn!("no user yet: open {link} to create the first Administrator");
        }
        let port = listener.local_addr()?.port();
        let workers = settings.workers;
        let worker = if settings.jobs.run {
            let pool = db::build_pool(&settings.database_url, 2)
                .context("cannot open the job worker's connections")?;
            Some(Worker::start(pool, settings.jobs, job_kinds(&settings))?)
        } else {
            None
        };
        let lists = std::sync::Arc::<crate::orgs::ListCaches>::default();
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            dummy_hash: password::hash("roster timing dummy password")?,
            throttle: LoginThrottle::new(
                settings.login_account_burst,
                settings.login_address_burst,
            ),
            logo_memory: tokio::sync::Semaphore::new(crate::logo::BUDGET_MIB as usize),
            jobs: worker.as_ref().map(Worker::waker).unwrap_or_default(),
            passkeys: passkeys_of(&settings),
            kinds: std::sync::Arc::default(),
            lists: lists.clone(),
            settings,
        });
        let api_limiter = crate::web::api::limiter(&state.settings);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(|cfg| crate::web::api::configure(cfg, &api_limiter))
                .app_data(web::PayloadConfig::new(FORM_LIMIT))
                .app_data(crate::web::upload::config())
                .configure(routes::configure)
                .default_service(
                    web::route()
                        .to(not_found)
                        .wrap(from_fn(|req, next| authorize(Rule::Public, req, next))),
                )
                .wrap(from_fn(refuse_encoded_bodies))
                .wrap(from_fn(render_errors))
                // gzip or brotli, as the browser asks, for pages, CSS, JS and JSON; images
                // (logos) are left as they are, already compressed (Compress skips `image/*`).
                .wrap(Compress::default())
                .wrap(security_headers())
                .wrap(TracingLogger::<RequestSpan>::new())
        })
        .workers(workers)
        .listen(listener)?
        .run();
        Ok(Self {
            port,
            server,
            setup_link,
            pool,
            queries,
            lists,
            worker,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere (tests stop each server before the process exits).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped, then stops the worker (its job goes back to the queue).
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(mut worker) = self.worker.take() {
            actix_web::web::block(move || worker.stop()).await.ok();
        }
        served
    }
}

/// Every kind of job this server runs (the queue and the worker know none by name).
fn job_kinds(settings: &Settings) -> Registry {
    let psa = crate::psa::PsaAccess::of(settings);
    Registry::default()
        .with(crate::orgs::purge::Purge)
        .with(crate::psa::sync::DataLoad(psa.clone()))
        .with(crate::psa::preview_job::PreviewSync(psa.clone()))
        .with(crate::psa::push::PushRetry(psa))
        .with(crate::transfer::apply::ItGlueImport(
            settings.data_key.clone(),
        ))
        .with(crate::transfer::export_job::RosterExport {
            key: settings.data_key.clone(),
            data_dir: settings.data_dir.clone(),
        })
}

/// Refuses (415) any request with a `Content-Encoding` other than `identity`, before its body is
/// read: a few kilobytes of gzip can inflate to gigabytes, past any limit counted after inflating.
async fn refuse_encoded_bodies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let encoding = req
        .headers()
        .get_all(CONTENT_ENCODING)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .trim()
                .chars()
                .take(40)
                .collect::<String>()
        })
        .find(|v| !v.eq_ignore_ascii_case("identity"));
    match encoding {
        // Without the error attached, so that the web's HTML error pages leave it alone.
        Some(encoding) if req.path() == "/api" || req.path().starts_with("/api/") => Ok(req
            .into_response(actix_web::ResponseError::error_response(
                &crate::web::api::ApiError::Encoded(encoding),
            ))
            .map_into_right_body()),
        Some(encoding) => Ok(req
            .error_response(WebError::Encoded(encoding))
            .map_into_right_body()),
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"))
}

/// Opens the pool (failing fast with the reason) and brings the schema up to date.
pub fn prepare_database(settings: &Settings) -> anyhow::Result<(DbPool, QueryCounter)> {
    let (pool, queries) = db::build_counted_pool(&settings.database_url, settings.pool_size)
        .with_context(|| format!("cannot open the {:?} database", settings.backend))?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    Ok((pool, queries))
}

/// The passkeys' relying party of `ROSTER_BASE_URL`; when it cannot be one, the log says why.
fn passkeys_of(settings: &Settings) -> Result<RelyingParty, Unavailable> {
    let relying = RelyingParty::new(&settings.base_url, &settings.session_key);
    if let Err(why) = &relying {
        tracing::info!("{}", why.0);
    }
    relying
}
