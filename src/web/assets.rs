//! Static files, compiled into the binary so that a single file is a whole installation.

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};

const CSS: &str = include_str!("../../static/roster.css");
const JS: &str = include_str!("../../static/roster.js");
const PASSKEYS_JS: &str = include_str!("../../static/passkeys.js");
const SEARCH_JS: &str = include_str!("../../static/search.js");

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

pub async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

pub async fn js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}

pub async fn passkeys_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", PASSKEYS_JS)
}

pub async fn search_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SEARCH_JS)
}
