//! Where a PSA may be. The address as typed: https (http only when allowed), a host, no user name,
//! no query. The IP addresses its host resolves to: never link-local, multicast or documentation
//! ranges, and never this server's own network (loopback, private, ULA, NAT64) unless the server
//! allows an on-premises PSA. The agent's resolver checks what it resolves and hands the connector
//! only those addresses, so the connection goes where the check looked (no second lookup).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use super::PsaError;

/// What the server lets a PSA address be (`ROSTER_PSA_ALLOW_HTTP`, `ROSTER_PSA_ALLOW_PRIVATE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// Plain `http://` (local trials, the sandbox, tests).
    pub allow_http: bool,
    /// Loopback, private, ULA and NAT64 addresses: an on-premises PSA (and the test doubles).
    pub allow_private: bool,
}

/// Why an IP address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// This server's own network: allowed by `allow_private`.
    Private(&'static str),
    /// Never a PSA (cloud metadata, multicast, documentation, unspecified).
    Special(&'static str),
}

/// Whether `ip` may be a PSA's address: `None` when it may, else the kind of address it is.
fn classify(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    use Refusal::{Private, Special};
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, ..) => Some(Special("an unspecified address")),
        (169, 254, _) => Some(Special(
            "a link-local address (such as the cloud metadata service 169.254.169.254)",
        )),
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Some(Special("a documentation address")),
        (224..=239, ..) => Some(Special("a multicast address")),
        (240..=255, ..) => Some(Special("a reserved or broadcast address")),
        (127, ..) => Some(Private("a loopback address")),
        (10, ..) | (192, 168, _) => Some(Private("a private address")),
        (172, 16..=31, _) => Some(Private("a private address")),
        (100, 64..=127, _) => Some(Private("a shared (carrier-grade NAT) address")),
        (198, 18..=19, _) | (192, 0, 0) => Some(Private("a private address")),
        _ => None,
    }
}

fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
    use Refusal::{Private, Special};
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some(Special("an unspecified address"));
    }
    if ip.is_loopback() {
        return Some(Private("a loopback address"));
    }
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible form (::a.b.c.d) reach
    // the IPv4 address they hold.
    if let Some(v4) = ip.to_ipv4() {
        return classify_v4(v4);
    }
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s[0] {
        0xfe80..=0xfebf => Some(Special("a link-local address")),
        0xff00..=0xffff => Some(Special("a multicast address")),
        0xfc00..=0xfdff => Some(Private("a unique local address (fc00::/7)")),
        0xfec0..=0xfeff => Some(Private("a site-local address")),
        0x2001 if s[1] == 0x0db8 => Some(Special("a documentation address")),
        0x2001 if s[1] == 0 => Some(Special("a Teredo tunnel address")),
        // 6to4 reaches the IPv4 address it holds.
        0x2002 => classify_v4(embedded(s[1], s[2])),
        // NAT64 reaches the IPv4 address it holds, through a gateway of this network.
        0x0064 if s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] => Some(
            classify_v4(embedded(s[6], s[7])).unwrap_or(Private("a NAT64 address (64:ff9b::/96)")),
        ),
        0x0064 if s[1] == 0xff9b && s[2] == 1 => Some(Private("a local NAT64 address")),
        _ => None,
    }
}

/// The message for a refused IP address (`named`: the address as found, e.g. "resolves to 10.0.0.5").
fn refusal_message(refusal: Refusal, named: &str) -> String {
    match refusal {
        Refusal::Private(kind) => format!(
            "The PSA address {named}, {kind} on this server's own network. Roster connects there only when the server is started with ROSTER_PSA_ALLOW_PRIVATE=true (for a PSA on your own network)."
        ),
        Refusal::Special(kind) => {
            format!("The PSA address {named}, {kind}: no PSA can be there.")
        }
    }
}

/// Whether `ip` may be connected to under `policy`; the message when it may not.
pub fn check_ip(ip: IpAddr, policy: AddressPolicy, named: &str) -> Result<(), PsaError> {
    match classify(ip) {
        None => Ok(()),
        Some(Refusal::Private(_)) if policy.allow_private => Ok(()),
        Some(refusal) => Err(PsaError::Config(refusal_message(refusal, named))),
    }
}

