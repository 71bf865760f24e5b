//! Records in JSON:API: a record as IT Glue writes it (kebab-case attributes, nulls for empty,
//! flexible assets' `traits`), and a request's `data` read into the changes of a write, each
//! wrong attribute reported with its `source.pointer`.

use serde_json::{Map, Value, json};

use super::document::time;
use super::error::ApiError;
use crate::api::records::{ASSET_TYPE, Changes, Listed, ORGANIZATION, TRAITS};
use crate::api::records_names::{
    self as names, Attribute, Shape, attribute_named, attribute_of, trait_key, type_of,
};
use crate::records::flex::AssetType;
use crate::records::store::Record;
use crate::records::{Kind, RecordError};

fn text(value: &str) -> Value {
    if value.is_empty() {
        Value::Null
    } else {
        Value::String(value.to_owned())
    }
}

fn value_out(shape: Shape, value: &str) -> Value {
    match shape {
        Shape::Text => text(value),
        Shape::Flag => Value::Bool(!value.is_empty()),
        Shape::List => Value::Array(
            value
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .enumerate()
                .map(|(i, line)| json!({ "value": line, "primary": i == 0, "label-name": "Work" }))
                .collect(),
        ),
    }
}

/// One record; `password` only when the key may read it and it was asked for.
pub fn record(listed: &Listed, record: &Record, password: Option<&str>) -> Value {
    let get = |field: &str| record.values.get(field).map_or("", String::as_str);
    let mut attributes = Map::new();
    attributes.insert("organization-id".into(), record.organization_id.into());
    let org_name = listed
        .organization(record.organization_id)
        .map(|o| o.name.clone());
    attributes.insert("organization-name".into(), org_name.into());
    for a in names::attributes(record.kind) {
        attributes.insert(a.name.into(), value_out(a.shape, get(a.field)));
    }
    if let Some(secret) = password {
        attributes.insert(names::PASSWORD.name.into(), secret.into());
    }
    if record.kind == Kind::FlexibleAsset {
        let asset_type = listed.asset_type(record.asset_type_id);
        attributes.insert("flexible-asset-type-id".into(), record.asset_type_id.into());
        attributes.insert(
            "flexible-asset-type-name".into(),
            asset_type.map(|t| t.name.clone()).into(),
        );
        let traits: Map<String, Value> = asset_type
            .map(|t| t.fields.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|f| (trait_key(f), text(get(&f.name))))
            .collect();
        attributes.insert("traits".into(), Value::Object(traits));
    }
    attributes.insert("created-at".into(), time(record.created_at).into());
    attributes.insert("updated-at".into(), time(record.updated_at).into());
    json!({
        "id": record.id.to_string(),
        "type": type_of(record.kind),
        "attributes": attributes,
    })
}

pub fn records(listed: &Listed) -> Vec<Value> {
    listed
        .records
        .iter()
        .map(|r| record(listed, r, None))
        .collect()
}

pub fn asset_type(t: &AssetType) -> Value {
    let fields: Vec<Value> = t
        .fields
        .iter()
        .map(|f| json!({ "name": trait_key(f), "label": f.label }))
        .collect();
    json!({
        "id": t.id.to_string(),
        "type": "flexible-asset-types",
        "attributes": {
            "name": t.name,
            "description": Value::Null,
            "enabled": true,
            "show-in-menu": true,
            "fields": fields,
        },
    })
}

// ----- input -----

/// Wrong attributes, each with its pointer.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, pointer: impl Into<String>, detail: impl Into<String>) {
        self.0.push((pointer.into(), detail.into()));
    }
}

/// A value given for a text field: strings, numbers and booleans as text, null as empty.
fn value_in(shape: Shape, value: &Value) -> Result<String, String> {
    match (shape, value) {
        (_, Value::Null) => Ok(String::new()),
        (Shape::Flag, Value::Bool(b)) => Ok(if *b { "yes".into() } else { String::new() }),
        (Shape::Flag, Value::String(s)) => Ok(match s.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "0" | "no" => String::new(),
            _ => "yes".into(),
        }),
        (Shape::List, Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::Object(o) => o
                    .get("value")
                    .map_or(Ok(String::new()), |v| value_in(Shape::Text, v)),
                other => value_in(Shape::Text, other),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|lines| lines.join("\n")),
        (_, Value::String(s)) => Ok(s.clone()),
        (_, Value::Number(n)) => Ok(n.to_string()),
        (_, Value::Bool(b)) => Ok(b.to_string()),
        (Shape::List, _) => Err("Give a list of objects with a value, or of strings.".into()),
        _ => Err("Give text, a number or null.".into()),
    }
}

/// A JSON number or a string of digits (clients send ids both ways).
pub fn id_in(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `data` of a document, which must be a resource of `kind` (its `type`, when given).
fn resource<'a>(kind: Kind, data: &'a Value, at: &str) -> Result<&'a Map<String, Value>, ApiError> {
    let object = data.as_object().ok_or_else(|| {
        ApiError::Invalid(vec![(at.into(), "Send a resource object here.".into())])
    })?;
    if let Some(given) = object.get("type") {
        let given = given.as_str().unwrap_or_default().replace('_', "-");
        if given != type_of(kind) {
            return Err(ApiError::Invalid(vec![(
                format!("{at}/type"),
                format!(
                    "This address takes {} resources, not {given:?}.",
                    type_of(kind)
                ),
            )]));
        }
    }
    Ok(object)
}

/// The body of a write, parsed: not JSON, or without `data`, is a 400.
pub fn body(bytes: &[u8]) -> Result<Value, ApiError> {
    // The API's one body reader: UTF-8, or Windows-1252 from Windows PowerShell 5.1.
    let doc: Value = serde_json::from_str(&super::body::text(bytes))
        .map_err(|e| ApiError::BadRequest(format!("The body is not a JSON document ({e}).")))?;
    if doc.get("data").is_none() {
        return Err(ApiError::BadRequest(
            "The body has no data; send {\"data\": {\"type\": ..., \"attributes\": {...}}}.".into(),
        ));
    }
    Ok(doc)
}

