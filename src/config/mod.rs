//! Settings from the environment and an optional `roster.toml`, validated once at start.
//! Environment variables (`ROSTER_*`) win over the file.

mod keys;
mod secret;

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

pub use secret::SecretKey;

use crate::db::Backend;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("cannot read {0}: {1}")]
    File(PathBuf, String),
    #[error(
        "the key {name} {problem}. Give at least 32 random bytes in base64 (for example the output of \
         `openssl rand -base64 32`), or leave it unset so that Roster generates one in its data folder"
    )]
    Key { name: String, problem: String },
    #[error("{0}")]
    Invalid(String),
}

/// Settings as written by a person: every field optional.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub database_url: Option<String>,
    pub bind: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub base_url: Option<String>,
    pub session_key: Option<String>,
    pub data_key: Option<String>,
    pub session_idle_minutes: Option<u64>,
    pub session_max_hours: Option<u64>,
    pub login_max_failures: Option<i32>,
    pub login_lock_minutes: Option<u64>,
    /// Quick sign-in attempts allowed per account before the pace is one every six seconds.
    pub login_account_burst: Option<u32>,
    /// Quick sign-in attempts allowed per client address before the pace is one every two seconds.
    pub login_address_burst: Option<u32>,
    pub pool_size: Option<u32>,
    pub workers: Option<usize>,
    /// Behind a reverse proxy or load balancer: take the client address from X-Forwarded-For.
    pub trust_proxy: Option<bool>,
    /// With `trust_proxy`: the proxies' addresses, comma-separated CIDRs (default: loopback and
    /// whatever connects to us).
    pub trusted_proxies: Option<String>,
    /// How long a deleted organization can be restored before its purge starts (0: at once).
    pub delete_grace_seconds: Option<u64>,
    /// Rows deleted per transaction by a purge.
    pub purge_batch_rows: Option<u32>,
    /// The pause between two purge transactions, so that other writers get their turn.
    pub purge_pause_ms: Option<u64>,
    /// Rows an import writes per transaction.
    pub import_batch_rows: Option<u32>,
    /// The largest export the Import page accepts, in bytes.
    pub import_max_bytes: Option<u64>,
    /// How long a worker holds a job without a sign of life before another worker takes it up.
    pub job_lease_seconds: Option<u64>,
    /// How often an idle worker looks for due jobs.
    pub job_poll_ms: Option<u64>,
    /// Whether this instance runs the background worker (on by default).
    pub run_jobs: Option<bool>,
    /// Allow a plain `http://` PSA address (local trials and tests only).
    pub psa_allow_http: Option<bool>,
    /// Allow a PSA address on this server's own network (loopback, private, ULA, NAT64): an
    /// on-premises PSA, or the test doubles and the sandbox.
    pub psa_allow_private: Option<bool>,
    /// The timeout of each call to the PSA during a data load.
    pub psa_timeout_seconds: Option<u64>,
    /// Requests each API key may make per five minutes (then 429 with Retry-After).
    pub api_rate_limit: Option<u32>,
    /// Organizations per page of the Organizations list (1 to 500).
    pub list_page_size: Option<u32>,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub backend: Backend,
    pub bind: String,
    pub data_dir: PathBuf,
    pub base_url: String,
    pub session_key: SecretKey,
    pub data_key: SecretKey,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub login_max_failures: i32,
    pub login_lock: Duration,
    pub login_account_burst: u32,
    pub login_address_burst: u32,
    pub pool_size: u32,
    pub workers: usize,
    pub trust_proxy: bool,
    /// Empty: loopback and the connection's peer.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub jobs: JobSettings,
    pub psa_allow_http: bool,
    pub psa_allow_private: bool,
    pub psa_timeout: Duration,
    /// Requests each API key may make per five minutes.
    pub api_rate_limit: u32,
    pub list_page_size: i64,
}

