//! The route table: every route with its rule. Registration goes through this table only, so a
//! route cannot exist without a rule, and the permission test enumerates `ROUTES`.

use actix_web::middleware::from_fn;
use actix_web::{guard, web};

use super::guard::{Rule, authorize};
use super::{
    account, account_two_factor, api_keys, assets, deletes, export, health, home, kinds, login,
    merge, org_list, orgs, passkey_signin, passkeys, psa, psa_preview, records, search,
    second_step, security, setup, transfer, upload, users, users_two_factor,
};
use crate::auth::Action;

#[derive(Debug, Clone, Copy)]
pub struct RouteInfo {
    pub method: &'static str,
    pub path: &'static str,
    pub rule: Rule,
}

fn method(name: &str) -> impl guard::Guard + use<> {
    let method = actix_web::http::Method::from_bytes(name.as_bytes()).unwrap_or_default();
    guard::Method(method)
}

macro_rules! route_table {
    ($($method:ident $path:literal $rule:expr => $handler:path;)*) => {
        pub const ROUTES: &[RouteInfo] = &[
            $(RouteInfo { method: stringify!($method), path: $path, rule: $rule },)*
        ];

        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        .guard(method(stringify!($method)))
                        .wrap(from_fn(|req, next| authorize($rule, req, next)))
                        .to($handler),
                );
            )*
        }
    };
}

