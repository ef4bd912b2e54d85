//! The counters reach the `metrics` facade: admitted, limited (with the denying policy),
//! deny-cache hits, backend errors (with the failure policy) and unidentified requests.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{from_ip, ok_service};
use http::Request;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use tower::{Layer, ServiceExt};
use tower_vigil_core::BackendError;
use tower_vigil_ratelimit::layer::metrics::{
    ALLOWED_TOTAL, BACKEND_ERRORS_TOTAL, DENY_CACHE_HITS_TOTAL, LIMITED_TOTAL, UNIDENTIFIED_TOTAL,
};
use tower_vigil_ratelimit::{Acquire, Decision, Quota, RateLimitLayer, RateLimitStore};
use tower_vigil_tests::fixtures;

/// Counters by `name{label=value,…}`.
#[derive(Default)]
struct Counters(Mutex<HashMap<String, Arc<AtomicU64>>>);

impl Counters {
    fn get(&self, id: &str) -> u64 {
        let map = self.0.lock().unwrap();
        map.get(id).map_or(0, |c| c.load(Ordering::SeqCst))
    }
}

impl Recorder for Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        let id = format!("{}{{{}}}", key.name(), labels.join(","));
        let counter = self.0.lock().unwrap().entry(id).or_default().clone();
        Counter::from_arc(counter)
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// A store whose every call fails, as a dead Redis would.
#[derive(Debug, Clone)]
struct Down;

impl RateLimitStore for Down {
    async fn acquire(&self, _: Acquire<'_>) -> Result<Decision, BackendError> {
        Err(BackendError::timeout(std::time::Duration::from_millis(250)))
    }
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
            let svc = RateLimitLayer::builder(fixtures::memory())
                .quota(Quota::per_minute(5))
                .build()
                .unwrap()
                .layer(ok_service());
            for _ in 0..15 {
                svc.clone().oneshot(from_ip("192.0.2.90")).await.unwrap();
            }
            svc.oneshot(Request::new(String::new())).await.unwrap();
            let down = RateLimitLayer::builder(Down)
                .quota(Quota::per_minute(5))
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
    assert_eq!(counters.get(&format!("{ALLOWED_TOTAL}{{shadow=false}}")), 5);
    assert_eq!(
        counters.get(&format!("{LIMITED_TOTAL}{{policy=default,shadow=false}}")),
        10
    );
    assert_eq!(counters.get(&format!("{DENY_CACHE_HITS_TOTAL}{{}}")), 9);
    assert_eq!(
        counters.get(&format!("{UNIDENTIFIED_TOTAL}{{action=reject}}")),
        1
    );
    assert_eq!(
        counters.get(&format!(
            "{BACKEND_ERRORS_TOTAL}{{failure_policy=open,kind=timeout}}"
        )),
        3
    );
}
