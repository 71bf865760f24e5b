//! `GET /api/openapi.json`: an OpenAPI 3 document of the API, generated from the route table
//! (`ROUTES`: methods, paths, rules, summaries, query parameters) and from sample resources
//! written by the real document functions (`openapi_samples.rs`). No key is needed: like IT
//! Glue's published documentation it says how to call the API and nothing about the data.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::openapi_samples;
use super::{ApiRoute, ROUTES};
use crate::web::state::AppState;

/// One concrete path of a route: `{kind:a|b}` gives one per alternative.
struct Operation<'a> {
    route: &'a ApiRoute,
    /// OpenAPI's form: `/organizations/{org}/relationships/contacts/{id}`.
    path: String,
    /// The path segment naming the resource (`contacts`).
    resource: String,
    /// Names one resource (ends with a parameter) rather than a collection.
    item: bool,
    params: Vec<String>,
}

fn operations(route: &ApiRoute) -> Vec<Operation<'_>> {
    // (path so far, resource, path parameters)
    let mut found = vec![(String::new(), String::new(), Vec::<String>::new())];
    let segments: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
    for segment in &segments {
        let inner = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
        found = match inner {
            Some(inner) => match inner.split_once(':') {
                Some((_, alternatives)) => found
                    .into_iter()
                    .flat_map(|(path, _, params)| {
                        alternatives.split('|').map(move |alt| {
                            (format!("{path}/{alt}"), alt.to_owned(), params.clone())
                        })
                    })
                    .collect(),
                None => found
                    .into_iter()
                    .map(|(path, resource, mut params)| {
                        params.push(inner.to_owned());
                        (format!("{path}/{{{inner}}}"), resource, params)
                    })
                    .collect(),
            },
            None => found
                .into_iter()
                .map(|(path, _, params)| {
                    (format!("{path}/{segment}"), (*segment).to_owned(), params)
                })
                .collect(),
        };
    }
    let item = segments
        .last()
        .is_some_and(|s| s.starts_with('{') && !s.contains(':'));
    found
        .into_iter()
        .map(|(path, resource, params)| Operation {
            route,
            path,
            resource,
            item,
            params,
        })
        .collect()
}

fn summary(op: &Operation<'_>) -> String {
    if !op.route.summary.is_empty() {
        return op.route.summary.to_owned();
    }
    let what = op.resource.replace('_', " ");
    let verb = match (op.route.method, op.item) {
        ("GET", false) => "List",
        ("GET", true) => "Show one of",
        ("POST", _) => "Create one of",
        ("PATCH", false) => "Update several",
        ("PATCH", true) => "Update one of",
        ("DELETE", false) => "Delete several",
        ("DELETE", true) => "Delete one of",
        _ => op.route.method,
    };
    format!("{verb} {what}")
}

fn operation_id(op: &Operation<'_>) -> String {
    let path: String = op
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!(
        "{}{}",
        op.route.method.to_lowercase(),
        path.trim_end_matches('_')
    )
}

fn parameters(op: &Operation<'_>) -> Vec<Value> {
    let mut list: Vec<Value> = op
        .params
        .iter()
        .map(|name| {
            json!({
                "name": name, "in": "path", "required": true,
                "description": if name == "org" { "An organization's id." } else { "The resource's id." },
                "schema": { "type": "integer", "format": "int64" },
            })
        })
        .collect();
    let pages = op.route.method == "GET" && !op.item;
    let page_params = ["page[number]", "page[size]"].into_iter().filter(|_| pages);
    for name in page_params.chain(op.route.query.iter().copied()) {
        let schema = match name {
            "page[number]" => json!({ "type": "integer", "minimum": 1, "default": 1 }),
            "page[size]" => {
                json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 50 })
            }
            _ => json!({ "type": "string" }),
        };
        list.push(json!({ "name": name, "in": "query", "required": false, "schema": schema }));
    }
    list
}

fn content(schema: &Value) -> Value {
    json!({
        "application/vnd.api+json": { "schema": schema },
        "application/json": { "schema": schema },
    })
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": content(&json!({ "$ref": "#/components/schemas/errors" })),
    })
}

fn responses(op: &Operation<'_>, schema: &str) -> Value {
    let one = json!({ "$ref": format!("#/components/schemas/{schema}") });
    let many = json!({ "type": "array", "items": one });
    let ok = match (op.route.method, op.item) {
        ("GET", false) => json!({ "type": "object", "properties": {
            "data": many,
            "meta": { "$ref": "#/components/schemas/list-meta" },
            "links": { "$ref": "#/components/schemas/list-links" },
        }}),
        ("DELETE" | "PATCH", false) => json!({ "type": "object", "properties": { "data": many } }),
        _ => json!({ "type": "object", "properties": { "data": one } }),
    };
    let status = if op.route.method == "POST" {
        "2XX"
    } else {
        "200"
    };
    let mut all = Map::new();
    all.insert(
        status.into(),
        json!({ "description": "The resource(s).", "content": content(&ok) }),
    );
    all.insert(
        "400".into(),
        error("A query parameter or the body could not be read."),
    );
    all.insert("401".into(), error("No API key."));
    all.insert(
        "403".into(),
        error("The key is refused, or its user's role does not allow this."),
    );
    all.insert(
        "404".into(),
        error("Not found, or outside the key's user's organizations."),
    );
    if op.route.method != "GET" {
        all.insert(
            "422".into(),
            error("Attributes that do not pass the checks; each error points at its attribute."),
        );
    }
    all.insert(
        "429".into(),
        error("The key's rate limit is used up; see Retry-After."),
    );
    Value::Object(all)
}

