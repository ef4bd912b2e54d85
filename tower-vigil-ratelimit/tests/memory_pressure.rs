//! A full Redis (`maxmemory` reached under `noeviction`): every acquire fails with
//! `OutOfMemory`, and the layer follows its failure policy (open, closed, local) and counts the
//! failure with its kind; once memory is freed the store decides again, without a restart. On a
//! server and on a 3-master cluster (each test starts its own: a full Redis breaks any test
//! sharing it).

mod common;

use common::{from_ip, header, json, ok_service};
use tower::{Layer, ServiceExt};
use tower_vigil_core::{FailurePolicy, RedisBackend};
use tower_vigil_ratelimit::metrics::BACKEND_ERRORS_TOTAL;
use tower_vigil_ratelimit::{Quota, RateLimitLayer};
use tower_vigil_tests::metrics::Counters;
use tower_vigil_tests::pressure::{Filled, Pressure};
use tower_vigil_tests::{RedisCluster, RedisServer, fixtures};

/// Statuses of four requests from one client under `policy` (quota 2 per minute).
async fn statuses(backend: &RedisBackend, policy: FailurePolicy, ip: &str) -> Vec<u16> {
    let svc = RateLimitLayer::builder(backend.clone(), Quota::per_minute(2))
        .failure_policy(policy)
        .deny_cache(None)
        .build()
        .unwrap()
        .layer(ok_service());
    let mut out = Vec::new();
    for _ in 0..4 {
        let res = svc.clone().oneshot(from_ip(ip)).await.unwrap();
        out.push(res.status().as_u16());
        if res.status() == 503 {
            assert_eq!(header(&res, "content-type"), "application/problem+json");
            assert_eq!(json(res).await["status"], 503);
        }
    }
    out
}

async fn full_redis_follows_the_failure_policy(backend: RedisBackend, pressure: Pressure) {
    let counters = Counters::default();
    let _recorder = counters.install();
    pressure.limit(2 << 20, "noeviction");
    assert_eq!(pressure.exhaust(), Filled::Refused);

    assert_eq!(
        statuses(&backend, FailurePolicy::Open, "192.0.2.1").await,
        [200; 4]
    );
    assert_eq!(
        counters.series(&format!(
            "{BACKEND_ERRORS_TOTAL}{{failure_policy=open,kind=out of memory}}"
        )),
        4,
        "every failed-open request is counted as out of memory"
    );
    assert_eq!(
        statuses(&backend, FailurePolicy::Closed, "192.0.2.2").await,
        [503; 4]
    );
    assert_eq!(
        statuses(&backend, FailurePolicy::Local, "192.0.2.3").await,
        [200, 200, 429, 429]
    );
    assert_eq!(counters.get(BACKEND_ERRORS_TOTAL), 12);

    // Memory freed: the store decides again (a fresh client: 2 allowed, then limited).
    pressure.relieve();
    assert_eq!(
        statuses(&backend, FailurePolicy::Closed, "192.0.2.4").await,
        [200, 200, 429, 429]
    );
    assert_eq!(counters.get(BACKEND_ERRORS_TOTAL), 12);
}

#[tokio::test]
async fn redis() {
    let server = RedisServer::start();
    let backend = fixtures::redis_on(&server.url()).await;
    full_redis_follows_the_failure_policy(backend, Pressure::on_server(&server)).await;
}

#[tokio::test]
async fn cluster() {
    let cluster = RedisCluster::start();
    let backend = fixtures::cluster_on(&cluster.urls()).await;
    full_redis_follows_the_failure_policy(backend, Pressure::on_cluster(&cluster)).await;
}
