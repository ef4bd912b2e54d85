//! The failure policy with Redis stopped: keys validated recently are served from L1, others
//! are looked up in the store directly, and only a failing store too gives 503.

use std::time::Duration;

use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, RejectionKind};
use tower_vigil_core::RedisBackend;
use tower_vigil_tests::RedisServer;
use tower_vigil_tests::fixtures::unique_prefix;

use crate::common::{TestStore, add_key};

const A: &str = "key-a-validated-before-outage";
const B: &str = "key-b-first-seen-during-outage";
const UNKNOWN: &str = "key-c-not-in-the-store-at-all";
const LATE: &str = "key-d-first-seen-store-down";

async fn connect(url: &str) -> RedisBackend {
    RedisBackend::builder(url)
        .unwrap()
        .prefix(unique_prefix())
        .unwrap()
        .timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_if_error_with_redis_stopped() {
    let mut server = RedisServer::start();
    let backend = connect(&server.url()).await;
    let store = TestStore::default();
    let cache = ApiKeyCache::builder(backend, store.clone())
        .l1_ttl(Duration::from_millis(50))
        .build()
        .unwrap();
    cache.ready().await;
    for (raw, id) in [(A, "k-a"), (B, "k-b"), (LATE, "k-d")] {
        add_key(&cache, &store, raw, ApiKeyData::new(id, "u-1"));
    }
    assert!(cache.authenticate(A).await.is_ok());
    assert_eq!(store.lookups(), 1);

    server.stop();
    // Past the L1 freshness: every use now tries to revalidate, and the backend fails.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        cache.authenticate(A).await.unwrap().data().id,
        "k-a",
        "served stale from L1"
    );
    assert_eq!(store.lookups(), 1, "a stale serve asks no one");
    assert_eq!(
        cache.authenticate(B).await.unwrap().data().id,
        "k-b",
        "looked up in the store directly"
    );
    assert_eq!(store.lookups(), 2);
    assert_eq!(
        cache.authenticate(UNKNOWN).await.unwrap_err().kind(),
        RejectionKind::UnknownKey
    );

    store.set_failing(true);
    assert_eq!(
        cache.authenticate(LATE).await.unwrap_err().kind(),
        RejectionKind::Unavailable
    );
    assert!(
        cache.authenticate(A).await.is_ok(),
        "still served stale while both fail"
    );

    // Recovery with no restart of the cache: revocation works again.
    store.set_failing(false);
    server.restart();
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
    assert_eq!(
        cache.authenticate(A).await.unwrap_err().kind(),
        RejectionKind::UnknownKey
    );
    assert_eq!(cache.authenticate(LATE).await.unwrap().data().id, "k-d");
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
    assert!(cache.authenticate(A).await.is_ok());
    server.stop();
    store.set_failing(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        cache.authenticate(A).await.unwrap_err().kind(),
        RejectionKind::Unavailable
    );
}
