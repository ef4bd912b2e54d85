//! Durations are checked when the layer is built (issue 12, item 17): an absurd period is a
//! `ConfigError`, never an overflow or a panic, at build time or per request.

mod common;

use std::time::Duration;

use common::{from_ip, ok_service};
use tower::{Layer, ServiceExt};
use tower_vigil_ratelimit::{Algorithm, Policy, Quota, RateLimitLayer};
use tower_vigil_tests::fixtures;

const ABSURD: [Duration; 4] = [
    Duration::MAX,
    Duration::from_secs(u64::MAX),
    Duration::from_secs(11 * 365 * 86_400),
    Duration::ZERO,
];

#[test]
fn an_absurd_period_is_a_config_error() {
    for period in ABSURD {
        for algorithm in Algorithm::ALL {
            let quota = Quota::new(10, period);
            let e = Policy::with_algorithm("p", quota, algorithm).unwrap_err();
            assert_eq!(e.field(), "quota.period", "{period:?} {algorithm}");
            let built = RateLimitLayer::builder(fixtures::memory())
                .quota(quota)
                .algorithm(algorithm)
                .build();
            assert_eq!(built.unwrap_err().field(), "quota.period");
        }
    }
}

#[tokio::test]
async fn an_absurd_period_chosen_per_request_falls_back_to_the_configured_quota() {
    let svc = RateLimitLayer::builder(fixtures::memory())
        .quota(Quota::per_minute(1))
        .quota_for(|_| Some(Quota::new(1_000, Duration::MAX)))
        .build()
        .unwrap()
        .layer(ok_service());
    let ok = svc.clone().oneshot(from_ip("192.0.2.70")).await.unwrap();
    assert_eq!(ok.headers()["ratelimit-policy"], "\"default\";q=1;w=60");
    let denied = svc.oneshot(from_ip("192.0.2.70")).await.unwrap();
    assert_eq!(denied.status(), 429);
}
