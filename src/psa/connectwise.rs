//! ConnectWise Manage (REST API 3.0 under `{site}/{codebase}/apis/3.0`): companies, their types
//! and statuses. A company's types are set when it is created and not changed afterwards (the
//! company PATCH does not take them); name, identifier and status are.

use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::address;
use super::answers::{self, AtMost, Memo};
use super::http::{self, Client, Method, Request};
use super::{
    Company, CompanyFields, CompanyPage, Connection, CreateDefaults, Credentials, Psa, PsaError,
    PsaKind, Vocabulary,
};

/// ConnectWise allows at most 1,000 records a page.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// An identifier is at most 25 characters.
pub const IDENTIFIER_LEN: usize = 25;
/// A listing longer than this many pages is taken for a loop.
const MAX_PAGES: u32 = 100_000;
const FIELDS: &str = "id,identifier,name,status,types,deletedFlag";

pub struct ConnectWise {
    /// `{site}/{codebase}/apis/3.0`, without a trailing slash.
    root: String,
    headers: Vec<(&'static str, String)>,
    defaults: CreateDefaults,
    client: Client,
    page_size: u32,
    /// Company types and statuses with their ids, read once (again when a name is missing).
    ids: Memo<Ids>,
}

#[derive(Debug, Clone, Deserialize)]
struct Named {
    id: i64,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug)]
struct Ids {
    types: Vec<Named>,
    statuses: Vec<Named>,
}

#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(default)]
    name: Option<String>,
}

/// A company as `fields=identifier` gives it.
#[derive(Debug, Deserialize)]
struct Identifier {
    #[serde(default)]
    identifier: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CwCompany {
    id: i64,
    #[serde(default)]
    identifier: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    status: Option<Reference>,
    #[serde(default)]
    types: Option<Vec<Reference>>,
    #[serde(default)]
    deleted_flag: Option<bool>,
}

impl From<CwCompany> for Company {
    fn from(c: CwCompany) -> Self {
        Company {
            id: c.id.to_string(),
            name: c.name.unwrap_or_default(),
            short_name: c.identifier.unwrap_or_default(),
            type_name: c.types.unwrap_or_default().into_iter().find_map(|t| t.name),
            status_name: c.status.and_then(|s| s.name),
            deleted: c.deleted_flag.unwrap_or(false),
        }
    }
}

/// A type of a company (`/company/companies/{id}/typeAssociations`).
#[derive(Debug, Deserialize)]
struct Association {
    id: i64,
    #[serde(rename = "type")]
    kind: Named,
}

impl ConnectWise {
    pub fn new(connection: Connection) -> Result<Self, PsaError> {
        address::check_address(&connection.base_url, connection.policy)?;
        let Credentials::ConnectWise {
            company_id,
            public_key,
            private_key,
            client_id,
        } = &connection.credentials
        else {
            return Err(PsaError::Config(
                "these are not ConnectWise credentials".into(),
            ));
        };
        let codebase = connection.codebase.trim().trim_matches('/');
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if codebase.is_empty() || !codebase.chars().all(valid) {
            return Err(PsaError::Config(
                "The ConnectWise codebase is a single word such as v4_6_release.".into(),
            ));
        }
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{company_id}+{public_key}:{private_key}"));
        Ok(Self {
            root: format!(
                "{}/{codebase}/apis/3.0",
                connection.base_url.trim_end_matches('/')
            ),
            headers: vec![
                ("Authorization", format!("Basic {token}")),
                ("clientId", client_id.clone()),
            ],
            client: connection.client(),
            defaults: connection.defaults,
            page_size: MAX_PAGE_SIZE,
            ids: Memo::default(),
        })
    }

    /// Companies a page (1 to 1,000; 1,000 unless tests ask for less).
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Replaces the pause between attempts (tests).
    pub fn with_sleep(mut self, sleep: fn(std::time::Duration)) -> Self {
        self.client = self.client.with_sleep(sleep);
        self
    }

    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, PsaError> {
        let url = format!("{}{path}", self.root);
        self.client
            .send(&Request::new(Method::Get, &url, &self.headers))?
            .json()
    }

    /// The ids of the types and statuses: kept, or read afresh (`fresh`).
    fn ids(&self, fresh: bool) -> Result<std::sync::Arc<Ids>, PsaError> {
        self.ids.get(fresh, || {
            Ok(Ids {
                types: self.get("/company/companies/types?pageSize=1000")?,
                statuses: self.get("/company/companies/statuses?pageSize=1000")?,
            })
        })
    }

