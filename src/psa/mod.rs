//! PSA sync (B4, B5, B7 Disable sync, B9): ConnectWise Manage and Autotask behind one small trait.
//! `connectwise.rs` and `autotask.rs` speak the vendors' REST APIs through `http.rs` (timeouts,
//! `retry.rs`, size caps, only addresses `address.rs` allows); the rest of Roster sees only `Psa`.
//! No HTTP server types here, and no database in the connectors.

pub mod address;
pub mod answers;
pub mod apply;
pub mod autotask;
pub mod connectwise;
pub mod http;
pub mod mapping;
pub mod orphans;
pub mod plan;
pub mod preview;
pub mod preview_job;
pub mod push;
pub mod retry;
pub mod settings;
pub mod sync;

use std::time::Duration;

pub use address::AddressPolicy;

/// Which PSA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PsaKind {
    ConnectWise,
    Autotask,
}

impl PsaKind {
    pub const ALL: [PsaKind; 2] = [PsaKind::ConnectWise, PsaKind::Autotask];

    /// As stored (`organizations.psa_kind`, `psa_settings.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            PsaKind::ConnectWise => "connectwise",
            PsaKind::Autotask => "autotask",
        }
    }

    pub fn parse(value: &str) -> Option<PsaKind> {
        PsaKind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            PsaKind::ConnectWise => "ConnectWise Manage",
            PsaKind::Autotask => "Autotask",
        }
    }
}

/// A company as Roster needs it, whatever the PSA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    /// The PSA's id, as text.
    pub id: String,
    pub name: String,
    /// ConnectWise `identifier`, Autotask `companyNumber`.
    pub short_name: String,
    /// ConnectWise: the first of `types`; Autotask: the label of `companyType`.
    pub type_name: Option<String>,
    /// ConnectWise: `status.name`; Autotask: "Active" or "Inactive" from `isActive`.
    pub status_name: Option<String>,
    /// ConnectWise `deletedFlag` (Autotask has none: false).
    pub deleted: bool,
}

/// One page of companies, and the cursor of the next (opaque to the caller).
#[derive(Debug, Clone, Default)]
pub struct CompanyPage {
    pub companies: Vec<Company>,
    pub next: Option<String>,
}

/// What Roster sends to create or change a company (names of type and status as the PSA calls
/// them; the connector turns them into the PSA's ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyFields {
    pub name: String,
    pub short_name: String,
    pub type_name: String,
    pub status_name: String,
}

/// The names of the company types and statuses the PSA offers (for the mapping on the settings page).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    pub types: Vec<String>,
    pub statuses: Vec<String>,
}

/// How to reach the PSA and authenticate.
#[derive(Clone)]
pub enum Credentials {
    /// `Authorization: Basic base64("{company_id}+{public_key}:{private_key}")` and a `clientId` header.
    ConnectWise {
        company_id: String,
        public_key: String,
        private_key: String,
        client_id: String,
    },
    /// Headers `UserName`, `Secret` and `ApiIntegrationCode`.
    Autotask {
        username: String,
        secret: String,
        integration_code: String,
    },
}

impl std::fmt::Debug for Credentials {
    /// Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ConnectWise { company_id, .. } => {
                write!(
                    f,
                    "ConnectWise {{ company_id: {company_id:?}, keys: <hidden> }}"
                )
            }
            Credentials::Autotask { username, .. } => {
                write!(f, "Autotask {{ username: {username:?}, secret: <hidden> }}")
            }
        }
    }
}

/// What a PSA requires to create a company that Roster does not have (defaults from the settings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateDefaults {
    /// ConnectWise: the site name of a new company (e.g. "Main").
    pub site: String,
    /// ConnectWise: its first address line.
    pub address_line: String,
    /// Autotask: the resource id that owns new companies (`ownerResourceID`).
    pub owner_resource_id: String,
    /// Autotask: the phone number of new companies (Autotask requires one).
    pub phone: String,
}

