//! Client IPs behind trusted proxies: the right-most untrusted hop, spoofing ignored, IPv6
//! bucketed by prefix.

mod common;

use std::net::SocketAddr;

use common::{from_ip, ok_service};
use http::Request;
use tower::{Layer, ServiceExt};
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::key::{
    DEFAULT_IPV6_PREFIX, ForwardedHeader, KeyExtractor, MIN_IPV6_PREFIX, PeerIp, RequestHead,
    TrustedProxies,
};
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_tests::fixtures;

fn via(peer: &str, header: (&str, &str)) -> Request<String> {
    let mut req = Request::builder()
        .header(header.0, header.1)
        .body(String::new())
        .unwrap();
    req.extensions_mut()
        .insert(peer.parse::<SocketAddr>().unwrap());
    req
}

fn key(x: &impl KeyExtractor, req: &Request<String>) -> Option<String> {
    x.extract(&RequestHead::new(req))
}

fn proxies() -> TrustedProxies {
    TrustedProxies::new(["10.0.0.0/8", "2001:db8:ffff::/48"]).unwrap()
}

#[test]
fn a_spoofed_left_most_entry_is_ignored() {
    let req = via(
        "10.0.0.1:443",
        ("x-forwarded-for", "1.1.1.1, 203.0.113.5, 10.0.0.7"),
    );
    assert_eq!(key(&proxies(), &req).as_deref(), Some("ip:203.0.113.5"));
}

#[test]
fn repeated_headers_are_read_as_one_list() {
    let mut req = via("10.0.0.1:443", ("x-forwarded-for", "1.1.1.1"));
    req.headers_mut().append(
        "x-forwarded-for",
        "203.0.113.6:5555, 10.1.1.1".parse().unwrap(),
    );
    assert_eq!(key(&proxies(), &req).as_deref(), Some("ip:203.0.113.6"));
}

#[test]
fn an_untrusted_peer_is_the_client_whatever_it_claims() {
    let req = via("198.51.100.9:443", ("x-forwarded-for", "203.0.113.5"));
    assert_eq!(key(&proxies(), &req).as_deref(), Some("ip:198.51.100.9"));
}

#[test]
fn when_every_hop_is_trusted_the_left_most_is_the_client() {
    let req = via("10.0.0.1:443", ("x-forwarded-for", "10.9.9.9, 10.0.0.2"));
    assert_eq!(key(&proxies(), &req).as_deref(), Some("ip:10.9.9.9"));
    let none = via("10.0.0.1:443", ("x-other", "x"));
    assert_eq!(key(&proxies(), &none).as_deref(), Some("ip:10.0.0.1"));
}

#[test]
fn a_malformed_hop_where_the_client_should_be_identifies_nobody() {
    // Written by the trusted 10.0.0.2: never the proxy's address, which everyone shares.
    let req = via(
        "10.0.0.1:443",
        ("x-forwarded-for", "203.0.113.5, garbage, 10.0.0.2"),
    );
    assert_eq!(key(&proxies(), &req), None);
    // Left of the client, it is the client's own and changes nothing.
    let left = via(
        "10.0.0.1:443",
        ("x-forwarded-for", "garbage, 203.0.113.5, 10.0.0.2"),
    );
    assert_eq!(key(&proxies(), &left).as_deref(), Some("ip:203.0.113.5"));
}

#[test]
fn the_forwarded_header_is_read_too() {
    let fwd = proxies().header(ForwardedHeader::Forwarded);
    let req = via(
        "10.0.0.1:443",
        (
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:1:2::17]:4711";proto=https, for=10.0.0.3"#,
        ),
    );
    assert_eq!(key(&fwd, &req).as_deref(), Some("ip:2001:db8:1::/56"));
    let unknown = via("10.0.0.1:443", ("forwarded", "for=unknown"));
    assert_eq!(key(&fwd, &unknown), None, "never the proxy's address");
}

#[test]
fn ipv6_clients_are_grouped_by_56_by_default() {
    let req = via(
        "[2001:db8:ffff::1]:443",
        ("x-forwarded-for", "2001:db8:aa:bb:1:2:3:4"),
    );
    assert_eq!(
        key(&proxies(), &req).as_deref(),
        Some("ip:2001:db8:aa::/56")
    );
    let p64 = proxies().ipv6_prefix(64);
    assert_eq!(key(&p64, &req).as_deref(), Some("ip:2001:db8:aa:bb::/64"));
    let direct = via("[2001:db8:5:6:7:8:9:a]:1", ("x", "y"));
    assert_eq!(
        key(&PeerIp::new(), &direct).as_deref(),
        Some("ip:2001:db8:5::/56")
    );
    let full = PeerIp::new().ipv6_prefix(128);
    assert_eq!(
        key(&full, &direct).as_deref(),
        Some("ip:2001:db8:5:6:7:8:9:a")
    );
}

#[test]
fn an_ipv6_prefix_outside_32_to_128_is_a_config_error() {
    // Checked when the layer is built (`tests/builder.rs`), through `KeyExtractor::check`.
    for bad in [0, 31, 129, 200] {
        let e = proxies().ipv6_prefix(bad).check().unwrap_err();
        assert_eq!(e.field(), "ipv6_prefix");
        assert!(PeerIp::new().ipv6_prefix(bad).check().is_err(), "{bad}");
    }
    assert!(PeerIp::new().ipv6_prefix(MIN_IPV6_PREFIX).check().is_ok());
    assert_eq!(DEFAULT_IPV6_PREFIX, 56);
}

/// One customer's /56 holds 256 /64s: by default they share one quota.
async fn one_customer_s_56_shares_one_quota<B: Backend>(store: B) {
    let svc = RateLimitLayer::builder(store, Quota::per_minute(1))
        .build()
        .unwrap()
        .layer(ok_service());
    let from = |ip: &str| svc.clone().oneshot(from_ip(ip));
    assert_eq!(from("2001:db8:77:100::1").await.unwrap().status(), 200);
    assert_eq!(from("2001:db8:77:1ff::9").await.unwrap().status(), 429);
    assert_eq!(from("2001:db8:77:200::1").await.unwrap().status(), 200);
}

on_every_backend!(one_customer_s_56_shares_one_quota);

#[tokio::test]
async fn clients_behind_one_proxy_get_their_own_quotas() {
    let layer = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(1))
        .key(proxies())
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    let from = |client: &str| via("10.0.0.1:443", ("x-forwarded-for", client));
    assert_eq!(
        svc.clone()
            .oneshot(from("203.0.113.1"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        svc.clone()
            .oneshot(from("203.0.113.2"))
            .await
            .unwrap()
            .status(),
        200
    );
    // Prepending a fake address does not buy a new quota.
    let spoof = from("9.9.9.9, 203.0.113.1");
    assert_eq!(svc.oneshot(spoof).await.unwrap().status(), 429);
}
