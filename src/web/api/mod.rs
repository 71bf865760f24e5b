//! The `/api` door: IT Glue's JSON:API over the same use cases as the web pages. Its own scope
//! (no sessions, no CSRF, no HTML): a key in `x-api-key` admits a request as the key's user, a
//! per-key rate limit applies, and every route names the action its user's role must allow.

mod body;
mod document;
mod error;
mod keyed;
mod kinds;
mod lookups;
mod openapi;
mod openapi_samples;
mod orgs;
mod orgs_write;
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

/// A route of the API: its rule, and what the OpenAPI document says of it (`openapi.rs` derives
/// the rest: the resource from the path, page parameters of lists, responses by method).
#[derive(Debug, Clone, Copy)]
pub struct ApiRoute {
    pub method: &'static str,
    /// Below `/api`; each path also answers with a trailing slash. `{kind:a|b}` names several
    /// resources at once (one path each in the document).
    pub path: &'static str,
    pub action: Action,
    /// One line for the document; empty: said from the method and the resource.
    pub summary: &'static str,
    /// Query parameters beyond the page ones (`filter[...]`, `sort`, `show_password`).
    pub query: &'static [&'static str],
}

fn method(name: &str) -> impl guard::Guard + use<> {
    let method = actix_web::http::Method::from_bytes(name.as_bytes()).unwrap_or_default();
    guard::Method(method)
}

/// `METHOD "/path" Action => handler` and, optionally, `, "summary"` and
/// `, query ["filter[name]", "sort"]`.
macro_rules! api_table {
    ($($method:ident $path:literal $action:expr => $handler:path
        $(, $summary:literal)? $(, query [$($query:literal),* $(,)?])?;)*) => {
        pub const ROUTES: &[ApiRoute] = &[
            $(ApiRoute {
                method: stringify!($method),
                path: $path,
                action: $action,
                summary: concat!($($summary,)? ""),
                query: &[$($($query),*)?],
            },)*
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
    GET "/organizations" Action::ViewOrganizations => orgs::index, "List organizations",
        query ["filter[id]", "filter[name]", "filter[organization_type_id]",
               "filter[organization_status_id]", "filter[psa_id]", "filter[psa_integration_type]",
               "filter[created_at]", "filter[updated_at]", "sort"];
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
    GET "/{kind:configurations|contacts|passwords|flexible_assets}" Action::ViewOrganizations => records::index,
        query ["filter[organization_id]", "filter[id]", "filter[name]",
               "filter[flexible_asset_type_id]", "sort"];
    POST "/{kind:configurations|contacts|passwords|flexible_assets}" Action::EditRecords => records::create;
    DELETE "/{kind:configurations|contacts|passwords|flexible_assets}" Action::DeleteOne => records::delete, "Delete several (ids in data)";
    PATCH "/{kind:configurations|contacts|passwords|flexible_assets}" Action::EditRecords => records::update_many, "Update several (each with its id in data)";
    GET "/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::ViewOrganizations => records::show,
        query ["show_password"];
    PATCH "/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::EditRecords => records::update;
    DELETE "/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::DeleteOne => records::delete;
    GET "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}" Action::ViewOrganizations => records::index,
        query ["filter[id]", "filter[name]", "filter[flexible_asset_type_id]", "sort"];
    POST "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}" Action::EditRecords => records::create;
    DELETE "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}" Action::DeleteOne => records::delete,
        "Delete several of an organization (ids in data)";
    GET "/organizations/{org}/relationships/{kind:configurations|contacts|passwords|flexible_assets}/{id}" Action::ViewOrganizations => records::show,
        query ["show_password"];
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
    // The document needs no key (see openapi.rs), so it is mounted before the keyed scope.
    cfg.service(
        web::resource(["/api/openapi.json", "/api/openapi.json/"])
            .route(web::get().to(openapi::serve)),
    );
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
