//! Request bodies as API clients send them: UTF-8, or Windows-1252 from Windows PowerShell 5.1
//! (not valid UTF-8, read as that code page rather than refused); JSON:API documents whose
//! `data` is one resource or a list; `filter[...]` keys beside `data` (ITGlueAPI's bulk calls).

use serde_json::{Map, Value};

use super::error::ApiError;
use super::query::Params;

/// The text of a body: UTF-8 (a BOM dropped), else Windows-1252.
pub fn text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// A resource of a document, with its JSON pointer (`/data` or `/data/3`).
pub type Resource<'a> = (String, &'a Map<String, Value>);

/// A JSON:API document sent to the API.
pub struct Document(Map<String, Value>);

impl Document {
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        let text = text(bytes);
        if text.trim().is_empty() {
            return Err(ApiError::BadRequest(
                "The request has no body; send a JSON:API document {\"data\": {...}}.".into(),
            ));
        }
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(Document(map)),
            Ok(_) => Err(ApiError::BadRequest(
                "The body must be a JSON object {\"data\": ...}.".into(),
            )),
            Err(e) => Err(ApiError::BadRequest(format!(
                "The body is not valid JSON ({e})."
            ))),
        }
    }

    /// `data` is one resource (not a list).
    pub fn is_single(&self) -> bool {
        self.0.get("data").is_some_and(Value::is_object)
    }

    /// The resources in `data`, with the pointer of each: one object, or a list.
    pub fn resources(&self, kind: &str) -> Result<Vec<Resource<'_>>, ApiError> {
        let missing = || {
            ApiError::Invalid(vec![(
                "/data".into(),
                "The document needs \"data\": a resource object or a list of them.".into(),
            )])
        };
        let list: Vec<(String, &Value)> = match self.0.get("data").ok_or_else(missing)? {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("/data/{i}"), v))
                .collect(),
            one @ Value::Object(_) => vec![("/data".into(), one)],
            _ => return Err(missing()),
        };
        list.into_iter()
            .map(|(pointer, value)| {
                let Value::Object(resource) = value else {
                    return Err(ApiError::Invalid(vec![(
                        pointer,
                        "Each resource is a JSON object with \"type\" and \"attributes\".".into(),
                    )]));
                };
                match resource.get("type").and_then(Value::as_str) {
                    Some(t) if t.replace('-', "_") == kind.replace('-', "_") => Ok((pointer, resource)),
                    None => Ok((pointer, resource)),
                    Some(other) => Err(ApiError::WrongType(format!(
                        "This address takes resources of type \"{kind}\", not \"{other}\" (at {pointer})."
                    ))),
                }
            })
            .collect()
    }

    /// `filter[...]` keys sent beside `data` (as ITGlueAPI's bulk calls do), as query pairs
    /// added to those of the address.
    pub fn filters(&self, query: &Params) -> Params {
        let mut pairs = query.pairs().to_vec();
        for (key, value) in &self.0 {
            if key.starts_with("filter[") {
                let value = match value {
                    Value::String(s) => s.clone(),
                    Value::Null => continue,
                    other => other.to_string(),
                };
                pairs.push((key.clone(), value));
            }
        }
        Params::from_pairs(pairs)
    }
}

/// A resource's attributes (none when absent).
pub fn attributes(resource: &Map<String, Value>) -> Option<&Map<String, Value>> {
    resource.get("attributes").and_then(Value::as_object)
}

/// A resource's id: in its attributes (IT Glue's bulk shape) or beside them.
pub fn resource_id(resource: &Map<String, Value>) -> Option<&Value> {
    attributes(resource)
        .and_then(|a| a.get("id"))
        .or_else(|| resource.get("id"))
        .filter(|v| !v.is_null())
}
