//! Everything HTTP: the route table, the guard, extractors, pages and the error mapping.
//! Handlers parse, authorize (through the guard), call one use case on the blocking pool, render.

mod account;
mod account_two_factor;
pub mod api;
mod api_keys;
mod assets;
mod client_address;
pub mod csrf_form;
pub mod ctx;
mod deletes;
pub mod error;
pub mod flash;
pub mod guard;
mod health;
mod home;
mod kinds;
mod login;
mod org_list;
mod orgs;
mod passkey_signin;
mod passkeys;
mod psa;
mod records;
mod render;
pub mod request_span;
pub mod routes;
mod search;
pub mod second_step;
mod security;
mod setup;
pub mod signed;
pub mod state;
mod two_factor_pages;
pub mod upload;
mod user_agent;
mod users;
mod users_two_factor;
