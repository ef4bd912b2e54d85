//! Proxy headers read from the right (issue 12, items 2 and 3): whatever a client writes
//! before what the trusted proxies append (junk bytes, open quotes, fake addresses, whole
//! header lines), the key is the one the trusted part alone gives.

mod common;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use common::ok_service;
use http::{HeaderName, HeaderValue, Request};
use proptest::prelude::*;
use tower::{Layer, ServiceExt};
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::key::{ForwardedHeader, KeyExtractor, RequestHead, TrustedProxies};
use tower_vigil_ratelimit::{Quota, RateLimitLayer};

const PEER: &str = "10.0.0.1:443";

fn proxies() -> TrustedProxies {
    TrustedProxies::new(["10.0.0.0/8", "2001:db8:ffff::/48"]).unwrap()
}

fn request(name: &str, lines: &[Vec<u8>]) -> Request<String> {
    let mut req = Request::new(String::new());
    let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
    for line in lines {
        let value = HeaderValue::from_bytes(line).unwrap();
        req.headers_mut().append(name.clone(), value);
    }
    req.extensions_mut()
        .insert(PEER.parse::<SocketAddr>().unwrap());
    req
}

fn key(x: &TrustedProxies, name: &str, lines: &[Vec<u8>]) -> Option<String> {
    x.extract(&RequestHead::new(&request(name, lines)))
}

fn forwarded() -> TrustedProxies {
    proxies().header(ForwardedHeader::Forwarded)
}

#[test]
fn an_open_quote_does_not_swallow_what_the_proxy_appended() {
    let appended = br#"for=9.9.9.9;x=", for=203.0.113.5"#.to_vec();
    assert_eq!(
        key(&forwarded(), "forwarded", &[appended]).as_deref(),
        Some("ip:203.0.113.5")
    );
    let quoted = br#"for=9.9.9.9;x=", for="[2001:db8:aa:bb::1]:443""#.to_vec();
    assert_eq!(
        key(&forwarded(), "forwarded", &[quoted]).as_deref(),
        Some("ip:2001:db8:aa::/56")
    );
    let lines = [br#"for=9.9.9.9;x=""#.to_vec(), b"for=203.0.113.5".to_vec()];
    assert_eq!(
        key(&forwarded(), "forwarded", &lines).as_deref(),
        Some("ip:203.0.113.5")
    );
}

#[test]
fn one_junk_byte_does_not_collapse_x_forwarded_for() {
    let line = b"\xff, 203.0.113.5, 10.0.0.2".to_vec();
    assert_eq!(
        key(&proxies(), "x-forwarded-for", &[line]).as_deref(),
        Some("ip:203.0.113.5")
    );
    let lines = [b"1.2.3.4 \xc3".to_vec(), b"203.0.113.6".to_vec()];
    assert_eq!(
        key(&proxies(), "x-forwarded-for", &lines).as_deref(),
        Some("ip:203.0.113.6")
    );
}

async fn clients_sending_junk_behind_one_proxy_keep_their_own_quotas<B: Backend>(store: B) {
    let svc = RateLimitLayer::builder(store, Quota::per_minute(1))
        .key(proxies())
        .build()
        .unwrap()
        .layer(ok_service());
    let from = |client: &str| {
        let line = [b"\xfe\xff, ".as_slice(), client.as_bytes()].concat();
        request("x-forwarded-for", &[line])
    };
    for client in ["203.0.113.1", "203.0.113.2", "203.0.113.3"] {
        let res = svc.clone().oneshot(from(client)).await.unwrap();
        assert_eq!(res.status(), 200, "{client} has its own quota");
    }
    let again = svc.clone().oneshot(from("203.0.113.1")).await.unwrap();
    assert_eq!(again.status(), 429);
}

on_every_backend!(clients_sending_junk_behind_one_proxy_keep_their_own_quotas);

/// Bytes a client can put in a header value, the delimiters of both headers weighted up.
fn client_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => prop::sample::select(b",\";=\\[]: _\t".to_vec()),
        2 => prop::sample::select(b"0123456789.forFOR".to_vec()),
        1 => 0x21u8..0x7f,
        1 => 0x80u8..=0xff,
    ];
    prop::collection::vec(byte, 0..32)
}

