//! The PSA connection as saved on the PSA settings page: one row, its secret parts encrypted with
//! the data key (never shown again, never logged) and kept only while they would go to the same
//! PSA. The mapping of types and statuses is in `mapping.rs`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::address::{self, AddressPolicy};
use super::{Connection, CreateDefaults, Credentials, PsaAccess, PsaError, PsaKind, Vocabulary};
use crate::audit;
use crate::auth::User;
use crate::config::SecretKey;
use crate::db::schema::psa_settings;
use crate::db::{DbConn, DbError, now, write};
use crate::orgs::OrgRow;
use crate::orgs::create::FieldOwner;
use crate::secrets;
use crate::validation::FieldErrors;

const PURPOSE: &str = "roster-psa-credentials";
const ROW: i64 = 1;

/// The longest a save waits for the PSA's host name to resolve.
const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The longest Test connection waits for each call to the PSA.
pub const TEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// One-way: the PSA is the source, Roster reads. Two-way: Roster also creates and changes companies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    OneWay,
    TwoWay,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::OneWay => "one_way",
            Direction::TwoWay => "two_way",
        }
    }

    pub fn parse(value: &str) -> Option<Direction> {
        match value {
            "one_way" => Some(Direction::OneWay),
            "two_way" => Some(Direction::TwoWay),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = psa_settings)]
struct Row {
    kind: String,
    base_url: String,
    codebase: String,
    account: String,
    credentials_nonce: Vec<u8>,
    credentials_sealed: Vec<u8>,
    direction: String,
    interval_minutes: i32,
    default_site: String,
    default_address: String,
    default_owner: String,
    default_phone: String,
    next_load_at: Option<NaiveDateTime>,
}

/// The secret parts, as sealed.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Secrets {
    #[serde(default)]
    public_key: String,
    #[serde(default)]
    private_key: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    integration_code: String,
}

/// The saved settings, without their secrets (what pages may show).
#[derive(Debug, Clone)]
pub struct PsaSettings {
    pub kind: PsaKind,
    pub base_url: String,
    pub codebase: String,
    pub account: String,
    pub direction: Direction,
    pub interval_minutes: i32,
    pub defaults: CreateDefaults,
    pub next_load_at: Option<NaiveDateTime>,
    sealed: (Vec<u8>, Vec<u8>),
}

impl PsaSettings {
    pub fn two_way(&self) -> bool {
        self.direction == Direction::TwoWay
    }

    fn secrets(&self, key: &SecretKey) -> Result<Secrets, secrets::SealError> {
        let plain = secrets::open(
            key,
            PURPOSE,
            &ROW.to_be_bytes(),
            &self.sealed.0,
            &self.sealed.1,
        )?;
        serde_json::from_str(&plain).map_err(|_| secrets::SealError)
    }

    /// The connection, with its secrets opened.
    pub fn connection(&self, access: &PsaAccess) -> Result<Connection, secrets::SealError> {
        let s = self.secrets(&access.data_key)?;
        let credentials = match self.kind {
            PsaKind::ConnectWise => Credentials::ConnectWise {
                company_id: self.account.clone(),
                public_key: s.public_key,
                private_key: s.private_key,
                client_id: s.client_id,
            },
            PsaKind::Autotask => Credentials::Autotask {
                username: self.account.clone(),
                secret: s.secret,
                integration_code: s.integration_code,
            },
        };
        Ok(Connection {
            kind: self.kind,
            base_url: self.base_url.clone(),
            codebase: self.codebase.clone(),
            credentials,
            defaults: self.defaults.clone(),
            policy: access.policy,
            timeout: access.timeout,
            attempts: super::retry::MAX_ATTEMPTS,
            quote_answers: true,
        })
    }

    /// Test connection: proves the address and the credentials and reads the PSA's types and
    /// statuses, with one attempt of at most `TEST_TIMEOUT` per call. Its errors give the status
    /// and a fixed reason, never what the PSA answered (the address may be anything).
    pub fn test(&self, access: &PsaAccess) -> Result<Vocabulary, PsaError> {
        let mut connection = self
            .connection(access)
            .map_err(|e| PsaError::Config(e.to_string()))?
            .within_request(TEST_TIMEOUT);
        connection.quote_answers = false;
        let psa = super::connect(&connection)?;
        let checked = psa.check().and_then(|()| psa.vocabulary());
        checked.map_err(|e| match e {
            PsaError::NotFound => PsaError::Config(
                "the PSA answered 404: nothing is at this address (check the address and the codebase)".into(),
            ),
            other => other,
        })
    }
}

