//! The ConnectWise Manage double: REST API 3.0 under `/{codebase}/apis/3.0` (companies, their
//! types and statuses, type associations, `system/info`, `/login/companyinfo`), Basic
//! authentication `{companyId}+{publicKey}:{privateKey}` with a `clientId` header, paging by
//! `page`/`pageSize` with a `Link` header, `conditions` and `orderBy`, and ConnectWise's error
//! bodies. Paths are matched without regard to case, as IIS does.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde_json::{Value, json};

use super::sandbox_page::{self, Action, Field, Page, Row};
use super::{Api, Harness, is_json, lock, now_utc, query_pairs, query_value};

pub const COMPANY_ID: &str = "roster";
pub const PUBLIC_KEY: &str = "sandboxpublic";
pub const PRIVATE_KEY: &str = "sandboxprivate";
pub const CLIENT_ID: &str = "00000000-0000-4000-8000-000000000000";
pub const CODEBASE: &str = "v4_6_release";
/// The API's root path, under the site address.
pub const API_ROOT: &str = "/v4_6_release/apis/3.0";
/// ConnectWise's `identifier` ("Company ID") holds at most 30 characters (API 3.0 schema).
pub const IDENTIFIER_MAX_LEN: usize = 30;
pub const NAME_MAX_LEN: usize = 50;
pub const MAX_PAGE_SIZE: usize = 1000;
/// The page size when the request names none.
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// The port of `cargo run --example psa-sandbox -- connectwise`.
pub const DEFAULT_PORT: u16 = 8091;
/// Site and address of the companies the test API adds.
pub const DEFAULT_SITE: &str = "Main";
pub const DEFAULT_ADDRESS: &str = "1 Main Street";

const SEEDED_TYPES: [&str; 4] = ["Client", "Prospect", "Vendor", "Partner"];
const SEEDED_STATUSES: [&str; 3] = ["Active", "Inactive", "Not-Approved"];

/// A company as a test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CwCompany {
    pub id: i64,
    pub identifier: String,
    pub name: String,
    /// Type names, in the order they were associated.
    pub types: Vec<String>,
    pub status: String,
    pub deleted: bool,
    pub site: String,
    pub address_line1: String,
    pub last_updated: String,
}

#[derive(Debug, Clone)]
struct Stored {
    id: i64,
    identifier: String,
    name: String,
    /// (association id, type id).
    types: Vec<(i64, i64)>,
    status: i64,
    deleted: Option<String>,
    site: (i64, String),
    address_line1: String,
    entered: String,
    updated: String,
}

pub(crate) struct Inner {
    harness: Harness,
    base: String,
    companies: BTreeMap<i64, Stored>,
    types: Vec<(i64, String)>,
    statuses: Vec<(i64, String)>,
    /// The last company id given.
    last_company: i64,
    /// The last id given to anything else (sites, type associations).
    last_other: i64,
    page_size_cap: usize,
}

/// A ConnectWise Manage server on 127.0.0.1; dropping it stops it.
pub(crate) type ConnectWiseDouble = super::Double<Inner>;

impl ConnectWiseDouble {
    /// On a free port.
    pub fn start() -> Self {
        Self::start_on_port(0)
            .unwrap_or_else(|e| panic!("the ConnectWise double could not start: {e}"))
    }

    /// On `port` (0: any free port).
    pub fn start_on_port(port: u16) -> io::Result<Self> {
        let inner = Inner {
            harness: Harness::default(),
            base: String::new(),
            companies: BTreeMap::new(),
            types: numbered(&SEEDED_TYPES),
            statuses: numbered(&SEEDED_STATUSES),
            last_company: 249,
            last_other: 1000,
            page_size_cap: MAX_PAGE_SIZE,
        };
        Self::launch(port, inner, configure, |inner, origin| inner.base = origin)
    }

