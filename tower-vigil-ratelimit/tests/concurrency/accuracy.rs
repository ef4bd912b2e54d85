//! Accuracy under concurrency: 4 independent layer instances (standing in for 4 app servers)
//! share one store; 2,000 concurrent requests on one key with a limit of 100 per minute.
//! Exactly 100 are admitted for GCRA, sliding log, token bucket and fixed window; the
//! sliding-window counter stays within its documented bound (at most 2 × limit in a window).
//!
//! The clock is frozen (an injected app clock) so the result cannot depend on how long 2,000
//! requests take on a loaded machine: with real time, GCRA would rightly admit a 101st
//! request 600 ms in.

use crate::common::{T0, from_ip, ok_service};
use tokio::task::JoinSet;
use tower::ServiceExt;
use tower_vigil_core::Backend;
use tower_vigil_core::{MemoryBackend, RedisBackend};
use tower_vigil_ratelimit::{Algorithm, Clock, Quota, RateLimitLayer};
use tower_vigil_tests::fixtures;

const REQUESTS: usize = 2_000;
const LIMIT: u32 = 100;

/// Sends `REQUESTS` concurrent requests from one IP, spread over the 4 stores' layers, and
/// returns how many were admitted.
async fn admitted<B: Backend>(stores: [B; 4], algorithm: Algorithm) -> usize {
    let layers: Vec<_> = stores
        .into_iter()
        .map(|store| {
            RateLimitLayer::builder(store, Quota::per_minute(LIMIT))
                .algorithm(algorithm)
                .clock(Clock::custom(|| T0))
                .build()
                .unwrap()
        })
        .collect();
    let mut tasks = JoinSet::new();
    for i in 0..REQUESTS {
        let svc = tower::ServiceBuilder::new()
            .layer(layers[i % 4].clone())
            .service(ok_service());
        tasks.spawn(async move { svc.oneshot(from_ip("198.51.100.1")).await.unwrap().status() });
    }
    let mut ok = 0;
    while let Some(status) = tasks.join_next().await {
        let status = status.unwrap();
        assert!(status == 200 || status == 429, "{status}");
        ok += usize::from(status == 200);
    }
    ok
}

fn check(algorithm: Algorithm, ok: usize) {
    let limit = LIMIT as usize;
    if algorithm == Algorithm::SlidingWindowCounter {
        assert!(
            (limit..=2 * limit).contains(&ok),
            "{algorithm}: {ok} admitted"
        );
    } else {
        assert_eq!(ok, limit, "{algorithm}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_layers_sharing_memory_admit_exactly_the_limit() {
    for algorithm in Algorithm::ALL {
        let store: MemoryBackend = fixtures::memory();
        let ok = admitted(
            [store.clone(), store.clone(), store.clone(), store],
            algorithm,
        )
        .await;
        check(algorithm, ok);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_layers_sharing_redis_admit_exactly_the_limit() {
    for algorithm in Algorithm::ALL {
        let stores: [RedisBackend; 4] = fixtures::redis_instances().await;
        check(algorithm, admitted(stores, algorithm).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_layers_sharing_a_cluster_admit_exactly_the_limit() {
    for algorithm in Algorithm::ALL {
        let stores: [RedisBackend; 4] = fixtures::cluster_instances().await;
        check(algorithm, admitted(stores, algorithm).await);
    }
}
