//! The `/api` door: IT Glue's JSON:API over the same use cases as the web pages. Its own scope
//! (no sessions, no CSRF, no HTML): a key in `x-api-key` admits a request as the key's user, a
//! per-key rate limit applies, and every route names the action its user's role must allow.

mod body;
mod document;
mod error;
mod keyed;
mod kinds;
mod lookups;
mod orgs;
mod orgs_write;
mod query;

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
    POST "/organizations" Action::CreateOrganizations => orgs_write::create;
    PATCH "/organizations/{id}" Action::EditRecords => orgs_write::update;
    PATCH "/organizations" Action::EditRecords => orgs_write::update_many;
    DELETE "/organizations" Action::ManageData => orgs_write::delete_many;
    GET "/organization_types" Action::ViewOrganizations => orgs::types;
    GET "/organization_types/{id}" Action::ViewOrganizations => orgs::type_show;
    GET "/organization_statuses" Action::ViewOrganizations => orgs::statuses;
    GET "/organization_statuses/{id}" Action::ViewOrganizations => orgs::status_show;
    POST "/organization_types" Action::ManageSettings => kinds::type_create;
    PATCH "/organization_types/{id}" Action::ManageSettings => kinds::type_update;
    POST "/organization_statuses" Action::ManageSettings => kinds::status_create;
    PATCH "/organization_statuses/{id}" Action::ManageSettings => kinds::status_update;
    GET "/regions" Action::ViewOrganizations => lookups::empty;
    GET "/countries" Action::ViewOrganizations => lookups::empty;
    GET "/manufacturers" Action::ViewOrganizations => lookups::empty;
    GET "/models" Action::ViewOrganizations => lookups::empty;
    GET "/operating_systems" Action::ViewOrganizations => lookups::empty;
    GET "/configuration_types" Action::ViewOrganizations => lookups::empty;
    GET "/configuration_statuses" Action::ViewOrganizations => lookups::empty;
    GET "/contact_types" Action::ViewOrganizations => lookups::empty;
    GET "/password_categories" Action::ViewOrganizations => lookups::empty;
    GET "/platforms" Action::ViewOrganizations => lookups::empty;
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
