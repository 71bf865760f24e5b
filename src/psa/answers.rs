//! Reading what a PSA answers, whatever the vendor: JSON decoded with messages that quote at most
//! a short excerpt, the PSA's own words for a refusal, `Link` paging, names matched as the PSA
//! spells them, and what a connector reads once and keeps. Also query-string encoding.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};

use super::PsaError;

const EXCERPT_CHARS: usize = 160;
const MESSAGE_CHARS: usize = 500;

/// Percent-encodes a value for a query string (everything but the unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes JSON, with a message that shows only a short excerpt of what came.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, PsaError> {
    serde_json::from_slice(body).map_err(|e| {
        let start = excerpt(body);
        if start.is_empty() {
            PsaError::Malformed("the answer is empty where JSON was expected".into())
        } else {
            PsaError::Malformed(format!(
                "not the JSON expected ({e}); it starts with: {start}"
            ))
        }
    })
}

/// Whether a body is `{"errors": [...]}` with at least one entry (Autotask's refusals).
pub(super) fn has_errors(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errors")
                .and_then(|e| e.as_array())
                .map(|a| !a.is_empty())
        })
        .unwrap_or(false)
}

/// The PSA's own words for a refusal: ConnectWise `message` and `errors[].message` (with the
/// field), Autotask `errors[]`; otherwise the status and a short excerpt.
pub fn refusal_message(status: u16, body: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let message = value.get("message").or_else(|| value.get("Message"));
        if let Some(m) = message
            .and_then(|m| m.as_str())
            .filter(|m| !m.trim().is_empty())
        {
            parts.push(m.trim().to_owned());
        }
        for error in value
            .get("errors")
            .and_then(|e| e.as_array())
            .into_iter()
            .flatten()
        {
            let text = match error {
                serde_json::Value::String(s) => s.trim().to_owned(),
                serde_json::Value::Object(o) => {
                    let m = o
                        .get("message")
                        .and_then(|m| m.as_str())
                        .unwrap_or_default()
                        .trim();
                    match o.get("field").and_then(|f| f.as_str()) {
                        Some(f) if !f.is_empty() && !m.is_empty() => format!("{f}: {m}"),
                        _ => m.to_owned(),
                    }
                }
                _ => String::new(),
            };
            if !text.is_empty() {
                parts.push(text);
            }
        }
    }
    if parts.is_empty() {
        let start = excerpt(body);
        return if start.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {start}")
        };
    }
    clip(&parts.join("; "), MESSAGE_CHARS)
}

/// Whether a `Link` header has a `rel="next"` link.
pub fn link_has_next(link: &str) -> bool {
    let mut rest = link;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            return false;
        };
        let after = &rest[open + close + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let is_next = after[..params_end].split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_end_matches(',')
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return true;
        }
        rest = &after[params_end..];
    }
    false
}

/// The start of a body, on one line, for messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_CHARS * 4)]);
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    clip(line.trim(), EXCERPT_CHARS)
}

pub(super) fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A JSON array of at most `N` entries: decoding stops at the first entry past `N`, so a page of
/// companies holds (and allocates) no more than the PSA's own maximum page, whatever was sent.
#[derive(Debug)]
pub struct AtMost<T, const N: usize>(pub Vec<T>);

impl<'de, T: de::Deserialize<'de>, const N: usize> de::Deserialize<'de> for AtMost<T, N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<T, const N: usize>(PhantomData<T>);

        impl<'de, T: de::Deserialize<'de>, const N: usize> Visitor<'de> for Entries<T, N> {
            type Value = AtMost<T, N>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an array of at most {N} entries")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(N));
                while let Some(item) = seq.next_element()? {
                    if items.len() == N {
                        return Err(de::Error::custom(format!(
                            "more than {N} entries in one page"
                        )));
                    }
                    items.push(item);
                }
                Ok(AtMost(items))
            }
        }

        deserializer.deserialize_seq(Entries(PhantomData))
    }
}

/// What a connector reads once and keeps (types, statuses, field definitions), read again on demand.
pub struct Memo<T>(Mutex<Option<Arc<T>>>);

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<T> Memo<T> {
    /// The kept value, or (none kept, or `fresh`) the value `read` gives, kept.
    pub fn get(
        &self,
        fresh: bool,
        read: impl FnOnce() -> Result<T, PsaError>,
    ) -> Result<Arc<T>, PsaError> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = kept.as_ref().filter(|_| !fresh) {
            return Ok(Arc::clone(value));
        }
        let value = Arc::new(read()?);
        *kept = Some(Arc::clone(&value));
        Ok(value)
    }
}

