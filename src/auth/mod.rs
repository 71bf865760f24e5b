//! Who is asking and what they may do: passwords, sessions, sign-in, roles, CSRF, users.

pub mod accounts;
pub mod csrf;
pub mod device;
pub mod lockout;
pub mod login;
pub mod own;
pub mod passkeys;
pub mod password;
mod roles;
pub mod session;
pub mod setup;
pub mod throttle;
pub mod token;
pub mod two_factor;
pub mod users;

pub use roles::{Action, Denied, Role, allowed, check, permitted};
pub use users::User;

use crate::validation::FieldErrors;

/// A user's id; cannot be mixed up with other ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(pub i64);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    /// A secret could not be sealed, opened or turned into a code (a server fault).
    #[error("{0}")]
    Secret(String),
}

impl From<diesel::result::Error> for AuthError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}
