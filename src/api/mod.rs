//! The IT Glue-compatible JSON:API: API keys (each acts as one user) and the use cases the `/api`
//! door needs beyond those of `orgs`. No HTTP types here; `web/api` speaks HTTP.

pub mod keys;
pub mod orgs;
pub mod orgs_write;
pub mod records;
pub mod records_names;
