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

/// A string as JSON (the escapes serde_json writes).
fn string(out: &mut Vec<u8>, value: &str) -> serde_json::Result<()> {
    serde_json::to_writer(out, value)
}

/// Text, or null when empty (clients test for null, not for "").
fn text_or_null(out: &mut Vec<u8>, value: &str) -> serde_json::Result<()> {
    if value.is_empty() {
        out.extend_from_slice(b"null");
        Ok(())
    } else {
        string(out, value)
    }
}

fn optional<T: Serialize>(out: &mut Vec<u8>, value: &Option<T>) -> serde_json::Result<()> {
    serde_json::to_writer(out, value)
}

/// An organization as IT Glue writes it (`{"id":"1","type":"organizations","attributes":{...}}`,
/// kebab-case attributes in the order IT Glue, and Roster until now, writes them), written
/// straight into `out`: a page writes a thousand, and naming each key through serde took as
/// long as the rest of the page.
pub fn write_organization(
    out: &mut Vec<u8>,
    base_url: &str,
    view: &OrgView,
) -> serde_json::Result<()> {
    let row = &view.row;
    out.extend_from_slice(b"{\"id\":\"");
    serde_json::to_writer(&mut *out, &row.id)?;
    out.extend_from_slice(b"\",\"type\":\"organizations\",\"attributes\":{\"name\":");
    string(out, &row.name)?;
    out.extend_from_slice(b",\"alert\":");
    text_or_null(out, &row.alert)?;
    out.extend_from_slice(b",\"description\":");
    text_or_null(out, &row.description)?;
    out.extend_from_slice(b",\"organization-type-id\":");
    optional(out, &row.type_id)?;
    out.extend_from_slice(b",\"organization-type-name\":");
    optional(out, &view.type_name.as_deref())?;
    out.extend_from_slice(b",\"organization-status-id\":");
    optional(out, &row.status_id)?;
    out.extend_from_slice(b",\"organization-status-name\":");
    optional(out, &view.status_name.as_deref())?;
    out.extend_from_slice(b",\"primary\":false,\"logo\":");
    let logo = Logo {
        base_url,
        id: view.has_logo.then_some(row.id),
    };
    serde_json::to_writer(&mut *out, &logo)?;
    out.extend_from_slice(b",\"quick-notes\":");
    text_or_null(out, &row.quick_notes)?;
    out.extend_from_slice(b",\"short-name\":");
    text_or_null(out, &row.short_name)?;
    out.extend_from_slice(b",\"created-at\":");
    serde_json::to_writer(&mut *out, &Time(row.created_at))?;
    out.extend_from_slice(b",\"updated-at\":");
    serde_json::to_writer(&mut *out, &Time(row.updated_at))?;
    out.extend_from_slice(b",\"parent-id\":");
    optional(out, &row.parent_id)?;
    out.extend_from_slice(b",\"ancestor-ids\":");
    let ancestors = (!view.ancestor_ids.is_empty()).then_some(Ancestors(&view.ancestor_ids));
    optional(out, &ancestors)?;
    out.extend_from_slice(b",\"psa-integration\":");
    let psa = row.psa_kind.as_deref();
    optional(
        out,
        &psa.map(|k| if k == "connectwise" { "manage" } else { k }),
    )?;
    out.extend_from_slice(b",\"psa-id\":");
    optional(out, &row.psa_company_id.as_deref())?;
    out.extend_from_slice(b"}}");
    Ok(())
}

/// A document of one organization: `{"data":{...}}`.
pub fn one_organization(base_url: &str, view: &OrgView) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"data\":");
    write_organization(&mut out, base_url, view)?;
    out.push(b'}');
    Ok(out)
}

/// An organization as a JSON value (for documents put together by hand).
pub fn organization(base_url: &str, view: &OrgView) -> Value {
    let mut out = Vec::with_capacity(1024);
    // Written from strings, numbers and booleans: this cannot fail.
    match write_organization(&mut out, base_url, view) {
        Ok(()) => serde_json::from_slice(&out).unwrap_or_default(),
        Err(_) => Value::Null,
    }
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
    let (meta, links) = meta_links(paging);
    List { data, meta, links }
}

/// The same document as `list` writes, each of `items` written into it by `write_item`.
pub fn write_list<I>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = I>,
    paging: &Paging<'_>,
    mut write_item: impl FnMut(&mut Vec<u8>, I) -> serde_json::Result<()>,
) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"data\":[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_item(out, item)?;
    }
    let (meta, links) = meta_links(paging);
    out.extend_from_slice(b"],\"meta\":");
    serde_json::to_writer(&mut *out, &meta)?;
    out.extend_from_slice(b",\"links\":");
    serde_json::to_writer(&mut *out, &links)?;
    out.push(b'}');
    Ok(())
}

fn meta_links<'a>(paging: &Paging<'a>) -> (Meta<'a>, Links) {
    let total_pages = ((paging.total + paging.size - 1) / paging.size).max(1);
    let next = (paging.page < total_pages).then_some(paging.page + 1);
    let prev = (paging.page > 1).then(|| (paging.page - 1).min(total_pages));
    let link = |page: i64| format!("{}?{}", paging.url, paging.params.with_page(page));
    (
        Meta {
            current_page: paging.page,
            next_page: next,
            prev_page: prev,
            total_pages,
            total_count: paging.total,
            filters: Filters(paging.params),
        },
        Links {
            this: link(paging.page),
            first: link(1),
            next: next.map(&link),
            prev: prev.map(&link),
            last: link(total_pages),
        },
    )
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