    /// What Roster's settings take as the PSA address (the "site"); the codebase is [`CODEBASE`].
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    pub fn codebase(&self) -> &'static str {
        CODEBASE
    }

    /// The API root, `{base_url}/{codebase}/apis/3.0`.
    pub fn api_url(&self) -> String {
        format!("{}{API_ROOT}", self.base_url())
    }

    pub fn control_page_url(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// Adds a company at site [`DEFAULT_SITE`]; panics on a type or status the double lacks.
    pub fn add_company(&self, name: &str, identifier: &str, type_name: &str, status: &str) -> i64 {
        let mut inner = self.state();
        let type_id = inner.type_id(type_name);
        let status = inner.status_id(status);
        inner.insert(
            identifier,
            name,
            &[type_id],
            status,
            DEFAULT_SITE,
            DEFAULT_ADDRESS,
        )
    }

    pub fn rename(&self, id: i64, name: &str) {
        self.change(id, |c, _| name.clone_into(&mut c.name));
    }

    pub fn set_identifier(&self, id: i64, identifier: &str) {
        self.change(id, |c, _| identifier.clone_into(&mut c.identifier));
    }

    /// Replaces the company's types by this one.
    pub fn set_type(&self, id: i64, type_name: &str) {
        let type_id = self.state().type_id(type_name);
        self.change(id, |c, next| c.types = vec![(next, type_id)]);
    }

    pub fn set_status(&self, id: i64, status: &str) {
        let status = self.state().status_id(status);
        self.change(id, |c, _| c.status = status);
    }

    /// Sets `deletedFlag` (ConnectWise keeps deleted companies, flagged, in its lists).
    pub fn mark_deleted(&self, id: i64, deleted: bool) {
        self.change(id, |c, _| c.deleted = deleted.then(now_utc));
    }

    /// Removes the company entirely (it is no longer listed at all).
    pub fn remove(&self, id: i64) {
        self.state().companies.remove(&id);
    }

    pub fn companies(&self) -> Vec<CwCompany> {
        let inner = self.state();
        inner.companies.values().map(|c| inner.public(c)).collect()
    }

    pub fn company(&self, id: i64) -> Option<CwCompany> {
        let inner = self.state();
        inner.companies.get(&id).map(|c| inner.public(c))
    }

    pub fn company_by_identifier(&self, identifier: &str) -> Option<CwCompany> {
        self.companies()
            .into_iter()
            .find(|c| c.identifier.eq_ignore_ascii_case(identifier))
    }

    /// Adds a company type; returns its id.
    pub fn add_type(&self, name: &str) -> i64 {
        let mut inner = self.state();
        let id = inner.types.len() as i64 + 1;
        inner.types.push((id, name.to_owned()));
        id
    }

    /// Adds a company status; returns its id.
    pub fn add_status(&self, name: &str) -> i64 {
        let mut inner = self.state();
        let id = inner.statuses.len() as i64 + 1;
        inner.statuses.push((id, name.to_owned()));
        id
    }

    /// Pages hold at most `cap` items whatever `pageSize` asks (`None`: ConnectWise's 1,000).
    pub fn set_page_size_cap(&self, cap: Option<usize>) {
        self.state().page_size_cap = cap.unwrap_or(MAX_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    }

    /// How many calls had this method and this path under the API root, e.g.
    /// `request_count("POST", "/company/companies")`.
    pub fn request_count(&self, method: &str, path: &str) -> usize {
        let full = format!("{API_ROOT}{path}");
        self.state().harness.count(method, &full, true)
    }

    fn change(&self, id: i64, f: impl FnOnce(&mut Stored, i64)) {
        let mut inner = self.state();
        let next = inner.other_id();
        let Some(company) = inner.companies.get_mut(&id) else {
            panic!("the ConnectWise double has no company {id}");
        };
        f(company, next);
        company.updated = now_utc();
    }
}

fn numbered(names: &[&str]) -> Vec<(i64, String)> {
    (1..).zip(names.iter().map(|n| (*n).to_owned())).collect()
}

impl Inner {
    fn other_id(&mut self) -> i64 {
        self.last_other += 1;
        self.last_other
    }

    fn type_id(&self, name: &str) -> i64 {
        find_named(&self.types, name)
            .unwrap_or_else(|| panic!("the ConnectWise double has no company type {name:?}"))
    }

    fn status_id(&self, name: &str) -> i64 {
        find_named(&self.statuses, name)
            .unwrap_or_else(|| panic!("the ConnectWise double has no company status {name:?}"))
    }

    fn insert(
        &mut self,
        identifier: &str,
        name: &str,
        types: &[i64],
        status: i64,
        site: &str,
        address_line1: &str,
    ) -> i64 {
        self.last_company += 1;
        let id = self.last_company;
        let types = types.iter().map(|t| (self.other_id(), *t)).collect();
        let site = (self.other_id(), site.to_owned());
        let now = now_utc();
        self.companies.insert(
            id,
            Stored {
                id,
                identifier: identifier.to_owned(),
                name: name.to_owned(),
                types,
                status,
                deleted: None,
                site,
                address_line1: address_line1.to_owned(),
                entered: now.clone(),
                updated: now,
            },
        );
        id
    }

    fn name_of(list: &[(i64, String)], id: i64) -> String {
        list.iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    }

    fn public(&self, c: &Stored) -> CwCompany {
        CwCompany {
            id: c.id,
            identifier: c.identifier.clone(),
            name: c.name.clone(),
            types: c
                .types
                .iter()
                .map(|(_, t)| Self::name_of(&self.types, *t))
                .collect(),
            status: Self::name_of(&self.statuses, c.status),
            deleted: c.deleted.is_some(),
            site: c.site.1.clone(),
            address_line1: c.address_line1.clone(),
            last_updated: c.updated.clone(),
        }
    }

    fn href(&self, path: &str) -> String {
        format!("{}{API_ROOT}{path}", self.base)
    }

    fn company_json(&self, c: &Stored) -> Value {
        let types: Vec<Value> = c
            .types
            .iter()
            .map(|(_, t)| {
                json!({"id": t, "name": Self::name_of(&self.types, *t),
                "_info": {"type_href": self.href(&format!("/company/companies/types/{t}"))}})
            })
            .collect();
        let mut company = json!({
            "id": c.id,
            "identifier": c.identifier,
            "name": c.name,
            "status": {"id": c.status, "name": Self::name_of(&self.statuses, c.status),
                "_info": {"status_href": self.href(&format!("/company/companies/statuses/{}", c.status))}},
            "addressLine1": c.address_line1,
            "phoneNumber": "",
            "website": "",
            "site": {"id": c.site.0, "name": c.site.1,
                "_info": {"site_href": self.href(&format!("/company/companies/{}/sites/{}", c.id, c.site.0))}},
            "types": types,
            "deletedFlag": c.deleted.is_some(),
            "_info": {"lastUpdated": c.updated, "updatedBy": "roster", "dateEntered": c.entered,
                "enteredBy": "roster"},
        });
        if let Some(when) = &c.deleted {
            company["dateDeleted"] = json!(when);
            company["deletedBy"] = json!("roster");
        }
        company
    }

    fn association_json(&self, c: &Stored, (id, type_id): (i64, i64)) -> Value {
        json!({
            "id": id,
            "type": {"id": type_id, "name": Self::name_of(&self.types, type_id)},
            "company": {"id": c.id, "identifier": c.identifier, "name": c.name},
        })
    }

    fn identifier_taken(&self, identifier: &str, except: Option<i64>) -> bool {
        self.companies
            .values()
            .any(|c| Some(c.id) != except && c.identifier.eq_ignore_ascii_case(identifier))
    }
}

fn find_named(list: &[(i64, String)], name: &str) -> Option<i64> {
    list.iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(id, _)| *id)
}