pub fn load(conn: &mut DbConn) -> QueryResult<Option<PsaSettings>> {
    let row: Option<Row> = psa_settings::table
        .find(ROW)
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    Ok(row.and_then(|r| {
        Some(PsaSettings {
            kind: PsaKind::parse(&r.kind)?,
            direction: Direction::parse(&r.direction).unwrap_or(Direction::OneWay),
            base_url: r.base_url,
            codebase: r.codebase,
            account: r.account,
            interval_minutes: r.interval_minutes,
            defaults: CreateDefaults {
                site: r.default_site,
                address_line: r.default_address,
                owner_resource_id: r.default_owner,
                phone: r.default_phone,
            },
            next_load_at: r.next_load_at,
            sealed: (r.credentials_nonce, r.credentials_sealed),
        })
    }))
}

/// The settings form as typed (secrets empty mean "keep the saved ones").
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub codebase: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub public_key: String,
    #[serde(default)]
    pub private_key: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub secret: String,
    #[serde(default)]
    pub integration_code: String,
    #[serde(default)]
    pub direction: String,
    #[serde(default)]
    pub interval_minutes: String,
    #[serde(default)]
    pub default_site: String,
    #[serde(default)]
    pub default_address: String,
    #[serde(default)]
    pub default_owner: String,
    #[serde(default)]
    pub default_phone: String,
}

impl SettingsForm {
    /// The form for the saved settings (secrets never filled in).
    pub fn of(saved: &PsaSettings) -> Self {
        Self {
            kind: saved.kind.as_str().into(),
            base_url: saved.base_url.clone(),
            codebase: saved.codebase.clone(),
            account: saved.account.clone(),
            direction: saved.direction.as_str().into(),
            interval_minutes: saved.interval_minutes.to_string(),
            default_site: saved.defaults.site.clone(),
            default_address: saved.defaults.address_line.clone(),
            default_owner: saved.defaults.owner_resource_id.clone(),
            default_phone: saved.defaults.phone.clone(),
            ..Self::default()
        }
    }

    pub fn blank() -> Self {
        Self {
            kind: PsaKind::ConnectWise.as_str().into(),
            codebase: "v4_6_release".into(),
            direction: Direction::OneWay.as_str().into(),
            interval_minutes: "60".into(),
            default_site: "Main".into(),
            ..Self::default()
        }
    }
}

/// Why saved secrets are not kept for `typed`: `None` when the PSA, the account, the address's
/// origin and the codebase are all as saved (the secrets would go nowhere else).
fn secrets_not_kept(
    saved: &PsaSettings,
    kind: Option<PsaKind>,
    account: &str,
    base_url: &str,
    codebase: &str,
) -> Option<&'static str> {
    if Some(saved.kind) != kind {
        Some("The PSA changed")
    } else if saved.account != account {
        Some(match saved.kind {
            PsaKind::ConnectWise => "The company id changed",
            PsaKind::Autotask => "The API user changed",
        })
    } else if !address::same_origin(&saved.base_url, base_url) {
        Some("The address changed")
    } else if saved.kind == PsaKind::ConnectWise && saved.codebase != codebase {
        Some("The codebase changed")
    } else {
        None
    }
}

