//! Responses are compressed (gzip or brotli, as the client asks) for pages, CSS, JS and JSON;
//! logos (already compressed images) never are; compressed request bodies are still refused.

use std::io::Read;

use roster::auth::Role;

use crate::support::{Client, TestApp};

struct Raw {
    status: u16,
    encoding: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// A GET with `Accept-Encoding: accept` and the client's cookies, its body left as sent.
async fn raw_get(base: &str, client: &Client, path: &str, accept: &str) -> Raw {
    let cookies = client
        .cookies
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let res = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .header("accept-encoding", accept)
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    Raw {
        status: res.status().as_u16(),
        encoding: header("content-encoding"),
        content_type: header("content-type"),
        bytes: res.bytes().await.unwrap().to_vec(),
    }
}

fn decoded(raw: &Raw) -> String {
    let mut out = Vec::new();
    match raw.encoding.as_str() {
        "gzip" => {
            flate2::read::GzDecoder::new(raw.bytes.as_slice())
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli_decompressor::Decompressor::new(raw.bytes.as_slice(), 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        other => panic!("not compressed: {other:?}"),
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn pages_css_js_and_json_are_compressed_as_the_client_asks() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    app.add_org("Compressed Dental", None).await;
    let plain = client.get("/organizations").await;
    assert!(plain.body.contains("Compressed Dental"));
    assert_eq!(
        plain.header("content-encoding"),
        "",
        "not asked: not compressed"
    );

    for encoding in ["gzip", "br"] {
        let page = raw_get(&app.base, &client, "/organizations", encoding).await;
        assert_eq!((page.status, page.encoding.as_str()), (200, encoding));
        let html = decoded(&page);
        assert!(html.contains("Compressed Dental"), "{encoding}");
        assert!(
            page.bytes.len() < html.len(),
            "{encoding}: smaller on the wire"
        );

        for (path, kind) in [
            ("/static/roster.css", "text/css"),
            ("/static/roster.js", "javascript"),
            ("/organizations/lookup?q=dental", "application/json"),
        ] {
            let res = raw_get(&app.base, &client, path, encoding).await;
            assert_eq!(res.status, 200, "{path}");
            assert!(
                res.content_type.contains(kind),
                "{path}: {}",
                res.content_type
            );
            assert_eq!(res.encoding, encoding, "{path}");
            assert!(!decoded(&res).is_empty(), "{path}");
        }
    }
    let preferred = raw_get(&app.base, &client, "/organizations", "gzip, br").await;
    assert!(["gzip", "br"].contains(&preferred.encoding.as_str()));
}

#[tokio::test]
async fn logos_are_never_compressed() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let org = app.add_org("Logo Holder", None).await;
    app.add_logo(org).await;
    let path = format!("/organizations/{org}/logo");
    let stored = raw_get(&app.base, &client, &path, "identity").await;
    assert_eq!(stored.status, 200);
    assert!(
        stored.content_type.starts_with("image/"),
        "{}",
        stored.content_type
    );
    for encoding in ["gzip", "br", "gzip, deflate, br"] {
        let logo = raw_get(&app.base, &client, &path, encoding).await;
        assert_eq!(logo.status, 200);
        assert_eq!(logo.encoding, "", "{encoding}: a logo is sent as stored");
        assert_eq!(logo.bytes, stored.bytes, "{encoding}");
    }
}

#[tokio::test]
async fn a_compressed_request_body_is_still_refused_when_responses_are_compressed() {
    let app = TestApp::spawn().await;
    let client = app.login_as(Role::Editor).await;
    let token = client.csrf().await;
    let res = client
        .post_with_headers(
            "/account/name",
            &[("csrf_token", token.as_str()), ("display_name", "Zipped")],
            &[
                ("content-encoding", "gzip"),
                ("accept-encoding", "identity"),
            ],
        )
        .await;
    assert_eq!(res.status, 415, "{}", res.body);
}