fn configure(cfg: &mut web::ServiceConfig, state: &Arc<Mutex<Inner>>) {
    cfg.app_data(web::Data::from(state.clone()))
        .route("/", web::get().to(control_page))
        .route("/sandbox/companies", web::post().to(sandbox_add))
        .route(
            "/sandbox/companies/{id}/{action}",
            web::post().to(sandbox_change),
        )
        .default_service(web::to(super::api::<Inner>));
}

// ---- the API -------------------------------------------------------------------------------

impl Api for Inner {
    fn harness(&mut self) -> &mut Harness {
        &mut self.harness
    }

    fn is_api_path(path: &str) -> bool {
        let path = path.to_ascii_lowercase();
        path.contains("/apis/") || path.starts_with("/login/")
    }

    fn refusal(status: StatusCode) -> HttpResponse {
        let code = status
            .canonical_reason()
            .unwrap_or("Error")
            .replace(' ', "");
        error(status, &code, "The sandbox was told to refuse this call.")
    }

    fn answer(&mut self, req: &HttpRequest, body: &[u8]) -> HttpResponse {
        route(self, req, body)
    }
}

fn route(inner: &mut Inner, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    let path = req.path().to_ascii_lowercase();
    let method = req.method().as_str();
    if let Some(company) = path.strip_prefix("/login/companyinfo/") {
        return match method {
            "GET" => company_info(inner, company),
            _ => not_allowed(method),
        };
    }
    let Some(rest) = path.strip_prefix(&API_ROOT.to_ascii_lowercase()) else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The resource cannot be found.",
        );
    };
    if let Err(refused) = authenticate(req) {
        return refused;
    }
    if matches!(method, "POST" | "PATCH" | "PUT") && !is_json(req) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "The request body must be application/json.",
        );
    }
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let id = |s: &str| s.parse::<i64>().ok();
    match (method, segments.as_slice()) {
        ("GET", ["system", "info"]) => HttpResponse::Ok().json(json!({
            "version": "v2025.1.12345", "isCloud": true, "serverTimeZone": "Eastern Standard Time",
            "licenseBits": [], "cloudRegion": "NA"})),
        ("GET", ["company", "companies"]) => list_companies(inner, req),
        ("POST", ["company", "companies"]) => create_company(inner, body),
        ("GET", ["company", "companies", "count"]) => count_companies(inner, req),
        ("GET", ["company", "companies", "types"]) => {
            let items = vocabulary_json(&inner.types, |_| json!({}));
            paged(inner, req, &items, false)
        }
        ("GET", ["company", "companies", "statuses"]) => {
            let items = vocabulary_json(
                &inner.statuses,
                |name| json!({"inactiveFlag": name.eq_ignore_ascii_case("Inactive")}),
            );
            paged(inner, req, &items, false)
        }
        ("GET", ["company", "companies", n]) if id(n).is_some() => {
            with_company(inner, id(n), |inner, c| {
                HttpResponse::Ok().json(inner.company_json(c))
            })
        }
        ("PATCH", ["company", "companies", n]) if id(n).is_some() => {
            patch_company(inner, id(n).unwrap_or_default(), body)
        }
        ("DELETE", ["company", "companies", n]) if id(n).is_some() => {
            delete_company(inner, id(n).unwrap_or_default())
        }
        ("GET", ["company", "companies", n, "typeassociations"]) if id(n).is_some() => {
            let items = with_company_value(inner, id(n), |inner, c| {
                c.types
                    .iter()
                    .map(|a| inner.association_json(c, *a))
                    .collect::<Vec<_>>()
            });
            match items {
                Ok(items) => paged(inner, req, &items, false),
                Err(response) => response,
            }
        }
        ("POST", ["company", "companies", n, "typeassociations"]) if id(n).is_some() => {
            associate_type(inner, id(n).unwrap_or_default(), body)
        }
        ("GET" | "DELETE", ["company", "companies", n, "typeassociations", a])
            if id(n).is_some() && id(a).is_some() =>
        {
            type_association(
                inner,
                method,
                id(n).unwrap_or_default(),
                id(a).unwrap_or_default(),
            )
        }
        (_, ["system", "info"] | ["company", "companies", ..]) => not_allowed(method),
        _ => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The resource cannot be found.",
        ),
    }
}