/// Checks the form; `saved` supplies secrets left empty (while they would go to the same PSA).
/// `policy` says which addresses are allowed.
fn parse(
    form: &SettingsForm,
    saved: Option<&PsaSettings>,
    saved_secrets: Option<Secrets>,
    policy: AddressPolicy,
) -> Result<(Row, Secrets), FieldErrors> {
    let mut errors = FieldErrors::default();
    let kind = PsaKind::parse(form.kind.trim());
    if kind.is_none() {
        errors.add("kind", "Choose ConnectWise Manage or Autotask.");
    }
    let base_url = form.base_url.trim().trim_end_matches('/').to_owned();
    if let Err(e) = address::check_address(&base_url, policy) {
        errors.add("base_url", e.to_string());
    }
    let direction = Direction::parse(form.direction.trim());
    if direction.is_none() {
        errors.add("direction", "Choose one-way or two-way.");
    }
    let interval = form
        .interval_minutes
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|m| (5..=1440).contains(m));
    if interval.is_none() {
        errors.add("interval_minutes", "A number of minutes from 5 to 1440.");
    }
    let account = form.account.trim().to_owned();
    if account.is_empty() {
        errors.add(
            "account",
            match kind {
                Some(PsaKind::Autotask) => "Enter the API user's user name.",
                _ => "Enter the ConnectWise company id.",
            },
        );
    }
    // Secrets left empty keep the saved ones only while they would go to the same PSA.
    let codebase = form.codebase.trim();
    let changed = saved.and_then(|s| secrets_not_kept(s, kind, &account, &base_url, codebase));
    let keep = match (saved, changed) {
        (Some(_), None) => saved_secrets.unwrap_or_default(),
        _ => Secrets::default(),
    };
    let pick = |typed: &str, kept: String| {
        let typed = typed.trim();
        if typed.is_empty() {
            kept
        } else {
            typed.to_owned()
        }
    };
    let secrets = Secrets {
        public_key: pick(&form.public_key, keep.public_key),
        private_key: pick(&form.private_key, keep.private_key),
        client_id: pick(&form.client_id, keep.client_id),
        secret: pick(&form.secret, keep.secret),
        integration_code: pick(&form.integration_code, keep.integration_code),
    };
    let mut require_secret = |field: &str, value: &str, label: &str| {
        if value.is_empty() {
            errors.add(
                field,
                match changed {
                    Some(why) => {
                        format!("{why}, so the saved keys are not kept: enter the {label} again.")
                    }
                    None => format!("Enter the {label}."),
                },
            );
        }
    };
    match kind {
        Some(PsaKind::ConnectWise) => {
            require_secret("public_key", &secrets.public_key, "public key");
            require_secret("private_key", &secrets.private_key, "private key");
            require_secret("client_id", &secrets.client_id, "client id");
            if codebase.is_empty() {
                errors.add("codebase", "Enter the codebase (for example v4_6_release).");
            }
        }
        Some(PsaKind::Autotask) => {
            require_secret("secret", &secrets.secret, "API user's secret");
            require_secret(
                "integration_code",
                &secrets.integration_code,
                "API tracking identifier (integration code)",
            );
        }
        None => {}
    }
    let (Some(kind), Some(direction), Some(interval)) = (kind, direction, interval) else {
        return Err(errors);
    };
    errors.into_result(|| {
        (
            Row {
                kind: kind.as_str().into(),
                base_url,
                codebase: codebase.into(),
                account,
                credentials_nonce: Vec::new(),
                credentials_sealed: Vec::new(),
                direction: direction.as_str().into(),
                interval_minutes: interval,
                default_site: form.default_site.trim().into(),
                default_address: form.default_address.trim().into(),
                default_owner: form.default_owner.trim().into(),
                default_phone: form.default_phone.trim().into(),
                next_load_at: None,
            },
            secrets,
        )
    })
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the form has errors")]
    Invalid(FieldErrors),
    #[error("the credentials could not be encrypted")]
    Sealed,
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// Saves the settings (the secrets sealed); the next data load is due at once.
pub fn save(
    conn: &mut DbConn,
    actor: &User,
    form: &SettingsForm,
    key: &SecretKey,
    policy: AddressPolicy,
) -> Result<(), SaveError> {
    // What the host resolves to, looked up before the transaction (a lookup may take a while).
    let base_url = form.base_url.trim().trim_end_matches('/');
    let resolved = address::check_resolved(base_url, policy, RESOLVE_TIMEOUT);
    write(conn, |conn| {
        let saved = load(conn)?;
        // Secrets sealed under another data key cannot be kept: they must be typed again.
        let saved_secrets = saved.as_ref().and_then(|s| s.secrets(key).ok());
        let parsed = parse(form, saved.as_ref(), saved_secrets, policy);
        let (mut row, plain) = match (parsed, &resolved) {
            (Ok(parsed), Ok(())) => parsed,
            (Ok(_), Err(e)) => {
                return Err(SaveError::Invalid(FieldErrors::single(
                    "base_url",
                    e.to_string(),
                )));
            }
            (Err(mut errors), Err(e)) => {
                if errors.get("base_url").is_none() {
                    errors.add("base_url", e.to_string());
                }
                return Err(SaveError::Invalid(errors));
            }
            (Err(errors), Ok(())) => return Err(SaveError::Invalid(errors)),
        };
        let json = serde_json::to_string(&plain).map_err(|_| SaveError::Sealed)?;
        let (nonce, sealed) = secrets::seal(key, PURPOSE, &ROW.to_be_bytes(), &json)
            .map_err(|_| SaveError::Sealed)?;
        row.credentials_nonce = nonce;
        row.credentials_sealed = sealed;
        let at = now();
        let values = (
            psa_settings::kind.eq(&row.kind),
            psa_settings::base_url.eq(&row.base_url),
            psa_settings::codebase.eq(&row.codebase),
            psa_settings::account.eq(&row.account),
            psa_settings::credentials_nonce.eq(&row.credentials_nonce),
            psa_settings::credentials_sealed.eq(&row.credentials_sealed),
            psa_settings::direction.eq(&row.direction),
            psa_settings::interval_minutes.eq(row.interval_minutes),
            psa_settings::default_site.eq(&row.default_site),
            psa_settings::default_address.eq(&row.default_address),
            psa_settings::default_owner.eq(&row.default_owner),
            psa_settings::default_phone.eq(&row.default_phone),
            psa_settings::next_load_at.eq(Some(at)),
            psa_settings::updated_by.eq(Some(actor.id.0)),
            psa_settings::updated_at.eq(at),
        );
        if saved.is_some() {
            diesel::update(psa_settings::table.find(ROW))
                .set(values)
                .execute(conn)?;
        } else {
            diesel::insert_into(psa_settings::table)
                .values((psa_settings::id.eq(ROW), values))
                .execute(conn)?;
        }
        let label = PsaKind::parse(&row.kind).map_or("PSA", PsaKind::label);
        audit::record(
            conn,
            Some(actor),
            "psa.settings",
            &format!(
                "Saved the {label} settings ({}, {})",
                row.base_url,
                row.direction.replace('_', "-")
            ),
        )?;
        Ok(())
    })
}

