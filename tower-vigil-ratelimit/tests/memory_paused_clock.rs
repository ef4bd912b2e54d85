//! Every algorithm on the memory backend with its own clock (tokio's, paused): denied until
//! exactly the retry time the decision gave, admitted from then on, and state that expires
//! with the clock.

use std::time::Duration;

use tower_vigil_core::Backend;
use tower_vigil_ratelimit::{Acquire, Algorithm, Policy, Quota, RateLimitStore};
use tower_vigil_tests::fixtures;

#[tokio::test(start_paused = true)]
async fn each_algorithm_recovers_exactly_at_its_retry_time() {
    let store = fixtures::memory();
    for algorithm in Algorithm::ALL {
        let p = [Policy::with_algorithm("default", Quota::per_second(4), algorithm).unwrap()];
        let key = format!("paused-{algorithm}");
        for _ in 0..4 {
            assert!(
                store
                    .acquire(Acquire::new(&key, &p))
                    .await
                    .unwrap()
                    .allowed()
            );
        }
        let denied = store.acquire(Acquire::new(&key, &p)).await.unwrap();
        let wait = denied.retry_after().expect("denied");
        tokio::time::advance(wait - Duration::from_micros(1)).await;
        assert!(
            !store
                .acquire(Acquire::new(&key, &p))
                .await
                .unwrap()
                .allowed(),
            "{algorithm}"
        );
        tokio::time::advance(Duration::from_micros(1)).await;
        assert!(
            store
                .acquire(Acquire::new(&key, &p))
                .await
                .unwrap()
                .allowed(),
            "{algorithm}"
        );
        // Once idle for a period (plus the TTL slack), the key is gone, not merely full.
        tokio::time::advance(Duration::from_secs(4)).await;
        let k = &Acquire::new(&key, &p).keys()[0];
        assert_eq!(
            store.ttl(k).await.unwrap(),
            None,
            "{algorithm}: {k} outlived its state"
        );
    }
}