/// The entry named `name` as the PSA names it: the same name, else the only one equal ignoring case.
pub fn find_named<'a, T>(
    items: &'a [T],
    name: &str,
    name_of: impl Fn(&T) -> Option<&str>,
) -> Option<&'a T> {
    let name = name.trim();
    let same = |item: &T, fold: bool| {
        name_of(item).is_some_and(|n| {
            if fold {
                n.trim().eq_ignore_ascii_case(name)
            } else {
                n.trim() == name
            }
        })
    };
    if let Some(exact) = items.iter().find(|i| same(i, false)) {
        return Some(exact);
    }
    let mut folded = items.iter().filter(|i| same(i, true));
    match (folded.next(), folded.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(encode("a.b-c_d~1"), "a.b-c_d~1");
        assert_eq!(encode("me+api@x.com"), "me%2Bapi%40x.com");
        assert_eq!(
            encode("identifier like \"Ab%\""),
            "identifier%20like%20%22Ab%25%22"
        );
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn link_headers_are_read_for_next() {
        let cw = r#"<https://x/apis/3.0/company/companies?page=2&pageSize=2>; rel="next", <https://x/apis/3.0/company/companies?page=5&pageSize=2>; rel="last""#;
        assert!(link_has_next(cw));
        assert!(link_has_next("<https://x/?a=1,2>;rel=next"));
        assert!(link_has_next(
            r#"<https://x/p2>; title="a"; rel="prev next""#
        ));
        assert!(!link_has_next(
            r#"<https://x/?page=1>; rel="first", <https://x/?page=1>; rel="prev""#
        ));
        assert!(!link_has_next(r#"<https://x/?rel=next>; rel="last""#));
        assert!(!link_has_next(""));
    }

    #[test]
    fn refusals_carry_the_psa_message_not_the_body() {
        let cw = br#"{"code":"InvalidObject","message":"company object is invalid","errors":[{"code":"NullValue","message":"Site is required.","resource":"company","field":"site"}]}"#;
        assert_eq!(
            refusal_message(400, cw),
            "company object is invalid; site: Site is required."
        );
        let at = br#"{"errors":["Value is required for phone.","Second."]}"#;
        assert_eq!(
            refusal_message(500, at),
            "Value is required for phone.; Second."
        );
        assert_eq!(refusal_message(400, b""), "HTTP 400");
        let long = format!("<html>{}</html>", "x".repeat(5000));
        let message = refusal_message(400, long.as_bytes());
        assert!(message.starts_with("HTTP 400: <html>xxx") && message.chars().count() < 200);
    }

    #[test]
    fn malformed_json_names_a_short_excerpt() {
        let body = format!("<html>{}</html>", "y".repeat(10_000));
        let Err(PsaError::Malformed(m)) = decode::<Vec<u8>>(body.as_bytes()) else {
            panic!("not malformed");
        };
        assert!(
            m.contains("it starts with: <html>yyy") && m.len() < 400,
            "{m}"
        );
        let Err(PsaError::Malformed(m)) = decode::<Vec<u8>>(b"") else {
            panic!("not malformed");
        };
        assert!(m.contains("empty"));
    }

    #[test]
    fn names_match_exactly_then_ignoring_case_when_unique() {
        let names = ["Client", "client", "Vendor", "Partner"];
        let find = |name: &str| find_named(&names, name, |n| Some(*n)).copied();
        assert_eq!(find("client"), Some("client"));
        assert_eq!(find(" Vendor "), Some("Vendor"));
        assert_eq!(find("vendor"), Some("Vendor"));
        assert_eq!(find("CLIENT"), None);
        assert_eq!(find("Prospect"), None);
    }

    #[test]
    fn a_page_holds_at_most_its_maximum() {
        let AtMost(three) = decode::<AtMost<u8, 3>>(b"[1,2,3]").unwrap();
        assert_eq!(three, vec![1, 2, 3]);
        let Err(PsaError::Malformed(m)) = decode::<AtMost<u8, 3>>(b"[1,2,3,4,5]") else {
            panic!("four entries taken");
        };
        assert!(m.contains("more than 3 entries"), "{m}");
    }
}
