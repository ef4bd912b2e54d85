//! The deny cache answers a key known to be over its limit in-process until its retry time:
//! under a flood from one key, backend calls drop to about one per key per interval.

mod common;

use std::time::Duration;

use common::{Probe, from_ip, ok_service};
use tower::{Layer, ServiceExt};
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_tests::fixtures;

async fn flood<B: Backend>(store: Probe<B>, cache: bool, expected_calls: usize) {
    let layer = RateLimitLayer::builder(store.clone(), Quota::per_minute(5))
        .deny_cache(cache.then_some(1_000))
        .build()
        .unwrap();
    let svc = layer.layer(ok_service());
    let mut ok = 0;
    for _ in 0..500 {
        let res = svc.clone().oneshot(from_ip("203.0.113.77")).await.unwrap();
        ok += usize::from(res.status() == 200);
    }
    assert_eq!(ok, 5);
    assert_eq!(store.calls(), expected_calls);
    // Another key is not affected by this one's denial.
    assert_eq!(
        svc.oneshot(from_ip("203.0.113.78")).await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn a_flood_costs_one_backend_call_per_interval_on_memory() {
    flood(Probe::new(fixtures::memory()), true, 6).await;
}

#[tokio::test]
async fn a_flood_costs_one_backend_call_per_interval_on_redis() {
    flood(Probe::new(fixtures::redis().await), true, 6).await;
}

#[tokio::test]
async fn without_the_cache_every_request_asks_the_backend() {
    flood(Probe::new(fixtures::memory()), false, 500).await;
}

#[tokio::test(start_paused = true)]
async fn the_backend_is_asked_again_once_the_retry_time_has_passed() {
    let store = Probe::new(fixtures::memory());
    let svc = RateLimitLayer::builder(store.clone(), Quota::per_minute(1))
        .build()
        .unwrap()
        .layer(ok_service());
    let call = || svc.clone().oneshot(from_ip("203.0.113.79"));
    assert_eq!(call().await.unwrap().status(), 200);
    for _ in 0..10 {
        assert_eq!(call().await.unwrap().status(), 429);
    }
    assert_eq!(store.calls(), 2);
    tokio::time::advance(Duration::from_secs(30)).await;
    let res = call().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(
        res.headers()["retry-after"],
        "30",
        "the cached wait shrinks with time"
    );
    assert_eq!(store.calls(), 2);
    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(call().await.unwrap().status(), 200);
    assert_eq!(store.calls(), 3);
}