route_table! {
    GET "/healthz" Rule::Open => health::healthz;
    GET "/readyz" Rule::Open => health::readyz;
    GET "/static/roster.css" Rule::Open => assets::css;
    GET "/static/roster.js" Rule::Open => assets::js;
    GET "/static/passkeys.js" Rule::Open => assets::passkeys_js;
    GET "/login" Rule::Public => login::page;
    POST "/login" Rule::Public => login::submit;
    POST "/logout" Rule::SignedIn => login::logout;
    GET "/sign-in/verify" Rule::Public => second_step::verify_page;
    POST "/sign-in/verify" Rule::Public => second_step::verify_submit;
    POST "/sign-in/passkey/options" Rule::Public => passkey_signin::options;
    POST "/sign-in/passkey" Rule::Public => passkey_signin::finish;
    POST "/sign-in/enrol/passkey/options" Rule::Public => passkey_signin::enrol_options;
    POST "/sign-in/enrol/passkey" Rule::Public => passkey_signin::enrol;
    GET "/sign-in/enrol" Rule::Public => second_step::enrol_page;
    POST "/sign-in/enrol" Rule::Public => second_step::enrol_submit;
    GET "/setup/{token}" Rule::Public => setup::page;
    POST "/setup/{token}" Rule::Public => setup::submit;
    GET "/" Rule::SignedIn => home::page;
    GET "/search" Rule::Checked(Action::ViewOrganizations) => search::page;
    GET "/search/suggest" Rule::SignedIn => search::suggest;
    GET "/static/search.js" Rule::Open => assets::search_js;
    GET "/account" Rule::SignedIn => account::page;
    POST "/account/name" Rule::SignedIn => account::rename;
    POST "/account/password" Rule::SignedIn => account::change_password;
    GET "/account/two-factor/totp" Rule::SignedIn => account_two_factor::totp_page;
    POST "/account/two-factor/totp" Rule::SignedIn => account_two_factor::totp_confirm;
    POST "/account/two-factor/totp/remove" Rule::SignedIn => account_two_factor::totp_remove;
    POST "/account/two-factor/recovery" Rule::SignedIn => account_two_factor::new_codes;
    POST "/account/sessions/end-others" Rule::SignedIn => account::sign_out_others;
    POST "/account/sessions/{session}/end" Rule::SignedIn => account::sign_out;
    POST "/account/passkeys/options" Rule::SignedIn => passkeys::registration_options;
    POST "/account/passkeys" Rule::SignedIn => passkeys::register;
    POST "/account/passkeys/{passkey}/remove" Rule::SignedIn => passkeys::remove;
    GET "/users" Rule::Allow(Action::ManageUsers) => users::list;
    GET "/users/new" Rule::Allow(Action::ManageUsers) => users::new_form;
    POST "/users" Rule::Allow(Action::ManageUsers) => users::create;
    GET "/users/{id}" Rule::Allow(Action::ManageUsers) => users::show;
    POST "/users/{id}/role" Rule::Allow(Action::ManageUsers) => users::change_role;
    POST "/users/{id}/active" Rule::Allow(Action::ManageUsers) => users::set_active;
    POST "/users/{id}/password" Rule::Allow(Action::ManageUsers) => users::set_password;
    POST "/users/{id}/access" Rule::Allow(Action::ManageUsers) => users::access_all;
    POST "/users/{id}/access/add" Rule::Allow(Action::ManageUsers) => users::access_add;
    POST "/users/{id}/access/remove" Rule::Allow(Action::ManageUsers) => users::access_remove;
    GET "/users/{id}/two-factor/reset" Rule::Allow(Action::ManageUsers) => users_two_factor::confirm;
    POST "/users/{id}/two-factor/reset" Rule::Allow(Action::ManageUsers) => users_two_factor::reset;
    GET "/organizations" Rule::Checked(Action::ViewOrganizations) => org_list::list;
    GET "/organizations/new" Rule::Allow(Action::CreateOrganizations) => orgs::new_form;
    GET "/organizations/lookup" Rule::Allow(Action::ViewOrganizations) => orgs::lookup;
    POST "/organizations" Rule::Allow(Action::CreateOrganizations) => orgs::create;
    GET "/organizations/bulk-delete" Rule::Allow(Action::ManageData) => deletes::bulk_confirm;
    POST "/organizations/bulk-delete" Rule::Allow(Action::ManageData) => deletes::bulk_delete;
    GET "/organizations/{org}" Rule::Checked(Action::ViewOrganizations) => orgs::show;
    GET "/organizations/{org}/edit" Rule::Allow(Action::EditRecords) => orgs::edit_form;
    GET "/organizations/{org}/logo" Rule::Allow(Action::ViewOrganizations) => upload::serve;
    POST "/organizations/{org}" Rule::Allow(Action::EditRecords) => orgs::update;
    GET "/organizations/{org}/delete" Rule::Allow(Action::DeleteOne) => deletes::confirm;
    POST "/organizations/{org}/delete" Rule::Allow(Action::DeleteOne) => deletes::delete;
    POST "/organizations/{org}/restore" Rule::Allow(Action::ManageData) => deletes::restore;
    GET "/organizations/{org}/merge" Rule::Allow(Action::ManageData) => merge::page;
    POST "/organizations/{org}/merge" Rule::Allow(Action::ManageData) => merge::merge;
    POST "/organizations/{org}/sync/disable" Rule::Allow(Action::DeleteOne) => deletes::disable_sync;
    GET "/organizations/{org}/records/{record_kind}" Rule::Allow(Action::ViewOrganizations) => records::list;
    GET "/organizations/{org}/records/{record_kind}/new" Rule::Allow(Action::EditRecords) => records::new_form;
    POST "/organizations/{org}/records/{record_kind}" Rule::Allow(Action::EditRecords) => records::create;
    GET "/organizations/{org}/records/{record_kind}/{record}" Rule::Allow(Action::ViewOrganizations) => records::show;
    GET "/organizations/{org}/records/{record_kind}/{record}/edit" Rule::Allow(Action::EditRecords) => records::edit_form;
    POST "/organizations/{org}/records/{record_kind}/{record}" Rule::Allow(Action::EditRecords) => records::update;
    GET "/organizations/{org}/records/{record_kind}/{record}/delete" Rule::Allow(Action::DeleteOne) => records::confirm_delete;
    POST "/organizations/{org}/records/{record_kind}/{record}/delete" Rule::Allow(Action::DeleteOne) => records::delete;
    POST "/organizations/{org}/records/{record_kind}/{record}/reveal" Rule::Allow(Action::ViewOrganizations) => records::reveal;
    GET "/manage-data" Rule::Allow(Action::ManageData) => deletes::manage_data;
    GET "/manage-data/import" Rule::Allow(Action::ImportData) => transfer::page;
    POST "/manage-data/import" Rule::Allow(Action::ImportData) => transfer::upload;
    GET "/manage-data/import/{token}" Rule::Allow(Action::ImportData) => transfer::preview;
    POST "/manage-data/import/{token}" Rule::Allow(Action::ImportData) => transfer::start;
    GET "/manage-data/import/jobs/{job}" Rule::Allow(Action::ImportData) => transfer::job;
    GET "/manage-data/export" Rule::Allow(Action::ImportData) => export::page;
    POST "/manage-data/export" Rule::Allow(Action::ImportData) => export::start;
    GET "/manage-data/export/jobs/{job}" Rule::Allow(Action::ManageData) => export::job;
    GET "/manage-data/export/jobs/{job}/download" Rule::Allow(Action::ManageData) => export::download;
    POST "/organizations/{org}/export" Rule::Allow(Action::ManageData) => export::start_org;
    GET "/settings/psa" Rule::Allow(Action::ManagePsa) => psa::show;
    POST "/settings/psa" Rule::Allow(Action::ManagePsa) => psa::save;
    POST "/settings/psa/mapping" Rule::Allow(Action::ManagePsa) => psa::save_mapping;
    POST "/settings/psa/test" Rule::Allow(Action::ManagePsa) => psa::test_connection;
    POST "/settings/psa/sync" Rule::Allow(Action::ManagePsa) => psa::sync_now;
    POST "/settings/psa/exclusions/{exclusion}/include" Rule::Allow(Action::ManagePsa) => psa::include_again;
    POST "/settings/psa/preview" Rule::Allow(Action::ManagePsa) => psa_preview::start;
    GET "/settings/psa/previews/{preview}" Rule::Allow(Action::ManagePsa) => psa_preview::show;
    POST "/settings/psa/previews/{preview}/apply" Rule::Allow(Action::ManagePsa) => psa_preview::apply;
    GET "/settings/security" Rule::Allow(Action::ManageSecurity) => security::show;
    POST "/settings/security" Rule::Allow(Action::ManageSecurity) => security::save;
    GET "/settings/asset-types" Rule::Allow(Action::ManageSettings) => records::types;
    POST "/settings/asset-types" Rule::Allow(Action::ManageSettings) => records::add_type;
    POST "/settings/asset-types/{type}/delete" Rule::Allow(Action::ManageSettings) => records::remove_type;
    GET "/settings/api-keys" Rule::Allow(Action::ManageApiKeys) => api_keys::list;
    POST "/settings/api-keys" Rule::Allow(Action::ManageApiKeys) => api_keys::create;
    GET "/settings/api-keys/{key}/revoke" Rule::Allow(Action::ManageApiKeys) => api_keys::confirm_revoke;
    POST "/settings/api-keys/{key}/revoke" Rule::Allow(Action::ManageApiKeys) => api_keys::revoke;
    GET "/settings/{kind}" Rule::Allow(Action::ManageSettings) => kinds::list;
    POST "/settings/{kind}" Rule::Allow(Action::ManageSettings) => kinds::add;
    POST "/settings/{kind}/{kind_id}" Rule::Allow(Action::ManageSettings) => kinds::change;
    POST "/settings/{kind}/{kind_id}/delete" Rule::Allow(Action::ManageSettings) => kinds::remove;
}