/// Refuses what cannot be a PSA's address: other schemes than https (http only when allowed),
/// no host, a user name or password in the address, a query, and hosts written as IP addresses
/// (or `localhost`) that `policy` refuses. Host names are checked when they are resolved, at each
/// connection. Messages never repeat the address (it may hold a password).
pub fn check_address(url: &str, policy: AddressPolicy) -> Result<(), PsaError> {
    let refuse = |message: &str| Err(PsaError::Config(message.to_owned()));
    let Ok(uri) = url.parse::<Uri>() else {
        return refuse(
            "The PSA address is not a valid web address (for example https://api-na.myconnectwise.net).",
        );
    };
    let Some(authority) = uri.authority() else {
        return refuse("The PSA address must start with https:// and name a host.");
    };
    if authority.as_str().contains('@') {
        return refuse(
            "The PSA address must not contain a user name or password: enter the credentials in their own fields.",
        );
    }
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return refuse("The PSA address must name a host.");
    }
    if uri.query().is_some() || url.contains('#') {
        return refuse("The PSA address must not contain ? or #.");
    }
    check_host(host, policy)?;
    let scheme = uri.scheme_str().unwrap_or_default();
    if scheme.eq_ignore_ascii_case("https")
        || (policy.allow_http && scheme.eq_ignore_ascii_case("http"))
    {
        Ok(())
    } else if scheme.eq_ignore_ascii_case("http") {
        refuse(
            "The PSA address must start with https:// (plain http:// is only for local trials, with the setting that allows it).",
        )
    } else {
        refuse("The PSA address must start with https://.")
    }
}

/// An IP address as host is checked at once; so are `localhost` names (always loopback) and
/// numeric hosts written in the legacy forms resolvers still accept (refused).
fn check_host(host: &str, policy: AddressPolicy) -> Result<(), PsaError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return check_ip(ip, policy, &format!("is {ip}"));
    }
    let name = bare.trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return check_ip(IpAddr::V4(Ipv4Addr::LOCALHOST), policy, "names localhost");
    }
    let last = name.rsplit('.').next().unwrap_or_default();
    let numeric = last.chars().all(|c| c.is_ascii_digit()) || last.starts_with("0x");
    if numeric {
        return Err(PsaError::Config(
            "The PSA address's host is neither a name nor a usual IP address.".into(),
        ));
    }
    Ok(())
}

