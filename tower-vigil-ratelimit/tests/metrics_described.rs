//! Every metric in `layer::metrics` has a description (and unit) registered once a layer is
//! built, so a `/metrics` exporter prints its `# HELP` line; and every store call is timed in
//! the backend latency histogram, by operation, on memory, Redis and the cluster.

mod common;

use common::{from_ip, status_service};
use http::StatusCode;
use tower::{Layer, ServiceExt};
use tower_vigil_ratelimit::layer::metrics::{ALL, BACKEND_DURATION_SECONDS};
use tower_vigil_ratelimit::{Quota, RateLimitLayer, RateLimitStore};
use tower_vigil_tests::fixtures;
use tower_vigil_tests::metrics::Counters;

#[test]
fn building_a_layer_describes_every_metric() {
    let counters = Counters::default();
    counters.run(|| async {
        RateLimitLayer::builder(fixtures::memory())
            .quota(Quota::per_minute(5))
            .build()
            .unwrap();
    });
    counters.assert_described(&ALL);
}

/// One request charged (acquire) and refunded (a 500 does not count).
async fn acquire_and_refund_are_timed<St: RateLimitStore>(counters: &Counters, store: St) {
    let svc = RateLimitLayer::builder(store)
        .quota(Quota::per_minute(5))
        .refund_when(|s| s.is_server_error())
        .build()
        .unwrap()
        .layer(status_service());
    let mut req = from_ip("192.0.2.77");
    req.headers_mut().insert("x-status", 500.into());
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        counters.histogram_series(BACKEND_DURATION_SECONDS),
        [
            format!("{BACKEND_DURATION_SECONDS}{{op=acquire}}"),
            format!("{BACKEND_DURATION_SECONDS}{{op=refund}}"),
        ]
    );
}

#[test]
fn store_calls_are_timed_on_memory() {
    let counters = Counters::default();
    counters.run(|| acquire_and_refund_are_timed(&counters, fixtures::memory()));
}

#[test]
fn store_calls_are_timed_on_redis() {
    let counters = Counters::default();
    counters
        .run(|| async { acquire_and_refund_are_timed(&counters, fixtures::redis().await).await });
}

#[test]
fn store_calls_are_timed_on_cluster() {
    let counters = Counters::default();
    counters
        .run(|| async { acquire_and_refund_are_timed(&counters, fixtures::cluster().await).await });
}
