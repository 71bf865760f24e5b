//! The Autotask double: REST API v1.0 under `/atservicesrest/v1.0` (the zone lookup, Companies:
//! query with `pageDetails.nextPageUrl`, query/next, count, get, create, update, field
//! definitions), header authentication (`UserName`, `Secret`, `ApiIntegrationCode`) and
//! Autotask's `{"errors": [...]}` bodies. The zone lookup answers with the double's own address.
//! Paths are matched without regard to case, as Autotask's IIS does (its `nextPageUrl` says
//! `ATServicesRest/V1.0`).

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::sandbox_page::{self, Action, Field, Page, Row};
use super::{Api, Harness, is_json, lock, now_utc, query_pairs, query_value};

pub const USERNAME: &str = "sandbox@roster.test";
pub const SECRET: &str = "sandbox-secret";
pub const INTEGRATION_CODE: &str = "SANDBOXCODE";
/// The one resource that may own companies.
pub const OWNER_RESOURCE_ID: i64 = 29682;
/// The phone of the companies the test API adds.
pub const DEFAULT_PHONE: &str = "555-0100";
/// The API's root path, under the zone address (and the lookup address).
pub const API_ROOT: &str = "/atservicesrest/v1.0";
/// The port of `cargo run --example psa-sandbox -- autotask`.
pub const DEFAULT_PORT: u16 = 8092;
/// Autotask's largest `MaxRecords`, and its default.
pub const MAX_RECORDS: usize = 500;
pub const NAME_MAX_LEN: usize = 100;
pub const NUMBER_MAX_LEN: usize = 50;
pub const PHONE_MAX_LEN: usize = 25;
/// The `companyType` picklist of a new Autotask database.
pub const COMPANY_TYPES: [(i64, &str); 7] = [
    (1, "Customer"),
    (2, "Lead"),
    (3, "Prospect"),
    (4, "Dead"),
    (6, "Cancellation"),
    (7, "Vendor"),
    (8, "Partner"),
];

/// A company as a test sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtCompany {
    pub id: i64,
    pub name: String,
    pub number: String,
    pub company_type: i64,
    pub type_name: String,
    pub active: bool,
    pub owner_resource_id: i64,
    pub phone: String,
    pub last_modified: String,
}

pub(crate) struct Inner {
    harness: Harness,
    /// `http://127.0.0.1:{port}`.
    origin: String,
    companies: BTreeMap<i64, AtCompany>,
    next_id: i64,
    page_size: usize,
}

/// An Autotask server on 127.0.0.1 (zone lookup and zone in one); dropping it stops it.
pub(crate) type AutotaskDouble = super::Double<Inner>;

impl AutotaskDouble {
    /// On a free port.
    pub fn start() -> Self {
        Self::start_on_port(0)
            .unwrap_or_else(|e| panic!("the Autotask double could not start: {e}"))
    }

    /// On `port` (0: any free port).
    pub fn start_on_port(port: u16) -> io::Result<Self> {
        let inner = Inner {
            harness: Harness::default(),
            origin: String::new(),
            companies: BTreeMap::new(),
            next_id: 29683,
            page_size: MAX_RECORDS,
        };
        Self::launch(port, inner, configure, |inner, origin| {
            inner.origin = origin;
        })
    }

