//! The one state shared by every handler.

use std::sync::Arc;

use crate::auth::login::LoginPolicy;
use crate::auth::passkeys::{RelyingParty, Unavailable};
use crate::auth::session::Lifetimes;
use crate::auth::throttle::LoginThrottle;
use crate::config::Settings;
use crate::db::{DbConn, DbError, DbPool};

pub struct AppState {
    pub pool: DbPool,
    pub settings: Settings,
    pub throttle: LoginThrottle,
    /// A hash to verify against when the email is unknown, so that both cases cost the same.
    pub dummy_hash: String,
    /// Megabytes of memory for decoding logos, shared by the uploads being decoded: each takes
    /// what `logo::inspect` says its decoding needs (`logo::BUDGET_MIB` in all).
    pub logo_memory: tokio::sync::Semaphore,
    /// Wakes this instance's job worker when a job is queued to run now.
    pub jobs: crate::jobs::Waker,
    /// The WebAuthn relying party, or why passkeys are off (see `auth::passkeys::relying`).
    pub passkeys: Result<RelyingParty, Unavailable>,
    /// Organization types and statuses, kept between requests (`orgs::kinds::KindsCache`).
    pub kinds: Arc<crate::orgs::kinds::KindsCache>,
    /// What the Organizations list keeps between requests: PostgreSQL's statistics of names for
    /// a search, the marks for a typed page number, the name blocks of a search, what recent
    /// searches found (`orgs::ListCaches`).
    pub lists: Arc<crate::orgs::ListCaches>,
}

/// A claimed build of the name blocks (`NameBlocks::claim_build`), released when dropped.
struct BlocksClaim(Arc<crate::orgs::ListCaches>);

impl Drop for BlocksClaim {
    fn drop(&mut self) {
        self.0.blocks.release();
    }
}

impl AppState {
    /// The versions of the process's caches that the statement reading a session or an API key
    /// read too: types and statuses (`kinds`), the list's marks (`lists.marks`). Called before
    /// the request's work, which may read either.
    pub fn observe(&self, kinds_version: Option<String>, marks_version: Option<i64>) {
        self.kinds.observe(kinds_version);
        self.lists.marks.observe(marks_version);
    }

    /// Starts a build of the searches' name blocks (`orgs::name_blocks`) when they are missing
    /// or older than the newest version this process has seen, unless one is under way. The
    /// request that asks does not wait for it: searches walk without the blocks until it ends.
    /// The build reads on a connection of its own, so that it holds none of the pool's.
    pub fn refresh_name_blocks(&self) {
        let lists = self.lists.clone();
        if !lists.blocks.claim_build(lists.marks.newest()) {
            return;
        }
        let url = self.settings.database_url.clone();
        actix_web::rt::task::spawn_blocking(move || {
            // Released however the build ends, a panic included.
            let claim = BlocksClaim(lists);
            let built = DbConn::open(&url)
                .map_err(|e| e.to_string())
                .and_then(|mut c| claim.0.blocks.build(&mut c).map_err(|e| e.to_string()));
            if let Err(error) = built {
                tracing::warn!(error, "the name blocks of searches could not be built");
            }
        });
    }

    pub fn lifetimes(&self) -> Lifetimes {
        Lifetimes {
            idle: self.settings.session_idle,
            max: self.settings.session_max,
        }
    }

    pub fn login_policy(&self) -> LoginPolicy {
        LoginPolicy {
            max_failures: self.settings.login_max_failures,
            lock: self.settings.login_lock,
            sessions: self.lifetimes(),
        }
    }

    /// Runs diesel work on the blocking pool with a pooled connection, in the caller's span.
    /// A connection found dead at the work's first statement is an error here (a 503); use
    /// [`AppState::db_repeatable`] for work that may run twice.
    pub async fn db<T, E, F>(self: &Arc<Self>, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let mut work = Some(work);
        self.blocking(move || {
            pool.run_once(|conn| match work.take() {
                Some(work) => work(conn),
                None => Err(DbError::Cancelled.into()),
            })
        })
        .await
    }

    /// The same for work that may run twice: when the connection turns out to be dead at its
    /// first statement (it died while idle in the pool, so nothing was done), the work runs
    /// again on a new connection (`DbPool::run`).
    pub async fn db_repeatable<T, E, F>(self: &Arc<Self>, work: F) -> Result<T, E>
    where
        F: FnMut(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        self.blocking(move || pool.run(work)).await
    }

    async fn blocking<T, E>(
        &self,
        job: impl FnOnce() -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _entered = span.enter();
            job()
        })
        .await
        .map_err(|_| E::from(DbError::Cancelled))?
    }
}
