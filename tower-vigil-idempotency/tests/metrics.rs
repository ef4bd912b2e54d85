//! Every metric in `metrics` has a description (and unit) registered once a layer is built,
//! so a `/metrics` exporter prints its `# HELP` line; every store call is timed in the
//! latency histogram, by operation, on memory, Redis and the cluster; and a store failure is
//! counted with the family's label names (`failure_policy`, `kind`).

mod common;

use http::StatusCode;
use tower_vigil_core::{Backend, BackendErrorKind, FailurePolicy, MemoryBackend};
use tower_vigil_idempotency::IdempotencyLayer;
use tower_vigil_idempotency::metrics::{ALL, BACKEND_DURATION_SECONDS, BACKEND_ERRORS_TOTAL};
use tower_vigil_tests::fixtures;
use tower_vigil_tests::metrics::Counters;

use common::failing;
use common::{Counter, post, send, service};

#[test]
fn building_a_layer_describes_every_metric() {
    let counters = Counters::default();
    counters.run(|| async {
        let _layer = IdempotencyLayer::new(fixtures::memory());
    });
    counters.assert_described(&ALL);
}

/// A first request (claim, complete) and its replay (claim).
async fn store_calls_are_timed<B: Backend>(counters: &Counters, store: B) {
    let svc = service(IdempotencyLayer::new(store), Counter::default());
    for _ in 0..2 {
        let res = send(&svc, post("/pay", "timed", "x")).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let series = |op: &str| format!("{BACKEND_DURATION_SECONDS}{{op={op}}}");
    assert_eq!(
        counters.histogram_series(BACKEND_DURATION_SECONDS),
        [series("claim"), series("complete")]
    );
    assert_eq!(counters.samples(&series("claim")), 2);
}

#[test]
fn store_calls_are_timed_on_memory() {
    let counters = Counters::default();
    counters.run(|| store_calls_are_timed(&counters, fixtures::memory()));
}

#[test]
fn store_calls_are_timed_on_redis() {
    let counters = Counters::default();
    counters.run(|| async { store_calls_are_timed(&counters, fixtures::redis().await).await });
}

#[test]
fn store_calls_are_timed_on_cluster() {
    let counters = Counters::default();
    counters.run(|| async { store_calls_are_timed(&counters, fixtures::cluster().await).await });
}

#[test]
fn a_store_failure_is_counted_by_failure_policy_and_kind() {
    let counters = Counters::default();
    counters.run(|| async {
        // Every claim fails, as on a dead Redis.
        let down = failing::refusing(MemoryBackend::new(), failing::CLAIM);
        let closed = service(IdempotencyLayer::new(down.clone()), Counter::default());
        let open = IdempotencyLayer::builder(down)
            .failure_policy(FailurePolicy::Open)
            .build()
            .unwrap();
        let open = service(open, Counter::default());
        let res = send(&closed, post("/pay", "a", "x")).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let res = send(&open, post("/pay", "b", "x")).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    });
    for policy in ["closed", "open"] {
        let kind = BackendErrorKind::Connection;
        assert_eq!(
            counters.series(&format!(
                "{BACKEND_ERRORS_TOTAL}{{failure_policy={policy},kind={kind}}}"
            )),
            1,
            "{policy}"
        );
    }
}
