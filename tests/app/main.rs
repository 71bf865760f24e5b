//! One integration test binary (it links once): the real server over HTTP, on the backend named by
//! `ROSTER_TEST_BACKEND`, and in headless Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod api_keys;
mod api_orgs;
mod bodies;
mod browser;
mod browser_2fa;
mod cli;
mod compression;
mod config;
mod csrf;
mod deletion;
mod images;
mod lean;
mod login;
mod logos;
mod org_counts;
mod orgs;
mod outage;
mod pages;
mod passkey_signin;
mod passkeys;
mod passkeys_browser;
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
mod search;
mod sessions;
mod setup;
mod signin;
mod soft_key;
mod support;
mod two_factor;
mod two_factor_policy;
mod users;