fn company_info(inner: &Inner, company: &str) -> HttpResponse {
    // ConnectWise answers `null` for a company it does not know.
    if !company.eq_ignore_ascii_case(COMPANY_ID) {
        return HttpResponse::Ok().json(Value::Null);
    }
    HttpResponse::Ok().json(json!({
        "CompanyName": "Roster Sandbox", "Codebase": format!("{CODEBASE}/"),
        "VersionCode": "v2025.1", "VersionNumber": "v4.6.12345", "CompanyID": COMPANY_ID,
        "IsCloud": false, "SiteUrl": inner.base.trim_start_matches("http://"),
    }))
}

fn authenticate(req: &HttpRequest) -> Result<(), HttpResponse> {
    let expected = format!("{COMPANY_ID}+{PUBLIC_KEY}:{PRIVATE_KEY}");
    let sent = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        });
    if sent.as_deref() != Some(expected.as_bytes()) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "The company, public key or private key is not valid.",
        ));
    }
    let client_id = req.headers().get("clientid").and_then(|v| v.to_str().ok());
    if !client_id.is_some_and(|c| c.eq_ignore_ascii_case(CLIENT_ID)) {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "A registered clientId header is required.",
        ));
    }
    Ok(())
}

fn error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({"code": code, "message": message}))
}

fn not_allowed(method: &str) -> HttpResponse {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        &format!("The requested resource does not support http method '{method}'."),
    )
}

/// One refusal of a create or patch, in ConnectWise's shape.
struct FieldError {
    code: &'static str,
    field: &'static str,
    message: String,
}