fn request_body(op: &Operation<'_>, schema: &str, type_name: &str) -> Option<Value> {
    let body = match (op.route.method, op.item) {
        ("POST" | "PATCH", true) | ("POST", false) => {
            json!({ "type": "object", "required": ["data"], "properties": {
                "data": { "$ref": format!("#/components/schemas/{schema}") },
            }})
        }
        ("PATCH" | "DELETE", false) => {
            json!({ "type": "object", "required": ["data"], "properties": {
                "data": { "type": "array", "items": { "type": "object", "properties": {
                    "type": { "type": "string", "example": type_name },
                    "attributes": { "type": "object", "properties": {
                        "id": { "type": "integer", "format": "int64" },
                    }},
                }}},
            }})
        }
        _ => return None,
    };
    Some(json!({ "required": true, "content": content(&body) }))
}

/// A JSON schema of `sample`: its types, strings nullable (the API writes null for empty).
fn schema_of(sample: &Value) -> Value {
    match sample {
        Value::Null => json!({ "nullable": true }),
        Value::Bool(_) => json!({ "type": "boolean" }),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            json!({ "type": "integer", "format": "int64", "nullable": true })
        }
        Value::Number(_) => json!({ "type": "number" }),
        Value::String(_) => json!({ "type": "string", "nullable": true }),
        Value::Array(items) => json!({
            "type": "array",
            "items": items.first().map_or_else(|| json!({}), schema_of),
        }),
        Value::Object(map) => {
            let properties: Map<String, Value> =
                map.iter().map(|(k, v)| (k.clone(), schema_of(v))).collect();
            json!({ "type": "object", "properties": properties })
        }
    }
}

fn resource_schema(type_name: &str, sample: Option<&Value>) -> Value {
    let mut attributes = sample.map_or_else(
        || json!({ "type": "object" }),
        |s| schema_of(&s["attributes"]),
    );
    // A flexible asset's traits are its type's fields, by their keys: any names.
    if let Some(traits) = attributes.pointer_mut("/properties/traits") {
        *traits = json!({
            "type": "object",
            "additionalProperties": { "type": "string", "nullable": true },
        });
    }
    json!({
        "type": "object",
        "properties": {
            "id": { "type": "string", "example": "123" },
            "type": { "type": "string", "example": type_name },
            "attributes": attributes,
        },
    })
}

fn components(schemas: Map<String, Value>) -> Value {
    let mut schemas = schemas;
    schemas.insert(
        "errors".into(),
        json!({ "type": "object", "properties": { "errors": {
            "type": "array", "items": { "type": "object", "properties": {
                "status": { "type": "string" }, "title": { "type": "string" },
                "detail": { "type": "string" },
                "source": { "type": "object", "properties": {
                    "pointer": { "type": "string" }, "parameter": { "type": "string" },
                }},
            }},
        }}}),
    );
    schemas.insert("list-meta".into(), json!({ "type": "object", "properties": {
        "current-page": { "type": "integer" }, "next-page": { "type": "integer", "nullable": true },
        "prev-page": { "type": "integer", "nullable": true }, "total-pages": { "type": "integer" },
        "total-count": { "type": "integer" }, "filters": { "type": "object" },
    }}));
    schemas.insert("list-links".into(), json!({ "type": "object", "properties": {
        "self": { "type": "string" }, "first": { "type": "string" }, "last": { "type": "string" },
        "next": { "type": "string" }, "prev": { "type": "string" },
    }}));
    json!({
        "securitySchemes": { "apiKey": { "type": "apiKey", "in": "header", "name": "x-api-key" } },
        "schemas": schemas,
    })
}

/// The whole document for a server at `base_url`.
pub fn document(base_url: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for route in ROUTES {
        for op in operations(route) {
            let sample = openapi_samples::resource(base_url, &op.resource);
            let type_name = sample
                .as_ref()
                .map_or_else(|| op.resource.replace('_', "-"), |(t, _)| t.clone());
            let schema = op.resource.clone();
            schemas
                .entry(schema.clone())
                .or_insert_with(|| resource_schema(&type_name, sample.as_ref().map(|(_, s)| s)));
            let mut operation = json!({
                "summary": summary(&op),
                "operationId": operation_id(&op),
                "tags": [op.resource],
                "parameters": parameters(&op),
                "responses": responses(&op, &schema),
            });
            if let Some(body) = request_body(&op, &schema, &type_name) {
                operation["requestBody"] = body;
            }
            let entry = paths.entry(op.path.clone()).or_insert_with(|| json!({}));
            entry[route.method.to_lowercase()] = operation;
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Roster API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "IT Glue-compatible JSON:API. Send a key (Settings > API keys) in x-api-key; \
                            a key acts as its user, with that user's role and organization access.",
        },
        "servers": [{ "url": format!("{base_url}/api") }],
        "security": [{ "apiKey": [] }],
        "paths": paths,
        "components": components(schemas),
    })
}

pub async fn serve(state: web::Data<AppState>) -> HttpResponse {
    let body = document(&state.settings.base_url);
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_expand_and_items_are_told_from_collections() {
        let route = ApiRoute {
            method: "GET",
            path: "/organizations/{org}/relationships/{kind:contacts|passwords}/{id}",
            action: crate::auth::Action::ViewOrganizations,
            summary: "",
            query: &[],
        };
        let ops = operations(&route);
        let paths: Vec<&str> = ops.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/organizations/{org}/relationships/contacts/{id}",
                "/organizations/{org}/relationships/passwords/{id}"
            ]
        );
        assert!(ops[0].item && ops[1].resource == "passwords");
        assert_eq!(ops[0].params, ["org", "id"]);
    }
}
