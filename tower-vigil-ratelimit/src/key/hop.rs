//! [`Hop`]: one entry of a proxy header, and the node forms both headers share.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What one `X-Forwarded-For` entry or `Forwarded` element says about who sent the request
/// to the proxy that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hop {
    /// An address.
    Ip(IpAddr),
    /// Not an address: `unknown`, an obfuscated identifier (`_hidden`), a `Forwarded` element
    /// without `for`, or bytes that do not parse. It says nothing about the client.
    Opaque,
}

/// An IPv4-mapped IPv6 address as the IPv4 one, so both spell one client.
pub(super) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443` (the port
/// may be an RFC 7239 obfuscated port, `_p1`); anything else (`unknown`, `_hidden`, a host
/// name, a zone id) is `None`.
pub(super) fn parse_node(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let v6: Ipv6Addr = v6.parse().ok()?;
        return (after.is_empty() || after.strip_prefix(':').is_some_and(is_port))
            .then(|| canonical(IpAddr::V6(v6)));
    }
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    let (v4, port) = node.split_once(':')?;
    let v4: Ipv4Addr = v4.parse().ok()?;
    is_port(port).then_some(IpAddr::V4(v4))
}

/// RFC 7239 `node-port`: 1 to 5 digits, or `_` and `ALPHA / DIGIT / "." / "_" / "-"`.
fn is_port(port: &str) -> bool {
    let b = port.as_bytes();
    match b.split_first() {
        Some((b'_', rest)) => {
            !rest.is_empty()
                && rest
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        }
        _ => (1..=5).contains(&b.len()) && b.iter().all(u8::is_ascii_digit),
    }
}

/// Trims optional whitespace (SP, HTAB) from both ends.
pub(super) fn trim_ows(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_forms() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(parse_node("192.0.2.1"), ip("192.0.2.1"));
        assert_eq!(parse_node("192.0.2.1:8080"), ip("192.0.2.1"));
        assert_eq!(parse_node("192.0.2.1:_p"), ip("192.0.2.1"));
        assert_eq!(parse_node("2001:db8::1"), ip("2001:db8::1"));
        assert_eq!(parse_node("[2001:db8::1]"), ip("2001:db8::1"));
        assert_eq!(parse_node("[2001:db8::1]:443"), ip("2001:db8::1"));
        assert_eq!(parse_node("[::ffff:192.0.2.9]"), ip("192.0.2.9"));
        for bad in [
            "unknown",
            "_hidden",
            "",
            "[2001:db8::1]x",
            "[2001:db8::1]:",
            "[2001:db8::1]:123456",
            "192.0.2.1:",
            "192.0.2.1:_",
            "example.com",
            "fe80::1%eth0",
            "[192.0.2.1]",
        ] {
            assert_eq!(parse_node(bad), None, "{bad:?}");
        }
        assert_eq!(trim_ows(b" \t a b\t "), b"a b");
        assert_eq!(trim_ows(b"  "), b"");
    }
}
