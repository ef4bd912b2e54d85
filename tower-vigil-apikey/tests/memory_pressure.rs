//! A full Redis (`maxmemory` reached under `noeviction`): the shared cache (L2) cannot be
//! filled, yet keys still authenticate from the key store (the fill error is counted and
//! logged, never a request failure), and a revocation still takes the key out of L2 (a delete
//! needs no memory), so no other instance keeps accepting a revoked key from a cache it could
//! not clean. On a server and on a 3-master cluster, each its own (a full Redis breaks any
//! test sharing it).

mod common;

use common::{TestStore, add_key, cache};
use tower_vigil_apikey::metrics::{BACKEND_ERRORS_TOTAL, L2_HITS_TOTAL};
use tower_vigil_apikey::{ApiKeyData, KeyStatus};
use tower_vigil_core::RedisBackend;
use tower_vigil_tests::metrics::Counters;
use tower_vigil_tests::pressure::{Filled, Pressure};
use tower_vigil_tests::{RedisCluster, RedisServer, fixtures};

const FRESH: &str = "key-first-seen-on-a-full-redis";
const CACHED: &str = "key-cached-before-redis-filled";

async fn full_redis_neither_fails_nor_resurrects_keys(backend: RedisBackend, pressure: Pressure) {
    let counters = Counters::default();
    let _recorder = counters.install();
    let store = TestStore::default();
    let first = cache(backend.clone(), &store).await;
    add_key(&first, &store, FRESH, ApiKeyData::new("k-fresh", "u-1"));
    add_key(&first, &store, CACHED, ApiKeyData::new("k-cached", "u-1"));
    assert!(first.check_key(CACHED).await.is_valid());
    assert_eq!(store.lookups(), 1, "CACHED is now in L2");

    pressure.limit(2 << 20, "noeviction");
    assert_eq!(pressure.exhaust(), Filled::Refused);

    // The fill fails; the request does not.
    let before = counters.get(BACKEND_ERRORS_TOTAL);
    assert_eq!(
        first.check_key(FRESH).await.valid().unwrap().data().id,
        "k-fresh"
    );
    assert_eq!(store.lookups(), 2);
    assert_eq!(
        counters.get(BACKEND_ERRORS_TOTAL),
        before + 1,
        "the fill error is counted"
    );

    // Revoked in the store while Redis is full: the invalidation reaches L2 anyway.
    store.keys.remove(&first.hash_key(CACHED));
    first
        .invalidate_key(CACHED)
        .await
        .expect("a revocation needs no memory");
    let other = cache(backend.clone(), &store).await;
    let found = other.check_key(CACHED).await;
    assert!(matches!(found, KeyStatus::Unknown), "{found:?}");

    // Memory freed: FRESH was never shared (a second instance asks the store), and L2 fills.
    pressure.relieve();
    let third = cache(backend.clone(), &store).await;
    let lookups = store.lookups();
    assert!(third.check_key(FRESH).await.is_valid());
    assert_eq!(
        store.lookups(),
        lookups + 1,
        "the failed fill stored nothing"
    );
    let hits = counters.get(L2_HITS_TOTAL);
    let fourth = cache(backend, &store).await;
    assert!(fourth.check_key(FRESH).await.is_valid());
    assert_eq!(
        counters.get(L2_HITS_TOTAL),
        hits + 1,
        "filled once memory was freed"
    );
}

#[tokio::test]
async fn redis() {
    let server = RedisServer::start();
    let backend = fixtures::redis_on(&server.url()).await;
    full_redis_neither_fails_nor_resurrects_keys(backend, Pressure::on_server(&server)).await;
}

#[tokio::test]
async fn cluster() {
    let cluster = RedisCluster::start();
    let backend = fixtures::cluster_on(&cluster.urls()).await;
    full_redis_neither_fails_nor_resurrects_keys(backend, Pressure::on_cluster(&cluster)).await;
}