/// The background worker and the purge of deleted organizations.
#[derive(Debug, Clone, Copy)]
pub struct JobSettings {
    pub delete_grace: Duration,
    pub purge_batch_rows: i64,
    pub purge_pause: Duration,
    pub import_batch_rows: usize,
    pub import_max_bytes: u64,
    pub lease: Duration,
    pub poll: Duration,
    pub run: bool,
}

impl RawSettings {
    /// `roster.toml` (or the file named by `ROSTER_CONFIG`), then the `ROSTER_*` variables.
    pub fn from_env_and_file() -> Result<Self, ConfigError> {
        let path = std::env::var_os("ROSTER_CONFIG").map(PathBuf::from);
        let file = path.clone().unwrap_or_else(|| PathBuf::from("roster.toml"));
        let mut raw = if path.is_some() || file.exists() {
            let text =
                std::fs::read_to_string(&file).map_err(|e| ConfigError::Io(file.clone(), e))?;
            toml::from_str(&text).map_err(|e| ConfigError::File(file, e.to_string()))?
        } else {
            Self::default()
        };
        raw.apply_env()?;
        Ok(raw)
    }

    fn apply_env(&mut self) -> Result<(), ConfigError> {
        let text = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let number = |name: &str| -> Result<Option<u64>, ConfigError> {
            text(name)
                .map(|v| {
                    v.parse().map_err(|_| {
                        ConfigError::Invalid(format!("{name} must be a whole number, not {v:?}"))
                    })
                })
                .transpose()
        };
        self.database_url = text("ROSTER_DATABASE_URL").or(self.database_url.take());
        self.bind = text("ROSTER_BIND").or(self.bind.take());
        self.data_dir = text("ROSTER_DATA_DIR")
            .map(PathBuf::from)
            .or(self.data_dir.take());
        self.base_url = text("ROSTER_BASE_URL").or(self.base_url.take());
        self.session_key = text("ROSTER_SESSION_KEY").or(self.session_key.take());
        self.data_key = text("ROSTER_DATA_KEY").or(self.data_key.take());
        self.session_idle_minutes =
            number("ROSTER_SESSION_IDLE_MINUTES")?.or(self.session_idle_minutes);
        self.session_max_hours = number("ROSTER_SESSION_MAX_HOURS")?.or(self.session_max_hours);
        self.login_lock_minutes = number("ROSTER_LOGIN_LOCK_MINUTES")?.or(self.login_lock_minutes);
        let flag = |v: String| matches!(v.to_lowercase().as_str(), "1" | "true" | "yes" | "on");
        if let Some(v) = text("ROSTER_TRUST_PROXY") {
            self.trust_proxy = Some(flag(v));
        }
        self.trusted_proxies = text("ROSTER_TRUSTED_PROXIES").or(self.trusted_proxies.take());
        if let Some(v) = text("ROSTER_RUN_JOBS") {
            self.run_jobs = Some(flag(v));
        }
        if let Some(v) = text("ROSTER_PSA_ALLOW_HTTP") {
            self.psa_allow_http = Some(flag(v));
        }
        if let Some(v) = text("ROSTER_PSA_ALLOW_PRIVATE") {
            self.psa_allow_private = Some(flag(v));
        }
        self.psa_timeout_seconds =
            number("ROSTER_PSA_TIMEOUT_SECONDS")?.or(self.psa_timeout_seconds);
        self.delete_grace_seconds =
            number("ROSTER_DELETE_GRACE_SECONDS")?.or(self.delete_grace_seconds);
        self.purge_batch_rows = number("ROSTER_PURGE_BATCH_ROWS")?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .or(self.purge_batch_rows);
        self.purge_pause_ms = number("ROSTER_PURGE_PAUSE_MS")?.or(self.purge_pause_ms);
        self.import_batch_rows = number("ROSTER_IMPORT_BATCH_ROWS")?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .or(self.import_batch_rows);
        self.import_max_bytes = number("ROSTER_IMPORT_MAX_BYTES")?.or(self.import_max_bytes);
        self.job_lease_seconds = number("ROSTER_JOB_LEASE_SECONDS")?.or(self.job_lease_seconds);
        self.job_poll_ms = number("ROSTER_JOB_POLL_MS")?.or(self.job_poll_ms);
        self.api_rate_limit = number("ROSTER_API_RATE_LIMIT")?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .or(self.api_rate_limit);
        self.list_page_size = number("ROSTER_LIST_PAGE_SIZE")?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .or(self.list_page_size);
        Ok(())
    }

