//! A timestamp column read without chrono's format parser: SQLite keeps times as text
//! (`2026-11-30 17:05:09.123456`, as diesel writes them), and a page of a thousand organizations
//! reads two thousand of them. Anything not in that shape goes through diesel's own reading.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

use crate::db::MultiBackend;

/// A `Timestamp` column, read as diesel reads it into a `NaiveDateTime` (the same value), faster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct StoredTime(pub NaiveDateTime);

impl From<StoredTime> for NaiveDateTime {
    fn from(time: StoredTime) -> Self {
        time.0
    }
}

/// `n` decimal digits, or `None` if any byte is not one.
fn number(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
    })
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of one to nine digits (what diesel's `%F
/// %T%.f` writes), or `None` for any other text (then chrono's parser decides).
pub fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(digits)? * 10u32.pow(9 - u32::try_from(digits.len()).ok()?)
        }
        _ => return None,
    };
    let year = i32::try_from(number(&b[0..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, number(&b[5..7])?, number(&b[8..10])?)?.and_hms_nano_opt(
        number(&b[11..13])?,
        number(&b[14..16])?,
        number(&b[17..19])?,
        nanos,
    )
}

impl FromSql<Timestamp, Sqlite> for StoredTime {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(at) = parse(value.read_text()) {
            return Ok(StoredTime(at));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(StoredTime)
    }
}

impl FromSql<Timestamp, Pg> for StoredTime {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(StoredTime)
    }
}

impl FromSql<Timestamp, MultiBackend> for StoredTime {
    fn from_sql(value: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::parse;

    /// What diesel's SQLite reading gives (its first format, the one it writes).
    fn chrono(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").ok()
    }

    #[test]
    fn reads_what_chrono_reads() {
        for text in [
            "2026-11-30 17:05:09.999999",
            "2026-11-30 17:05:09",
            "2026-11-30 17:05:09.1",
            "2026-11-30 17:05:09.123",
            "2026-11-30 17:05:09.123456789",
            "1999-01-02 00:00:00.000001",
            "0005-12-31 23:59:59.001",
            "2024-02-29 12:00:00",
        ] {
            assert_eq!(parse(text), chrono(text), "{text}");
            assert!(parse(text).is_some(), "{text}");
        }
    }

    #[test]
    fn leaves_other_shapes_to_chrono() {
        for text in [
            "2026-02-30 00:00:00",
            "2026-13-01 00:00:00",
            "2026-11-30 24:00:00",
            "2016-12-31 23:59:60",
            "2026-11-30T17:05:09",
            "2026-11-30 17:05:09.",
            "2026-11-30 17:05:09.1234567890",
            "2026-11-30 17:05:09+01:00",
            "2026-11-30 17:05",
            "+12026-11-30 17:05:09",
            "2461010.5",
            "2026-1a-30 17:05:09",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
