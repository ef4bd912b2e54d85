//! [`TrustedProxies`]: the client's address behind proxies you run.

use std::net::IpAddr;

use ipnet::IpNet;
use tower_vigil_core::ConfigError;

use super::extractor::{KeyExtractor, RequestHead};
use super::hop::{Hop, canonical};
use super::peer::{DEFAULT_IPV6_PREFIX, PeerIp, check_prefix, ip_key};
use super::{forwarded, x_forwarded_for};

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
/// the hops in `X-Forwarded-For` (or `Forwarded`, RFC 7239) are read from the right, skipping
/// trusted ones, and the first untrusted hop is the client. Entries left of it were written
/// by the client itself and are ignored, so nothing a client writes before what your proxies
/// append (a spoofed address, junk bytes, an open quote) changes the key: each header is cut
/// into hops on its bytes and each hop is parsed alone. A peer outside the list is the client
/// (its headers are not believed); a trusted peer without the header is the client itself.
///
/// When the hop where the client should be is not an address (`unknown`, an obfuscated
/// `_id`, a `Forwarded` element without `for`, or bytes that do not parse), a trusted proxy
/// wrote it and cannot tell who the client is: the request has no key (`None`), and the
/// layer does what [`MissingKey`](crate::MissingKey) says (400 by default). Falling back to
/// the proxy's address would put everyone behind it in one bucket.
///
/// Every address in the trusted networks is believed, including a client's own when it
/// connects from inside them. IPv6 is grouped as in [`PeerIp`] (/56 by default).
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
            ipv6_prefix: DEFAULT_IPV6_PREFIX,
        })
    }

    /// Reads `header` (default `X-Forwarded-For`).
    #[must_use]
    pub fn header(mut self, header: ForwardedHeader) -> Self {
        self.header = header;
        self
    }

    /// Groups IPv6 clients by `/len` (default [`DEFAULT_IPV6_PREFIX`], /56), 32 to 128 (see
    /// [`PeerIp::ipv6_prefix`]): another length is a [`ConfigError`] when the layer is built.
    #[must_use]
    pub fn ipv6_prefix(mut self, len: u8) -> Self {
        self.ipv6_prefix = len;
        self
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.networks.iter().any(|n| n.contains(&ip))
    }

    /// The client address, unbucketed; `None` when the request has no peer address or the
    /// trusted proxies could not name the client.
    pub fn client_addr(&self, req: &RequestHead<'_>) -> Option<IpAddr> {
        let peer = canonical(PeerIp::peer_addr(req)?);
        if !self.trusted(peer) {
            return Some(peer);
        }
        let hops = match self.header {
            ForwardedHeader::XForwardedFor => x_forwarded_for::hops(req.headers()),
            ForwardedHeader::Forwarded => forwarded::hops(req.headers()),
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            match *hop {
                Hop::Ip(ip) if self.trusted(ip) => client = ip,
                Hop::Ip(ip) => return Some(ip),
                // A trusted proxy wrote this hop (every hop to its right is trusted) and
                // says it cannot tell who the client is. The proxy's own address would put
                // everyone behind it in one bucket, and the hops further left are the
                // client's own words: nobody is identified.
                Hop::Opaque => return None,
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

    fn check(&self) -> Result<(), ConfigError> {
        check_prefix(self.ipv6_prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_cidr_is_a_config_error() {
        assert!(TrustedProxies::new(["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::new(["proxy.local"]).is_err());
        assert!(TrustedProxies::new(["10.1.2.3", "::1/128"]).is_ok());
    }
}
