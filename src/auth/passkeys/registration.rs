//! Adding a passkey on My account: `start` names it and stores the WebAuthn state on the server
//! (bound to the session, five minutes, replaced by a newer start), `finish` takes that state
//! once, verifies the authenticator's answer and stores the credential.

use diesel::prelude::*;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PasskeyRegistration, RegisterPublicKeyCredential,
};

use super::store::{self, ALREADY_REGISTERED};
use super::{CEREMONY, RelyingParty, not_verified, unreadable, unwritable};
use crate::audit;
use crate::auth::two_factor::{Factors, recovery};
use crate::auth::{AuthError, User, UserId};
use crate::config::SecretKey;
use crate::db::schema::passkey_registrations as pending;
use crate::db::{self, DbConn, now};
use crate::validation::{self, FieldErrors};

/// The form field of the passkey's name.
pub const NAME_FIELD: &str = "passkey_name";
const MAX_NAME: usize = 60;
pub const EXPIRED: &str = "This passkey request has expired or was already used. Start again with \
     Add a passkey.";

/// A passkey just stored.
#[derive(Debug, Clone)]
pub struct Added {
    pub id: i64,
    pub name: String,
    /// New recovery codes, to show once, when this was the first factor of a user without any.
    pub codes: Option<Vec<String>>,
}

/// A registration started: the passkey's name and the WebAuthn state (JSON), kept on the server.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Started {
    pub name: String,
    pub state: String,
}

/// The options and state of a registration of a passkey named `name` for `actor` (checked), the
/// actor's passkeys excluded.
pub(super) fn begin(
    conn: &mut DbConn,
    rp: &RelyingParty,
    actor: &User,
    name: &str,
) -> Result<(CreationChallengeResponse, Started), AuthError> {
    let mut errors = FieldErrors::default();
    let name = validation::required_text(&mut errors, NAME_FIELD, name, MAX_NAME);
    let name = errors.into_result(|| name).map_err(AuthError::Invalid)?;
    let exclude = store::credentials(conn, actor.id)?
        .into_iter()
        .map(|stored| stored.passkey.cred_id().clone())
        .collect();
    let (options, state) = rp
        .webauthn()
        .start_passkey_registration(
            rp.user_handle(actor.id),
            &actor.email,
            &actor.display_name,
            Some(exclude),
        )
        .map_err(|e| AuthError::Conflict(format!("A passkey request could not be made: {e}.")))?;
    let state = serde_json::to_string(&state).map_err(unwritable)?;
    Ok((options, Started { name, state }))
}

/// Starts registering a passkey named `name` for `actor` in the session `session_hash`; returns
/// what the browser passes to `navigator.credentials.create`. The actor's passkeys are excluded.
pub fn start(
    conn: &mut DbConn,
    rp: &RelyingParty,
    actor: &User,
    session_hash: &str,
    name: &str,
) -> Result<CreationChallengeResponse, AuthError> {
    let (options, Started { name, state }) = begin(conn, rp, actor, name)?;
    let expires = now() + chrono::Duration::from_std(CEREMONY).unwrap_or_default();
    db::write(conn, |conn| {
        diesel::delete(
            pending::table.filter(
                pending::expires_at
                    .le(now())
                    .or(pending::session_hash.eq(session_hash)),
            ),
        )
        .execute(conn)?;
        diesel::insert_into(pending::table)
            .values((
                pending::session_hash.eq(session_hash),
                pending::user_id.eq(actor.id.0),
                pending::name.eq(&name),
                pending::state.eq(&state),
                pending::expires_at.eq(expires),
            ))
            .execute(conn)?;
        Ok(options)
    })
}

/// Verifies the browser's `answer` against the registration started in this session and stores
/// the passkey; the first factor of a user without recovery codes brings ten (`key`: the data
/// key, which keys their hashes). The started state is used up whatever the outcome.
pub fn finish(
    conn: &mut DbConn,
    (rp, key): (&RelyingParty, &SecretKey),
    actor: &User,
    session_hash: &str,
    answer: &RegisterPublicKeyCredential,
) -> Result<Added, AuthError> {
    let started =
        take(conn, actor.id, session_hash)?.ok_or_else(|| AuthError::Conflict(EXPIRED.into()))?;
    store_verified(conn, (rp, key), actor, started, answer)
}

/// Verifies `answer` against the `started` registration and stores the passkey (see `finish`).
pub(super) fn store_verified(
    conn: &mut DbConn,
    (rp, key): (&RelyingParty, &SecretKey),
    actor: &User,
    Started { name, state }: Started,
    answer: &RegisterPublicKeyCredential,
) -> Result<Added, AuthError> {
    let state: PasskeyRegistration = serde_json::from_str(&state).map_err(unreadable)?;
    let passkey = rp
        .webauthn()
        .finish_passkey_registration(answer, &state)
        .map_err(|e| not_verified(&e))?;
    db::write(conn, |conn| {
        if store::registered(conn, &store::credential_id(&passkey))? {
            return Err(AuthError::Conflict(ALREADY_REGISTERED.into()));
        }
        let before = Factors::of(conn, actor.id)?;
        let id = store::insert(conn, actor.id, &name, &passkey)?;
        let codes = if before.enrolled() || before.recovery_left > 0 {
            None
        } else {
            Some(recovery::replace(conn, key, actor.id)?)
        };
        let summary = format!("added the passkey {name}");
        audit::account_event(conn, Some(actor), actor.id, "passkey.added", &summary)?;
        Ok(Added { id, name, codes })
    })
}

/// This session's unexpired registration, deleted as it is read; `None` when there is none, or
/// another request took it first.
fn take(conn: &mut DbConn, user: UserId, session_hash: &str) -> Result<Option<Started>, AuthError> {
    db::write(conn, |conn| {
        let row: Option<(String, String)> = pending::table
            .find(session_hash)
            .filter(pending::user_id.eq(user.0))
            .filter(pending::expires_at.gt(now()))
            .select((pending::name, pending::state))
            .first(conn)
            .optional()?;
        let taken = diesel::delete(pending::table.find(session_hash)).execute(conn)?;
        Ok(row
            .filter(|_| taken == 1)
            .map(|(name, state)| Started { name, state }))
    })
}