    /// The ids of the status and (`with_type`) the type named in `fields`, as the PSA names them
    /// (read afresh once when one is missing).
    fn resolve(
        &self,
        fields: &CompanyFields,
        with_type: bool,
    ) -> Result<(i64, Option<i64>), PsaError> {
        let lookup = |ids: &Ids| {
            let type_id = if with_type {
                find(&ids.types, &fields.type_name)
            } else {
                None
            };
            (find(&ids.statuses, &fields.status_name), type_id)
        };
        let mut ids = self.ids(false)?;
        let (mut status_id, mut type_id) = lookup(&ids);
        if status_id.is_none() || (with_type && type_id.is_none()) {
            ids = self.ids(true)?;
            (status_id, type_id) = lookup(&ids);
        }
        if with_type && type_id.is_none() {
            return Err(unknown("type", &fields.type_name, &ids.types));
        }
        let Some(status_id) = status_id else {
            return Err(unknown("status", &fields.status_name, &ids.statuses));
        };
        Ok((status_id, type_id))
    }

    fn post_company(&self, body: &serde_json::Value) -> Result<http::Reply, PsaError> {
        let url = format!("{}/company/companies", self.root);
        let request = Request::new(Method::Post, &url, &self.headers)
            .json(body)
            .once()
            .inspect_refusals();
        self.client.send(&request)
    }

