//! [`PeerIp`]: the address of the connection.

use std::net::{IpAddr, SocketAddr};

use ipnet::Ipv6Net;
use tower_vigil_core::ConfigError;

use super::extractor::{KeyExtractor, RequestHead};

/// The shortest IPv6 grouping prefix accepted: a wider group than an ISP's smallest usual
/// allocation (/32) would put whole providers in one bucket.
pub const MIN_IPV6_PREFIX: u8 = 32;

/// The default IPv6 grouping prefix, /56: what a residential customer is usually given
/// (RIPE-690 recommends /48 or /56, and /56 is the common choice; express-rate-limit groups
/// by /56 too). Grouping by /64 would give one such customer 256 quotas, since every /64 of
/// its /56 is its own to use; the cost is that networks handing each device its own /64
/// (many mobile carriers) group up to 256 devices. Set 64 (or 128) where that matters more.
pub const DEFAULT_IPV6_PREFIX: u8 = 56;

/// The peer's IP address from the request's extensions: a [`SocketAddr`] or [`IpAddr`] your
/// server inserted, or (with the `axum` feature) axum's `ConnectInfo<SocketAddr>`. IPv6
/// addresses are grouped by prefix ([`DEFAULT_IPV6_PREFIX`], /56, unless set: one customer
/// owns a whole prefix, so per-address limits would be trivial to dodge). Key: `ip:<address>`
/// or `ip:<network>/<len>`.
///
/// With axum, serve with `into_make_service_with_connect_info::<SocketAddr>()` and enable the
/// `axum` feature; with hyper, insert the `SocketAddr` of the accepted connection into each
/// request's extensions (e.g. with `tower_http::add_extension` or a `map_request`).
#[derive(Debug, Clone, Copy)]
pub struct PeerIp {
    ipv6_prefix: u8,
}

impl Default for PeerIp {
    fn default() -> Self {
        Self {
            ipv6_prefix: DEFAULT_IPV6_PREFIX,
        }
    }
}

impl PeerIp {
    /// IPv6 grouped by [`DEFAULT_IPV6_PREFIX`] (/56).
    pub fn new() -> Self {
        Self::default()
    }

    /// Group IPv6 addresses by `/len`: [`MIN_IPV6_PREFIX`] (32) to 128, where 128 keys on the
    /// full address. Another length is a [`ConfigError`] (field `ipv6_prefix`) when the layer
    /// is built ([`KeyExtractor::check`]); used outside a layer, it is clamped to that range.
    #[must_use]
    pub fn ipv6_prefix(mut self, len: u8) -> Self {
        self.ipv6_prefix = len;
        self
    }

    /// The peer address, unbucketed.
    pub fn peer_addr(req: &RequestHead<'_>) -> Option<IpAddr> {
        let ext = req.extensions();
        if let Some(addr) = ext.get::<SocketAddr>() {
            return Some(addr.ip());
        }
        if let Some(ip) = ext.get::<IpAddr>() {
            return Some(*ip);
        }
        #[cfg(feature = "axum")]
        if let Some(info) = ext.get::<axum::extract::ConnectInfo<SocketAddr>>() {
            return Some(info.0.ip());
        }
        None
    }
}

impl KeyExtractor for PeerIp {
    fn extract(&self, req: &RequestHead<'_>) -> Option<String> {
        Self::peer_addr(req).map(|ip| ip_key(ip, self.ipv6_prefix))
    }

    fn check(&self) -> Result<(), ConfigError> {
        check_prefix(self.ipv6_prefix)
    }
}

pub(super) fn check_prefix(len: u8) -> Result<(), ConfigError> {
    if !(MIN_IPV6_PREFIX..=128).contains(&len) {
        return Err(ConfigError::new(
            "ipv6_prefix",
            format!("must be {MIN_IPV6_PREFIX} to 128, found {len}"),
        ));
    }
    Ok(())
}

/// `ip:<v4>` or `ip:<v6 network>/<len>` (an IPv4-mapped IPv6 address counts as the IPv4 one);
/// a prefix outside 32 to 128 (never past a built layer's check) is clamped into it.
pub(super) fn ip_key(ip: IpAddr, ipv6_prefix: u8) -> String {
    let ipv6_prefix = ipv6_prefix.clamp(MIN_IPV6_PREFIX, 128);
    match ip {
        IpAddr::V4(v4) => v4_key(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_key(v4);
            }
            if ipv6_prefix >= 128 {
                return format!("ip:{v6}");
            }
            match Ipv6Net::new(v6, ipv6_prefix) {
                Ok(net) => format!("ip:{}", net.trunc()),
                Err(_) => format!("ip:{v6}"),
            }
        }
    }
}

/// `ip:a.b.c.d`, written without `fmt` (the usual key, built on every request).
fn v4_key(v4: std::net::Ipv4Addr) -> String {
    let mut key = String::with_capacity(18);
    key.push_str("ip:");
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            key.push('.');
        }
        key.push_str(itoa::Buffer::new().format(octet));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn v4_key_matches_display(octets: [u8; 4]) {
            let v4 = std::net::Ipv4Addr::from(octets);
            proptest::prop_assert_eq!(v4_key(v4), format!("ip:{v4}"));
        }
    }

    #[test]
    fn ipv6_is_bucketed_by_prefix() {
        let ip: IpAddr = "2001:db8:1:2:3:4:5:6".parse().unwrap();
        assert_eq!(ip_key(ip, 64), "ip:2001:db8:1:2::/64");
        assert_eq!(ip_key(ip, 48), "ip:2001:db8:1::/48");
        assert_eq!(ip_key(ip, 128), "ip:2001:db8:1:2:3:4:5:6");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(ip_key(mapped, 64), "ip:192.0.2.1");
        assert!(check_prefix(129).is_err());
        assert!(check_prefix(31).is_err(), "whole providers in one bucket");
        assert!(check_prefix(0).is_err());
        assert!(check_prefix(32).is_ok());
        assert!(check_prefix(128).is_ok());
        assert_eq!(ip_key(ip, 0), "ip:2001:db8::/32", "clamped outside a layer");
        assert!(PeerIp::new().ipv6_prefix(31).check().is_err());
        assert!(PeerIp::new().ipv6_prefix(64).check().is_ok());
    }
}

#[cfg(all(test, feature = "axum"))]
mod axum_tests {
    use super::*;

    #[test]
    fn reads_axum_connect_info() {
        let mut req = http::Request::new(());
        let addr: SocketAddr = "198.51.100.4:1234".parse().unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        let head = RequestHead::new(&req);
        assert_eq!(
            PeerIp::new().extract(&head).as_deref(),
            Some("ip:198.51.100.4")
        );
    }
}
