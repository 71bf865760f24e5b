//! Recovery codes: ten one-time codes made at the first enrolment and on request, shown once,
//! stored as a keyed hash (they are random and long, so a slow hash would add nothing). Using one
//! marks it used; the caller tells the user how many are left.

use diesel::prelude::*;
use rand::RngCore;

use crate::auth::UserId;
use crate::config::SecretKey;
use crate::db::schema::recovery_codes as rc;
use crate::db::{DbConn, now};

/// How many codes a user gets.
pub const COUNT: usize = 10;
/// Lower-case base32 without padding: 16 characters hold 80 random bits.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const LENGTH: usize = 16;

/// A new code, in groups of four: `abcd-efgh-ijkl-mnop`.
fn generate() -> String {
    let mut bytes = [0u8; LENGTH];
    rand::rng().fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as typed, compared without case, spaces or dashes; `None` when it cannot be one.
fn normalized(code: &str) -> Option<String> {
    let plain: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    (plain.len() == LENGTH && plain.bytes().all(|b| ALPHABET.contains(&b))).then_some(plain)
}

fn hash(key: &SecretKey, user: UserId, normalized: &str) -> String {
    hex::encode(key.mac(
        b"roster recovery code\0",
        &[&user.0.to_be_bytes(), normalized.as_bytes()],
    ))
}

/// Ten new codes for `user`; the old ones (used or not) are gone. Returns them for showing once.
pub fn replace(conn: &mut DbConn, key: &SecretKey, user: UserId) -> QueryResult<Vec<String>> {
    let codes: Vec<String> = (0..COUNT).map(|_| generate()).collect();
    crate::db::write(conn, |conn| {
        diesel::delete(rc::table.filter(rc::user_id.eq(user.0))).execute(conn)?;
        for code in &codes {
            let plain = normalized(code).unwrap_or_default();
            diesel::insert_into(rc::table)
                .values((
                    rc::user_id.eq(user.0),
                    rc::code_hash.eq(hash(key, user, &plain)),
                ))
                .execute(conn)?;
        }
        Ok(codes.clone())
    })
}

/// Uses `code` once: `Some(left)` (the codes still unused) when it was one of `user`'s unused
/// codes, `None` otherwise. Two requests with the same code: only one gets `Some`.
pub fn use_code(
    conn: &mut DbConn,
    key: &SecretKey,
    user: UserId,
    code: &str,
) -> QueryResult<Option<i64>> {
    let Some(plain) = normalized(code) else {
        return Ok(None);
    };
    let used = diesel::update(
        rc::table
            .filter(rc::user_id.eq(user.0))
            .filter(rc::code_hash.eq(hash(key, user, &plain)))
            .filter(rc::used_at.is_null()),
    )
    .set(rc::used_at.eq(now()))
    .execute(conn)?;
    if used == 0 {
        return Ok(None);
    }
    left(conn, user).map(Some)
}

/// How many of `user`'s codes are unused.
pub fn left(conn: &mut DbConn, user: UserId) -> QueryResult<i64> {
    rc::table
        .filter(rc::user_id.eq(user.0))
        .filter(rc::used_at.is_null())
        .count()
        .get_result(conn)
}

/// Deletes every code of `user` (a reset).
pub fn delete_all(conn: &mut DbConn, user: UserId) -> QueryResult<usize> {
    diesel::delete(rc::table.filter(rc::user_id.eq(user.0))).execute(conn)
}

#[cfg(test)]
mod tests {
    use super::{generate, normalized};

    #[test]
    fn codes_are_long_random_and_read_back_however_typed() {
        let code = generate();
        assert_eq!(code.len(), 19);
        assert_ne!(code, generate());
        let plain = normalized(&code).unwrap();
        assert_eq!(
            normalized(&code.to_uppercase().replace('-', " ")),
            Some(plain)
        );
        assert_eq!(normalized("123456"), None);
        assert_eq!(normalized("abcd-efgh-ijkl-mno1"), None);
    }
}
