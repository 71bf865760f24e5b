//! Adding a passkey inside a pending sign-in, when the policy requires two-factor sign-in of a
//! user who has no factor yet (`/sign-in/enrol`): the registration of `registration`, with its
//! state kept in `pending_signins.ceremony` (the pending sign-in is not a session).

use webauthn_rs::prelude::{CreationChallengeResponse, RegisterPublicKeyCredential};

use super::registration::{self, Added, EXPIRED, Started};
use super::{RelyingParty, take_ceremony, unreadable, unwritable};
use crate::auth::two_factor::pending::{self, Pending};
use crate::auth::{AuthError, users};
use crate::config::SecretKey;
use crate::db::{self, DbConn};

fn user_of(conn: &mut DbConn, pending: &Pending) -> Result<crate::auth::User, AuthError> {
    Ok(users::find(conn, pending.user_id)?
        .ok_or(AuthError::NotFound)?
        .user())
}

/// Starts registering a passkey named `name` for the user of `pending`.
pub fn start(
    conn: &mut DbConn,
    rp: &RelyingParty,
    pending: &Pending,
    name: &str,
) -> Result<CreationChallengeResponse, AuthError> {
    let user = user_of(conn, pending)?;
    let (options, started) = registration::begin(conn, rp, &user, name)?;
    let kept = serde_json::to_string(&started).map_err(unwritable)?;
    db::write(conn, |conn| pending::set_ceremony(conn, pending.id, &kept))?;
    Ok(options)
}

/// Verifies `answer` against the registration started for `pending` (used up whatever the
/// outcome) and stores the passkey, with recovery codes for a first factor.
pub fn finish(
    conn: &mut DbConn,
    with: (&RelyingParty, &SecretKey),
    pending: &Pending,
    answer: &RegisterPublicKeyCredential,
) -> Result<Added, AuthError> {
    let user = user_of(conn, pending)?;
    let kept =
        take_ceremony(conn, pending.id)?.ok_or_else(|| AuthError::Conflict(EXPIRED.into()))?;
    let started: Started = serde_json::from_str(&kept).map_err(unreadable)?;
    registration::store_verified(conn, with, &user, started, answer)
}