    /// Checks everything and fills the defaults; creates the data folder and missing keys.
    pub fn resolve(self) -> Result<Settings, ConfigError> {
        let data_dir = self.data_dir.unwrap_or_else(|| PathBuf::from("data"));
        std::fs::create_dir_all(&data_dir).map_err(|e| ConfigError::Io(data_dir.clone(), e))?;
        let database_url = self
            .database_url
            .unwrap_or_else(|| data_dir.join("roster.sqlite3").display().to_string());
        let backend = Backend::of_url(&database_url).map_err(ConfigError::Invalid)?;
        let bind = self.bind.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let base_url = self
            .base_url
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        let session_key = keys::resolve(
            "ROSTER_SESSION_KEY",
            self.session_key.as_deref(),
            &data_dir.join("session.key"),
        )?;
        let data_key = keys::resolve(
            "ROSTER_DATA_KEY",
            self.data_key.as_deref(),
            &data_dir.join("data.key"),
        )?;
        let trusted_proxies = proxies(self.trusted_proxies.as_deref().unwrap_or_default())?;
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Ok(Settings {
            database_url,
            backend,
            bind,
            data_dir,
            base_url,
            session_key,
            data_key,
            session_idle: minutes(self.session_idle_minutes.unwrap_or(8 * 60)),
            session_max: minutes(self.session_max_hours.unwrap_or(24) * 60),
            login_max_failures: self.login_max_failures.unwrap_or(10).max(1),
            login_lock: minutes(self.login_lock_minutes.unwrap_or(15)),
            login_account_burst: self.login_account_burst.unwrap_or(10).max(1),
            login_address_burst: self.login_address_burst.unwrap_or(30).max(1),
            pool_size: self.pool_size.unwrap_or(8).max(2),
            workers: self.workers.unwrap_or(2).max(1),
            trust_proxy: self.trust_proxy.unwrap_or(false),
            trusted_proxies,
            jobs: JobSettings {
                delete_grace: Duration::from_secs(self.delete_grace_seconds.unwrap_or(15 * 60)),
                purge_batch_rows: i64::from(self.purge_batch_rows.unwrap_or(1000).max(1)),
                purge_pause: Duration::from_millis(self.purge_pause_ms.unwrap_or(5)),
                import_batch_rows: self.import_batch_rows.unwrap_or(500).clamp(1, 10_000) as usize,
                import_max_bytes: self.import_max_bytes.unwrap_or(2 << 30),
                lease: Duration::from_secs(self.job_lease_seconds.unwrap_or(60).max(1)),
                poll: Duration::from_millis(self.job_poll_ms.unwrap_or(1000).max(10)),
                run: self.run_jobs.unwrap_or(true),
            },
            psa_allow_http: self.psa_allow_http.unwrap_or(false),
            psa_allow_private: self.psa_allow_private.unwrap_or(false),
            psa_timeout: Duration::from_secs(self.psa_timeout_seconds.unwrap_or(20).clamp(1, 300)),
            api_rate_limit: self.api_rate_limit.unwrap_or(3000).max(1),
            list_page_size: i64::from(self.list_page_size.unwrap_or(50).clamp(1, 500)),
        })
    }
}

/// `10.0.0.0/8, 192.0.2.7, fd00::/8`: CIDR ranges or single addresses.
fn proxies(list: &str) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    ConfigError::Invalid(format!(
                        "ROSTER_TRUSTED_PROXIES: {item:?} is not an address or a CIDR range \
                         such as 10.0.0.0/8 or fd00::/8"
                    ))
                })
        })
        .collect()
}
