//! The `vigil_apikey_*` metrics, read through a thread-local recorder on a one-thread
//! runtime:
//! - every metric in `metrics` has a description (and unit) registered once a cache is built,
//!   so a `/metrics` exporter prints its `# HELP` line;
//! - every backend call and key-store lookup is timed in the latency histogram, by operation,
//!   on memory, Redis and the cluster;
//! - the counters: what each tier answers, coalesced revalidation of a hot key, and the
//!   backend being skipped for a while after it fails.

mod common;

use std::future::Future;
use std::time::Duration;

use tower_vigil_apikey::metrics::{ALL, BACKEND_DURATION_SECONDS};
use tower_vigil_apikey::{ApiKeyCache, ApiKeyData, metrics as names};
use tower_vigil_core::Backend;
use tower_vigil_core::RedisBackend;
use tower_vigil_tests::RedisServer;
use tower_vigil_tests::fixtures::{self, memory, redis_on, shared_server};
use tower_vigil_tests::metrics::Counters;

use common::{TestStore, add_key, cache};

/// Runs `f` on a one-thread runtime with `counts` as the thread's recorder.
fn counted<F: Future<Output = ()>>(counts: &Counters, f: impl FnOnce() -> F) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    metrics::with_local_recorder(counts, || rt.block_on(f()));
}

const KEY: &str = "metrics-test-key-00000001";
const UNKNOWN: &str = "metrics-test-key-unknown1";

#[test]
fn each_tier_is_counted() {
    let counts = Counters::default();
    counted(&counts, || async {
        let store = TestStore::default();
        let backend = memory();
        let a = cache(backend.clone(), &store).await;
        add_key(&a, &store, KEY, ApiKeyData::new("k-1", "u-1"));
        assert!(a.check_key(KEY).await.is_valid());
        assert!(a.check_key(KEY).await.is_valid());
        assert!(!a.check_key(UNKNOWN).await.is_valid());
        assert!(!a.check_key(UNKNOWN).await.is_valid());
        let b = cache(backend, &store).await;
        assert!(b.check_key(KEY).await.is_valid());
        assert!(!b.check_key(UNKNOWN).await.is_valid());
        a.invalidate_key(KEY).await.unwrap();
    });
    assert_eq!(
        counts.get(names::STORE_LOOKUPS_TOTAL),
        2,
        "KEY and UNKNOWN once each"
    );
    assert_eq!(
        counts.get(names::L1_HITS_TOTAL),
        2,
        "second KEY and second UNKNOWN on a"
    );
    assert_eq!(counts.get(names::L2_HITS_TOTAL), 2, "KEY and UNKNOWN on b");
    assert_eq!(
        counts.get(names::NEGATIVE_HITS_TOTAL),
        2,
        "UNKNOWN from a's L1 and from L2 on b"
    );
    assert_eq!(counts.get(names::INVALIDATIONS_TOTAL), 1);
    assert_eq!(counts.get(names::BACKEND_ERRORS_TOTAL), 0);
}

#[test]
fn concurrent_revalidations_of_a_hot_key_are_coalesced() {
    let counts = Counters::default();
    counted(&counts, || async {
        let store = TestStore::default();
        // An L1 TTL of zero: every request revalidates, as while the subscription is down.
        let backend = redis_on(&shared_server().url()).await;
        let cache = ApiKeyCache::builder(backend, store.clone())
            .l1_ttl(Duration::ZERO)
            .build()
            .unwrap();
        cache.ready().await;
        add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
        assert!(cache.check_key(KEY).await.is_valid());
        counts.reset();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.check_key(KEY).await.is_valid() })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap());
        }
    });
    // The first request's read is already under way when the others arrive; the second
    // read serves every request that queued behind the first.
    let reads = counts.get(names::L2_HITS_TOTAL);
    assert!(
        (1..=3).contains(&reads),
        "{reads} L2 reads for 50 concurrent requests"
    );
}

#[test]
fn a_failed_backend_is_skipped_for_a_while() {
    let counts = Counters::default();
    counted(&counts, || async {
        let mut server = RedisServer::start();
        let backend = RedisBackend::builder(&server.url())
            .timeout(Duration::from_millis(300))
            .connect()
            .await
            .unwrap();
        let store = TestStore::default();
        let cache = ApiKeyCache::builder(backend, store.clone())
            .l1_ttl(Duration::ZERO)
            .build()
            .unwrap();
        cache.ready().await;
        add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
        assert!(cache.check_key(KEY).await.is_valid());
        server.stop();
        // The store fails too, so each request, having asked it first, is served stale.
        store.set_failing(true);
        for _ in 0..20 {
            assert!(cache.check_key(KEY).await.is_valid(), "served stale");
        }
        assert_eq!(store.lookups(), 21);
    });
    // One failure opens the pause; the requests after it do not wait on the dead backend.
    // (Two if the machine stalled past the 1 s pause in between.)
    let errors = counts.get(names::BACKEND_ERRORS_TOTAL);
    assert!(
        (1..=2).contains(&errors),
        "{errors} backend errors for 20 requests"
    );
    assert_eq!(counts.get(names::STALE_SERVED_TOTAL), 20);
}

#[test]
fn building_a_cache_describes_every_metric() {
    let counters = Counters::default();
    counters.run(|| async {
        cache(fixtures::memory(), &TestStore::default()).await;
    });
    counters.assert_described(&ALL);
}

/// A miss (read, lookup, fill) then an invalidation (revoke, publish).
async fn backend_calls_are_timed<B: Backend>(counters: &Counters, backend: B) {
    let store = TestStore::default();
    let keys = cache(backend, &store).await;
    add_key(&keys, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    assert!(keys.check_key(KEY).await.is_valid());
    keys.invalidate_key(KEY).await.unwrap();
    let ops: Vec<String> = ["fill", "lookup", "publish", "read", "revoke"]
        .iter()
        .map(|op| format!("{BACKEND_DURATION_SECONDS}{{op={op}}}"))
        .collect();
    assert_eq!(counters.histogram_series(BACKEND_DURATION_SECONDS), ops);
}

#[test]
fn backend_calls_are_timed_on_memory() {
    let counters = Counters::default();
    counters.run(|| backend_calls_are_timed(&counters, fixtures::memory()));
}

#[test]
fn backend_calls_are_timed_on_redis() {
    let counters = Counters::default();
    counters.run(|| async { backend_calls_are_timed(&counters, fixtures::redis().await).await });
}

#[test]
fn backend_calls_are_timed_on_cluster() {
    let counters = Counters::default();
    counters.run(|| async { backend_calls_are_timed(&counters, fixtures::cluster().await).await });
}
