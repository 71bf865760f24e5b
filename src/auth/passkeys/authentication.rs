//! Signing in with a passkey, the second step after the password: `start` keeps the WebAuthn
//! state with the pending sign-in (`pending_signins.ceremony`), `finish` takes it once and checks
//! the answer behind the same gate as a code, so a failed assertion counts like a wrong code.

use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential, RequestChallengeResponse};

use super::{RelyingParty, store, take_ceremony, unreadable, unwritable};
use crate::audit;
use crate::auth::lockout::{Limits, Source};
use crate::auth::two_factor::pending::{self, Pending};
use crate::auth::two_factor::second_step::{Verdict, guarded};
use crate::auth::{AuthError, users};
use crate::db::{self, DbConn};

pub const NO_PASSKEY: &str = "You have no passkey. Use a code from your authenticator app or a \
     recovery code.";

/// The options for `navigator.credentials.get`, limited to the pending user's passkeys.
pub fn start(
    conn: &mut DbConn,
    rp: &RelyingParty,
    pending: &Pending,
) -> Result<RequestChallengeResponse, AuthError> {
    let passkeys: Vec<_> = store::credentials(conn, pending.user_id)?
        .into_iter()
        .map(|stored| stored.passkey)
        .collect();
    if passkeys.is_empty() {
        return Err(AuthError::Conflict(NO_PASSKEY.into()));
    }
    let (options, state) = rp
        .webauthn()
        .start_passkey_authentication(&passkeys)
        .map_err(|e| AuthError::Conflict(format!("A passkey request could not be made: {e}.")))?;
    let state = serde_json::to_string(&state).map_err(unwritable)?;
    db::write(conn, |conn| pending::set_ceremony(conn, pending.id, &state))?;
    Ok(options)
}

/// Checks `answer` against the ceremony started for `pending`, behind the sign-in gate of
/// `guard`. Passed: the credential's counter and last use are stored, and the use is audited.
pub fn finish(
    conn: &mut DbConn,
    rp: &RelyingParty,
    pending: &Pending,
    answer: &PublicKeyCredential,
    guard: (&Source, Limits),
) -> Result<Verdict<()>, AuthError> {
    let user = users::find(conn, pending.user_id)?
        .ok_or(AuthError::NotFound)?
        .user();
    let state = take_ceremony(conn, pending.id)?;
    guarded(conn, guard, |conn| {
        let Some(state) = state else {
            return Ok(None);
        };
        let state: PasskeyAuthentication = serde_json::from_str(&state).map_err(unreadable)?;
        let result = match rp.webauthn().finish_passkey_authentication(answer, &state) {
            Ok(result) => result,
            Err(e) => {
                tracing::info!(user_id = user.id.0, error = %e, "passkey sign-in not verified");
                return Ok(None);
            }
        };
        db::write(conn, |conn| {
            let mut used = store::credentials(conn, user.id)?;
            let Some(stored) = used
                .iter_mut()
                .find(|s| s.passkey.cred_id() == result.cred_id())
            else {
                return Ok(None);
            };
            stored.passkey.update_credential(&result);
            store::record_use(conn, stored)?;
            let summary = format!("signed in with the passkey {}", stored.name);
            audit::account_event(conn, Some(&user), user.id, "passkey.used", &summary)?;
            Ok(Some(()))
        })
    })
}