fn invalid_object(errors: &[FieldError]) -> HttpResponse {
    let errors: Vec<Value> = errors
        .iter()
        .map(|e| json!({"code": e.code, "message": e.message, "resource": "company", "field": e.field}))
        .collect();
    HttpResponse::BadRequest().json(json!({
        "code": "InvalidObject", "message": "company object is invalid", "errors": errors}))
}

fn null_value(field: &'static str) -> FieldError {
    FieldError {
        code: "NullValue",
        field,
        message: format!("The {field} field is required."),
    }
}

fn check_identifier(inner: &Inner, identifier: &str, except: Option<i64>) -> Option<FieldError> {
    let refuse = |code, message: String| {
        Some(FieldError {
            code,
            field: "identifier",
            message,
        })
    };
    if identifier.trim().is_empty() {
        return Some(null_value("identifier"));
    }
    if identifier.chars().count() > IDENTIFIER_MAX_LEN {
        return refuse(
            "InvalidField",
            format!("identifier must be at most {IDENTIFIER_MAX_LEN} characters."),
        );
    }
    if identifier.chars().any(char::is_whitespace) {
        return refuse("InvalidField", "identifier cannot contain spaces.".into());
    }
    if inner.identifier_taken(identifier, except) {
        return refuse(
            "Duplicate",
            format!("The identifier '{identifier}' is already in use."),
        );
    }
    None
}

fn check_name(name: &str) -> Option<FieldError> {
    if name.trim().is_empty() {
        return Some(null_value("name"));
    }
    (name.chars().count() > NAME_MAX_LEN).then(|| FieldError {
        code: "InvalidField",
        field: "name",
        message: format!("name must be at most {NAME_MAX_LEN} characters."),
    })
}

/// A reference (`{"id": 1}`, or `{"name": "Active"}`) to one of `list`.
fn reference(list: &[(i64, String)], value: Option<&Value>) -> Option<i64> {
    let value = value?;
    if let Some(id) = value.get("id").and_then(Value::as_i64) {
        return list.iter().any(|(i, _)| *i == id).then_some(id);
    }
    find_named(list, value.get("name")?.as_str()?)
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

fn create_company(inner: &mut Inner, body: &[u8]) -> HttpResponse {
    let Ok(company) = serde_json::from_slice::<Value>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidObject",
            "The body is not valid JSON.",
        );
    };
    let mut errors: Vec<FieldError> = Vec::new();
    let identifier = text(&company, "identifier");
    errors.extend(check_identifier(inner, identifier, None));
    let name = text(&company, "name");
    errors.extend(check_name(name));
    let site = company.get("site").and_then(|s| {
        s.get("name")
            .and_then(Value::as_str)
            .or(s.get("id").map(|_| DEFAULT_SITE))
    });
    if site.is_none() {
        errors.push(null_value("site"));
    }
    let has_address = ["addressLine1", "addressLine2", "city", "state", "zip"]
        .iter()
        .any(|f| !text(&company, f).trim().is_empty())
        || company.get("country").is_some_and(|c| !c.is_null());
    if !has_address {
        errors.push(FieldError {
            code: "NullValue",
            field: "addressLine1",
            message: "At least one address field is required -- addressLine1, addressLine2, \
                      city, state, zip and/or country."
                .into(),
        });
    }
    let status = reference(&inner.statuses, company.get("status"));
    if status.is_none() {
        errors.push(null_value("status"));
    }
    let types: Vec<Option<i64>> = company
        .get("types")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .map(|t| reference(&inner.types, Some(t)))
                .collect()
        })
        .unwrap_or_default();
    if types.is_empty() || types.iter().any(Option::is_none) {
        errors.push(FieldError {
            code: "NullValue",
            field: "types",
            message: "At least one company type (by id) is required.".into(),
        });
    }
    if !errors.is_empty() {
        return invalid_object(&errors);
    }
    let types: Vec<i64> = types.into_iter().flatten().collect();
    let id = inner.insert(
        identifier,
        name,
        &types,
        status.unwrap_or_default(),
        site.unwrap_or(DEFAULT_SITE),
        text(&company, "addressLine1"),
    );
    with_company(inner, Some(id), |inner, c| {
        HttpResponse::Created().json(inner.company_json(c))
    })
}