/// Everything a connector needs.
#[derive(Debug, Clone)]
pub struct Connection {
    pub kind: PsaKind,
    /// ConnectWise: the site, e.g. `https://na.myconnectwise.net`; Autotask: the zone's API
    /// address (e.g. `https://webservices5.autotask.net/atservicesrest`), or the address of the
    /// zone lookup (`https://webservices.autotask.net/atservicesrest`), see `autotask.rs`.
    pub base_url: String,
    /// ConnectWise only: the codebase, e.g. `v4_6_release`.
    pub codebase: String,
    pub credentials: Credentials,
    pub defaults: CreateDefaults,
    /// Plain `http://` and addresses on the server's own network are refused unless allowed.
    pub policy: AddressPolicy,
    /// The timeout of every call.
    pub timeout: Duration,
    /// Attempts per call for passing failures (429, 503, no connection): `retry::MAX_ATTEMPTS` in
    /// the background, 1 within a user's request.
    pub attempts: u32,
    /// Whether error messages may quote the PSA's answers (its refusal messages, an excerpt of
    /// what is not JSON). True only for the push, whose refusals say what to fix in the data
    /// sent; Test connection and the data load show the status and a fixed reason (whatever
    /// answers at the address, its text is not shown).
    pub quote_answers: bool,
}

impl Connection {
    /// For a call within a user's request: one attempt, at most `timeout`.
    pub fn within_request(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.min(self.timeout);
        self.attempts = 1;
        self
    }

    /// The HTTP client the connectors use for this connection.
    pub fn client(&self) -> http::Client {
        let client = http::Client::new(self.timeout, self.policy).with_attempts(self.attempts);
        if self.quote_answers {
            client
        } else {
            client.without_quotes()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PsaError {
    /// 401/403.
    #[error("the PSA refused the credentials (HTTP 401 or 403)")]
    Unauthorized,
    /// 400 and the like: the data was refused; trying again will not help.
    #[error("the PSA refused the data: {0}")]
    Refused(String),
    #[error("the PSA has no such company")]
    NotFound,
    /// Network failure, timeout, 5xx, or 429 after the retries: worth trying later.
    #[error("the PSA cannot be reached: {0}")]
    Unavailable(String),
    /// Not the JSON expected, or too large, or too many pages.
    #[error("the PSA's answer could not be read: {0}")]
    Malformed(String),
    /// The settings cannot work (an `http://` address without the setting that allows it, ...).
    #[error("{0}")]
    Config(String),
}

impl PsaError {
    /// Whether a later attempt may succeed (only 429, 5xx and network failures).
    pub fn retryable(&self) -> bool {
        matches!(self, PsaError::Unavailable(_))
    }
}

/// One PSA. Blocking calls (they run on the job worker's thread or the blocking pool).
pub trait Psa: Send + Sync {
    fn kind(&self) -> PsaKind;

    /// One cheap call that proves the address and the credentials.
    fn check(&self) -> Result<(), PsaError>;

    /// The company types and statuses the PSA offers.
    fn vocabulary(&self) -> Result<Vocabulary, PsaError>;

    /// One page of companies: the first with `None`, then the `next` cursor of the previous page.
    fn companies(&self, cursor: Option<&str>) -> Result<CompanyPage, PsaError>;

    /// Creates a company (with what the PSA requires, from `Connection::defaults`); returns it
    /// with its new id.
    fn create(&self, fields: &CompanyFields) -> Result<Company, PsaError>;

    /// Changes a company's name, short name, type and status (ConnectWise: the type through its
    /// type associations, since a PATCH cannot change it).
    fn update(&self, id: &str, fields: &CompanyFields) -> Result<(), PsaError>;
}

/// What code that calls the PSA needs from the server's settings.
#[derive(Clone)]
pub struct PsaAccess {
    /// Opens the saved PSA credentials.
    pub data_key: crate::config::SecretKey,
    /// Plain `http://` PSA addresses, and addresses on the server's own network.
    pub policy: AddressPolicy,
    /// The timeout of each call to the PSA.
    pub timeout: Duration,
}

impl PsaAccess {
    pub fn of(settings: &crate::config::Settings) -> Self {
        Self {
            data_key: settings.data_key.clone(),
            policy: AddressPolicy {
                allow_http: settings.psa_allow_http,
                allow_private: settings.psa_allow_private,
            },
            timeout: settings.psa_timeout,
        }
    }
}

/// The connector for `connection`, after checking its address.
pub fn connect(connection: &Connection) -> Result<Box<dyn Psa>, PsaError> {
    address::check_address(&connection.base_url, connection.policy)?;
    Ok(match connection.kind {
        PsaKind::ConnectWise => Box::new(connectwise::ConnectWise::new(connection.clone())?),
        PsaKind::Autotask => Box::new(autotask::Autotask::new(connection.clone())?),
    })
}
