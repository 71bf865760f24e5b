//! Roster: a self-hosted IT documentation server for managed service providers.

pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod db;
pub mod jobs;
pub mod logo;
pub mod orgs;
pub mod psa;
pub mod records;
pub mod search;
pub mod secrets;
pub mod startup;
pub mod transfer;
pub mod validation;
pub mod web;

pub use startup::Application;
