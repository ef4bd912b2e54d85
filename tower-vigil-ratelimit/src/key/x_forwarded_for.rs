//! `X-Forwarded-For`: `client, proxy1, proxy2`, each proxy appending the address it was
//! connected from.
//!
//! The header is split on the **bytes** `,` (and across repeated header lines) before anything
//! is decoded, and each hop is parsed alone: a byte that is not UTF-8 or not visible ASCII
//! spoils only the hop it is in. Decoding the whole value first would turn one junk byte the
//! client wrote at the left into one unreadable value, hiding every address the trusted
//! proxies appended to its right.

use http::HeaderMap;

use super::hop::{Hop, parse_node, trim_ows};

/// The header's name.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Every hop, left to right, across repeated header lines; empty entries (`a,,b`, a trailing
/// comma) are skipped, as for any HTTP list.
pub(super) fn hops(headers: &HeaderMap) -> Vec<Hop> {
    headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .flat_map(|line| line.as_bytes().split(|&b| b == b','))
        .map(trim_ows)
        .filter(|hop| !hop.is_empty())
        .map(parse_hop)
        .collect()
}

fn parse_hop(hop: &[u8]) -> Hop {
    std::str::from_utf8(hop)
        .ok()
        .and_then(parse_node)
        .map_or(Hop::Opaque, Hop::Ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn one_junk_byte_spoils_only_its_own_hop() {
        let mut h = HeaderMap::new();
        let line = HeaderValue::from_bytes(b"1.1.1.1, \xff\xfeoops, 203.0.113.5:80").unwrap();
        h.append(X_FORWARDED_FOR, line);
        h.append(
            X_FORWARDED_FOR,
            HeaderValue::from_static(",[2001:db8::1]:443 ,"),
        );
        let ip = |s: &str| Hop::Ip(s.parse().unwrap());
        assert_eq!(
            hops(&h),
            [
                ip("1.1.1.1"),
                Hop::Opaque,
                ip("203.0.113.5"),
                ip("2001:db8::1")
            ]
        );
    }
}
