//! Every metric of the crate, through the `metrics` facade:
//! - every name in `metrics::ALL` has a description (and unit) registered once a layer is
//!   built, so a `/metrics` exporter prints its `# HELP` line;
//! - every store call is timed in the backend latency histogram, by operation, on memory,
//!   Redis and the cluster;
//! - the counters: admitted, limited (with the denying policy), deny-cache hits, backend
//!   errors (with the failure policy) and requests without a key; and every request with a
//!   key is counted once as allowed, limited, failed open or unavailable.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Probe, from_ip, ok_service, status_service};
use http::{Request, StatusCode};
use tower::{Layer, ServiceExt};
use tower_vigil_core::{Backend, BackendError, BackendResult, FailurePolicy, MemoryBackend};
use tower_vigil_ratelimit::metrics::{
    ALL, ALLOWED_TOTAL, BACKEND_DURATION_SECONDS, BACKEND_ERRORS_TOTAL, DENY_CACHE_HITS_TOTAL,
    FAILED_OPEN_TOTAL, LIMITED_TOTAL, MISSING_KEY_TOTAL, UNAVAILABLE_TOTAL,
};
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_tests::fixtures;
use tower_vigil_tests::intercept::{Intercepted, Interceptor};
use tower_vigil_tests::metrics::Counters;

/// A backend whose every call fails, as a dead Redis would.
fn down() -> Probe<MemoryBackend> {
    let backend = Probe::new(fixtures::memory());
    backend.fail_with(Some(|| {
        BackendError::timeout(std::time::Duration::from_millis(250))
    }));
    backend
}

#[test]
fn counters_are_emitted() {
    let counters = Counters::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(&counters, || {
        rt.block_on(async {
            let svc = RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(5))
                .build()
                .unwrap()
                .layer(ok_service());
            for _ in 0..15 {
                svc.clone().oneshot(from_ip("192.0.2.90")).await.unwrap();
            }
            svc.oneshot(Request::new(String::new())).await.unwrap();
            let down = RateLimitLayer::builder(down(), Quota::per_minute(5))
                .build()
                .unwrap()
                .layer(ok_service());
            for _ in 0..3 {
                assert_eq!(
                    down.clone()
                        .oneshot(from_ip("192.0.2.91"))
                        .await
                        .unwrap()
                        .status(),
                    200
                );
            }
        });
    });
    assert_eq!(
        counters.series(&format!("{ALLOWED_TOTAL}{{shadow=false}}")),
        5
    );
    assert_eq!(
        counters.series(&format!("{LIMITED_TOTAL}{{policy=default,shadow=false}}")),
        10
    );
    assert_eq!(counters.series(&format!("{DENY_CACHE_HITS_TOTAL}{{}}")), 9);
    assert_eq!(
        counters.series(&format!("{MISSING_KEY_TOTAL}{{action=reject}}")),
        1
    );
    assert_eq!(
        counters.series(&format!(
            "{BACKEND_ERRORS_TOTAL}{{failure_policy=open,kind=timeout}}"
        )),
        3
    );
}

/// A memory store whose every call numbered 1 or 2 modulo 3 fails: with a layer that refunds
/// every response, request after request alternates between an admitted call whose refund
/// fails and a call that fails open.
#[derive(Debug, Default)]
struct Flaky {
    calls: AtomicUsize,
}

impl Interceptor for Flaky {
    async fn before(&self, _: &'static str) -> BackendResult<()> {
        if self.calls.fetch_add(1, Ordering::SeqCst).is_multiple_of(3) {
            Ok(())
        } else {
            Err(BackendError::timeout(std::time::Duration::from_millis(250)))
        }
    }
}

fn counted(policy: FailurePolicy, sent: usize) -> Counters {
    let counters = Counters::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store: Intercepted<_, Flaky> = Intercepted::new(fixtures::memory());
    metrics::with_local_recorder(&counters, || {
        rt.block_on(async {
            let svc = RateLimitLayer::builder(store, Quota::per_minute(1000))
                .failure_policy(policy)
                // Only 401s count: every other response is refunded.
                .charge_when(|status| status == 401)
                .build()
                .unwrap()
                .layer(ok_service());
            for _ in 0..sent {
                svc.clone().oneshot(from_ip("192.0.2.92")).await.unwrap();
            }
        });
    });
    counters
}

#[test]
fn every_request_is_counted_once_whatever_the_store_does() {
    // Issue 13 (restart loops): allowed + limited + failed open + unavailable must add up to
    // the requests sent; the backend-error count mixes failed refunds in and cannot stand in.
    let sent = 12;
    for policy in [FailurePolicy::Open, FailurePolicy::Closed] {
        let c = counted(policy, sent);
        let (allowed, limited) = (c.get(ALLOWED_TOTAL), c.get(LIMITED_TOTAL));
        let (failed_open, unavailable) = (c.get(FAILED_OPEN_TOTAL), c.get(UNAVAILABLE_TOTAL));
        assert_eq!(
            allowed + limited + failed_open + unavailable,
            sent as u64,
            "{policy}: allowed {allowed}, limited {limited}, failed open {failed_open}, \
             unavailable {unavailable}"
        );
        assert_eq!(allowed, 6, "{policy}");
        let (open, closed) = if policy == FailurePolicy::Open {
            (6, 0)
        } else {
            (0, 6)
        };
        assert_eq!((failed_open, unavailable), (open, closed), "{policy}");
        assert_eq!(
            c.get(BACKEND_ERRORS_TOTAL),
            12,
            "{policy}: 6 refunds, 6 acquires"
        );
    }
}

#[test]
fn building_a_layer_describes_every_metric() {
    let counters = Counters::default();
    counters.run(|| async {
        RateLimitLayer::builder(fixtures::memory(), Quota::per_minute(5))
            .build()
            .unwrap();
    });
    counters.assert_described(&ALL);
}

/// One request charged (acquire) and refunded (a 500 does not count).
async fn acquire_and_refund_are_timed<B: Backend>(counters: &Counters, store: B) {
    let svc = RateLimitLayer::builder(store, Quota::per_minute(5))
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
