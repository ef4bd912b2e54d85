//! The failure policy with Redis stopped: every key is looked up in the store directly (so a
//! revocation there wins), a key validated recently is served from L1 only when the store
//! fails too, and a key never validated then gives 503.

mod common;

use std::sync::Arc;
use std::time::Duration;

use tower_vigil_apikey::{ApiKeyCache, ApiKeyData};
use tower_vigil_core::Backend;
use tower_vigil_core::RedisBackend;
use tower_vigil_tests::fixtures::unique_prefix;
use tower_vigil_tests::{RedisCluster, RedisServer};

use common::{TestStore, add_key, status_name};

const A: &str = "key-a-validated-before-outage";
const B: &str = "key-b-first-seen-during-outage";
const UNKNOWN: &str = "key-c-not-in-the-store-at-all";
const LATE: &str = "key-d-first-seen-store-down";

async fn connect(url: &str) -> RedisBackend {
    RedisBackend::builder(url)
        .prefix(unique_prefix())
        .timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap()
}

/// Warms a key, stops the backend with `stop`, checks the failure policy, and (when given)
/// restarts it with `restart` and checks the cache recovers by itself.
async fn stale_if_error_case<B: Backend>(
    backend: B,
    stop: impl FnOnce(),
    restart: Option<Box<dyn FnOnce()>>,
) {
    let store = TestStore::default();
    let cache = ApiKeyCache::builder(backend, store.clone())
        .l1_ttl(Duration::from_millis(50))
        .build()
        .unwrap();
    cache.ready().await;
    for (raw, id) in [(A, "k-a"), (B, "k-b"), (LATE, "k-d")] {
        add_key(&cache, &store, raw, ApiKeyData::new(id, "u-1"));
    }
    assert!(cache.check_key(A).await.is_valid());
    assert_eq!(store.lookups(), 1);

    stop();
    // Past the L1 freshness: every use now tries to revalidate, and the backend fails.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        cache.check_key(A).await.valid().unwrap().data().id,
        "k-a",
        "revalidated in the store"
    );
    assert_eq!(
        store.lookups(),
        2,
        "the store is asked before anything stale is served"
    );
    assert_eq!(
        cache.check_key(B).await.valid().unwrap().data().id,
        "k-b",
        "looked up in the store directly"
    );
    assert_eq!(store.lookups(), 3);
    assert_eq!(status_name(&cache.check_key(UNKNOWN).await), "unknown");
    assert_eq!(store.lookups(), 4);
    // A flood of that bad key while Redis is down (past L1 freshness) is answered by the
    // negative entry, not the store.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..20 {
        assert!(!cache.check_key(UNKNOWN).await.is_valid());
    }
    assert_eq!(store.lookups(), 4);

    store.set_failing(true);
    assert_eq!(status_name(&cache.check_key(LATE).await), "unavailable");
    assert!(
        cache.check_key(A).await.is_valid(),
        "still served stale while both fail"
    );

    // Recovery with no restart of the cache: revocation works again.
    store.set_failing(false);
    let Some(restart) = restart else { return };
    restart();
    tokio::time::timeout(Duration::from_secs(20), cache.ready())
        .await
        .expect("resubscribed");
    store.keys.remove(&cache.hash_key(A));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while cache.invalidate_key(A).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "redis never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status_name(&cache.check_key(A).await), "unknown");
    assert_eq!(
        cache.check_key(LATE).await.valid().unwrap().data().id,
        "k-d"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_if_error_with_redis_stopped() {
    let server = std::sync::Arc::new(parking_lot::Mutex::new(RedisServer::start()));
    let url = server.lock().url();
    let backend = connect(&url).await;
    let (s1, s2) = (server.clone(), server.clone());
    stale_if_error_case(
        backend,
        move || s1.lock().stop(),
        Some(Box::new(move || s2.lock().restart())),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_if_error_with_the_cluster_stopped() {
    let mut cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .unwrap();
    let backend = RedisBackend::cluster_builder(cluster.urls())
        .prefix(unique_prefix())
        .timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_secs(3))
        .connect()
        .await
        .unwrap();
    let stop = move || {
        for i in 0..3 {
            cluster.stop_node(i);
        }
    };
    stale_if_error_case(backend, stop, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_serving_stops_after_the_window() {
    let mut server = RedisServer::start();
    let backend = connect(&server.url()).await;
    let store = TestStore::default();
    let cache = ApiKeyCache::builder(backend, store.clone())
        .l1_ttl(Duration::from_millis(20))
        .stale_if_error(Duration::from_millis(150))
        .build()
        .unwrap();
    cache.ready().await;
    add_key(&cache, &store, A, ApiKeyData::new("k-a", "u-1"));
    assert!(cache.check_key(A).await.is_valid());
    server.stop();
    store.set_failing(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status_name(&cache.check_key(A).await), "unavailable");
}

const REVOKED: &str = "key-e-revoked-during-outage";
const HOT: &str = "key-f-hot-during-outage";

/// `n` concurrent `check_key(key)` calls, started together; every one must succeed.
async fn all_at_once<B: Backend>(cache: &ApiKeyCache<B, TestStore>, key: &'static str, n: usize) {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (cache, barrier) = (cache.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                cache
                    .check_key(key)
                    .await
                    .valid()
                    .map(|a| a.data().id.clone())
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "k-f");
    }
}

/// Issue 12, item 11: with the backend down and the key store up, the store decides. A key
/// revoked in the store (by another instance, whose invalidation cannot reach this one) is
/// rejected at once, not served from stale L1; its "not found" stands when the store then
/// fails too; a key validated before is served stale only when the store fails; and
/// concurrent requests make one store call, whether it succeeds or fails.
async fn the_store_decides_while_the_backend_is_down<B: Backend>(backend: B, stop: impl FnOnce()) {
    let store = TestStore::default();
    // Every request revalidates (no waiting for L1 freshness to run out).
    let cache = ApiKeyCache::builder(backend, store.clone())
        .l1_ttl(Duration::ZERO)
        .build()
        .unwrap();
    cache.ready().await;
    add_key(&cache, &store, REVOKED, ApiKeyData::new("k-e", "u-1"));
    add_key(&cache, &store, HOT, ApiKeyData::new("k-f", "u-1"));
    assert!(cache.check_key(REVOKED).await.is_valid());
    assert!(cache.check_key(HOT).await.is_valid());
    assert_eq!(store.lookups(), 2);

    stop();
    store.keys.remove(&cache.hash_key(REVOKED));
    assert_eq!(
        status_name(&cache.check_key(REVOKED).await),
        "unknown",
        "a key revoked in the store was served from stale L1"
    );
    store.set_failing(true);
    assert_eq!(
        status_name(&cache.check_key(REVOKED).await),
        "unknown",
        "the store's \"not found\" must win over the older stale entry"
    );
    store.set_failing(false);

    // A slow store keeps the first lookup in flight while the others arrive.
    store.set_delay(Duration::from_millis(200));
    let before = store.lookups();
    all_at_once(&cache, HOT, 50).await;
    assert_eq!(
        store.lookups(),
        before + 1,
        "50 concurrent requests, one store call"
    );

    store.set_failing(true);
    let before = store.lookups();
    all_at_once(&cache, HOT, 50).await;
    assert_eq!(
        store.lookups(),
        before + 1,
        "served stale after one failed store call, shared by all 50"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_decides_with_redis_stopped() {
    let mut server = RedisServer::start();
    let backend = connect(&server.url()).await;
    the_store_decides_while_the_backend_is_down(backend, move || server.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_decides_with_the_cluster_stopped() {
    let mut cluster = tokio::task::spawn_blocking(RedisCluster::start)
        .await
        .unwrap();
    let backend = RedisBackend::cluster_builder(cluster.urls())
        .prefix(unique_prefix())
        .timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_secs(3))
        .connect()
        .await
        .unwrap();
    let stop = move || {
        for i in 0..3 {
            cluster.stop_node(i);
        }
    };
    the_store_decides_while_the_backend_is_down(backend, stop).await;
}