    /// An identifier like `base` (with a number at its end) that no company has yet, as far as
    /// the first 1,000 identifiers starting like it tell.
    fn free_identifier(&self, base: &str) -> Result<String, PsaError> {
        let stem = base.get(..IDENTIFIER_LEN - 2).unwrap_or(base);
        let condition = answers::encode(&format!("identifier like \"{stem}%\""));
        let path =
            format!("/company/companies?conditions={condition}&fields=identifier&pageSize=1000");
        let used: Vec<String> = match self.get::<Vec<Identifier>>(&path) {
            Ok(found) => found
                .into_iter()
                .filter_map(|c| c.identifier)
                .map(|i| i.to_ascii_lowercase())
                .collect(),
            Err(PsaError::Refused(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        let candidate = (2u32..)
            .map(|n| with_suffix(base, n))
            .find(|c| !used.contains(&c.to_ascii_lowercase()));
        Ok(candidate.unwrap_or_else(|| with_suffix(base, 2)))
    }

    /// Makes `type_id` the company's one type. Types cannot be patched after creation: they are
    /// associations, added first and then the others removed (a company keeps at least one).
    fn set_type(&self, company: i64, type_id: i64) -> Result<(), PsaError> {
        let path = format!("/company/companies/{company}/typeAssociations");
        let current: Vec<Association> = self.get(&format!("{path}?pageSize=1000"))?;
        if current.len() == 1 && current.iter().all(|a| a.kind.id == type_id) {
            return Ok(());
        }
        if !current.iter().any(|a| a.kind.id == type_id) {
            let url = format!("{}{path}", self.root);
            let body = json!({ "type": { "id": type_id } });
            self.client.send(
                &Request::new(Method::Post, &url, &self.headers)
                    .json(&body)
                    .once(),
            )?;
        }
        for old in current.iter().filter(|a| a.kind.id != type_id) {
            let url = format!("{}{path}/{}", self.root, old.id);
            self.client
                .send(&Request::new(Method::Delete, &url, &self.headers))?;
        }
        Ok(())
    }
}

impl Psa for ConnectWise {
    fn kind(&self) -> PsaKind {
        PsaKind::ConnectWise
    }

    fn check(&self) -> Result<(), PsaError> {
        let _: serde_json::Map<String, serde_json::Value> = self.get("/system/info")?;
        Ok(())
    }

    fn vocabulary(&self) -> Result<Vocabulary, PsaError> {
        let ids = self.ids(true)?;
        let names = |list: &[Named]| list.iter().filter_map(|n| n.name.clone()).collect();
        Ok(Vocabulary {
            types: names(&ids.types),
            statuses: names(&ids.statuses),
        })
    }

    fn companies(&self, cursor: Option<&str>) -> Result<CompanyPage, PsaError> {
        let page: u32 = match cursor {
            None => 1,
            Some(c) => c.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                PsaError::Malformed("the page cursor is not a ConnectWise page number".into())
            })?,
        };
        let url = format!(
            "{}/company/companies?page={page}&pageSize={}&orderBy=id%20asc&fields={FIELDS}",
            self.root, self.page_size
        );
        let reply = self
            .client
            .send(&Request::new(Method::Get, &url, &self.headers))?;
        let AtMost(found) = reply.json::<AtMost<CwCompany, { MAX_PAGE_SIZE as usize }>>()?;
        let full = u32::try_from(found.len()).is_ok_and(|n| n >= self.page_size);
        let more = !found.is_empty()
            && (full || reply.link.as_deref().is_some_and(answers::link_has_next));
        if more && page >= MAX_PAGES {
            return Err(PsaError::Malformed(format!(
                "ConnectWise lists more than {MAX_PAGES} pages of companies"
            )));
        }
        Ok(CompanyPage {
            companies: found.into_iter().map(Company::from).collect(),
            next: more.then(|| (page + 1).to_string()),
        })
    }

    fn create(&self, fields: &CompanyFields) -> Result<Company, PsaError> {
        if self.defaults.address_line.trim().is_empty() {
            return Err(PsaError::Refused(
                "ConnectWise needs an address for a new company: set the first address line in the PSA settings (defaults for new companies)".into(),
            ));
        }
        let (status_id, type_id) = self.resolve(fields, true)?;
        let mut body = json!({
            "identifier": derive_identifier(&fields.short_name, &fields.name),
            "name": fields.name,
            "addressLine1": self.defaults.address_line,
            "status": { "id": status_id },
            "types": [{ "id": type_id }],
        });
        if !self.defaults.site.trim().is_empty() {
            body["site"] = json!({ "name": self.defaults.site });
        }
        let mut reply = self.post_company(&body)?;
        if is_duplicate_identifier(&reply) {
            let base = derive_identifier(&fields.short_name, &fields.name);
            body["identifier"] = json!(self.free_identifier(&base)?);
            reply = self.post_company(&body)?;
        }
        if reply.status >= 400 {
            return Err(reply.refusal());
        }
        Ok(reply.json::<CwCompany>()?.into())
    }

    fn update(&self, id: &str, fields: &CompanyFields) -> Result<(), PsaError> {
        let id: i64 = id.parse().map_err(|_| PsaError::NotFound)?;
        let (status_id, type_id) = self.resolve(fields, true)?;
        let mut patch = vec![json!({ "op": "replace", "path": "name", "value": fields.name })];
        let identifier = letters_and_digits(&fields.short_name);
        if !identifier.is_empty() {
            patch.push(json!({ "op": "replace", "path": "identifier", "value": identifier }));
        }
        patch.push(json!({ "op": "replace", "path": "status", "value": { "id": status_id } }));
        let url = format!("{}/company/companies/{id}", self.root);
        let body = serde_json::Value::Array(patch);
        self.client
            .send(&Request::new(Method::Patch, &url, &self.headers).json(&body))?;
        match type_id {
            Some(type_id) => self.set_type(id, type_id),
            None => Ok(()),
        }
    }
}

fn find(list: &[Named], name: &str) -> Option<i64> {
    answers::find_named(list, name, |n| n.name.as_deref()).map(|n| n.id)
}

fn unknown(what: &str, name: &str, known: &[Named]) -> PsaError {
    let names: Vec<&str> = known.iter().filter_map(|n| n.name.as_deref()).collect();
    PsaError::Refused(format!(
        "ConnectWise has no company {what} named \"{name}\" (it has: {})",
        names.join(", ")
    ))
}

/// Whether a refusal says the identifier is taken.
fn is_duplicate_identifier(reply: &http::Reply) -> bool {
    if reply.status < 400 {
        return false;
    }
    let Ok(body) = reply.json::<serde_json::Value>() else {
        return false;
    };
    body.get("errors")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
        .any(|e| {
            let is = |key: &str, value: &str| {
                e.get(key)
                    .and_then(|v| v.as_str())
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            };
            let about_identifier = is("field", "identifier") || e.get("field").is_none();
            let message = e
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            // The code is `Duplicate`; the message is what tells a taken identifier from a
            // malformed one when another code (`InvalidField`) comes with it.
            let says_taken = ["in use", "already exists", "unique", "duplicate"]
                .iter()
                .any(|w| message.contains(w));
            about_identifier && (is("code", "Duplicate") || says_taken)
        })
}

/// A ConnectWise identifier for a company: the short name, else the name, kept to letters and
/// digits (common accented letters written without their accents), at most 25 characters.
pub fn derive_identifier(short_name: &str, name: &str) -> String {
    [letters_and_digits(short_name), letters_and_digits(name)]
        .into_iter()
        .find(|i| !i.is_empty())
        .unwrap_or_else(|| "Company".into())
}

/// The first 25 letters and digits of `text` (common accented letters without their accents).
fn letters_and_digits(text: &str) -> String {
    text.chars()
        .flat_map(unaccent)
        .filter(char::is_ascii_alphanumeric)
        .take(IDENTIFIER_LEN)
        .collect()
}

/// `base` with the number `n` at its end, within 25 characters.
fn with_suffix(base: &str, n: u32) -> String {
    let suffix = n.to_string();
    let keep = IDENTIFIER_LEN.saturating_sub(suffix.len()).min(base.len());
    format!("{}{suffix}", &base[..keep])
}

/// Latin letters with accents as their plain letters (ß as ss, æ as ae, œ as oe).
fn unaccent(c: char) -> Vec<char> {
    let plain = match c {
        'à'..='å' => 'a',
        'À'..='Å' => 'A',
        'ç' => 'c',
        'Ç' => 'C',
        'è'..='ë' => 'e',
        'È'..='Ë' => 'E',
        'ì'..='ï' => 'i',
        'Ì'..='Ï' => 'I',
        'ñ' => 'n',
        'Ñ' => 'N',
        'ò'..='ö' | 'ø' => 'o',
        'Ò'..='Ö' | 'Ø' => 'O',
        'ù'..='ü' => 'u',
        'Ù'..='Ü' => 'U',
        'ý' | 'ÿ' => 'y',
        'Ý' => 'Y',
        'ß' => return vec!['s', 's'],
        'æ' => return vec!['a', 'e'],
        'Æ' => return vec!['A', 'E'],
        'œ' => return vec!['o', 'e'],
        'Œ' => return vec!['O', 'E'],
        other => other,
    };
    vec![plain]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn connection(codebase: &str, credentials: Credentials) -> Connection {
        Connection {
            kind: PsaKind::ConnectWise,
            base_url: "https://api-na.myconnectwise.net/".into(),
            codebase: codebase.into(),
            credentials,
            defaults: CreateDefaults::default(),
            policy: crate::psa::AddressPolicy::default(),
            timeout: Duration::from_secs(5),
            attempts: crate::psa::retry::MAX_ATTEMPTS,
            quote_answers: true,
        }
    }

    fn keys() -> Credentials {
        Credentials::ConnectWise {
            company_id: "roster".into(),
            public_key: "pub".into(),
            private_key: "priv".into(),
            client_id: "00000000-0000-4000-8000-000000000000".into(),
        }
    }

    #[test]
    fn companies_map_from_the_api_json() {
        let json = r#"[{"id": 250, "identifier": "AcmeCorp", "name": "Acme Corp",
            "status": {"id": 1, "name": "Active"}, "types": [{"id": 1, "name": "Client"}, {"id": 2, "name": "Partner"}],
            "deletedFlag": false, "site": {"id": 7, "name": "Main"}, "addressLine1": "1 Main St",
            "_info": {"lastUpdated": "2026-11-01T10:00:00Z"}},
            {"id": 9, "identifier": null, "name": "Gone", "status": null, "types": [], "deletedFlag": true}]"#;
        let found: Vec<CwCompany> = answers::decode(json.as_bytes()).unwrap();
        let companies: Vec<Company> = found.into_iter().map(Company::from).collect();
        assert_eq!(
            companies[0],
            Company {
                id: "250".into(),
                name: "Acme Corp".into(),
                short_name: "AcmeCorp".into(),
                type_name: Some("Client".into()),
                status_name: Some("Active".into()),
                deleted: false,
            }
        );
        assert_eq!(companies[1].short_name, "");
        assert_eq!(companies[1].type_name, None);
        assert_eq!(companies[1].status_name, None);
        assert!(companies[1].deleted);
    }