    /// What Roster's settings take as the PSA address: the zone lookup's root.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/atservicesrest", self.port())
    }

    /// The zone's address, as the zone lookup answers it (ends with `/`).
    pub fn zone_url(&self) -> String {
        format!("{}/", self.base_url())
    }

    pub fn control_page_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port())
    }

    /// Adds a company owned by [`OWNER_RESOURCE_ID`]; panics on a type the picklist lacks.
    pub fn add_company(&self, name: &str, number: &str, type_name: &str, active: bool) -> i64 {
        let company_type = type_id(type_name);
        self.state()
            .insert(name, number, company_type, active, DEFAULT_PHONE)
    }

    pub fn rename(&self, id: i64, name: &str) {
        self.change(id, |c| name.clone_into(&mut c.name));
    }

    pub fn set_number(&self, id: i64, number: &str) {
        self.change(id, |c| number.clone_into(&mut c.number));
    }

    pub fn set_type(&self, id: i64, type_name: &str) {
        let company_type = type_id(type_name);
        self.change(id, |c| c.company_type = company_type);
    }

    pub fn set_active(&self, id: i64, active: bool) {
        self.change(id, |c| c.active = active);
    }

    /// Removes the company (Autotask has no deleted flag: a deleted company is not listed).
    pub fn remove(&self, id: i64) {
        self.state().companies.remove(&id);
    }

    pub fn companies(&self) -> Vec<AtCompany> {
        self.state().companies.values().map(with_label).collect()
    }

    pub fn company(&self, id: i64) -> Option<AtCompany> {
        self.state().companies.get(&id).map(with_label)
    }

    pub fn company_by_number(&self, number: &str) -> Option<AtCompany> {
        self.companies()
            .into_iter()
            .find(|c| c.number.eq_ignore_ascii_case(number))
    }

    /// Query pages hold at most `size` companies whatever `MaxRecords` asks (default 500).
    pub fn set_page_size(&self, size: usize) {
        self.state().page_size = size.clamp(1, MAX_RECORDS);
    }

    /// How many calls had this method and this path under the API root, compared without
    /// regard to case, e.g. `request_count("POST", "/Companies/query")`.
    pub fn request_count(&self, method: &str, path: &str) -> usize {
        let full = format!("{API_ROOT}{path}");
        self.state().harness.count(method, &full, true)
    }

    fn change(&self, id: i64, f: impl FnOnce(&mut AtCompany)) {
        let mut inner = self.state();
        let Some(company) = inner.companies.get_mut(&id) else {
            panic!("the Autotask double has no company {id}");
        };
        f(company);
        company.last_modified = now_utc();
    }
}

fn type_id(name: &str) -> i64 {
    COMPANY_TYPES
        .iter()
        .find(|(_, label)| label.eq_ignore_ascii_case(name))
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("the Autotask double has no company type {name:?}"))
}

fn type_label(id: i64) -> &'static str {
    COMPANY_TYPES
        .iter()
        .find(|(i, _)| *i == id)
        .map_or("", |(_, label)| label)
}

fn with_label(company: &AtCompany) -> AtCompany {
    AtCompany {
        type_name: type_label(company.company_type).to_owned(),
        ..company.clone()
    }
}

impl Inner {
    fn insert(
        &mut self,
        name: &str,
        number: &str,
        company_type: i64,
        active: bool,
        phone: &str,
    ) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.companies.insert(
            id,
            AtCompany {
                id,
                name: name.to_owned(),
                number: number.to_owned(),
                company_type,
                type_name: String::new(),
                active,
                owner_resource_id: OWNER_RESOURCE_ID,
                phone: phone.to_owned(),
                last_modified: now_utc(),
            },
        );
        id
    }

    fn zone(&self) -> String {
        format!("{}/atservicesrest/", self.origin)
    }
}

fn company_json(c: &AtCompany) -> Value {
    json!({
        "id": c.id,
        "companyName": c.name,
        "companyNumber": c.number,
        "companyType": c.company_type,
        "isActive": c.active,
        "ownerResourceID": c.owner_resource_id,
        "phone": c.phone,
        "parentCompanyID": null,
        "webAddress": null,
        "createDate": c.last_modified,
        "lastActivityDate": c.last_modified,
        "lastTrackedModifiedDateTime": c.last_modified,
        "userDefinedFields": [],
    })
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
        path.to_ascii_lowercase().starts_with("/atservicesrest/")
    }

    fn refusal(status: StatusCode) -> HttpResponse {
        errors(status, "The sandbox was told to refuse this call.")
    }

    fn answer(&mut self, req: &HttpRequest, body: &[u8]) -> HttpResponse {
        route(self, req, body)
    }
}

