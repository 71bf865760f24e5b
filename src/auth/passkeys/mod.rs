//! Passkeys and security keys (WebAuthn) as a second factor: the relying party built from
//! `ROSTER_BASE_URL`, the stored credentials, and the registration ceremony on My account. The
//! sign-in ceremony lives in `authentication`; no HTTP types here.

pub mod authentication;
pub mod enrolment;
pub mod registration;
pub mod relying;
pub mod removal;
pub mod store;

pub use relying::{RelyingParty, Unavailable};

/// How long a ceremony (registration or sign-in) may take between its start and its finish.
pub const CEREMONY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// The answer of an authenticator that WebAuthn does not accept (wrong challenge, origin,
/// signature, credential); the cause goes to the log, not to the page.
pub const NOT_VERIFIED: &str = "The passkey's answer could not be verified. Try again; if it keeps \
     failing, use another passkey or factor.";

/// A stored ceremony state or credential that does not read back (a damaged row).
fn unreadable(e: serde_json::Error) -> crate::auth::AuthError {
    diesel::result::Error::DeserializationError(Box::new(e)).into()
}

fn unwritable(e: serde_json::Error) -> crate::auth::AuthError {
    diesel::result::Error::SerializationError(Box::new(e)).into()
}

/// A WebAuthn refusal: logged with its cause, told to the user as `NOT_VERIFIED`.
fn not_verified(e: &webauthn_rs::prelude::WebauthnError) -> crate::auth::AuthError {
    tracing::info!(error = %e, "passkey answer not verified");
    crate::auth::AuthError::Forbidden(NOT_VERIFIED.into())
}

/// The ceremony state kept with the pending sign-in, cleared as it is read (single use).
pub(super) fn take_ceremony(
    conn: &mut crate::db::DbConn,
    id: i64,
) -> Result<Option<String>, crate::auth::AuthError> {
    crate::db::write(conn, |conn| {
        let state = crate::auth::two_factor::pending::ceremony(conn, id)?;
        use crate::db::schema::pending_signins as ps;
        use diesel::prelude::*;
        let cleared = diesel::update(ps::table.find(id).filter(ps::ceremony.is_not_null()))
            .set(ps::ceremony.eq(None::<String>))
            .execute(conn)?;
        Ok(state.filter(|_| cleared == 1))
    })
}
