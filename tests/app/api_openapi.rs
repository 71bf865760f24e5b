//! `/api/openapi.json` (issue 14, item 6): generated from the route table, so every route is in
//! it; OpenAPI 3 in shape (paths, methods, responses, declared path parameters, resolvable
//! references); served without a key, as IT Glue publishes its documentation openly.

use serde_json::Value;

use crate::support::TestApp;

/// The OpenAPI paths of a route: `{kind:a|b}` becomes one path per alternative.
fn paths_of(path: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}').unwrap();
        let literal = &rest[..start];
        let name = &rest[start + 1..end];
        let pieces: Vec<String> = match name.split_once(':') {
            Some((_, alternatives)) => alternatives.split('|').map(str::to_owned).collect(),
            None => vec![format!("{{{name}}}")],
        };
        out = out
            .iter()
            .flat_map(|p| {
                pieces
                    .iter()
                    .map(move |piece| format!("{p}{literal}{piece}"))
            })
            .collect();
        rest = &rest[end + 1..];
    }
    out.into_iter().map(|p| format!("{p}{rest}")).collect()
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    found.push(v.as_str().unwrap());
                } else {
                    refs(v, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_and_holds_every_route() {
    let app = TestApp::spawn().await;
    let res = app.client().get("/api/openapi.json").await;
    assert_eq!(res.status, 200, "no key needed: {}", res.body);
    assert!(res.header("content-type").starts_with("application/json"));
    let doc: Value = serde_json::from_str(&res.body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(
        doc["components"]["securitySchemes"]["apiKey"]["name"],
        "x-api-key"
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut operation_ids = Vec::new();
    for route in roster::web::api::ROUTES {
        for path in paths_of(route.path) {
            let method = route.method.to_lowercase();
            let op = &paths
                .get(&path)
                .unwrap_or_else(|| panic!("{path} is not in the document"))[&method];
            assert!(
                op.is_object(),
                "{} {path} is not in the document",
                route.method
            );
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()));
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{} {path}", route.method);
            for (status, response) in responses {
                let bytes = status.as_bytes();
                assert!(
                    status == "default"
                        || (bytes.len() == 3
                            && (b'1'..=b'5').contains(&bytes[0])
                            && (status[1..] == *"XX" || status.parse::<u16>().is_ok())),
                    "{status}"
                );
                assert!(response["description"].is_string(), "{path} {status}");
            }
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "path")
                        .inspect(|p| assert_eq!(p["required"], true))
                        .map(|p| p["name"].as_str().unwrap())
                        .collect()
                })
                .unwrap_or_default();
            for part in path.split('/').filter(|p| p.starts_with('{')) {
                let name = part.trim_matches(|c| c == '{' || c == '}');
                assert!(declared.contains(&name), "{path}: {name} not declared");
            }
            if matches!(route.method, "POST" | "PATCH") {
                assert!(op["requestBody"]["content"].is_object(), "{path}");
            }
            operation_ids.push(op["operationId"].as_str().unwrap().to_owned());
        }
    }
    let count = operation_ids.len();
    operation_ids.sort();
    operation_ids.dedup();
    assert_eq!(operation_ids.len(), count, "operationIds are unique");

    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let pointer = reference.strip_prefix('#').unwrap();
        assert!(
            !doc.pointer(pointer).unwrap_or(&Value::Null).is_null(),
            "{reference}"
        );
    }
    let attributes = |schema: &str| {
        doc["components"]["schemas"][schema]["properties"]["attributes"]["properties"].clone()
    };
    assert!(attributes("configurations")["primary-ip"].is_object());
    assert!(attributes("passwords")["password"].is_object());
    assert!(attributes("organizations")["short-name"].is_object());
}
