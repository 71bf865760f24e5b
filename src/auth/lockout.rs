//! Failed sign-ins counted in the database, for known and unknown emails alike: per (email, client
//! address), which locks that address out of that account, and per email, which spaces the
//! account's password checks by a growing, capped delay instead of locking the account.

use std::net::IpAddr;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::config::SecretKey;
use crate::db::DbConn;
use crate::db::schema::login_failures as lf;

/// The `address` of the row that counts an email's failures from every address.
const EVERY_ADDRESS: &str = "*";
/// A counter is forgotten this long after its last failure (unless a lock still runs).
const FORGET_AFTER: chrono::Duration = chrono::Duration::days(1);
/// The longest pause between two password checks of one account.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// An email as the counters and the in-memory limiter know it: trimmed, lower-cased and hashed
/// with a key, so that what people type (a password in the email field) is never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EmailKey([u8; 32]);

impl EmailKey {
    pub fn of(normalized_email: &str, key: &SecretKey) -> Self {
        Self(key.mac(b"roster sign-in email\0", &[normalized_email.as_bytes()]))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Whose attempt it is: the email, the client's address, and whether the browser carries a
/// device token for this email (`auth::device`), which exempts it from the account's slowdown.
#[derive(Debug, Clone, Copy)]
pub struct Source {
    pub email: EmailKey,
    pub address: Option<IpAddr>,
    pub known_device: bool,
}

/// An email as it is compared: without surrounding spaces, lower-case.
pub fn normalized(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Source {
    /// A signed-in user checking their own password again (My account): their browser is a
    /// known device, so only the per-address lock applies.
    pub fn signed_in(email: &str, address: Option<IpAddr>, key: &SecretKey) -> Self {
        Self {
            email: EmailKey::of(&normalized(email), key),
            address,
            known_device: true,
        }
    }

    fn keys(&self) -> (String, String) {
        (self.email.hex(), address_text(self.address))
    }
}

/// How many failures from one address lock it out of an account, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_failures: i32,
    pub lock: Duration,
}

/// Whether a password may be checked now.
#[derive(Debug, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// This address failed too often for this account.
    Locked,
    /// The account failed too often from everywhere: the next check may come after this long.
    Wait(Duration),
}

/// The pause the account's password checks keep after `failures` failures in a row from anywhere:
/// none up to `max_failures`, then 1 s, 2 s, 4 s ... up to [`MAX_DELAY`].
pub fn delay(failures: i32, max_failures: i32) -> Option<Duration> {
    let beyond = failures.checked_sub(max_failures).filter(|n| *n > 0)?;
    let exponent = u32::try_from(beyond - 1).unwrap_or(0).min(16);
    Some(Duration::from_secs(1 << exponent).min(MAX_DELAY))
}

fn address_text(address: Option<IpAddr>) -> String {
    address.map_or_else(|| "unknown".to_owned(), |a| a.to_canonical().to_string())
}

fn later(at: NaiveDateTime, by: Duration) -> NaiveDateTime {
    at + chrono::Duration::from_std(by).unwrap_or(FORGET_AFTER)
}

/// Decides whether this attempt may check a password. When the account is being slowed down,
/// the attempt takes the next slot atomically, so that parallel requests (from many addresses,
/// or many instances) do not all get through when it opens; a known device skips the queue.
pub fn gate(
    conn: &mut DbConn,
    source: &Source,
    limits: Limits,
    now: NaiveDateTime,
) -> QueryResult<Gate> {
    let (hash, address) = source.keys();
    let rows: Vec<(String, i32, Option<NaiveDateTime>)> = lf::table
        .filter(lf::email_hash.eq(&hash))
        .filter(lf::address.eq_any([address.as_str(), EVERY_ADDRESS]))
        .select((lf::address, lf::failures, lf::locked_until))
        .load(conn)?;
    let running = |until: Option<NaiveDateTime>| until.filter(|u| *u > now);
    if rows
        .iter()
        .any(|(a, _, until)| *a == address && running(*until).is_some())
    {
        return Ok(Gate::Locked);
    }
    let Some((_, failures, until)) = rows.iter().find(|(a, ..)| a == EVERY_ADDRESS) else {
        return Ok(Gate::Open);
    };
    if source.known_device {
        return Ok(Gate::Open);
    }
    let Some(pause) = delay(*failures, limits.max_failures) else {
        return Ok(Gate::Open);
    };
    let claimed = diesel::update(
        lf::table
            .find((&hash, EVERY_ADDRESS))
            .filter(lf::locked_until.is_null().or(lf::locked_until.le(now))),
    )
    .set(lf::locked_until.eq(later(now, pause)))
    .execute(conn)?;
    if claimed == 1 {
        return Ok(Gate::Open);
    }
    let left = running(*until).map_or(pause, |u| (u - now).to_std().unwrap_or(pause));
    Ok(Gate::Wait(left))
}

/// Counts a failed password check: at `max_failures` from this address the address is locked
/// out of the account for `lock`; beyond `max_failures` from anywhere the account slows down.
pub fn record_failure(
    conn: &mut DbConn,
    source: &Source,
    limits: Limits,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let (hash, address) = source.keys();
    crate::db::write(conn, |conn| {
        if count(conn, &hash, &address, now)? >= limits.max_failures {
            diesel::update(lf::table.find((&hash, &address)))
                .set((
                    lf::locked_until.eq(Some(later(now, limits.lock))),
                    lf::failures.eq(0),
                ))
                .execute(conn)?;
        }
        let failures = count(conn, &hash, EVERY_ADDRESS, now)?;
        if let Some(pause) = delay(failures, limits.max_failures) {
            diesel::update(lf::table.find((&hash, EVERY_ADDRESS)))
                .set(lf::locked_until.eq(Some(later(now, pause))))
                .execute(conn)?;
        }
        forget_old(conn, now)
    })
}

/// A success from `address` clears its counter and ends the account's slowdown; other
/// addresses' locks stay.
pub fn record_success(conn: &mut DbConn, source: &Source) -> QueryResult<()> {
    let (hash, address) = source.keys();
    diesel::delete(
        lf::table
            .filter(lf::email_hash.eq(&hash))
            .filter(lf::address.eq_any([address.as_str(), EVERY_ADDRESS])),
    )
    .execute(conn)
    .map(|_| ())
}

/// Adds one failure to a row (creating it); returns the new count. Through the connection enum
/// there is no `ON CONFLICT`: update, else insert, else (another request inserted it) update.
/// The insert runs in a savepoint, so that its conflict does not abort PostgreSQL's transaction.
fn count(conn: &mut DbConn, hash: &str, address: &str, now: NaiveDateTime) -> QueryResult<i32> {
    let update = |conn: &mut DbConn| {
        diesel::update(lf::table.find((hash, address)))
            .set((
                lf::failures.eq(lf::failures + 1),
                lf::last_failure_at.eq(now),
            ))
            .returning(lf::failures)
            .get_result::<i32>(conn)
            .optional()
    };
    if let Some(failures) = update(conn)? {
        return Ok(failures);
    }
    let inserted = crate::db::write(conn, |conn| {
        diesel::insert_into(lf::table)
            .values((
                lf::email_hash.eq(hash),
                lf::address.eq(address),
                lf::failures.eq(1),
                lf::last_failure_at.eq(now),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => Ok(1),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(update(conn)?.unwrap_or(1))
        }
        Err(e) => Err(e),
    }
}

/// Rows whose last failure is a day old and whose lock (if any) has ended: the table stays as
/// small as the attempts of the last day.
fn forget_old(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(
        lf::table
            .filter(lf::last_failure_at.lt(now - FORGET_AFTER))
            .filter(lf::locked_until.is_null().or(lf::locked_until.lt(now))),
    )
    .execute(conn)
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::{EmailKey, MAX_DELAY, delay};
    use crate::config::SecretKey;
    use std::time::Duration;

    #[test]
    fn the_account_slows_down_progressively_up_to_a_cap() {
        assert_eq!(delay(0, 10), None);
        assert_eq!(delay(10, 10), None);
        assert_eq!(delay(11, 10), Some(Duration::from_secs(1)));
        assert_eq!(delay(12, 10), Some(Duration::from_secs(2)));
        assert_eq!(delay(14, 10), Some(Duration::from_secs(8)));
        assert_eq!(delay(40, 10), Some(MAX_DELAY));
        assert_eq!(delay(i32::MAX, 10), Some(MAX_DELAY));
    }

    #[test]
    fn email_keys_depend_on_the_email_and_the_key() {
        let (a, b) = (SecretKey::new(vec![1; 32]), SecretKey::new(vec![2; 32]));
        assert_eq!(
            EmailKey::of("x@example.com", &a),
            EmailKey::of("x@example.com", &a)
        );
        assert_ne!(
            EmailKey::of("x@example.com", &a),
            EmailKey::of("y@example.com", &a)
        );
        assert_ne!(
            EmailKey::of("x@example.com", &a),
            EmailKey::of("x@example.com", &b)
        );
    }
}
