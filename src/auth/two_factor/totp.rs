//! TOTP (RFC 6238: SHA-1, 6 digits, 30 s, one step of drift either way) with `totp-rs`. The
//! secret is sealed with the data key, bound to its user; it counts once a first code confirms
//! it, and each step's code is accepted once (`last_step`, moved forward atomically).

use diesel::prelude::*;
use qrcode::QrCode;
use qrcode::render::svg;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::auth::{AuthError, User, UserId};
use crate::config::SecretKey;
use crate::db::schema::totp_factors as tf;
use crate::db::{DbConn, now};
use crate::secrets;

const PURPOSE: &str = "totp";
const ISSUER: &str = "Roster";

/// What the enrolment page shows: the secret in groups of four for typing, the `otpauth://`
/// address, and the same as a QR code (an SVG drawn here; nothing leaves the server).
pub struct Enrolment {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

fn bound_to(user: UserId) -> Vec<u8> {
    format!("totp_factors:{}", user.0).into_bytes()
}

fn build(secret_base32: &str, email: &str) -> Result<Totp, AuthError> {
    let bytes = Secret::try_from_base32(secret_base32)
        .map_err(|_| AuthError::Secret("a stored TOTP secret is damaged".into()))?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(bytes)
        .with_issuer(Some(ISSUER))
        // A colon would end the label early in the otpauth address.
        .with_account_name(email.replace(':', "_"))
        .build()
        .map_err(|e| AuthError::Secret(format!("TOTP: {e}")))
}

/// The user's secret (base32) and whether it is confirmed, if they have one.
fn stored(
    conn: &mut DbConn,
    key: &SecretKey,
    user: UserId,
) -> Result<Option<(String, bool)>, AuthError> {
    let row: Option<(Vec<u8>, Vec<u8>, Option<chrono::NaiveDateTime>)> = tf::table
        .find(user.0)
        .select((tf::secret_nonce, tf::secret_sealed, tf::confirmed_at))
        .first(conn)
        .optional()?;
    let Some((nonce, sealed, confirmed)) = row else {
        return Ok(None);
    };
    let secret = secrets::open(key, PURPOSE, &bound_to(user), &nonce, &sealed)
        .map_err(|e| AuthError::Secret(e.to_string()))?;
    Ok(Some((secret, confirmed.is_some())))
}

fn grouped(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .chunks(4)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Starts (or resumes, after a reload) the enrolment of `user`: a new secret, stored sealed and
/// unconfirmed, unless an unconfirmed one is waiting. A confirmed secret is never shown again:
/// `Conflict`.
pub fn begin(conn: &mut DbConn, key: &SecretKey, user: &User) -> Result<Enrolment, AuthError> {
    let secret = crate::db::write(conn, |conn| match stored(conn, key, user.id)? {
        Some((_, true)) => Err(AuthError::Conflict(
            "You already sign in with an authenticator app. Remove it first to set up another."
                .into(),
        )),
        Some((secret, false)) => Ok(secret),
        None => {
            let secret = Secret::generate().to_base32();
            let (nonce, sealed) = secrets::seal(key, PURPOSE, &bound_to(user.id), &secret)
                .map_err(|e| AuthError::Secret(e.to_string()))?;
            diesel::insert_into(tf::table)
                .values((
                    tf::user_id.eq(user.id.0),
                    tf::secret_nonce.eq(nonce),
                    tf::secret_sealed.eq(sealed),
                    tf::created_at.eq(now()),
                ))
                .execute(conn)?;
            Ok(secret)
        }
    })?;
    let totp = build(&secret, &user.email)?;
    let uri = totp
        .to_url()
        .map_err(|e| AuthError::Secret(format!("TOTP address: {e}")))?;
    let qr_svg = QrCode::new(uri.as_bytes())
        .map_err(|e| AuthError::Secret(format!("QR code: {e}")))?
        .render::<svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Ok(Enrolment {
        secret: grouped(&secret),
        uri,
        qr_svg,
    })
}

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// Accepts `code` for `user` once: a code of the current step or one step either side, of a
/// step after the last one accepted. `confirming`: the secret is the unconfirmed one of an
/// enrolment, which this confirms; otherwise only a confirmed secret counts.
fn accept(
    conn: &mut DbConn,
    key: &SecretKey,
    user: &User,
    code: &str,
    confirming: bool,
) -> Result<bool, AuthError> {
    let Some((secret, confirmed)) = stored(conn, key, user.id)? else {
        return Ok(false);
    };
    if confirmed == confirming {
        return Ok(false);
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(step) = build(&secret, &user.email)?.check(&code, unix_now()) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let fresh = tf::table
        .find(user.id.0)
        .filter(tf::last_step.is_null().or(tf::last_step.lt(step)));
    let moved = if confirming {
        diesel::update(fresh)
            .set((tf::last_step.eq(step), tf::confirmed_at.eq(now())))
            .execute(conn)?
    } else {
        diesel::update(fresh.filter(tf::confirmed_at.is_not_null()))
            .set(tf::last_step.eq(step))
            .execute(conn)?
    };
    Ok(moved == 1)
}

/// A code at sign-in: true once per step, for the user's confirmed secret.
pub fn check(
    conn: &mut DbConn,
    key: &SecretKey,
    user: &User,
    code: &str,
) -> Result<bool, AuthError> {
    accept(conn, key, user, code, false)
}

/// The first code of an enrolment: true when it confirms the waiting secret.
pub fn confirm(
    conn: &mut DbConn,
    key: &SecretKey,
    user: &User,
    code: &str,
) -> Result<bool, AuthError> {
    accept(conn, key, user, code, true)
}

/// Removes the user's secret (confirmed or not); returns whether there was one.
pub fn delete(conn: &mut DbConn, user: UserId) -> QueryResult<bool> {
    Ok(diesel::delete(tf::table.find(user.0)).execute(conn)? > 0)
}
