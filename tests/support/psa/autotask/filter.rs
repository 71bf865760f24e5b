//! Autotask's query filter: conditions `{"op", "field", "value"}` and groups `{"op": "and" |
//! "or", "items": [...]}`; field names and text compared without regard to case.

use serde_json::Value;

use super::member;

pub const OPERATORS: [&str; 13] = [
    "eq",
    "noteq",
    "gt",
    "gte",
    "lt",
    "lte",
    "beginsWith",
    "endsWith",
    "contains",
    "exist",
    "notExist",
    "in",
    "notIn",
];

pub fn matches(condition: &Value, company: &Value) -> bool {
    let op = member(condition, "op")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let items = || {
        member(condition, "items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    let field = member(condition, "field")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let actual = member(company, field).filter(|v| !v.is_null());
    let value = member(condition, "value").unwrap_or(&Value::Null);
    match op.as_str() {
        "and" => items().all(|c| matches(c, company)),
        "or" => items().any(|c| matches(c, company)),
        "exist" => actual.is_some(),
        "notexist" => actual.is_none(),
        "in" => list(value).any(|v| equal(actual, v)),
        "notin" => !list(value).any(|v| equal(actual, v)),
        "eq" => equal(actual, value),
        "noteq" => !equal(actual, value),
        "gt" => ordering(actual, value).is_some_and(std::cmp::Ordering::is_gt),
        "gte" => ordering(actual, value).is_some_and(std::cmp::Ordering::is_ge),
        "lt" => ordering(actual, value).is_some_and(std::cmp::Ordering::is_lt),
        "lte" => ordering(actual, value).is_some_and(std::cmp::Ordering::is_le),
        "beginswith" => text(actual).is_some_and(|a| a.starts_with(&lower(value))),
        "endswith" => text(actual).is_some_and(|a| a.ends_with(&lower(value))),
        "contains" => text(actual).is_some_and(|a| a.contains(&lower(value))),
        _ => false,
    }
}

fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value.as_array().into_iter().flatten()
}

fn text(value: Option<&Value>) -> Option<String> {
    value.map(lower)
}

fn lower(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
        .to_lowercase()
}

/// A number, also when sent as text ("0").
fn number(value: &Value) -> Option<f64> {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

fn ordering(actual: Option<&Value>, value: &Value) -> Option<std::cmp::Ordering> {
    let actual = actual?;
    match (number(actual), number(value)) {
        (Some(a), Some(b)) if actual.is_number() => a.partial_cmp(&b),
        _ => Some(lower(actual).cmp(&lower(value))),
    }
}

fn equal(actual: Option<&Value>, value: &Value) -> bool {
    match (actual, value) {
        (None, v) => v.is_null(),
        (Some(Value::Bool(a)), v) => {
            v.as_bool()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                == Some(*a)
        }
        (Some(a), v) => ordering(Some(a), v).is_some_and(std::cmp::Ordering::is_eq),
    }
}
