//! The `/api` door: IT Glue's JSON:API over the same use cases as the web pages. Its own scope
//! (no sessions, no CSRF, no HTML): a key in `x-api-key` admits a request as the key's user, a
//! per-key rate limit applies, and every route names the action its user's role must allow.

mod document;
mod error;
mod keyed;
mod orgs;
mod query;
mod records;
mod records_json;

use actix_web::middleware::from_fn;
use actix_web::{guard, web};

pub use error::ApiError;
pub use keyed::Limiter;
use keyed::{admit, require};

use crate::auth::Action;
use crate::config::Settings;

/// The largest request body the API reads (10 MB); a larger one is a 413 before it is read.
pub const BODY_LIMIT: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    pub method: &'static str,
    /// Below `/api`; each path also answers with a trailing slash.
    pub path: &'static str,
    pub action: Action,
}

fn method(name: &str) -> impl guard::Guard + use<> {
    let method = actix_web::http::Method::from_bytes(name.as_bytes()).unwrap_or_default();
    guard::Method(method)
}

macro_rules! api_table {
    ($($method:ident $path:literal $action:expr => $handler:path;)*) => {
        pub const ROUTES: &[ApiRoute] = &[
            $(ApiRoute { method: stringify!($method), path: $path, action: $action },)*
        ];

        fn routes(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource([$path, concat!($path, "/")])
                        .guard(method(stringify!($method)))
                        .wrap(from_fn(|req, next| require($action, req, next)))
                        .to($handler),
                );
            )*
        }
    };
}

api_table! {
    GET "/organizations" Action::ViewOrganizations => orgs::index;
    GET "/organizations/{id}" Action::ViewOrganizations => orgs::show;
    GET "/organization_types" Action::ViewOrganizations => orgs::types;
    GET "/organization_types/{id}" Action::ViewOrganizations => orgs::type_show;
    GET "/organization_statuses" Action::ViewOrganizations => orgs::statuses;
    GET "/organization_statuses/{id}" Action::ViewOrganizations => orgs::status_show;
    GET "/{kind:configurations|contacts|passwords|flexible_assets}" Action::ViewOrganizations => records::index;
    POST "/{kind:configurations|contacts|passwords|flexible_assets}" Action::EditRecords => records::create;
    DELETE "/{kind:configurations|contacts|passwords|flexible_assets}" Action::DeleteOne => records::delete;
    GET "/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::ViewOrganizations => records::show;
    PATCH "/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::EditRecords => records::update;
    DELETE "/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::DeleteOne => records::delete;
    GET "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}" Action::ViewOrganizations => records::index;
    POST "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}" Action::EditRecords => records::create;
    DELETE "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}" Action::DeleteOne => records::delete;
    GET "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::ViewOrganizations => records::show;
    PATCH "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::EditRecords => records::update;
    DELETE "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::DeleteOne => records::delete;
    GET "/flexible_asset_types" Action::ViewOrganizations => records::asset_types;
    GET "/flexible_asset_types/{id}" Action::ViewOrganizations => records::asset_type;
}

async fn no_route() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// Mounts `/api`: `App::configure(|cfg| api::configure(cfg, &limiter))`.
pub fn configure(cfg: &mut web::ServiceConfig, limiter: &Limiter) {
    cfg.service(
        web::scope("/api")
            .app_data(web::Data::new(limiter.clone()))
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .configure(routes)
            .default_service(web::route().to(no_route))
            .wrap(from_fn(admit))
            .wrap(from_fn(error::json_errors)),
    );
}

/// The limiter for `settings` (one per server, shared by its workers).
pub fn limiter(settings: &Settings) -> Limiter {
    Limiter::new(settings.api_rate_limit)
}