/// Whether two addresses share scheme, host and port (where credentials may be sent).
pub fn same_origin(a: &str, b: &str) -> bool {
    fn origin(url: &str) -> Option<(String, String, u16)> {
        let uri = url.parse::<Uri>().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        let default = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let port = uri.port_u16().unwrap_or(default);
        Some((scheme, authority.host().to_ascii_lowercase(), port))
    }
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

/// Resolves the address's host once and checks what it gives: at save time, so that the form can
/// say why (every connection checks again, and connects only to what it checked). A name that
/// does not resolve now, or an address `check_address` refuses, passes here.
pub fn check_resolved(
    url: &str,
    policy: AddressPolicy,
    timeout: std::time::Duration,
) -> Result<(), PsaError> {
    let Ok(uri) = url.parse::<Uri>() else {
        return Ok(());
    };
    let wait = NextTimeout {
        after: timeout.into(),
        reason: ureq::Timeout::Resolve,
        ..NextTimeout::default()
    };
    match CheckedResolver::new(policy).resolve(&uri, &Config::default(), wait) {
        Err(ureq::Error::Other(e)) => match e.downcast_ref::<AddressRefused>() {
            Some(AddressRefused(message)) => Err(PsaError::Config(message.clone())),
            None => Ok(()),
        },
        _ => Ok(()),
    }
}

/// A resolved address the policy refuses (carried through ureq as `Error::Other`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AddressRefused(pub String);

/// The agent's resolver: the system's lookup, once, then every address checked; the connector
/// gets only checked addresses.
#[derive(Debug, Default)]
pub struct CheckedResolver {
    policy: AddressPolicy,
    system: DefaultResolver,
}

impl CheckedResolver {
    pub fn new(policy: AddressPolicy) -> Self {
        Self {
            policy,
            system: DefaultResolver::default(),
        }
    }
}

impl Resolver for CheckedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let found = self.system.resolve(uri, config, timeout)?;
        let literal = uri.host().is_some_and(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok()
        });
        for addr in found.iter() {
            let ip = addr.ip();
            let named = if literal {
                format!("is {ip}")
            } else {
                format!("resolves to {ip}")
            };
            if let Err(e) = check_ip(ip, self.policy, &named) {
                return Err(ureq::Error::Other(Box::new(AddressRefused(e.to_string()))));
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: AddressPolicy = AddressPolicy {
        allow_http: false,
        allow_private: false,
    };
    const HTTP: AddressPolicy = AddressPolicy {
        allow_http: true,
        allow_private: false,
    };
    const ON_PREMISES: AddressPolicy = AddressPolicy {
        allow_http: true,
        allow_private: true,
    };

    fn refused(url: &str, policy: AddressPolicy) -> String {
        match check_address(url, policy) {
            Err(PsaError::Config(m)) => m,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn addresses_other_than_https_are_refused() {
        assert!(check_address("https://api-na.myconnectwise.net", STRICT).is_ok());
        assert!(check_address("https://webservices.autotask.net/atservicesrest", STRICT).is_ok());
        assert!(check_address("http://127.0.0.1:8080", ON_PREMISES).is_ok());
        assert!(check_address("http://93.184.215.14:8080", HTTP).is_ok());
        assert!(refused("http://na.myconnectwise.net", STRICT).contains("https://"));
        assert!(refused("ftp://na.myconnectwise.net", HTTP).contains("https://"));
        assert!(refused("na.myconnectwise.net", STRICT).contains("https://"));
        assert!(refused("https://", STRICT).contains("not a valid"));
        assert!(refused("https:///path", STRICT).contains("not a valid"));
        let userinfo = refused("https://me:hunter2@na.myconnectwise.net", STRICT);
        assert!(userinfo.contains("user name or password") && !userinfo.contains("hunter2"));
        assert!(refused("https://na.myconnectwise.net/?a=b", STRICT).contains('?'));
        assert!(refused("https://na.myconnectwise.net/#x", STRICT).contains('#'));
        assert!(refused("not a url", STRICT).contains("not a valid"));
        assert!(refused("http://2852039166/", HTTP).contains("usual IP"));
        assert!(refused("http://0xa9fea9fe/", HTTP).contains("usual IP"));
        assert!(refused("http://169.254.43518/", HTTP).contains("usual IP"));
    }

    #[test]
    fn the_own_network_is_refused_unless_allowed() {
        for url in [
            "https://127.0.0.1/",
            "https://127.1.2.3/",
            "https://10.0.0.1/",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fc12::1]/",
            "https://[64:ff9b::7f00:1]/",
            "https://[64:ff9b::808:808]/",
            "https://[64:ff9b:1::a00:1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:10.1.2.3]/",
            "https://[2002:a00:1::]/",
            "https://localhost/",
            "https://LocalHost./",
            "https://psa.localhost/",
        ] {
            let m = refused(url, STRICT);
            assert!(m.contains("ROSTER_PSA_ALLOW_PRIVATE"), "{url}: {m}");
            assert!(check_address(url, ON_PREMISES).is_ok(), "{url}");
        }
        assert!(refused("https://[64:ff9b::7f00:1]/", STRICT).contains("loopback"));
        assert!(refused("https://[fd00::1]/", STRICT).contains("unique local"));
    }

    #[test]
    fn special_addresses_are_refused_even_on_premises() {
        for url in [
            "http://169.254.169.254/latest",
            "https://[fe80::1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://0.0.0.0/",
            "https://[::]/",
            "https://255.255.255.255/",
            "https://224.0.0.1/",
            "https://192.0.2.10/",
            "https://[2001:db8::1]/",
            "https://[ff02::1]/",
        ] {
            let m = refused(url, ON_PREMISES);
            assert!(m.contains("no PSA can be there"), "{url}: {m}");
        }
        let metadata = refused("http://169.254.169.254/", HTTP);
        assert!(metadata.contains("link-local") && metadata.contains("metadata"));
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(classify(ip), None, "{ip}");
        }
    }

    #[test]
    fn names_are_checked_for_what_they_resolve_to() {
        let wait = std::time::Duration::from_secs(5);
        let Err(PsaError::Config(m)) = check_resolved("http://localhost:9/", HTTP, wait) else {
            panic!("localhost passed");
        };
        assert!(
            m.contains("resolves to") && m.contains("ROSTER_PSA_ALLOW_PRIVATE"),
            "{m}"
        );
        assert!(check_resolved("http://localhost:9/", ON_PREMISES, wait).is_ok());
        // Unknown names pass here; the connection says they are not found.
        assert!(check_resolved("https://no-such-host.invalid/", STRICT, wait).is_ok());
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let zone = "https://webservices5.autotask.net/atservicesrest/";
        assert!(same_origin(
            "https://WebServices5.autotask.net:443/a?b",
            zone
        ));
        assert!(!same_origin("http://webservices5.autotask.net/a", zone));
        assert!(!same_origin(
            "https://webservices5.autotask.net:8443/a",
            zone
        ));
        assert!(!same_origin("https://evil.example/a", zone));
        assert!(!same_origin("https://x@webservices5.autotask.net/a", zone));
        assert!(!same_origin("/v1.0/Companies/query/next", zone));
        assert!(same_origin("http://127.0.0.1:9/a", "http://127.0.0.1:9/"));
    }
}
