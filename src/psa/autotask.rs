//! Autotask (REST API v1.0). The settings hold the zone lookup's address; the zone (the API
//! address of the user's data centre) is asked for once and kept. Company types are the
//! `companyType` picklist of `Companies/entityInformation/fields`; statuses are Active and
//! Inactive (`isActive`). Credentials go only to the zone's own scheme, host and port.

use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::{Value, json};
use ureq::http::Uri;

use super::address;
use super::answers::{self, AtMost, Memo};
use super::http::{Client, Method, Request};
use super::{
    Company, CompanyFields, CompanyPage, Connection, CreateDefaults, Credentials, Psa, PsaError,
    PsaKind, Vocabulary,
};

/// Autotask returns at most 500 records a query.
pub const MAX_PAGE_SIZE: u32 = 500;
pub const ACTIVE: &str = "Active";
pub const INACTIVE: &str = "Inactive";
const TYPE_FIELD: &str = "companyType";

pub struct Autotask {
    /// The zone lookup's address, without a trailing slash.
    lookup: String,
    username: String,
    headers: Vec<(&'static str, String)>,
    defaults: CreateDefaults,
    policy: address::AddressPolicy,
    client: Client,
    page_size: u32,
    /// The zone's API address, ending with `/`.
    zone: OnceLock<String>,
    fields: Memo<Vec<Field>>,
}

#[derive(Debug, Deserialize)]
struct ZoneInformation {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FieldList {
    fields: Vec<Field>,
}

/// One field of `entityInformation/fields`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Field {
    name: String,
    #[serde(default)]
    is_required: Option<bool>,
    #[serde(default)]
    is_read_only: Option<bool>,
    #[serde(default)]
    picklist_values: Option<Vec<PicklistValue>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PicklistValue {
    value: Value,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    is_active: Option<bool>,
    #[serde(default)]
    is_default_value: Option<bool>,
}

impl PicklistValue {
    /// The value as Autotask takes it back: a number when it is one.
    fn to_json(&self) -> Value {
        match &self.value {
            Value::String(s) => s.parse::<i64>().map_or_else(|_| json!(s), |n| json!(n)),
            other => other.clone(),
        }
    }

