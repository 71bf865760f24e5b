//! Query strings as API clients send them: keys raw (`filter[name]`) or percent-encoded, `+` or
//! `%20` for spaces, empty pairs tolerated. Values are parsed here into typed ones, and a bad
//! value is a 400 naming the parameter.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::error::ApiError;
use crate::api::orgs::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Range};

/// The pairs of a query string, decoded, in their order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

fn decode(part: &str) -> Result<String, ApiError> {
    let spaced = part.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| {
            ApiError::parameter(
                part,
                "This query parameter is not valid UTF-8 once decoded.",
            )
        })
}

/// What a link's query leaves unencoded besides letters and digits.
const KEPT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl Params {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let mut pairs = Vec::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(key)?;
            if key.is_empty() {
                continue;
            }
            pairs.push((key, decode(value)?));
        }
        Ok(Params(pairs))
    }

    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Params(pairs)
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The last value given for `key` (as most servers read a repeated key).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `filter[...]` pairs, by their inner name.
    pub fn filters(&self) -> Vec<(&str, &str)> {
        self.0
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("filter[")
                    .and_then(|k| k.strip_suffix(']'))
                    .map(|k| (k, v.as_str()))
            })
            .collect()
    }

    /// The query again, encoded, with `page[number]` set to `page`.
    pub fn with_page(&self, page: i64) -> String {
        let mut out: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k != "page[number]")
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, KEPT),
                    utf8_percent_encode(v, KEPT)
                )
            })
            .collect();
        out.push(format!(
            "{}={page}",
            utf8_percent_encode("page[number]", KEPT)
        ));
        out.join("&")
    }

    fn number(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.get(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::parameter(key, format!("{key} must be a whole number, not {v:?}."))
                })
            })
            .transpose()
    }

    /// `page[number]` (from 1) and `page[size]` (1 to 1000; default 50).
    pub fn page(&self) -> Result<(i64, i64), ApiError> {
        let number = self.number("page[number]")?.unwrap_or(1);
        if number < 1 {
            return Err(ApiError::parameter(
                "page[number]",
                "page[number] starts at 1.",
            ));
        }
        let size = self.number("page[size]")?.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(ApiError::parameter(
                "page[size]",
                format!("page[size] must be from 1 to {MAX_PAGE_SIZE}, not {size}."),
            ));
        }
        Ok((number, size))
    }

    /// A `filter[key]` that is a whole number.
    pub fn filter_number(&self, key: &str) -> Result<Option<i64>, ApiError> {
        self.number(&format!("filter[{key}]"))
    }

    /// A `filter[key]` that is a list of whole numbers, comma-separated.
    pub fn filter_numbers(&self, key: &str) -> Result<Option<Vec<i64>>, ApiError> {
        let name = format!("filter[{key}]");
        let Some(text) = self.get(&name).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        text.split(',')
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    ApiError::parameter(
                        &name,
                        format!("{name} takes ids (numbers separated by commas), not {text:?}."),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// A `filter[key]` range: `start,end`, either end `*` (open), each a date or an RFC 3339 time.
    pub fn filter_range(&self, key: &str) -> Result<Option<Range>, ApiError> {
        let name = format!("filter[{key}]");
        let Some(text) = self.get(&name).filter(|v| !v.trim().is_empty()) else {
            return Ok(None);
        };
        let bad = || {
            ApiError::parameter(
                &name,
                format!(
                    "{name} is a range \"start,end\" of dates (2026-01-31) or times \
                     (2026-01-31T12:00:00Z), either end * for open; not {text:?}."
                ),
            )
        };
        let (start, end) = text.split_once(',').ok_or_else(bad)?;
        let end_of_day = |day: NaiveDate| day.and_hms_micro_opt(23, 59, 59, 999_999);
        let start_of_day = |day: NaiveDate| day.and_hms_opt(0, 0, 0);
        let point = |part: &str, day_edge: &dyn Fn(NaiveDate) -> Option<NaiveDateTime>| {
            let part = part.trim();
            if part == "*" || part.is_empty() {
                return Ok(None);
            }
            if let Ok(at) = DateTime::parse_from_rfc3339(part) {
                return Ok(Some(at.naive_utc()));
            }
            NaiveDate::parse_from_str(part, "%Y-%m-%d")
                .ok()
                .and_then(day_edge)
                .map(Some)
                .ok_or_else(bad)
        };
        Ok(Some(Range {
            start: point(start, &start_of_day)?,
            end: point(end, &end_of_day)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::Params;

    #[test]
    fn raw_and_encoded_keys_plus_and_empty_pairs() {
        let p = Params::parse("filter%5Bname%5D=Acme+Corp&&=x&filter[id]=1%2C2&page%5Bsize%5D=5")
            .unwrap();
        assert_eq!(p.get("filter[name]"), Some("Acme Corp"));
        assert_eq!(p.filter_numbers("id").unwrap(), Some(vec![1, 2]));
        assert_eq!(p.page().unwrap(), (1, 5));
        let p = Params::parse("filter[name]=Acme%20Corp").unwrap();
        assert_eq!(p.get("filter[name]"), Some("Acme Corp"));
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let p = Params::parse("page[size]=abc").unwrap();
        assert!(p.page().is_err());
        let p = Params::parse("filter[created_at]=yesterday").unwrap();
        assert!(p.filter_range("created_at").is_err());
        let p = Params::parse("filter[created_at]=2026-01-01,*").unwrap();
        let range = p.filter_range("created_at").unwrap().unwrap();
        assert!(range.start.is_some() && range.end.is_none());
    }

    #[test]
    fn links_carry_every_parameter() {
        let p = Params::parse("filter[name]=A+B&page[number]=1&sort=-name").unwrap();
        assert_eq!(
            p.with_page(2),
            "filter%5Bname%5D=A%20B&sort=-name&page%5Bnumber%5D=2"
        );
    }
}
