//! The builder: every value and every rule between values is checked by `build()` (a
//! `ConfigError` naming the field, never a panic or an overflow per request), setters never
//! fail, and the order of the setter calls never changes the layer.

mod common;

use std::time::Duration;

use common::{T0, from_ip, header, ok_service, status_service};
use http::{Request, StatusCode};
use tower::{Layer, ServiceExt};
use tower_vigil_ratelimit::key::{PeerIp, TrustedProxies};
use tower_vigil_ratelimit::{
    Algorithm, Clock, MAX_LOG_LIMIT, MemoryBackend, Policy, Quota, RateLimitBuilder, RateLimitLayer,
};
use tower_vigil_tests::fixtures;

const ABSURD: [Duration; 4] = [
    Duration::MAX,
    Duration::from_secs(u64::MAX),
    Duration::from_secs(11 * 365 * 86_400),
    Duration::ZERO,
];

fn builder(quota: Quota) -> RateLimitBuilder<MemoryBackend> {
    RateLimitLayer::builder(MemoryBackend::new(), quota)
}

/// The field the `ConfigError` of `b.build()` names.
fn field(b: RateLimitBuilder<MemoryBackend>) -> String {
    b.build().unwrap_err().field().to_owned()
}

#[test]
fn an_absurd_period_is_a_config_error() {
    for period in ABSURD {
        for algorithm in Algorithm::ALL {
            let quota = Quota::new(10, period);
            let e = Policy::with_algorithm("p", quota, algorithm).unwrap_err();
            assert_eq!(e.field(), "quota.period", "{period:?} {algorithm}");
            let built = RateLimitLayer::builder(fixtures::memory(), quota)
                .algorithm(algorithm)
                .build();
            assert_eq!(built.unwrap_err().field(), "quota.period");
        }
    }
}

#[tokio::test]
async fn an_absurd_period_chosen_per_request_falls_back_to_the_configured_quota() {
    let svc = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(1))
        .quota_for(|_| Some(Quota::new(1_000, Duration::MAX)))
        .build()
        .unwrap()
        .layer(ok_service());
    let ok = svc.clone().oneshot(from_ip("192.0.2.70")).await.unwrap();
    assert_eq!(ok.headers()["ratelimit-policy"], "\"default\";q=1;w=60");
    let denied = svc.oneshot(from_ip("192.0.2.70")).await.unwrap();
    assert_eq!(denied.status(), 429);
}

#[test]
fn bad_configuration_fails_at_build() {
    let store = MemoryBackend::new();
    assert!(
        RateLimitLayer::builder(store.clone(), Quota::per_minute(0))
            .build()
            .is_err()
    );
    assert!(
        RateLimitLayer::builder(store.clone(), Quota::per_minute(10).burst(5))
            .algorithm(Algorithm::FixedWindow)
            .build()
            .is_err(),
        "a window algorithm has no separate burst"
    );
    assert!(
        RateLimitLayer::builder(store.clone(), Quota::per_minute(20_000))
            .algorithm(Algorithm::SlidingWindowLog)
            .build()
            .is_err(),
        "the sliding log is capped"
    );
    assert!(
        RateLimitLayer::builder(store.clone(), Quota::per_minute(1))
            .policy(Policy::new("default", Quota::per_hour(5)).unwrap())
            .build()
            .is_err(),
        "duplicate names"
    );
    assert!(
        RateLimitLayer::builder(store, Quota::new(1, Duration::from_micros(10)))
            .build()
            .is_err(),
        "period under 1 ms"
    );
}

