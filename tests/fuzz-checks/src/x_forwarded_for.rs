//! `X-Forwarded-For` behind trusted proxies (tower-vigil-ratelimit `key/x_forwarded_for.rs`):
//! the right-most untrusted hop is the client whatever the client wrote to its left.

use std::net::IpAddr;

use tower_vigil_ratelimit::key::ForwardedHeader;

/// Checks the right-most-untrusted-hop rule (see `proxy::check`).
pub fn check(data: &[u8]) {
    crate::proxy::check(data, ForwardedHeader::XForwardedFor, hop);
}

/// One hop for `ip`, in one of the forms proxies write (an IPv4 address also as IPv4-mapped
/// IPv6, which names the same client or proxy).
fn hop(ip: IpAddr, form: u8) -> String {
    match (ip, form % 4) {
        (IpAddr::V4(v4), 3) => format!("[::ffff:{v4}]:{}", 1000 + u16::from(form)),
        (IpAddr::V4(v4), 1) => format!("{v4}:{}", 1000 + u16::from(form)),
        (IpAddr::V6(v6), 1) => format!("[{v6}]:443"),
        (IpAddr::V6(v6), 2) => format!("[{v6}]"),
        (ip, _) => ip.to_string(),
    }
}