    #[test]
    fn answers_with_identifiers_only_decode() {
        // `fields=identifier` leaves out everything else, the id included.
        let found: Vec<Identifier> = answers::decode(br#"[{"identifier":"Acme"},{}]"#).unwrap();
        assert_eq!(found[0].identifier.as_deref(), Some("Acme"));
        assert_eq!(found[1].identifier, None);
    }

    #[test]
    fn identifiers_are_letters_and_digits_up_to_25() {
        assert_eq!(derive_identifier("", "Acme Corp"), "AcmeCorp");
        assert_eq!(derive_identifier("AC-01", "Acme Corp"), "AC01");
        assert_eq!(derive_identifier("---", "Acme, Inc."), "AcmeInc");
        assert_eq!(
            derive_identifier("", "Café Müller & Søn GmbH"),
            "CafeMullerSonGmbH"
        );
        assert_eq!(derive_identifier("", "Straße Œuvre"), "StrasseOEuvre");
        assert_eq!(derive_identifier("", "日本の会社"), "Company");
        let long = derive_identifier("", "The Very Long Company Name of Somewhere Ltd");
        assert_eq!(long, "TheVeryLongCompanyNameofS");
        assert_eq!(long.len(), IDENTIFIER_LEN);
    }

    #[test]
    fn suffixes_keep_identifiers_within_25() {
        assert_eq!(with_suffix("AcmeCorp", 2), "AcmeCorp2");
        assert_eq!(
            with_suffix(&"A".repeat(25), 2),
            format!("{}2", "A".repeat(24))
        );
        assert_eq!(
            with_suffix(&"A".repeat(24), 13),
            format!("{}13", "A".repeat(23))
        );
    }

    #[test]
    fn duplicate_identifiers_are_recognised() {
        let reply = |status, body: &str| http::Reply {
            status,
            link: None,
            body: body.as_bytes().to_vec(),
            quote: true,
        };
        let duplicate = r#"{"code":"InvalidObject","message":"company object is invalid","errors":[{"code":"Duplicate","message":"The identifier is in use.","resource":"company","field":"identifier"}]}"#;
        assert!(is_duplicate_identifier(&reply(400, duplicate)));
        let null = r#"{"code":"InvalidObject","message":"x","errors":[{"code":"NullValue","message":"x","field":"site"}]}"#;
        assert!(!is_duplicate_identifier(&reply(400, null)));
        let other_field = r#"{"errors":[{"code":"Duplicate","message":"x","field":"name"}]}"#;
        assert!(!is_duplicate_identifier(&reply(400, other_field)));
        assert!(!is_duplicate_identifier(&reply(201, duplicate)));
        // Another code with a message that says the identifier is taken: a duplicate too; an
        // identifier refused for its form is not.
        let taken = r#"{"code":"InvalidObject","message":"company object is invalid","errors":[{"code":"InvalidField","message":"The identifier 'AcmeCorp' is already in use.","resource":"company","field":"identifier"}]}"#;
        assert!(is_duplicate_identifier(&reply(400, taken)));
        let malformed = r#"{"code":"InvalidObject","message":"company object is invalid","errors":[{"code":"InvalidField","message":"identifier cannot contain spaces.","resource":"company","field":"identifier"}]}"#;
        assert!(!is_duplicate_identifier(&reply(400, malformed)));
    }

    #[test]
    fn types_and_statuses_are_found_by_name() {
        let list: Vec<Named> = answers::decode(
            br#"[{"id":1,"name":"Client"},{"id":5,"name":"Vendor"},{"id":6,"name":null}]"#,
        )
        .unwrap();
        assert_eq!(find(&list, "Client"), Some(1));
        assert_eq!(find(&list, "vendor"), Some(5));
        assert_eq!(find(&list, "Prospect"), None);
        let PsaError::Refused(m) = unknown("type", "Prospect", &list) else {
            panic!("not refused");
        };
        assert_eq!(
            m,
            "ConnectWise has no company type named \"Prospect\" (it has: Client, Vendor)"
        );
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        assert!(ConnectWise::new(connection("v4_6_release", keys())).is_ok());
        assert!(ConnectWise::new(connection("/v2025_1/", keys())).is_ok());
        for codebase in ["", "v4_6_release/apis", "a b"] {
            let Err(PsaError::Config(m)) = ConnectWise::new(connection(codebase, keys())) else {
                panic!("{codebase} accepted");
            };
            assert!(m.contains("codebase"));
        }
        let autotask = Credentials::Autotask {
            username: "u".into(),
            secret: "s".into(),
            integration_code: "c".into(),
        };
        assert!(matches!(
            ConnectWise::new(connection("v4_6_release", autotask)),
            Err(PsaError::Config(_))
        ));
        let mut plain = connection("v4_6_release", keys());
        plain.base_url = "http://api-na.myconnectwise.net".into();
        assert!(matches!(ConnectWise::new(plain), Err(PsaError::Config(_))));
    }

    #[test]
    fn the_root_and_authorization_follow_the_settings() {
        let cw = ConnectWise::new(connection("v4_6_release", keys())).unwrap();
        assert_eq!(
            cw.root,
            "https://api-na.myconnectwise.net/v4_6_release/apis/3.0"
        );
        let token = base64::engine::general_purpose::STANDARD.encode("roster+pub:priv");
        assert_eq!(cw.headers[0], ("Authorization", format!("Basic {token}")));
        assert_eq!(cw.headers[1].0, "clientId");
    }
}