#[test]
fn every_quota_rule_names_its_field() {
    assert_eq!(field(builder(Quota::per_minute(0))), "quota.limit");
    assert_eq!(field(builder(Quota::per_minute(5).burst(0))), "quota.burst");
    assert_eq!(
        field(builder(Quota::new(5, Duration::from_micros(999)))),
        "quota.period"
    );
    assert_eq!(
        field(builder(Quota::new(5, Duration::from_secs(367 * 86_400)))),
        "quota.period"
    );
    assert_eq!(
        field(builder(Quota::new(u32::MAX, Duration::from_secs(86_400)))),
        "quota",
        "limit × period in µs past 2^52"
    );
    for algorithm in [
        Algorithm::SlidingWindowLog,
        Algorithm::SlidingWindowCounter,
        Algorithm::FixedWindow,
    ] {
        assert_eq!(
            field(builder(Quota::per_minute(10).burst(5)).algorithm(algorithm)),
            "quota.burst",
            "{algorithm} has no burst"
        );
        // A burst equal to the limit says nothing more: accepted.
        assert!(
            builder(Quota::per_minute(10).burst(10))
                .algorithm(algorithm)
                .build()
                .is_ok()
        );
    }
    assert_eq!(
        field(builder(Quota::per_minute(MAX_LOG_LIMIT + 1)).algorithm(Algorithm::SlidingWindowLog)),
        "quota.limit"
    );
    assert!(
        builder(Quota::per_minute(MAX_LOG_LIMIT))
            .algorithm(Algorithm::SlidingWindowLog)
            .build()
            .is_ok()
    );
}

#[test]
fn names_are_checked_and_unique() {
    let q = Quota::per_minute(5);
    for bad in ["", "has space", "quote\"", &"x".repeat(33)] {
        assert_eq!(field(builder(q).name(bad)), "policy.name", "{bad:?}");
    }
    assert!(builder(q).name("login-2_x").build().is_ok());
    // The quota's policy and an added one; two added ones.
    assert_eq!(
        field(builder(q).policy(Policy::new("default", q).unwrap())),
        "policy"
    );
    assert_eq!(
        field(
            builder(q)
                .name("login")
                .policy(Policy::new("login", q).unwrap())
        ),
        "policy"
    );
    assert_eq!(
        field(
            builder(q)
                .policy(Policy::new("hour", q).unwrap())
                .policy(Policy::new("hour", q).unwrap())
        ),
        "policy"
    );
    // Renamed, the quota's policy no longer collides with an added `default`.
    assert!(
        builder(q)
            .name("second")
            .policy(Policy::new("default", q).unwrap())
            .build()
            .is_ok()
    );
}

#[test]
fn a_deny_cache_of_no_keys_is_a_config_error() {
    let q = Quota::per_minute(5);
    assert_eq!(field(builder(q).deny_cache(Some(0))), "deny_cache");
    assert!(builder(q).deny_cache(Some(1)).build().is_ok());
    assert!(builder(q).deny_cache(None).build().is_ok());
}

#[test]
fn known_good_needs_a_rule_by_status() {
    let q = Quota::per_minute(10);
    let good =
        |req: &tower_vigil_ratelimit::key::RequestHead<'_>| req.headers().contains_key("x-ok");
    assert_eq!(field(builder(q).known_good(good)), "known_good");
    let unauthorized = |s: http::StatusCode| s == http::StatusCode::UNAUTHORIZED;
    assert!(
        builder(q)
            .known_good(good)
            .charge_when(unauthorized)
            .build()
            .is_ok()
    );
    assert!(
        builder(q)
            .refund_when(unauthorized)
            .known_good(good)
            .build()
            .is_ok()
    );
}

#[test]
fn the_key_extractors_settings_are_checked_at_build() {
    let q = Quota::per_minute(5);
    let proxies = || TrustedProxies::new(["10.0.0.0/8"]).unwrap();
    for bad in [0, 31, 129] {
        assert_eq!(
            field(builder(q).key(PeerIp::new().ipv6_prefix(bad))),
            "ipv6_prefix"
        );
        assert_eq!(
            field(builder(q).key(proxies().ipv6_prefix(bad))),
            "ipv6_prefix"
        );
    }
    for good in [32, 56, 64, 128] {
        assert!(
            builder(q)
                .key(PeerIp::new().ipv6_prefix(good))
                .build()
                .is_ok()
        );
        assert!(builder(q).key(proxies().ipv6_prefix(good)).build().is_ok());
    }
}