fn patch_company(inner: &mut Inner, id: i64, body: &[u8]) -> HttpResponse {
    let Some(mut company) = inner.companies.get(&id).cloned() else {
        return company_not_found(id);
    };
    let Ok(Value::Array(operations)) = serde_json::from_slice::<Value>(body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidObject",
            "The body must be a JSON Patch array of operations.",
        );
    };
    let mut errors = Vec::new();
    for operation in &operations {
        let op = text(operation, "op").to_ascii_lowercase();
        if op != "replace" && op != "add" {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidObject",
                &format!("The patch operation {op:?} is not supported; use replace."),
            );
        }
        let path = text(operation, "path")
            .trim_start_matches('/')
            .to_ascii_lowercase();
        let value = operation.get("value").unwrap_or(&Value::Null);
        let new_text = value.as_str().unwrap_or_default();
        match path.as_str() {
            "name" => match check_name(new_text) {
                Some(e) => errors.push(e),
                None => new_text.clone_into(&mut company.name),
            },
            "identifier" => match check_identifier(inner, new_text, Some(id)) {
                Some(e) => errors.push(e),
                None => new_text.clone_into(&mut company.identifier),
            },
            "status" => match reference(&inner.statuses, Some(value)) {
                Some(status) => company.status = status,
                None => errors.push(null_value("status")),
            },
            "addressline1" => new_text.clone_into(&mut company.address_line1),
            "site" => match value.get("name").and_then(Value::as_str) {
                Some(site) => site.clone_into(&mut company.site.1),
                None => errors.push(null_value("site")),
            },
            "types" => errors.push(FieldError {
                code: "InvalidField",
                field: "types",
                message: "types can be set only when the company is created; use \
                          /company/companies/{id}/typeAssociations to change them."
                    .into(),
            }),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "InvalidObject",
                    &format!("The path {path:?} cannot be patched."),
                );
            }
        }
    }
    if !errors.is_empty() {
        return invalid_object(&errors);
    }
    company.updated = now_utc();
    let response = HttpResponse::Ok().json(inner.company_json(&company));
    inner.companies.insert(id, company);
    response
}

fn delete_company(inner: &mut Inner, id: i64) -> HttpResponse {
    match inner.companies.get_mut(&id) {
        Some(company) => {
            company.deleted = Some(now_utc());
            company.updated = now_utc();
            HttpResponse::NoContent().finish()
        }
        None => company_not_found(id),
    }
}

fn associate_type(inner: &mut Inner, id: i64, body: &[u8]) -> HttpResponse {
    let association = serde_json::from_slice::<Value>(body).unwrap_or_default();
    let Some(type_id) = reference(&inner.types, association.get("type")) else {
        return invalid_object(&[null_value("type")]);
    };
    let association_id = inner.other_id();
    let Some(company) = inner.companies.get_mut(&id) else {
        return company_not_found(id);
    };
    if company.types.iter().any(|(_, t)| *t == type_id) {
        return invalid_object(&[FieldError {
            code: "Duplicate",
            field: "type",
            message: "The company already has this type.".into(),
        }]);
    }
    company.types.push((association_id, type_id));
    company.updated = now_utc();
    let company = company.clone();
    HttpResponse::Created().json(inner.association_json(&company, (association_id, type_id)))
}

fn type_association(inner: &mut Inner, method: &str, id: i64, association: i64) -> HttpResponse {
    let Some(company) = inner.companies.get(&id).cloned() else {
        return company_not_found(id);
    };
    let Some(found) = company
        .types
        .iter()
        .find(|(a, _)| *a == association)
        .copied()
    else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("CompanyTypeAssociation with id {association} is not found."),
        );
    };
    if method == "GET" {
        return HttpResponse::Ok().json(inner.association_json(&company, found));
    }
    if company.types.len() == 1 {
        return invalid_object(&[FieldError {
            code: "InvalidField",
            field: "type",
            message: "A company must keep at least one type.".into(),
        }]);
    }
    if let Some(company) = inner.companies.get_mut(&id) {
        company.types.retain(|(a, _)| *a != association);
        company.updated = now_utc();
    }
    HttpResponse::NoContent().finish()
}

fn company_not_found(id: i64) -> HttpResponse {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("Company with id {id} is not found."),
    )
}

fn with_company(
    inner: &Inner,
    id: Option<i64>,
    f: impl FnOnce(&Inner, &Stored) -> HttpResponse,
) -> HttpResponse {
    with_company_value(inner, id, f).unwrap_or_else(|response| response)
}

