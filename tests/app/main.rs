//! One integration test binary (it links once): the real server over HTTP, on the backend named by
//! `ROSTER_TEST_BACKEND`, and in headless Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod bodies;
mod browser;
mod cli;
mod config;
mod csrf;
mod deletion;
mod images;
mod login;
mod logos;
mod org_counts;
mod orgs;
mod pages;
mod permissions;
mod psa;
mod psa_connectors;
#[path = "../support/psa/mod.rs"]
pub mod psa_doubles;
mod psa_security;
mod psa_sync;
mod records;
mod request_log;
mod schema;
mod scope;
mod scope_deletion;
mod scope_races;
mod sessions;
mod setup;
mod signin;
mod support;
mod users;