fn route(inner: &mut Inner, req: &HttpRequest, body: &[u8]) -> HttpResponse {
    let path = req.path().to_ascii_lowercase();
    let method = req.method().as_str();
    let Some(rest) = path.strip_prefix(API_ROOT) else {
        return errors(StatusCode::NOT_FOUND, "No API is served at this address.");
    };
    let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let pairs = query_pairs(req.query_string());
    if segments == ["zoneinformation"] {
        return match method {
            "GET" => zone_information(inner, query_value(&pairs, "user")),
            _ => not_allowed(method),
        };
    }
    if let Err(refused) = authenticate(req) {
        return refused;
    }
    if matches!(method, "POST" | "PATCH" | "PUT") && !is_json(req) {
        return HttpResponse::UnsupportedMediaType().json(json!({"Message":
            "The request entity's media type is not supported for this resource; send application/json."}));
    }
    let search = || query_value(&pairs, "search").unwrap_or_default().as_bytes();
    match (method, segments.as_slice()) {
        ("GET", ["companies", "entityinformation", "fields"]) => {
            HttpResponse::Ok().json(json!({ "fields": field_definitions() }))
        }
        ("GET", ["companies", "entityinformation"]) => HttpResponse::Ok().json(json!({"info": {
            "name": "Company", "canCreate": true, "canDelete": false, "canQuery": true,
            "canUpdate": true, "hasUserDefinedFields": true, "supportsWebhookCallouts": true}})),
        ("POST", ["companies", "query"]) => query(inner, body, None),
        ("GET", ["companies", "query"]) => query(inner, search(), Some(search())),
        ("POST", ["companies", "query", "next"]) => next_page(inner, &pairs, body, None),
        ("GET", ["companies", "query", "next"]) if !search().is_empty() => {
            next_page(inner, &pairs, search(), Some(search()))
        }
        ("POST", ["companies", "query", "count"]) => match Query::read(body) {
            Ok(q) => HttpResponse::Ok().json(json!({"queryCount": q.select(inner).len()})),
            Err(response) => response,
        },
        ("GET", ["companies", id]) => match id.parse::<i64>() {
            // Autotask answers a missing id with `{"item": null}`, not a 404.
            Ok(id) => {
                HttpResponse::Ok().json(json!({"item": inner.companies.get(&id).map(company_json)}))
            }
            Err(_) => errors(StatusCode::NOT_FOUND, "The id must be a whole number."),
        },
        ("POST", ["companies"]) => create_company(inner, body),
        ("PATCH", ["companies"]) => update_company(inner, body),
        (_, ["companies", ..]) => not_allowed(method),
        _ => errors(StatusCode::NOT_FOUND, "No such entity in this API."),
    }
}

fn zone_information(inner: &Inner, user: Option<&str>) -> HttpResponse {
    // Autotask answers 500 when the user name is missing or unknown.
    if !user.is_some_and(|u| u.eq_ignore_ascii_case(USERNAME)) {
        return errors(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Zone information could not be determined for this user.",
        );
    }
    HttpResponse::Ok().json(json!({
        "zoneName": "Roster Sandbox",
        "url": inner.zone(),
        "webUrl": format!("{}/", inner.origin),
        "ci": 12345,
    }))
}

fn authenticate(req: &HttpRequest) -> Result<(), HttpResponse> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let user_ok = header("username").is_some_and(|u| u.eq_ignore_ascii_case(USERNAME));
    if user_ok
        && header("secret") == Some(SECRET)
        && header("apiintegrationcode") == Some(INTEGRATION_CODE)
    {
        return Ok(());
    }
    Err(errors(
        StatusCode::UNAUTHORIZED,
        "The UserName, Secret or ApiIntegrationCode header is missing or not valid.",
    ))
}

fn errors(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "errors": [message] }))
}

