//! JSON:API documents as IT Glue writes them: resources with kebab-case attributes and string
//! ids, lists with `meta` (pages and counts) and `links` (absolute, carrying every parameter;
//! `next` and `prev` only where they exist). Written straight into the body from borrowed rows.

use std::fmt::{self, Display};

use chrono::{Datelike, NaiveDateTime, SecondsFormat, Timelike};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};

use super::query::Params;
use crate::api::orgs::OrgView;

/// RFC 3339 in UTC, to the millisecond, as IT Glue writes times; written in place (a page
/// writes two thousand of them).
#[derive(Debug, Clone, Copy)]
pub struct Time(pub NaiveDateTime);

/// `n` as the last `out.len()` decimal digits.
fn digits(out: &mut [u8], mut n: u32) {
    for slot in out.iter_mut().rev() {
        // A single decimal digit: the cast cannot truncate.
        *slot = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
    }
}

impl Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.0;
        let year = u32::try_from(at.year()).ok().filter(|y| *y <= 9999);
        let (Some(year), false) = (year, at.nanosecond() >= 1_000_000_000) else {
            // Past four digits of year, or a leap second: as chrono writes them.
            return f.write_str(&at.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true));
        };
        let mut out = *b"0000-00-00T00:00:00.000Z";
        digits(&mut out[0..4], year);
        digits(&mut out[5..7], at.month());
        digits(&mut out[8..10], at.day());
        digits(&mut out[11..13], at.hour());
        digits(&mut out[14..16], at.minute());
        digits(&mut out[17..19], at.second());
        digits(&mut out[20..23], at.nanosecond() / 1_000_000);
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

pub fn time(at: NaiveDateTime) -> String {
    Time(at).to_string()
}

/// A number written as a string (JSON:API ids).
#[derive(Debug, Clone, Copy)]
struct Id(i64);

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// Text, or null when empty (clients test for null, not for "").
fn text(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

/// The absolute URL of an organization's logo, or "" without one.
struct Logo<'a> {
    base_url: &'a str,
    id: Option<i64>,
}

impl Display for Logo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => write!(f, "{}/organizations/{id}/logo", self.base_url),
            None => Ok(()),
        }
    }
}

impl Serialize for Logo<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Ancestor ids, root first, separated by commas.
struct Ancestors<'a>(&'a [i64]);

impl Display for Ancestors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, id) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            Display::fmt(id, f)?;
        }
        Ok(())
    }
}

impl Serialize for Ancestors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A resource: `{"id": "1", "type": ..., "attributes": {...}}`.
#[derive(serde::Serialize)]
pub struct Resource<A> {
    id: Id,
    #[serde(rename = "type")]
    kind: &'static str,
    attributes: A,
}

/// An organization's attributes, in the order IT Glue (and Roster until now) writes them.
#[derive(serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct OrgAttributes<'a> {
    name: &'a str,
    alert: Option<&'a str>,
    description: Option<&'a str>,
    organization_type_id: Option<i64>,
    organization_type_name: Option<&'a str>,
    organization_status_id: Option<i64>,
    organization_status_name: Option<&'a str>,
    primary: bool,
    logo: Logo<'a>,
    quick_notes: Option<&'a str>,
    short_name: Option<&'a str>,
    created_at: Time,
    updated_at: Time,
    parent_id: Option<i64>,
    ancestor_ids: Option<Ancestors<'a>>,
    psa_integration: Option<&'a str>,
    psa_id: Option<&'a str>,
}

/// An organization, borrowed from its view, ready to be written.
pub fn org_resource<'a>(base_url: &'a str, view: &'a OrgView) -> Resource<OrgAttributes<'a>> {
    let row = &view.row;
    Resource {
        id: Id(row.id),
        kind: "organizations",
        attributes: OrgAttributes {
            name: &row.name,
            alert: text(&row.alert),
            description: text(&row.description),
            organization_type_id: row.type_id,
            organization_type_name: view.type_name.as_deref(),
            organization_status_id: row.status_id,
            organization_status_name: view.status_name.as_deref(),
            primary: false,
            logo: Logo {
                base_url,
                id: view.has_logo.then_some(row.id),
            },
            quick_notes: text(&row.quick_notes),
            short_name: text(&row.short_name),
            created_at: Time(row.created_at),
            updated_at: Time(row.updated_at),
            parent_id: row.parent_id,
            ancestor_ids: (!view.ancestor_ids.is_empty()).then_some(Ancestors(&view.ancestor_ids)),
            psa_integration: row
                .psa_kind
                .as_deref()
                .map(|k| if k == "connectwise" { "manage" } else { k }),
            psa_id: row.psa_company_id.as_deref(),
        },
    }
}