type Due = diesel::dsl::Or<
    diesel::dsl::IsNull<psa_settings::next_load_at>,
    diesel::dsl::LtEq<psa_settings::next_load_at, NaiveDateTime>,
>;

/// The scheduled data load is due at `at`.
fn due(at: NaiveDateTime) -> Due {
    psa_settings::next_load_at
        .is_null()
        .or(psa_settings::next_load_at.le(at))
}

/// Takes the scheduled data load if it is due (one instance wins), and sets the next.
pub fn take_due_load(conn: &mut DbConn) -> QueryResult<bool> {
    write(conn, |conn| {
        let Some(saved) = load(conn)? else {
            return Ok(false);
        };
        let at = now();
        let next = at + chrono::Duration::minutes(i64::from(saved.interval_minutes.max(1)));
        let taken = diesel::update(psa_settings::table.find(ROW).filter(due(at)))
            .set(psa_settings::next_load_at.eq(Some(next)))
            .execute(conn)?;
        Ok(taken == 1)
    })
}

/// Is a scheduled load due (a read, so that idle workers take no write lock)?
pub fn load_due(conn: &mut DbConn) -> QueryResult<bool> {
    let at = now();
    diesel::select(diesel::dsl::exists(
        psa_settings::table.filter(due(at)).select(psa_settings::id),
    ))
    .get_result(conn)
}

/// The PSA that owns this organization's name, short name, type and status: the one it syncs
/// with, under one-way sync (`saved`: the PSA settings, if any).
pub fn owner_of(saved: Option<&PsaSettings>, org: &OrgRow) -> Option<&'static str> {
    let psa = org.syncs_with()?;
    saved
        .filter(|s| !s.two_way() && org.psa_kind.as_deref() == Some(s.kind.as_str()))
        .map(|_| psa)
}

/// "The PSA always wins" for `orgs::create::update`: the saved settings decide.
pub struct OneWay;

impl FieldOwner for OneWay {
    fn owner(&self, conn: &mut DbConn, org: &OrgRow) -> Result<Option<&'static str>, DbError> {
        Ok(owner_of(load(conn)?.as_ref(), org))
    }
}