fn not_allowed(method: &str) -> HttpResponse {
    HttpResponse::MethodNotAllowed().json(json!({"Message":
        format!("The requested resource does not support http method '{method}'.")}))
}

/// A member of a JSON object, its name compared without regard to case (as Autotask reads them).
fn member<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn field_definitions() -> Value {
    let field = |name: &str, data_type: &str, length: u32, required: bool, read_only: bool| {
        json!({"name": name, "dataType": data_type, "length": length, "isRequired": required,
            "isReadOnly": read_only, "isQueryable": true, "isReference": false,
            "referenceEntityType": "", "isPickList": false, "picklistValues": null,
            "picklistParentValueField": "", "isSupportedWebhookField": true})
    };
    let mut company_type = field("companyType", "integer", 0, true, false);
    company_type["isPickList"] = json!(true);
    company_type["picklistValues"] = COMPANY_TYPES
        .iter()
        .enumerate()
        .map(|(order, (value, label))| {
            json!({"value": value.to_string(), "label": label, "isDefaultValue": false,
                "sortOrder": order + 1, "parentValue": "", "isActive": true, "isSystem": true})
        })
        .collect();
    let mut owner = field("ownerResourceID", "integer", 0, true, false);
    owner["isReference"] = json!(true);
    owner["referenceEntityType"] = json!("Resource");
    json!([
        field("id", "long", 0, true, true),
        field("companyName", "string", NAME_MAX_LEN as u32, true, false),
        field(
            "companyNumber",
            "string",
            NUMBER_MAX_LEN as u32,
            false,
            false
        ),
        company_type,
        field("isActive", "boolean", 0, false, false),
        owner,
        field("phone", "string", PHONE_MAX_LEN as u32, true, false),
        field("lastTrackedModifiedDateTime", "datetime", 0, false, true),
    ])
}

/// A company query: its filter, how many records a page may hold, and the fields to return.
struct Query {
    filter: Vec<Value>,
    max_records: usize,
    include_fields: Vec<String>,
}

impl Query {
    /// Reads a query body (`{"filter": [...], "MaxRecords": 500, "IncludeFields": [...]}`);
    /// Autotask answers a bad one with 500.
    fn read(body: &[u8]) -> Result<Query, HttpResponse> {
        let refuse = |message: &str| Err(errors(StatusCode::INTERNAL_SERVER_ERROR, message));
        let Ok(body) = serde_json::from_slice::<Value>(body) else {
            return refuse("The query is not valid JSON.");
        };
        let filter = match member(&body, "filter") {
            Some(Value::Array(filter)) if !filter.is_empty() => filter.clone(),
            _ => {
                return refuse(
                    "A query needs a filter, e.g. [{\"op\":\"gte\",\"field\":\"id\",\"value\":0}].",
                );
            }
        };
        if let Some(message) = filter.iter().find_map(check_condition) {
            return refuse(&message);
        }
        let max_records = match member(&body, "MaxRecords") {
            None | Some(Value::Null) => MAX_RECORDS,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=MAX_RECORDS as u64).contains(&n) => n as usize,
                _ => return refuse("maxCountOfRecordsToReturn must be between 1 and 500"),
            },
        };
        let include_fields = member(&body, "IncludeFields")
            .and_then(Value::as_array)
            .map(|fields| {
                fields
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Query {
            filter,
            max_records,
            include_fields,
        })
    }

    /// The companies the filter selects, by id.
    fn select(&self, inner: &Inner) -> Vec<Value> {
        inner
            .companies
            .values()
            .map(company_json)
            .filter(|c| self.filter.iter().all(|f| filter::matches(f, c)))
            .collect()
    }

    fn project(&self, company: Value) -> Value {
        if self.include_fields.is_empty() {
            return company;
        }
        let kept: Map<String, Value> = company
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| {
                matches!(k.as_str(), "id" | "userDefinedFields")
                    || self
                        .include_fields
                        .iter()
                        .any(|f| f.eq_ignore_ascii_case(k))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Value::Object(kept)
    }
}

