//! Who is at the other end of a connection: the client's address, which the connection loop
//! puts in each request's extensions, and the key the limits count a client under (its
//! address, or its network for IPv6, where one host usually holds a whole /64).
//!
//! Behind a load balancer every connection comes from the balancer. Its `X-Forwarded-For` (or
//! standard `Forwarded`) header says who the client is, but any client can send one too, so it
//! is believed only from the peers named in `TRUSTED_PROXIES` ([`TrustedProxies`]): the client
//! is the nearest address in the chain that is not itself a trusted proxy.

use std::net::IpAddr;

use ipnet::IpNet;

/// The address of the client, put in each request's extensions by the connection loop.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

/// Most addresses read from a forwarding chain; a longer one is cut (its nearest hops kept).
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        TrustedProxies(networks)
    }

    pub fn trusts(&self, peer: IpAddr) -> bool {
        let peer = canonical(peer);
        self.0.iter().any(|net| net.contains(&peer))
    }

    /// Who the client of a request from `peer` is: `peer` itself, unless `peer` is a trusted
    /// proxy and its forwarding headers name someone further out.
    pub fn client(&self, peer: IpAddr, headers: &http::HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_for(headers);
        // Nearest first: the last address was added by the proxy closest to us.
        for hop in chain.iter().rev() {
            if !self.trusts(*hop) {
                return *hop;
            }
        }
        chain.first().copied().unwrap_or(peer)
    }
}

/// The addresses a request was forwarded for, farthest first: `Forwarded`'s `for=` when the
/// request has it, else `X-Forwarded-For`. Unreadable entries (obfuscated names, `unknown`)
/// end the chain there, as nothing beyond them can be placed.
fn forwarded_for(headers: &http::HeaderMap) -> Vec<IpAddr> {
    let standard: Vec<String> = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim().trim_matches('"').to_owned())
            })
        })
        .collect();
    let entries: Vec<String> = if standard.is_empty() {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .collect()
    } else {
        standard
    };
    let start = entries.len().saturating_sub(MAX_HOPS);
    let mut chain = Vec::new();
    for entry in &entries[start..] {
        match parse_node(entry) {
            Some(ip) => chain.push(ip),
            // A hop we cannot read: what came before it is unplaceable.
            None => chain.clear(),
        }
    }
    chain
}

/// An address as forwarding headers write it: `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]`,
/// `[2001:db8::1]:443` or a bare IPv6 address.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they are.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key a client address is limited under: the address itself for IPv4, its /64 network
/// for IPv6 (one host usually holds a whole /64, so single addresses would be free to rotate).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_limited_per_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(client_key(v4), v4);
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(mapped), v4);
    }

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn forwarding_headers_are_believed_from_trusted_proxies_only() {
        let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let stranger: IpAddr = "203.0.113.7".parse().unwrap();
        let forged = headers(&[("x-forwarded-for", "198.51.100.1")]);
        // A client cannot choose its own address.
        assert_eq!(proxies.client(stranger, &forged), stranger);
        // Behind the proxy: the nearest address that is not a proxy; a forged prefix is ignored.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.1, 10.1.2.3")]);
        assert_eq!(
            proxies.client(proxy, &chain),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        let standard = headers(&[("forwarded", "for=\"[2001:db8::1]:443\";proto=https")]);
        assert_eq!(
            proxies.client(proxy, &standard),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        let with_port = headers(&[("forwarded", "for=198.51.100.9:1234")]);
        assert_eq!(
            proxies.client(proxy, &with_port),
            "198.51.100.9".parse::<IpAddr>().unwrap()
        );
        // Nothing readable: the proxy itself.
        assert_eq!(
            proxies.client(proxy, &headers(&[("x-forwarded-for", "unknown")])),
            proxy
        );
        assert_eq!(proxies.client(proxy, &http::HeaderMap::new()), proxy);
        // By default nobody is trusted.
        assert_eq!(TrustedProxies::default().client(proxy, &chain), proxy);
        let mapped: IpAddr = "::ffff:10.0.0.5".parse().unwrap();
        assert!(proxies.trusts(mapped));
    }
}
