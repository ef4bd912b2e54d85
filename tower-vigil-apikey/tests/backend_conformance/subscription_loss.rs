//! While the invalidation subscription is down, L1 entries count as stale and are
//! revalidated before use: an invalidation missed during the gap cannot keep a key alive.

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_apikey::__private::record_keys;
use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, INVALIDATION_CHANNEL};
use tower_vigil_core::{Backend, MemoryBackend, RedisBackend};
use tower_vigil_tests::RedisServer;
use tower_vigil_tests::fixtures::redis_on;

use crate::common::{TestStore, add_key, cache, status_name};

const KEY: &str = "subscription-loss-key-000";

/// Warms `KEY`, then deletes it behind the caches' back (as a missed invalidation would
/// leave things), runs `lose` to break the subscription, and checks the key is revalidated.
async fn missed_invalidation_is_caught_after_a_loss<B, F, Fut>(backend: B, lose: F)
where
    B: Backend,
    F: FnOnce() -> Fut,
    Fut: Future<Output = ()>,
{
    let store = TestStore::default();
    let cache: ApiKeyCache<B, TestStore> = cache(backend.clone(), &store).await;
    add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    assert!(cache.check_key(KEY).await.is_valid());
    let hash = cache.hash_key(KEY);
    store.keys.remove(&hash);
    let (record, _) = record_keys(&hash);
    backend.delete(&record).await.unwrap();
    assert!(
        cache.check_key(KEY).await.is_valid(),
        "fresh L1 entry, no invalidation seen"
    );
    assert_eq!(store.lookups(), 1);

    lose().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while cache.stats().subscription_losses == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the loss was never reported"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(status_name(&cache.check_key(KEY).await), "unknown");
    assert_eq!(store.lookups(), 2, "revalidated against L2, then the store");
    tokio::time::timeout(Duration::from_secs(20), cache.ready())
        .await
        .expect("subscription restored");
    assert!(cache.stats().subscribed);
}

#[tokio::test(flavor = "current_thread")]
async fn memory_subscription_lag_marks_l1_stale() {
    let backend = tower_vigil_tests::fixtures::memory();
    let publisher: MemoryBackend = backend.clone();
    missed_invalidation_is_caught_after_a_loss(backend, || async move {
        // On one thread the subscriber cannot run while we publish: past the channel's
        // capacity it lags, which the subscription reports as lost.
        for _ in 0..2000 {
            publisher
                .publish(INVALIDATION_CHANNEL, Bytes::from_static(b"noise"))
                .await
                .unwrap();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_subscription_killed_marks_l1_stale() {
    let server = RedisServer::start();
    let backend: RedisBackend = redis_on(&server.url()).await;
    missed_invalidation_is_caught_after_a_loss(backend, || async {
        server
            .command(&["CLIENT", "KILL", "TYPE", "pubsub"])
            .expect("CLIENT KILL");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_subscription_killed_marks_l1_stale() {
    let backend = tower_vigil_tests::fixtures::cluster().await;
    missed_invalidation_is_caught_after_a_loss(backend, || async {
        let cluster = tower_vigil_tests::fixtures::shared_cluster();
        // Other tests' subscriptions on the shared cluster drop too; they only revalidate.
        for i in 0..3 {
            let _ = cluster.command(i, &["CLIENT", "KILL", "TYPE", "pubsub"]);
        }
    })
    .await;
}