/// The changes a create or update asks for; read-only and unknown attributes are ignored.
pub fn changes(kind: Kind, doc: &Value) -> Result<Changes, ApiError> {
    changes_at(kind, &doc["data"], "/data")
}

/// The changes of a bulk update: `data` a list of resources, each with its id (beside `type`
/// or among the attributes).
pub fn many_changes(kind: Kind, doc: &Value) -> Result<Vec<(i64, Changes)>, ApiError> {
    let items = doc["data"].as_array().ok_or_else(|| {
        ApiError::Invalid(vec![(
            "/data".into(),
            "Send a list of resources to update.".into(),
        )])
    })?;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("/data/{i}");
        let id = item
            .get("id")
            .or_else(|| item.get("attributes").and_then(|a| a.get("id")))
            .and_then(id_in)
            .ok_or_else(|| {
                ApiError::Invalid(vec![(format!("{at}/id"), "Give the id to update.".into())])
            })?;
        out.push((id, changes_at(kind, item, &at)?));
    }
    Ok(out)
}

fn changes_at(kind: Kind, data: &Value, at: &str) -> Result<Changes, ApiError> {
    let data = resource(kind, data, at)?;
    let mut changes = Changes::default();
    let mut problems = Problems::default();
    let empty = Map::new();
    let attributes = match data.get("attributes") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(ApiError::Invalid(vec![(
                format!("{at}/attributes"),
                "Send the attributes as an object.".into(),
            )]));
        }
    };
    for (key, value) in attributes {
        let name = key.replace('_', "-");
        let pointer = format!("{at}/attributes/{key}");
        match name.as_str() {
            "organization-id" => match id_in(value) {
                Some(id) => changes.organization = Some(id),
                None => problems.add(pointer, "Give the organization's id as a number."),
            },
            "flexible-asset-type-id" if kind == Kind::FlexibleAsset => match id_in(value) {
                Some(id) => changes.asset_type = Some(id),
                None => problems.add(pointer, "Give the type's id as a number."),
            },
            "traits" if kind == Kind::FlexibleAsset => match value.as_object() {
                Some(traits) => {
                    for (k, v) in traits {
                        match value_in(Shape::Text, v) {
                            Ok(text) => changes.traits.push((k.clone(), text)),
                            Err(m) => problems.add(format!("{pointer}/{k}"), m),
                        }
                    }
                }
                None => problems.add(pointer, "Send traits as an object of field: value."),
            },
            _ => {
                if let Some(Attribute { field, shape, .. }) = attribute_named(kind, &name) {
                    match value_in(shape, value) {
                        Ok(text) => {
                            changes.values.insert(field.to_owned(), text);
                        }
                        Err(m) => problems.add(pointer, m),
                    }
                }
            }
        }
    }
    if problems.0.is_empty() {
        Ok(changes)
    } else {
        Err(ApiError::Invalid(problems.0))
    }
}

/// The ids of a bulk delete: `{"data":[{"type":..., "attributes":{"id":N}}]}` (or `"id"` beside
/// `type`).
pub fn ids(kind: Kind, doc: &Value) -> Result<Vec<i64>, ApiError> {
    let items = doc["data"].as_array().ok_or_else(|| {
        ApiError::Invalid(vec![(
            "/data".into(),
            "Send a list of resources to delete.".into(),
        )])
    })?;
    let mut ids = Vec::new();
    let mut problems = Problems::default();
    for (i, item) in items.iter().enumerate() {
        let at = format!("/data/{i}");
        let object = resource(kind, item, &at)?;
        let id = object
            .get("attributes")
            .and_then(|a| a.get("id"))
            .or_else(|| object.get("id"))
            .and_then(id_in);
        match id {
            Some(id) => ids.push(id),
            None => problems.add(format!("{at}/attributes/id"), "Give the id to delete."),
        }
    }
    if ids.is_empty() && problems.0.is_empty() {
        problems.add("/data", "Name at least one resource to delete.");
    }
    if problems.0.is_empty() {
        Ok(ids)
    } else {
        Err(ApiError::Invalid(problems.0))
    }
}

/// A use case's error as the API answers it: field messages point at the attributes.
pub fn failed(kind: Kind, e: RecordError) -> ApiError {
    failed_at(kind, "/data", e)
}

/// The same for the resource at `at` (`/data/2` in a bulk update).
pub fn failed_at(kind: Kind, at: &str, e: RecordError) -> ApiError {
    match e {
        RecordError::Invalid(errors) => ApiError::Invalid(
            errors
                .iter()
                .map(|(field, message)| {
                    (format!("{at}{}", pointer(kind, field)), message.to_owned())
                })
                .collect(),
        ),
        RecordError::NotFound => ApiError::NotFound,
        RecordError::Conflict(m) => ApiError::Invalid(vec![(at.to_owned(), m)]),
        RecordError::Crypto => {
            ApiError::Internal(anyhow::anyhow!("a password could not be decrypted"))
        }
        RecordError::Db(e) => e.into(),
    }
}

fn pointer(kind: Kind, field: &str) -> String {
    let name = if let Some(key) = field.strip_prefix(TRAITS) {
        format!("traits/{key}")
    } else if field == ORGANIZATION {
        "organization-id".into()
    } else if field == ASSET_TYPE {
        "flexible-asset-type-id".into()
    } else {
        attribute_of(kind, field).map_or_else(|| field.to_owned(), |a| a.name.to_owned())
    };
    format!("/attributes/{name}")
}