fn check_condition(condition: &Value) -> Option<String> {
    let op = member(condition, "op")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if op.eq_ignore_ascii_case("and") || op.eq_ignore_ascii_case("or") {
        return match member(condition, "items") {
            Some(Value::Array(items)) => items.iter().find_map(check_condition),
            _ => Some(format!("The {op:?} group needs items.")),
        };
    }
    if !filter::OPERATORS.iter().any(|o| o.eq_ignore_ascii_case(op)) {
        return Some(format!("{op:?} is not a valid filter operator."));
    }
    if member(condition, "field").and_then(Value::as_str).is_none() {
        return Some(format!("The {op:?} condition needs a field."));
    }
    let needs_value = !op.eq_ignore_ascii_case("exist") && !op.eq_ignore_ascii_case("notExist");
    (needs_value && member(condition, "value").is_none())
        .then(|| format!("The {op:?} condition needs a value."))
}

fn query(inner: &Inner, body: &[u8], search: Option<&[u8]>) -> HttpResponse {
    match Query::read(body) {
        Ok(query) => {
            let size = query.max_records.min(inner.page_size);
            page_of(inner, &query, size, None, search)
        }
        Err(response) => response,
    }
}

/// A page after the first: `paging` says where it starts; the filter is the first query's, sent
/// again in the body (or in `search` for a query by GET).
fn next_page(
    inner: &Inner,
    pairs: &[(String, String)],
    body: &[u8],
    search: Option<&[u8]>,
) -> HttpResponse {
    let paging = query_value(pairs, "paging")
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .unwrap_or_default();
    let size = member(&paging, "pageSize").and_then(Value::as_u64);
    let start = member(&paging, "nextIds")
        .and_then(|ids| ids.get(0))
        .and_then(Value::as_i64);
    let (Some(size), Some(start)) = (size, start) else {
        return errors(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The paging parameter is missing or not valid.",
        );
    };
    let query = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Query {
            filter: Vec::new(),
            max_records: MAX_RECORDS,
            include_fields: Vec::new(),
        })
    } else {
        Query::read(body)
    };
    match query {
        Ok(query) => page_of(inner, &query, size as usize, Some(start), search),
        Err(response) => response,
    }
}

/// The page of `size` companies starting at id `start` (the first page: `None`), with
/// `pageDetails`.
fn page_of(
    inner: &Inner,
    query: &Query,
    size: usize,
    start: Option<i64>,
    search: Option<&[u8]>,
) -> HttpResponse {
    let size = size.clamp(1, MAX_RECORDS);
    let selected = query.select(inner);
    let id_at = |i: usize| selected.get(i).and_then(|c| c["id"].as_i64());
    let first = start.map_or(0, |start| {
        selected
            .iter()
            .position(|c| c["id"].as_i64().is_some_and(|id| id >= start))
            .unwrap_or(selected.len())
    });
    let end = first.saturating_add(size).min(selected.len());
    let page_number = first / size + 1;
    if let Some(failure) = inner.harness.page_failure(page_number) {
        return failure;
    }
    if inner.harness.is_malformed(page_number) {
        return HttpResponse::Ok()
            .content_type("application/json; charset=utf-8")
            .body("{\"items\": [{\"id\": 29684, \"companyName\": \"Brok");
    }
    let link = |from: Option<i64>, to: Option<i64>| {
        let to = to?;
        let paging =
            json!({"pageSize": size, "previousIds": [from.unwrap_or(-1)], "nextIds": [to]});
        let mut query = vec![("paging".to_owned(), paging.to_string())];
        if let Some(search) = search {
            query.push((
                "search".into(),
                String::from_utf8_lossy(search).into_owned(),
            ));
        }
        let query = serde_urlencoded::to_string(&query).unwrap_or_default();
        Some(format!(
            "{}/ATServicesRest/V1.0/Companies/query/next?{query}",
            inner.origin
        ))
    };
    let next = (end < selected.len())
        .then(|| link(id_at(first), id_at(end)))
        .flatten();
    let previous = (first > 0)
        .then(|| link(id_at(first), id_at(first.saturating_sub(size))))
        .flatten();
    let items: Vec<Value> = selected[first..end]
        .iter()
        .map(|c| query.project(c.clone()))
        .collect();
    HttpResponse::Ok().json(json!({
        "items": items,
        "pageDetails": {"count": items.len(), "requestCount": query.max_records,
            "prevPageUrl": previous, "nextPageUrl": next},
    }))
}

