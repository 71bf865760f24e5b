//! Everything HTTP: the route table, the guard, extractors, pages and the error mapping.
//! Handlers parse, authorize (through the guard), call one use case on the blocking pool, render.

mod account;
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
mod orgs;
mod psa;
mod records;
mod render;
pub mod request_span;
pub mod routes;
mod setup;
pub mod state;
pub mod upload;
mod user_agent;
mod users;