    fn is(&self, number: i64) -> bool {
        self.to_json().as_i64() == Some(number)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AtCompany {
    id: i64,
    #[serde(default)]
    company_name: Option<String>,
    #[serde(default)]
    company_number: Option<String>,
    #[serde(default)]
    company_type: Option<i64>,
    #[serde(default)]
    is_active: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryPage {
    items: AtMost<AtCompany, { MAX_PAGE_SIZE as usize }>,
    #[serde(default)]
    page_details: Option<PageDetails>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageDetails {
    #[serde(default)]
    next_page_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    item_id: i64,
}

impl Autotask {
    pub fn new(connection: Connection) -> Result<Self, PsaError> {
        address::check_address(&connection.base_url, connection.policy)?;
        let Credentials::Autotask {
            username,
            secret,
            integration_code,
        } = &connection.credentials
        else {
            return Err(PsaError::Config(
                "these are not Autotask credentials".into(),
            ));
        };
        Ok(Self {
            lookup: connection.base_url.trim_end_matches('/').to_owned(),
            username: username.clone(),
            headers: vec![
                ("ApiIntegrationCode", integration_code.clone()),
                ("UserName", username.clone()),
                ("Secret", secret.clone()),
                ("Content-Type", "application/json".into()),
            ],
            client: connection.client(),
            defaults: connection.defaults,
            policy: connection.policy,
            page_size: MAX_PAGE_SIZE,
            zone: OnceLock::new(),
            fields: Memo::default(),
        })
    }

    /// Companies a page (1 to 500; 500 unless tests ask for less).
    pub fn with_page_size(mut self, size: u32) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// Replaces the pause between attempts (tests).
    pub fn with_sleep(mut self, sleep: fn(std::time::Duration)) -> Self {
        self.client = self.client.with_sleep(sleep);
        self
    }

    /// The zone's API address (asked for on first use, then kept).
    fn zone(&self) -> Result<&str, PsaError> {
        if let Some(zone) = self.zone.get() {
            return Ok(zone);
        }
        let url = format!(
            "{}/v1.0/zoneInformation?user={}",
            self.lookup,
            answers::encode(&self.username)
        );
        // Autotask answers an unknown user name with 500 and `{"errors": [...]}`.
        let lookup = Request::new(Method::Get, &url, &[]).refusals_in_500();
        let info: ZoneInformation = match self.client.send(&lookup) {
            Ok(reply) => reply.json()?,
            Err(PsaError::NotFound | PsaError::Refused(_)) => return Err(PsaError::Unauthorized),
            Err(e) => return Err(e),
        };
        let zone = info.url.filter(|u| !u.trim().is_empty()).ok_or_else(|| {
            PsaError::Malformed("Autotask's zone lookup named no API address".into())
        })?;
        address::check_address(zone.trim_end_matches('/'), self.policy).map_err(|e| {
            PsaError::Malformed(format!(
                "Autotask's zone lookup named an unusable address: {e}"
            ))
        })?;
        if !trusted_zone(&self.lookup, &zone) {
            return Err(PsaError::Malformed(
                "Autotask's zone lookup named an API address on another host, outside autotask.net; the credentials are not sent there".into(),
            ));
        }
        Ok(self
            .zone
            .get_or_init(|| format!("{}/", zone.trim_end_matches('/'))))
    }

    /// The company fields (kept, or read afresh).
    fn fields(&self, fresh: bool) -> Result<Arc<Vec<Field>>, PsaError> {
        let url = format!("{}v1.0/Companies/entityInformation/fields", self.zone()?);
        self.fields.get(fresh, || {
            let list: FieldList = self
                .client
                .send(&Request::new(Method::Get, &url, &self.headers))?
                .json()?;
            Ok(list.fields)
        })
    }

    /// The picklist value of the company type labelled `name` (the fields read afresh once
    /// when it is missing), with its label as Autotask spells it.
    fn company_type(&self, name: &str) -> Result<(Value, String), PsaError> {
        let pick = |fields: &[Field]| {
            answers::find_named(type_values(fields), name, |v| v.label.as_deref())
                .map(|v| (v.to_json(), v.label.clone().unwrap_or_default()))
        };
        if let Some(found) = pick(&self.fields(false)?) {
            return Ok(found);
        }
        let fields = self.fields(true)?;
        pick(&fields).ok_or_else(|| {
            let labels: Vec<&str> = type_values(&fields)
                .iter()
                .filter_map(|v| v.label.as_deref())
                .collect();
            PsaError::Refused(format!(
                "Autotask has no company type named \"{name}\" (it has: {})",
                labels.join(", ")
            ))
        })
    }

    /// What `create` sends: the fields Roster has, the owner from the settings, and for the other
    /// fields Autotask requires, their picklist default; a clear refusal when one is left.
    fn new_company(&self, fields: &CompanyFields, type_value: Value) -> Result<Value, PsaError> {
        let mut body = company_body(fields, type_value)?;
        let owner = self.defaults.owner_resource_id.trim();
        if !owner.is_empty() {
            let id: i64 = owner.parse().map_err(|_| {
                PsaError::Refused(
                    "the Autotask owner resource id in the PSA settings must be a number".into(),
                )
            })?;
            body.insert("ownerResourceID".into(), json!(id));
        }
        let phone = self.defaults.phone.trim();
        if !phone.is_empty() {
            body.insert("phone".into(), json!(phone));
        }
        let mut missing = Vec::new();
        let definitions = self.fields(false)?;
        for field in definitions.iter() {
            let sent = body.keys().any(|k| k.eq_ignore_ascii_case(&field.name));
            if !field.is_required.unwrap_or(false)
                || field.is_read_only.unwrap_or(false)
                || field.name.eq_ignore_ascii_case("id")
                || sent
            {
                continue;
            }
            let default = field
                .picklist_values
                .iter()
                .flatten()
                .find(|v| v.is_default_value.unwrap_or(false));
            match default {
                Some(value) => {
                    body.insert(field.name.clone(), value.to_json());
                }
                None => missing.push(field.name.as_str()),
            }
        }
        if missing
            .iter()
            .any(|m| m.eq_ignore_ascii_case("ownerResourceID"))
        {
            return Err(PsaError::Refused(
                "Autotask requires an owner for a new company: set the owner resource id in the PSA settings (defaults for new companies)".into(),
            ));
        }
        if !missing.is_empty() {
            return Err(PsaError::Refused(format!(
                "Autotask requires {} for a new company, and Roster has no value to send; make {} optional in Autotask or create the company there",
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" }
            )));
        }
        Ok(Value::Object(body))
    }
}

impl Psa for Autotask {
    fn kind(&self) -> PsaKind {
        PsaKind::Autotask
    }

    fn check(&self) -> Result<(), PsaError> {
        self.fields(true).map(|_| ())
    }

    fn vocabulary(&self) -> Result<Vocabulary, PsaError> {
        let fields = self.fields(true)?;
        let types = type_values(&fields)
            .iter()
            .filter(|v| v.is_active.unwrap_or(true))
            .filter_map(|v| v.label.clone())
            .collect();
        Ok(Vocabulary {
            types,
            statuses: vec![ACTIVE.into(), INACTIVE.into()],
        })
    }

    fn companies(&self, cursor: Option<&str>) -> Result<CompanyPage, PsaError> {
        let zone = self.zone()?;
        let url = match cursor {
            None => format!("{zone}v1.0/Companies/query"),
            Some(next) if on_zone(next, zone) => next.to_owned(),
            Some(_) => return Err(foreign_page()),
        };
        // Autotask pages a POST query with a POST of the same query to `nextPageUrl`.
        let query = json!({
            "MaxRecords": self.page_size,
            "IncludeFields": ["id", "companyName", "companyNumber", "companyType", "isActive"],
            "filter": [{ "op": "gte", "field": "id", "value": 0 }],
        });
        let request = Request::new(Method::Post, &url, &self.headers).json(&query);
        let page: QueryPage = self.client.send(&request)?.json()?;
        let next = page
            .page_details
            .and_then(|d| d.next_page_url)
            .filter(|n| !n.trim().is_empty());
        if let Some(next) = &next {
            if !on_zone(next, zone) {
                return Err(foreign_page());
            }
            if *next == url {
                return Err(PsaError::Malformed(
                    "Autotask's next page is the page just read".into(),
                ));
            }
        }
        let fields = self.fields(false)?;
        let types = type_values(&fields);
        let companies = page
            .items
            .0
            .into_iter()
            .map(|c| company(c, types))
            .collect();
        Ok(CompanyPage { companies, next })
    }

    fn create(&self, fields: &CompanyFields) -> Result<Company, PsaError> {
        let zone = self.zone()?;
        let (type_value, type_label) = self.company_type(&fields.type_name)?;
        let body = self.new_company(fields, type_value)?;
        let url = format!("{zone}v1.0/Companies");
        let request = Request::new(Method::Post, &url, &self.headers)
            .json(&body)
            .once()
            .refusals_in_500();
        let created: Created = self.client.send(&request)?.json()?;
        Ok(Company {
            id: created.item_id.to_string(),
            name: fields.name.clone(),
            short_name: fields.short_name.clone(),
            type_name: Some(type_label),
            status_name: Some(status_of(&body).into()),
            deleted: false,
        })
    }

    fn update(&self, id: &str, fields: &CompanyFields) -> Result<(), PsaError> {
        let id: i64 = id.parse().map_err(|_| PsaError::NotFound)?;
        let zone = self.zone()?;
        let (type_value, _) = self.company_type(&fields.type_name)?;
        let mut body = company_body(fields, type_value)?;
        body.insert("id".into(), json!(id));
        let url = format!("{zone}v1.0/Companies");
        let body = Value::Object(body);
        let request = Request::new(Method::Patch, &url, &self.headers)
            .json(&body)
            .refusals_in_500();
        self.client.send(&request)?;
        Ok(())
    }
}

/// Name, number (when Roster has one), type and `isActive` of a company.
fn company_body(
    fields: &CompanyFields,
    type_value: Value,
) -> Result<serde_json::Map<String, Value>, PsaError> {
    let is_active = if fields.status_name.trim().eq_ignore_ascii_case(ACTIVE) {
        true
    } else if fields.status_name.trim().eq_ignore_ascii_case(INACTIVE) {
        false
    } else {
        return Err(PsaError::Refused(format!(
            "Autotask has no company status named \"{}\" (it has: {ACTIVE}, {INACTIVE})",
            fields.status_name
        )));
    };
    let mut body = serde_json::Map::new();
    body.insert("companyName".into(), json!(fields.name));
    if !fields.short_name.trim().is_empty() {
        body.insert("companyNumber".into(), json!(fields.short_name));
    }
    body.insert(TYPE_FIELD.into(), type_value);
    body.insert("isActive".into(), json!(is_active));
    Ok(body)
}

fn status_of(body: &serde_json::Value) -> &'static str {
    if body.get("isActive").and_then(Value::as_bool) == Some(false) {
        INACTIVE
    } else {
        ACTIVE
    }
}

/// The picklist of `companyType`.
fn type_values(fields: &[Field]) -> &[PicklistValue] {
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(TYPE_FIELD))
        .and_then(|f| f.picklist_values.as_deref())
        .unwrap_or_default()
}

fn company(c: AtCompany, types: &[PicklistValue]) -> Company {
    let type_name = c
        .company_type
        .and_then(|t| types.iter().find(|v| v.is(t)))
        .and_then(|v| v.label.clone());
    Company {
        id: c.id.to_string(),
        name: c.company_name.unwrap_or_default(),
        short_name: c.company_number.unwrap_or_default(),
        type_name,
        status_name: c
            .is_active
            .map(|a| if a { ACTIVE } else { INACTIVE }.into()),
        deleted: false,
    }
}

/// Whether a next page address is on the zone's scheme, host and port.
fn on_zone(url: &str, zone: &str) -> bool {
    address::same_origin(url, zone)
}

fn foreign_page() -> PsaError {
    PsaError::Malformed(
        "Autotask's next page address is not on the zone's host; it is not followed (the credentials go nowhere else)".into(),
    )
}

/// Whether the zone the lookup named may receive the credentials: the lookup's own host, or
/// both under autotask.net (the lookup sends every user to one of Autotask's zones).
fn trusted_zone(lookup: &str, zone: &str) -> bool {
    let host = |url: &str| {
        url.parse::<Uri>()
            .ok()
            .and_then(|u| u.host().map(str::to_ascii_lowercase))
    };
    let autotask = |h: &str| h == "autotask.net" || h.ends_with(".autotask.net");
    match (host(lookup), host(zone)) {
        (Some(a), Some(b)) => a == b || (autotask(&a) && autotask(&b)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &str = r#"{"fields":[
        {"name":"id","dataType":"long","isRequired":true,"isReadOnly":true,"isPickList":false},
        {"name":"companyType","dataType":"integer","isRequired":true,"isReadOnly":false,"isPickList":true,
         "picklistValues":[{"value":"1","label":"Customer","isActive":true,"isDefaultValue":false,"sortOrder":1},
                           {"value":"3","label":"Prospect","isActive":true,"isDefaultValue":false,"sortOrder":2},
                           {"value":"7","label":"Vendor","isActive":false,"isDefaultValue":false,"sortOrder":3}]},
        {"name":"companyName","isRequired":true,"isReadOnly":false,"picklistValues":null},
        {"name":"ownerResourceID","isRequired":true},
        {"name":"companyCategoryID","isRequired":true,"isPickList":true,
         "picklistValues":[{"value":"100","label":"Standard","isActive":true,"isDefaultValue":true}]},
        {"name":"phone","isRequired":true}]}"#;

    fn fields() -> Vec<Field> {
        answers::decode::<FieldList>(FIELDS.as_bytes())
            .unwrap()
            .fields
    }

    fn company_fields(type_name: &str, status_name: &str) -> CompanyFields {
        CompanyFields {
            name: "Acme Corp".into(),
            short_name: "ACME01".into(),
            type_name: type_name.into(),
            status_name: status_name.into(),
        }
    }

    #[test]
    fn companies_map_from_the_api_json_with_type_labels() {
        let page: QueryPage = answers::decode(
            br#"{"items":[{"id":29683,"companyName":"Acme Corp","companyNumber":"ACME01","companyType":1,
                "isActive":true,"ownerResourceID":29682,"phone":"555-0100"},
                {"id":29684,"companyName":"Old","companyNumber":null,"companyType":42,"isActive":false}],
                "pageDetails":{"count":2,"requestCount":500,"prevPageUrl":null,"nextPageUrl":null}}"#,
        )
        .unwrap();
        assert_eq!(page.page_details.unwrap().next_page_url, None);
        let fields = fields();
        let companies: Vec<Company> = page
            .items
            .0
            .into_iter()
            .map(|c| company(c, type_values(&fields)))
            .collect();
        assert_eq!(
            companies[0],
            Company {
                id: "29683".into(),
                name: "Acme Corp".into(),
                short_name: "ACME01".into(),
                type_name: Some("Customer".into()),
                status_name: Some("Active".into()),
                deleted: false,
            }
        );
        assert_eq!(companies[1].type_name, None);
        assert_eq!(companies[1].status_name, Some("Inactive".into()));
        assert_eq!(companies[1].short_name, "");
    }