/// The fields of a company body that Autotask checks, or the messages of what is wrong.
fn check_company(company: &Value, creating: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let text = |name: &str| member(company, name).map(|v| v.as_str().map(str::trim));
    let required = |name: &str| format!("Value is required for {name}.");
    for (name, max) in [("companyName", NAME_MAX_LEN), ("phone", PHONE_MAX_LEN)] {
        match text(name) {
            None if creating => problems.push(required(name)),
            Some(None | Some("")) => problems.push(required(name)),
            Some(Some(v)) if v.chars().count() > max => {
                problems.push(format!("{name} must be at most {max} characters."));
            }
            _ => {}
        }
    }
    if let Some(Some(v)) = text("companyNumber")
        && v.chars().count() > NUMBER_MAX_LEN
    {
        problems.push(format!(
            "companyNumber must be at most {NUMBER_MAX_LEN} characters."
        ));
    }
    match member(company, "companyType").map(Value::as_i64) {
        None if creating => problems.push(required("companyType")),
        Some(Some(t)) if !type_label(t).is_empty() => {}
        Some(_) => problems.push("companyType is not a value of its picklist.".into()),
        None => {}
    }
    match member(company, "ownerResourceID").map(Value::as_i64) {
        None if creating => problems.push(required("ownerResourceID")),
        Some(Some(OWNER_RESOURCE_ID)) | None => {}
        Some(_) => problems.push("ownerResourceID is not an active resource.".into()),
    }
    if member(company, "isActive").is_some_and(|v| !v.is_boolean()) {
        problems.push("isActive must be true or false.".into());
    }
    problems
}

fn refused_body(problems: &[String]) -> HttpResponse {
    // Real Autotask often answers these with 500; the double says 400 (the data is refused).
    HttpResponse::BadRequest().json(json!({ "errors": problems }))
}