/// A document of one resource.
#[derive(serde::Serialize)]
pub struct One<T> {
    pub data: T,
}

/// An organization as a JSON value (for documents put together by hand).
pub fn organization(base_url: &str, view: &OrgView) -> Value {
    // Strings, numbers and string-keyed structs only: this cannot fail.
    serde_json::to_value(org_resource(base_url, view)).unwrap_or_default()
}

/// An organization type or status.
pub fn kind(kind_type: &str, id: i64, name: &str, synced: bool) -> Value {
    json!({
        "id": id.to_string(),
        "type": kind_type,
        "attributes": { "name": name, "synced": synced },
    })
}

/// Where a list is and which page of how many.
pub struct Paging<'a> {
    /// Absolute URL of the list, without the query.
    pub url: String,
    pub params: &'a Params,
    pub page: i64,
    pub size: i64,
    pub total: i64,
}

/// The `filter[...]` parameters as an object (a repeated key keeps its first place and its
/// last value).
struct Filters<'a>(&'a Params);

impl Serialize for Filters<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut unique: Vec<(&str, &str)> = Vec::new();
        for (key, value) in self.0.filters() {
            match unique.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => unique.push((key, value)),
            }
        }
        let mut map = s.serialize_map(Some(unique.len()))?;
        for (key, value) in unique {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "kebab-case")]
struct Meta<'a> {
    current_page: i64,
    next_page: Option<i64>,
    prev_page: Option<i64>,
    total_pages: i64,
    total_count: i64,
    filters: Filters<'a>,
}

#[derive(serde::Serialize)]
struct Links {
    #[serde(rename = "self")]
    this: String,
    first: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<String>,
    last: String,
}

/// A page of a list: `data`, `meta`, `links`.
#[derive(serde::Serialize)]
pub struct List<'a, T> {
    data: &'a [T],
    meta: Meta<'a>,
    links: Links,
}

pub fn list<'a, T: Serialize>(data: &'a [T], paging: &Paging<'a>) -> List<'a, T> {
    let total_pages = ((paging.total + paging.size - 1) / paging.size).max(1);
    let next = (paging.page < total_pages).then_some(paging.page + 1);
    let prev = (paging.page > 1).then(|| (paging.page - 1).min(total_pages));
    let link = |page: i64| format!("{}?{}", paging.url, paging.params.with_page(page));
    List {
        data,
        meta: Meta {
            current_page: paging.page,
            next_page: next,
            prev_page: prev,
            total_pages,
            total_count: paging.total,
            filters: Filters(paging.params),
        },
        links: Links {
            this: link(paging.page),
            first: link(1),
            next: next.map(&link),
            prev: prev.map(&link),
            last: link(total_pages),
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, SecondsFormat};

    use super::time;

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for at in [
            day(2026, 11, 30)
                .and_hms_micro_opt(17, 5, 9, 999_999)
                .unwrap(),
            day(1999, 1, 2).and_hms_opt(0, 0, 0).unwrap(),
            day(5, 12, 31)
                .and_hms_nano_opt(23, 59, 59, 1_000_000)
                .unwrap(),
            day(12026, 3, 4).and_hms_opt(1, 2, 3).unwrap(),
            day(-44, 3, 15).and_hms_opt(12, 0, 0).unwrap(),
            day(2016, 12, 31)
                .and_hms_milli_opt(23, 59, 59, 1_500)
                .unwrap(),
        ] {
            assert_eq!(
                time(at),
                at.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true),
                "{at:?}"
            );
        }
    }
}