#[test]
fn new_takes_the_defaults() {
    let layer = RateLimitLayer::new(MemoryBackend::new(), Quota::per_minute(5));
    let built = builder(Quota::per_minute(5)).build().unwrap();
    assert_eq!(format!("{layer:?}"), format!("{built:?}"));
}

#[test]
#[should_panic(expected = "quota.limit")]
fn new_panics_on_an_invalid_quota() {
    let _ = RateLimitLayer::new(MemoryBackend::new(), Quota::per_minute(0));
}

/// Statuses a layer answers for `statuses` (the inner service's status, each in turn) from one
/// client at one instant.
async fn answers(layer: RateLimitLayer<MemoryBackend>, statuses: &[u16]) -> Vec<(u16, String)> {
    let svc = layer.layer(status_service());
    let mut out = Vec::new();
    for s in statuses {
        let mut req: Request<String> = from_ip("192.0.2.40");
        req.headers_mut().insert("x-status", (*s).into());
        let res = svc.clone().oneshot(req).await.unwrap();
        let rl = res
            .headers()
            .get("ratelimit")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        out.push((res.status().as_u16(), rl));
    }
    out
}

#[tokio::test]
async fn charge_when_and_refund_when_combine_in_either_order() {
    // Client errors count, except 429s from below; everything else is refunded.
    let counts = |s: StatusCode| s.is_client_error();
    let refunds = |s: StatusCode| s == StatusCode::TOO_MANY_REQUESTS;
    let base = || builder(Quota::per_minute(2)).clock(Clock::custom(|| T0));
    let a = base()
        .charge_when(counts)
        .refund_when(refunds)
        .build()
        .unwrap();
    let b = base()
        .refund_when(refunds)
        .charge_when(counts)
        .build()
        .unwrap();
    let statuses = [200, 429, 200, 401, 500, 429, 403, 200];
    let (a, b) = (answers(a, &statuses).await, answers(b, &statuses).await);
    assert_eq!(a, b);
    let codes: Vec<u16> = a.iter().map(|(s, _)| *s).collect();
    // 200, 429 and 500 are refunded, 401 and 403 count: the 2 units are gone after the 403.
    assert_eq!(codes, [200, 429, 200, 401, 500, 429, 403, 429]);
    assert_eq!(
        a[7].1, "\"default\";r=0;t=30",
        "the last one is the layer's own 429"
    );
}

#[tokio::test]
async fn the_quotas_name_and_algorithm_apply_in_any_order() {
    let hour = || Policy::new("hour", Quota::per_hour(100)).unwrap();
    let orders = [
        builder(Quota::per_minute(2))
            .name("login")
            .algorithm(Algorithm::FixedWindow)
            .policy(hour()),
        builder(Quota::per_minute(2))
            .policy(hour())
            .algorithm(Algorithm::FixedWindow)
            .name("login"),
        builder(Quota::per_minute(2))
            .algorithm(Algorithm::FixedWindow)
            .policy(hour())
            .name("login"),
    ];
    let mut seen = Vec::new();
    for b in orders {
        let layer = b.clock(Clock::custom(|| T0)).build().unwrap();
        let debug = format!("{layer:?}");
        let svc = layer.layer(ok_service());
        let res = svc.oneshot(from_ip("192.0.2.41")).await.unwrap();
        seen.push((
            debug,
            header(&res, "ratelimit-policy"),
            header(&res, "ratelimit"),
        ));
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:#?}");
    assert_eq!(seen[0].1, r#""login";q=2;w=60, "hour";q=100;w=3600"#);
    assert!(seen[0].0.contains("FixedWindow"), "{}", seen[0].0);
}
