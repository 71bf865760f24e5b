//! The client's address for rate limits. Behind trusted proxies it is the right-most
//! `X-Forwarded-For` entry that is not one of them: entries to its left are written by the client
//! and prove nothing. `Forwarded` is never read (nothing we trust writes it).

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::config::Settings;

pub fn client_address(settings: &Settings, req: &HttpRequest) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip().to_canonical();
    if !settings.trust_proxy {
        return Some(peer);
    }
    let hops = req
        .headers()
        .get_all("x-forwarded-for")
        .flat_map(|value| value.to_str().unwrap_or("?").split(','));
    Some(through_proxies(peer, hops, &settings.trusted_proxies))
}

/// Walks the hops from the connection's peer back toward the client while each is a trusted
/// proxy; the first that is not (or the last trusted one, before an entry that is no address)
/// is the client. `trusted` empty: loopback and the peer itself.
fn through_proxies<'a>(
    peer: IpAddr,
    hops: impl DoubleEndedIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let is_trusted = |ip: IpAddr| {
        if trusted.is_empty() {
            ip.is_loopback() || ip == peer
        } else {
            trusted.iter().any(|net| net.contains(&ip))
        }
    };
    let mut client = peer;
    for hop in hops.rev() {
        if !is_trusted(client) {
            break;
        }
        match parse_hop(hop) {
            Some(ip) => client = ip,
            None => break,
        }
    }
    client
}

/// `192.0.2.1`, `2001:db8::1`, and the forms with a port some proxies write.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::through_proxies;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn client(peer: &str, header: &str, trusted: &[&str]) -> IpAddr {
        let nets: Vec<ipnet::IpNet> = trusted.iter().filter_map(|t| t.parse().ok()).collect();
        through_proxies(ip(peer), header.split(','), &nets)
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        // Default: the peer (the proxy) and loopback are trusted.
        assert_eq!(client("10.0.0.1", "1.1.1.1, 2.2.2.2", &[]), ip("2.2.2.2"));
        assert_eq!(
            client("127.0.0.1", "1.1.1.1, 127.0.0.1", &[]),
            ip("1.1.1.1")
        );
        // Two proxies of ours in a range.
        let ours = ["10.0.0.0/8", "127.0.0.1/32"];
        assert_eq!(
            client("127.0.0.1", "9.9.9.9, 2.2.2.2, 10.1.1.1", &ours),
            ip("2.2.2.2")
        );
        // A peer that is not ours: what it writes does not count.
        assert_eq!(client("192.0.2.5", "2.2.2.2", &ours), ip("192.0.2.5"));
        // Garbage left of the proxies stops the walk at the last trusted hop.
        assert_eq!(client("127.0.0.1", "junk, 10.1.1.1", &ours), ip("10.1.1.1"));
        assert_eq!(
            client("127.0.0.1", "[2001:db8::1]:443", &[]),
            ip("2001:db8::1")
        );
        assert_eq!(
            client("127.0.0.1", "::ffff:192.0.2.9", &[]),
            ip("192.0.2.9")
        );
    }
}
