//! [`TrustedProxies`]: the client's address behind proxies you run.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;
use tower_vigil_core::ConfigError;

use super::peer::{check_prefix, ip_key};
use super::{KeyExtractor, PeerIp, RequestHead};

/// Which header the proxies write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (the default).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for="[2001:db8::1]:443"`.
    Forwarded,
}

/// The client's IP behind trusted proxies: when the peer is one of the configured networks,
/// the hops in `X-Forwarded-For` (or `Forwarded`) are read from the right, skipping trusted
/// ones, and the first untrusted hop is the client. Entries left of it were written by the
/// client itself and are ignored, so a spoofed left-most entry changes nothing. A peer outside
/// the list is the client (its headers are not believed). A malformed or `unknown` hop where
/// the client should be falls back to the peer address. IPv6 is bucketed as in [`PeerIp`].
///
/// ```
/// use std::net::SocketAddr;
/// use tower_vigil_ratelimit::key::{KeyExtractor, RequestHead, TrustedProxies};
///
/// let key = TrustedProxies::new(["10.0.0.0/8"]).unwrap();
/// let mut req = http::Request::builder()
///     .header("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.2")
///     .body(())
///     .unwrap();
/// req.extensions_mut().insert("10.0.0.1:5000".parse::<SocketAddr>().unwrap());
/// assert_eq!(key.extract(&RequestHead::new(&req)).as_deref(), Some("ip:198.51.100.7"));
/// ```
#[derive(Debug, Clone)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
    header: ForwardedHeader,
    ipv6_prefix: u8,
}

impl TrustedProxies {
    /// Trusts the proxies in `cidrs` (`"10.0.0.0/8"`, `"2001:db8::/32"`, or single addresses).
    pub fn new<I, S>(cidrs: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut networks = Vec::new();
        for c in cidrs {
            let c = c.as_ref().trim();
            let net = c
                .parse::<IpNet>()
                .or_else(|_| c.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    ConfigError::new("trusted_proxies", format!("not a CIDR or an IP: {c:?}"))
                })?;
            networks.push(net.trunc());
        }
        Ok(Self {
            networks,
            header: ForwardedHeader::default(),
            ipv6_prefix: 64,
        })
    }

    /// Reads `header` (default `X-Forwarded-For`).
    #[must_use]
    pub fn header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// Buckets IPv6 clients by `/len` (default 64).
    pub fn ipv6_prefix(mut self, len: u8) -> Result<Self, ConfigError> {
        self.ipv6_prefix = check_prefix(len)?;
        Ok(self)
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks.iter().any(|n| n.contains(&ip))
    }

    /// The client address, unbucketed.
    pub fn client_addr(&self, req: &RequestHead<'_>) -> Option<IpAddr> {
        let peer = canonical(PeerIp::peer_addr(req)?);
        if !self.trusted(peer) {
            return Some(peer);
        }
        let hops = match self.header {
            ForwardedHeader::XForwardedFor => x_forwarded_for(req.headers()),
            ForwardedHeader::Forwarded => forwarded(req.headers()),
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) if self.trusted(*ip) => client = *ip,
                Some(ip) => return Some(*ip),
                None => return Some(peer),
            }
        }
        // Every hop is trusted: the left-most one is as close to the client as we can get.
        Some(client)
    }
}

impl KeyExtractor for TrustedProxies {
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        self.client_addr(req).map(|ip| ip_key(ip, self.ipv6_prefix))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Every `X-Forwarded-For` entry, left to right, across repeated headers; `None` for a
/// malformed one.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(s) => s.split(',').map(parse_node).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// The `for=` node of every `Forwarded` element, left to right, across repeated headers.
fn forwarded(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut out = Vec::new();
    for v in headers.get_all(http::header::FORWARDED) {
        let Ok(s) = v.to_str() else {
            out.push(None);
            continue;
        };
        for element in split_unquoted(s, ',') {
            let node = split_unquoted(element, ';').into_iter().find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| v.trim().trim_matches('"'))
            });
            out.push(node.and_then(parse_node));
        }
    }
    out
}

/// Splits on `sep` outside double quotes.
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in s.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    parts.push(&s[start..]);
    parts
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = node.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    let inner = node.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<IpAddr>().ok().map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forwarded_nodes() {
        let mut h = HeaderMap::new();
        h.insert(
            "forwarded",
            r#"for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711", for=unknown"#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            forwarded(&h),
            vec![
                Some("192.0.2.60".parse().unwrap()),
                Some("2001:db8:cafe::17".parse().unwrap()),
                None
            ]
        );
    }

    #[test]
    fn bad_cidr_is_a_config_error() {
        assert!(TrustedProxies::new(["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::new(["proxy.local"]).is_err());
        assert!(TrustedProxies::new(["10.1.2.3", "::1/128"]).is_ok());
    }
}