    #[test]
    fn picklist_values_go_back_as_numbers() {
        let fields = fields();
        let types = type_values(&fields);
        assert_eq!(types.len(), 3);
        assert_eq!(types[1].to_json(), json!(3));
        assert!(types[1].is(3));
        let named: PicklistValue = serde_json::from_str(r#"{"value":"A","label":"x"}"#).unwrap();
        assert_eq!(named.to_json(), json!("A"));
    }

    #[test]
    fn statuses_are_active_or_inactive() {
        let body = company_body(&company_fields("Customer", "inactive"), json!(1)).unwrap();
        assert_eq!(
            Value::Object(body),
            json!({"companyName":"Acme Corp","companyNumber":"ACME01","companyType":1,"isActive":false})
        );
        let PsaError::Refused(m) =
            company_body(&company_fields("Customer", "Closed"), json!(1)).unwrap_err()
        else {
            panic!("not refused");
        };
        assert!(m.contains("\"Closed\"") && m.contains("Active, Inactive"));
        let mut unnamed = company_fields("Customer", "Active");
        unnamed.short_name = " ".into();
        let body = company_body(&unnamed, json!(1)).unwrap();
        assert!(!body.contains_key("companyNumber"));
        assert_eq!(status_of(&Value::Object(body)), ACTIVE);
    }

    #[test]
    fn zones_are_trusted_on_the_lookup_host_or_autotask() {
        let lookup = "https://webservices.autotask.net/atservicesrest";
        assert!(trusted_zone(
            lookup,
            "https://webservices5.autotask.net/ATServicesRest/"
        ));
        assert!(!trusted_zone(
            lookup,
            "https://webservices5.autotask.net.evil.example/"
        ));
        assert!(!trusted_zone(
            lookup,
            "https://evil.example/atservicesrest/"
        ));
        assert!(trusted_zone(
            "http://127.0.0.1:4000",
            "http://127.0.0.1:4001/zone/"
        ));
        assert!(!trusted_zone(
            "http://127.0.0.1:4000",
            "http://10.0.0.1:4000/"
        ));
    }

    #[test]
    fn next_pages_elsewhere_are_refused() {
        let zone = "https://webservices5.autotask.net/atservicesrest/";
        assert!(on_zone(
            "https://webservices5.autotask.net/atservicesrest/v1.0/Companies/query/next?paging=abc",
            zone
        ));
        assert!(!on_zone(
            "https://webservices6.autotask.net/atservicesrest/v1.0/x",
            zone
        ));
        assert!(!on_zone(
            "http://webservices5.autotask.net/atservicesrest/v1.0/x",
            zone
        ));
    }
}
