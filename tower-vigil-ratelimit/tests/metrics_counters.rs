//! The counters reach the `metrics` facade: admitted, limited (with the denying policy),
//! deny-cache hits, backend errors (with the failure policy) and unidentified requests.

mod common;

use common::{from_ip, ok_service};
use http::Request;
use tower::{Layer, ServiceExt};
use tower_vigil_core::BackendError;
use tower_vigil_ratelimit::layer::metrics::{
    ALLOWED_TOTAL, BACKEND_ERRORS_TOTAL, DENY_CACHE_HITS_TOTAL, LIMITED_TOTAL, UNIDENTIFIED_TOTAL,
};
use tower_vigil_ratelimit::{Acquire, Decision, Quota, RateLimitLayer, RateLimitStore};
use tower_vigil_tests::fixtures;

use tower_vigil_tests::metrics::Counters;

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
        counters.series(&format!("{UNIDENTIFIED_TOTAL}{{action=reject}}")),
        1
    );
    assert_eq!(
        counters.series(&format!(
            "{BACKEND_ERRORS_TOTAL}{{failure_policy=open,kind=timeout}}"
        )),
        3
    );
}
