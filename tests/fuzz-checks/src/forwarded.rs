//! RFC 7239 `Forwarded` behind trusted proxies (tower-vigil-ratelimit `key/forwarded.rs`):
//! the right-most untrusted element is the client whatever the client wrote to its left
//! (open quotes, escapes, junk bytes, whole lines).

use std::net::IpAddr;

use tower_vigil_ratelimit::key::ForwardedHeader;

/// Checks the right-most-untrusted-hop rule (see `proxy::check`).
pub fn check(data: &[u8]) {
    crate::proxy::check(data, ForwardedHeader::Forwarded, element);
}

/// One element for `ip`, in one of the forms proxies write (quoted or not, with a port, an
/// obfuscated port, IPv4-mapped IPv6, other parameters and a quoted-string holding commas
/// and escapes).
fn element(ip: IpAddr, form: u8) -> String {
    let node = match (ip, form % 5) {
        (IpAddr::V4(v4), 0) => v4.to_string(),
        (IpAddr::V4(v4), 4) => format!("\"[::ffff:{v4}]\""),
        (IpAddr::V4(v4), _) => format!("\"{v4}:{}\"", 1000 + u16::from(form)),
        (IpAddr::V6(v6), 0) => format!("\"[{v6}]\""),
        (IpAddr::V6(v6), _) => format!("\"[{v6}]:_p{form}\""),
    };
    match form % 4 {
        0 => format!("for={node}"),
        1 => format!("proto=https;For={node}"),
        2 => format!(r#"for={node};by=_hidden;ext="a, \"b\"; c""#),
        _ => format!("host=example.com;FOR={node}"),
    }
}