fn with_company_value<T>(
    inner: &Inner,
    id: Option<i64>,
    f: impl FnOnce(&Inner, &Stored) -> T,
) -> Result<T, HttpResponse> {
    let id = id.unwrap_or_default();
    match inner.companies.get(&id) {
        Some(company) => Ok(f(inner, company)),
        None => Err(company_not_found(id)),
    }
}

fn vocabulary_json(list: &[(i64, String)], extra: impl Fn(&str) -> Value) -> Vec<Value> {
    list.iter()
        .map(|(id, name)| {
            let mut item = json!({"id": id, "name": name, "defaultFlag": false,
                "_info": {"lastUpdated": "2025-01-01T00:00:00Z", "updatedBy": "roster"}});
            if let (Some(item), Value::Object(extra)) = (item.as_object_mut(), extra(name)) {
                item.extend(extra);
            }
            item
        })
        .collect()
}

/// The companies that `conditions` selects, sorted by `orderBy`.
fn selected_companies(inner: &Inner, req: &HttpRequest) -> Result<Vec<Value>, HttpResponse> {
    let pairs = query_pairs(req.query_string());
    let condition = match query_value(&pairs, "conditions").filter(|c| !c.trim().is_empty()) {
        Some(text) => Some(
            conditions::parse(text)
                .map_err(|message| error(StatusCode::BAD_REQUEST, "InvalidConditions", &message))?,
        ),
        None => None,
    };
    let mut items: Vec<Value> = inner
        .companies
        .values()
        .map(|c| inner.company_json(c))
        .filter(|c| condition.as_ref().is_none_or(|cond| cond.matches(c)))
        .collect();
    conditions::order_by(
        &mut items,
        query_value(&pairs, "orderBy").unwrap_or("id asc"),
    );
    Ok(items)
}

fn list_companies(inner: &Inner, req: &HttpRequest) -> HttpResponse {
    match selected_companies(inner, req) {
        Ok(items) => paged(inner, req, &items, true),
        Err(response) => response,
    }
}

fn count_companies(inner: &Inner, req: &HttpRequest) -> HttpResponse {
    match selected_companies(inner, req) {
        Ok(items) => HttpResponse::Ok().json(json!({"count": items.len()})),
        Err(response) => response,
    }
}

/// One page of `items` with ConnectWise's `Link` header (`first`, `prev`, `next`, `last`, those
/// that apply); `faultable`: the company list, where a test may break a page.
fn paged(inner: &Inner, req: &HttpRequest, items: &[Value], faultable: bool) -> HttpResponse {
    let pairs = query_pairs(req.query_string());
    let number = |name: &str, default: usize| match query_value(&pairs, name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "InvalidObject",
                    &format!("{name} must be a whole number of at least 1, not {v:?}."),
                )
            }),
    };
    let (page, size) = match (number("page", 1), number("pageSize", DEFAULT_PAGE_SIZE)) {
        (Ok(page), Ok(size)) => (page, size.min(inner.page_size_cap)),
        (Err(response), _) | (_, Err(response)) => return response,
    };
    let last = items.len().div_ceil(size).max(1);
    let mut response = HttpResponse::Ok();
    let link = link_header(&inner.base, req.path(), &pairs, page, last);
    if !link.is_empty() {
        response.insert_header(("link", link));
    }
    if faultable && let Some(failure) = inner.harness.page_failure(page) {
        return failure;
    }
    if faultable && inner.harness.is_malformed(page) {
        return response
            .content_type("application/json; charset=utf-8")
            .body("[{\"id\": 1, \"identifier\": \"Brok");
    }
    let start = (page - 1).saturating_mul(size).min(items.len());
    let end = start.saturating_add(size).min(items.len());
    response.json(&items[start..end])
}

fn link_header(
    base: &str,
    path: &str,
    pairs: &[(String, String)],
    page: usize,
    last: usize,
) -> String {
    if last <= 1 {
        return String::new();
    }
    let url = |n: usize| {
        let mut query: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("page"))
            .cloned()
            .collect();
        query.push(("page".into(), n.to_string()));
        let query = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("<{base}{path}?{query}>")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
        links.push(format!("{}; rel=\"prev\"", url((page - 1).min(last))));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", url(page + 1)));
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    links.join(", ")
}

// ---- the control page ------------------------------------------------------------------------

async fn control_page(state: web::Data<Mutex<Inner>>) -> HttpResponse {
    sandbox_page::render(&page(&lock(&state), None))
}