/// An untrusted client address.
fn client_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (11u8..=223, any::<[u8; 3]>()).prop_map(|(a, [b, c, d])| IpAddr::from([a, b, c, d])),
        (0x2400u16..0x2fff, any::<[u16; 7]>()).prop_map(|(first, rest)| {
            let mut s = [first; 8];
            s[1..].copy_from_slice(&rest);
            IpAddr::V6(Ipv6Addr::from(s))
        }),
    ]
}

/// A trusted proxy address.
fn proxy_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 3]>().prop_map(|[b, c, d]| IpAddr::from([10, b, c, d])),
        any::<[u16; 5]>().prop_map(|r| {
            IpAddr::V6(Ipv6Addr::new(
                0x2001, 0xdb8, 0xffff, r[0], r[1], r[2], r[3], r[4],
            ))
        }),
    ]
}

/// One `X-Forwarded-For` hop for `ip`, in one of the forms proxies write.
fn xff_hop(ip: IpAddr, form: u8) -> String {
    match (ip, form % 3) {
        (IpAddr::V4(v4), 1) => format!("{v4}:{}", 1000 + u16::from(form)),
        (IpAddr::V6(v6), 1) => format!("[{v6}]:443"),
        (IpAddr::V6(v6), 2) => format!("[{v6}]"),
        (ip, _) => ip.to_string(),
    }
}

/// One `Forwarded` element for `ip`, in one of the forms proxies write.
fn forwarded_element(ip: IpAddr, form: u8) -> String {
    let node = match (ip, form % 3) {
        (IpAddr::V4(v4), 0) => v4.to_string(),
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

/// The header lines once each of `hops` (client first, then the proxies) was added by a
/// trusted proxy after `client_lines`: appended to the last line (`true`) or on its own line.
fn lines(client_lines: &[Vec<u8>], hops: &[(String, bool)]) -> Vec<Vec<u8>> {
    let mut out = client_lines.to_vec();
    for (hop, append) in hops {
        match out.last_mut() {
            Some(last) if *append => last.extend_from_slice(format!(", {hop}").as_bytes()),
            _ => out.push(hop.clone().into_bytes()),
        }
    }
    out
}

proptest! {
    #[test]
    fn x_forwarded_for_ignores_anything_left_of_the_trusted_part(
        client_lines in prop::collection::vec(client_bytes(), 0..3),
        client in client_ip(),
        proxies_ips in prop::collection::vec(proxy_ip(), 0..3),
        forms in prop::collection::vec((any::<u8>(), any::<bool>()), 4),
    ) {
        let hops: Vec<(String, bool)> = std::iter::once(client)
            .chain(proxies_ips)
            .zip(&forms)
            .map(|(ip, &(form, append))| (xff_hop(ip, form), append))
            .collect();
        let trusted_only = key(&proxies(), "x-forwarded-for", &lines(&[], &hops));
        let with_prefix = key(&proxies(), "x-forwarded-for", &lines(&client_lines, &hops));
        prop_assert!(trusted_only.is_some());
        prop_assert_eq!(with_prefix, trusted_only);
    }

    #[test]
    fn forwarded_ignores_anything_left_of_the_trusted_part(
        client_lines in prop::collection::vec(client_bytes(), 0..3),
        client in client_ip(),
        proxies_ips in prop::collection::vec(proxy_ip(), 0..3),
        forms in prop::collection::vec((any::<u8>(), any::<bool>()), 4),
    ) {
        let hops: Vec<(String, bool)> = std::iter::once(client)
            .chain(proxies_ips)
            .zip(&forms)
            .map(|(ip, &(form, append))| (forwarded_element(ip, form), append))
            .collect();
        let trusted_only = key(&forwarded(), "forwarded", &lines(&[], &hops));
        let with_prefix = key(&forwarded(), "forwarded", &lines(&client_lines, &hops));
        prop_assert!(trusted_only.is_some());
        prop_assert_eq!(with_prefix, trusted_only);
    }

    #[test]
    fn any_bytes_parse_without_panicking(
        lines in prop::collection::vec(client_bytes(), 0..4),
        long in prop::collection::vec(client_bytes(), 0..4),
    ) {
        let mut lines = lines;
        lines.push(long.concat().repeat(50));
        let _ = key(&proxies(), "x-forwarded-for", &lines);
        let _ = key(&forwarded(), "forwarded", &lines);
    }
}
