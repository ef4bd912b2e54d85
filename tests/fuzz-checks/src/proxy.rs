//! What the two proxy-header targets share: a chain of hops the trusted proxies appended after
//! whatever the client wrote, and the right-most-untrusted-hop rule checked on it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use arbitrary::Unstructured;
use http::{HeaderName, HeaderValue, Request};
use tower_vigil_ratelimit::key::{
    ForwardedHeader, KeyExtractor, PeerIp, RequestHead, TrustedProxies,
};

use crate::input::header_lines;

/// The proxy the request arrives from (inside the trusted networks).
const PEER: &str = "10.0.0.1:443";

fn trusted(header: ForwardedHeader) -> TrustedProxies {
    TrustedProxies::new(["10.0.0.0/8", "2001:db8:ffff::/48"])
        .expect("valid networks")
        .header(header)
}

/// An address outside the trusted networks: the client.
fn client_ip(u: &mut Unstructured<'_>) -> arbitrary::Result<IpAddr> {
    Ok(if u.arbitrary::<bool>()? {
        let first = u.int_in_range(0x2400u16..=0x2fff)?;
        let rest: [u16; 7] = u.arbitrary()?;
        let mut s = [first; 8];
        s[1..].copy_from_slice(&rest);
        IpAddr::V6(Ipv6Addr::from(s))
    } else {
        let a = u.int_in_range(11u8..=223)?;
        let [b, c, d]: [u8; 3] = u.arbitrary()?;
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    })
}

/// An address inside the trusted networks: a proxy.
fn proxy_ip(u: &mut Unstructured<'_>) -> arbitrary::Result<IpAddr> {
    Ok(if u.arbitrary::<bool>()? {
        let r: [u16; 5] = u.arbitrary()?;
        IpAddr::V6(Ipv6Addr::new(
            0x2001, 0xdb8, 0xffff, r[0], r[1], r[2], r[3], r[4],
        ))
    } else {
        let [b, c, d]: [u8; 3] = u.arbitrary()?;
        IpAddr::V4(Ipv4Addr::new(10, b, c, d))
    })
}

fn request(name: &HeaderName, lines: &[HeaderValue], peer: SocketAddr) -> Request<()> {
    let mut req = Request::new(());
    for line in lines {
        req.headers_mut().append(name.clone(), line.clone());
    }
    req.extensions_mut().insert(peer);
    req
}

/// Checks the rule on `data`: the first bytes choose the client, the trusted proxies and the
/// forms each hop is written in (by `hop(ip, form)`, appended to the last line or on a line of
/// its own); the rest are the header lines the client sent before them.
pub(crate) fn check(data: &[u8], header: ForwardedHeader, hop: fn(IpAddr, u8) -> String) {
    let name = match header {
        ForwardedHeader::XForwardedFor => HeaderName::from_static("x-forwarded-for"),
        _ => http::header::FORWARDED,
    };
    let mut u = Unstructured::new(data);
    let Ok(client) = client_ip(&mut u) else {
        return;
    };
    let count = u.int_in_range(0u8..=3).unwrap_or(0);
    let mut ips = vec![client];
    for _ in 0..count {
        let Ok(ip) = proxy_ip(&mut u) else { return };
        ips.push(ip);
    }
    let mut hops = Vec::new();
    for ip in ips {
        let form: u8 = u.arbitrary().unwrap_or(0);
        let append: bool = u.arbitrary().unwrap_or(false);
        hops.push((hop(ip, form), append));
    }
    let client_lines = header_lines(u.take_rest(), 3);

    let extractor = trusted(header);
    let peer: SocketAddr = PEER.parse().expect("valid address");
    let key =
        |lines: &[HeaderValue]| extractor.extract(&RequestHead::new(&request(&name, lines, peer)));
    let expected = PeerIp::new().extract(&RequestHead::new(&request(
        &name,
        &[],
        SocketAddr::new(client, 1),
    )));

    let trusted_only = key(&append_hops(&[], &hops));
    assert_eq!(
        trusted_only, expected,
        "the trusted hops alone name the client"
    );
    let with_prefix = append_hops(&client_lines, &hops);
    assert_eq!(
        key(&with_prefix),
        trusted_only,
        "what the client wrote first changed the key: {with_prefix:?}"
    );
    // Whatever the client wrote, the key is an address key or nothing: never a value taken
    // from the header as is.
    if let Some(k) = key(&client_lines) {
        assert!(k.starts_with("ip:"), "{k:?}");
    }
    // A peer outside the trusted networks is the client: its headers are not believed.
    let direct = request(&name, &with_prefix, SocketAddr::new(client, 1));
    assert_eq!(extractor.extract(&RequestHead::new(&direct)), expected);
}

/// The header lines once each of `hops` (client first, then the proxies) was added by a
/// trusted proxy after `client_lines`: appended to the last line (`true`) or on its own line.
fn append_hops(client_lines: &[HeaderValue], hops: &[(String, bool)]) -> Vec<HeaderValue> {
    let mut out: Vec<Vec<u8>> = client_lines.iter().map(|v| v.as_bytes().to_vec()).collect();
    for (hop, append) in hops {
        match out.last_mut() {
            Some(last) if *append => last.extend_from_slice(format!(", {hop}").as_bytes()),
            _ => out.push(hop.clone().into_bytes()),
        }
    }
    out.iter()
        .map(|l| HeaderValue::from_bytes(l).expect("client bytes were filtered"))
        .collect()
}