fn page(inner: &Inner, message: Option<String>) -> Page {
    let rows = inner
        .companies
        .values()
        .map(|stored| {
            let c = inner.public(stored);
            let action = |label, what: &str| Action {
                label,
                path: format!("/sandbox/companies/{}/{what}", c.id),
            };
            let mut actions = vec![if c.deleted {
                action("Restore", "restore")
            } else {
                action("Mark deleted", "delete")
            }];
            actions.push(if c.status.eq_ignore_ascii_case("Inactive") {
                action("Mark active", "activate")
            } else {
                action("Mark inactive", "deactivate")
            });
            actions.push(action("Remove", "remove"));
            Row {
                cells: vec![
                    c.id.to_string(),
                    c.identifier,
                    c.name,
                    c.types.join(", "),
                    c.status,
                    if c.deleted { "yes" } else { "" }.into(),
                    c.last_updated,
                ],
                actions,
            }
        })
        .collect();
    let names = |list: &[(i64, String)]| list.iter().map(|(_, n)| n.clone()).collect();
    Page {
        title: "ConnectWise Manage sandbox",
        settings: vec![
            ("Site (PSA address)", inner.base.clone()),
            ("Codebase", CODEBASE.into()),
            ("Company ID", COMPANY_ID.into()),
            ("Public key", PUBLIC_KEY.into()),
            ("Private key", PRIVATE_KEY.into()),
            ("Client ID", CLIENT_ID.into()),
        ],
        columns: &[
            "Id",
            "Company ID",
            "Name",
            "Types",
            "Status",
            "Deleted",
            "Last updated",
        ],
        rows,
        add_fields: vec![
            Field::Text {
                name: "name",
                label: "Name",
                max_len: NAME_MAX_LEN,
            },
            Field::Text {
                name: "identifier",
                label: "Company ID",
                max_len: IDENTIFIER_MAX_LEN,
            },
            Field::Select {
                name: "type",
                label: "Type",
                options: names(&inner.types),
            },
            Field::Select {
                name: "status",
                label: "Status",
                options: names(&inner.statuses),
            },
        ],
        message,
    }
}

async fn sandbox_add(
    req: HttpRequest,
    form: web::Form<BTreeMap<String, String>>,
    state: web::Data<Mutex<Inner>>,
) -> HttpResponse {
    if !sandbox_page::same_origin(&req) {
        return sandbox_page::forbidden();
    }
    let mut inner = lock(&state);
    let field = |name: &str| form.get(name).map(|v| v.trim()).unwrap_or_default();
    let type_id = find_named(&inner.types, field("type"));
    let status = find_named(&inner.statuses, field("status"));
    let refusal = check_name(field("name"))
        .or_else(|| check_identifier(&inner, field("identifier"), None))
        .map(|e| e.message)
        .or_else(|| type_id.is_none().then(|| "Choose a type.".to_owned()))
        .or_else(|| status.is_none().then(|| "Choose a status.".to_owned()));
    if let Some(message) = refusal {
        return sandbox_page::render(&page(&inner, Some(message)));
    }
    inner.insert(
        field("identifier"),
        field("name"),
        &type_id.into_iter().collect::<Vec<_>>(),
        status.unwrap_or_default(),
        DEFAULT_SITE,
        DEFAULT_ADDRESS,
    );
    sandbox_page::back_to_list()
}

async fn sandbox_change(
    req: HttpRequest,
    path: web::Path<(i64, String)>,
    state: web::Data<Mutex<Inner>>,
) -> HttpResponse {
    if !sandbox_page::same_origin(&req) {
        return sandbox_page::forbidden();
    }
    let (id, action) = path.into_inner();
    let mut inner = lock(&state);
    let status = |name| find_named(&inner.statuses, name);
    let (active, inactive) = (status("Active"), status("Inactive"));
    if action == "remove" {
        inner.companies.remove(&id);
    } else if let Some(company) = inner.companies.get_mut(&id) {
        match action.as_str() {
            "delete" => company.deleted = Some(now_utc()),
            "restore" => company.deleted = None,
            "activate" => company.status = active.unwrap_or(company.status),
            "deactivate" => company.status = inactive.unwrap_or(company.status),
            _ => return HttpResponse::NotFound().finish(),
        }
        company.updated = now_utc();
    }
    sandbox_page::back_to_list()
}

mod conditions;
