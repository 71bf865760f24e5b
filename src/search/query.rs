//! A search as typed, read once: the folded text, and what else it may be (a phone's digits, a
//! MAC's hex digits, an IPv4 address, prefix or CIDR range). Nothing here touches the database.

use std::net::Ipv4Addr;

use super::fold::{fold, mac_digits, phone_digits};

/// The longest search read (longer ones are cut: nothing indexed is matched by more).
pub const MAX_CHARS: usize = 200;

/// IPv4 addresses from `lo` to `hi` as numbers; `exact` when one address was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Range {
    pub lo: i64,
    pub hi: i64,
    pub exact: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// What was typed, trimmed (shown back in the box).
    pub typed: String,
    /// Folded text, then the other forms it may take (digits, hex), without repeats.
    pub needles: Vec<String>,
    pub ipv4: Option<Ipv4Range>,
}

/// An address as the number the index stores.
pub fn ipv4_number(ip: Ipv4Addr) -> i64 {
    i64::from(u32::from(ip))
}

/// "10.0.4.12" (one), "10.0.4." or "10.0." (a prefix), "10.0.4.0/24" (a CIDR range).
fn ipv4_range(text: &str) -> Option<Ipv4Range> {
    if let Ok(ip) = text.parse::<Ipv4Addr>() {
        let n = ipv4_number(ip);
        return Some(Ipv4Range {
            lo: n,
            hi: n,
            exact: true,
        });
    }
    if let Ok(net) = text.parse::<ipnet::Ipv4Net>() {
        return Some(Ipv4Range {
            lo: ipv4_number(net.network()),
            hi: ipv4_number(net.broadcast()),
            exact: false,
        });
    }
    let head = text.strip_suffix('.')?;
    let octets: Vec<u8> = head
        .split('.')
        .map(|o| {
            o.parse::<u8>()
                .ok()
                .filter(|_| !o.is_empty() && o.len() <= 3)
        })
        .collect::<Option<_>>()?;
    if octets.is_empty() || octets.len() > 3 {
        return None;
    }
    let mut lo = [0u8; 4];
    let mut hi = [255u8; 4];
    lo[..octets.len()].copy_from_slice(&octets);
    hi[..octets.len()].copy_from_slice(&octets);
    Some(Ipv4Range {
        lo: ipv4_number(Ipv4Addr::from(lo)),
        hi: ipv4_number(Ipv4Addr::from(hi)),
        exact: false,
    })
}

impl Query {
    /// `None` when nothing was typed.
    pub fn parse(raw: &str) -> Option<Query> {
        let typed: String = raw.trim().chars().take(MAX_CHARS).collect();
        let text = fold(&typed);
        if text.is_empty() {
            return None;
        }
        let ipv4 = ipv4_range(&text);
        let mut needles = vec![text.clone()];
        // An IP address is not also a phone number.
        let others = [
            phone_digits(&text).filter(|_| ipv4.is_none()),
            mac_digits(&text),
        ];
        for other in others.into_iter().flatten() {
            if !needles.contains(&other) {
                needles.push(other);
            }
        }
        // A CIDR range is matched by the numbers alone: its text is in no record.
        if ipv4.is_some_and(|r| !r.exact) && text.contains('/') {
            needles.clear();
        }
        Some(Query {
            typed,
            needles,
            ipv4,
        })
    }

    /// The folded text typed (what the marks look for first).
    pub fn text(&self) -> String {
        fold(&self.typed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(q: &str) -> Option<(Ipv4Addr, Ipv4Addr, bool)> {
        Query::parse(q)?.ipv4.map(|r| {
            let ip = |n: i64| Ipv4Addr::from(u32::try_from(n).unwrap());
            (ip(r.lo), ip(r.hi), r.exact)
        })
    }

    #[test]
    fn addresses_prefixes_and_ranges() {
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        assert_eq!(
            range("10.0.4.12"),
            Some((ip("10.0.4.12"), ip("10.0.4.12"), true))
        );
        assert_eq!(
            range("10.0.4."),
            Some((ip("10.0.4.0"), ip("10.0.4.255"), false))
        );
        assert_eq!(
            range("10.0.4.0/24"),
            Some((ip("10.0.4.0"), ip("10.0.4.255"), false))
        );
        assert_eq!(range("fw-acme"), None);
        assert!(Query::parse("10.0.4.0/24").unwrap().needles.is_empty());
    }

    #[test]
    fn other_forms_of_the_text() {
        let q = Query::parse(" 555.010.2030 ").unwrap();
        assert_eq!(
            q.needles,
            vec!["555.010.2030".to_owned(), "5550102030".to_owned()]
        );
        assert_eq!(Query::parse("10.0.4.12").unwrap().needles.len(), 1);
        assert!(Query::parse("   ").is_none());
    }
}