fn create_company(inner: &mut Inner, body: &[u8]) -> HttpResponse {
    let Ok(company) = serde_json::from_slice::<Value>(body) else {
        return errors(StatusCode::BAD_REQUEST, "The body is not valid JSON.");
    };
    let problems = check_company(&company, true);
    if !problems.is_empty() {
        return refused_body(&problems);
    }
    let text = |name: &str| {
        member(&company, name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
    };
    let id = inner.insert(
        text("companyName"),
        text("companyNumber"),
        member(&company, "companyType")
            .and_then(Value::as_i64)
            .unwrap_or_default(),
        member(&company, "isActive")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        text("phone"),
    );
    HttpResponse::Ok().json(json!({ "itemId": id }))
}

fn update_company(inner: &mut Inner, body: &[u8]) -> HttpResponse {
    let Ok(changes) = serde_json::from_slice::<Value>(body) else {
        return errors(StatusCode::BAD_REQUEST, "The body is not valid JSON.");
    };
    let Some(id) = member(&changes, "id").and_then(Value::as_i64) else {
        return refused_body(&["Value is required for id.".into()]);
    };
    let problems = check_company(&changes, false);
    if !problems.is_empty() {
        return refused_body(&problems);
    }
    let Some(company) = inner.companies.get_mut(&id) else {
        return errors(StatusCode::NOT_FOUND, &format!("No company has id {id}."));
    };
    let text = |name: &str| {
        member(&changes, name)
            .and_then(Value::as_str)
            .map(str::trim)
    };
    if let Some(name) = text("companyName") {
        name.clone_into(&mut company.name);
    }
    if let Some(number) = text("companyNumber") {
        number.clone_into(&mut company.number);
    }
    if let Some(phone) = text("phone") {
        phone.clone_into(&mut company.phone);
    }
    if let Some(company_type) = member(&changes, "companyType").and_then(Value::as_i64) {
        company.company_type = company_type;
    }
    if let Some(active) = member(&changes, "isActive").and_then(Value::as_bool) {
        company.active = active;
    }
    company.last_modified = now_utc();
    HttpResponse::Ok().json(json!({ "itemId": id }))
}

// ---- the control page ------------------------------------------------------------------------

async fn control_page(state: web::Data<Mutex<Inner>>) -> HttpResponse {
    sandbox_page::render(&page(&lock(&state), None))
}

fn page(inner: &Inner, message: Option<String>) -> Page {
    let rows = inner
        .companies
        .values()
        .map(|c| {
            let action = |label, what: &str| Action {
                label,
                path: format!("/sandbox/companies/{}/{what}", c.id),
            };
            Row {
                cells: vec![
                    c.id.to_string(),
                    c.number.clone(),
                    c.name.clone(),
                    type_label(c.company_type).to_owned(),
                    if c.active { "yes" } else { "no" }.into(),
                    c.last_modified.clone(),
                ],
                actions: vec![
                    if c.active {
                        action("Mark inactive", "deactivate")
                    } else {
                        action("Mark active", "activate")
                    },
                    action("Delete", "remove"),
                ],
            }
        })
        .collect();
    Page {
        title: "Autotask sandbox",
        settings: vec![
            (
                "Zone lookup (PSA address)",
                format!("{}/atservicesrest", inner.origin),
            ),
            ("Username", USERNAME.into()),
            ("Secret", SECRET.into()),
            ("Integration code", INTEGRATION_CODE.into()),
            ("Owner resource id", OWNER_RESOURCE_ID.to_string()),
        ],
        columns: &["Id", "Number", "Name", "Type", "Active", "Last modified"],
        rows,
        add_fields: vec![
            Field::Text {
                name: "name",
                label: "Name",
                max_len: NAME_MAX_LEN,
            },
            Field::Text {
                name: "number",
                label: "Number",
                max_len: NUMBER_MAX_LEN,
            },
            Field::Select {
                name: "type",
                label: "Type",
                options: COMPANY_TYPES.iter().map(|(_, l)| (*l).to_owned()).collect(),
            },
            Field::Checkbox {
                name: "active",
                label: "Active",
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
    let company_type = COMPANY_TYPES
        .iter()
        .find(|(_, l)| l.eq_ignore_ascii_case(field("type")))
        .map(|(id, _)| *id);
    let problem = if field("name").is_empty() {
        Some("The name is required.".to_owned())
    } else if field("name").chars().count() > NAME_MAX_LEN {
        Some(format!("The name holds at most {NAME_MAX_LEN} characters."))
    } else if field("number").chars().count() > NUMBER_MAX_LEN {
        Some(format!(
            "The number holds at most {NUMBER_MAX_LEN} characters."
        ))
    } else {
        company_type.is_none().then(|| "Choose a type.".to_owned())
    };
    if let Some(message) = problem {
        return sandbox_page::render(&page(&inner, Some(message)));
    }
    inner.insert(
        field("name"),
        field("number"),
        company_type.unwrap_or_default(),
        field("active") == "on",
        DEFAULT_PHONE,
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
    if action == "remove" {
        inner.companies.remove(&id);
    } else if let Some(company) = inner.companies.get_mut(&id) {
        match action.as_str() {
            "activate" => company.active = true,
            "deactivate" => company.active = false,
            _ => return HttpResponse::NotFound().finish(),
        }
        company.last_modified = now_utc();
    }
    sandbox_page::back_to_list()
}

mod filter;
