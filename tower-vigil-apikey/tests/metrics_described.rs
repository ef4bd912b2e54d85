//! Every metric in `metrics` has a description (and unit) registered once a cache is built,
//! so a `/metrics` exporter prints its `# HELP` line; and every backend call and key-store
//! lookup is timed in the latency histogram, by operation, on memory, Redis and the cluster.

mod common;

use tower_vigil_apikey::metrics::{ALL, BACKEND_DURATION_SECONDS};
use tower_vigil_apikey::{ApiKeyBackend, ApiKeyData};
use tower_vigil_tests::fixtures;
use tower_vigil_tests::metrics::Counters;

use common::{TestStore, add_key, cache};

#[test]
fn building_a_cache_describes_every_metric() {
    let counters = Counters::default();
    counters.run(|| async {
        cache(fixtures::memory(), &TestStore::default()).await;
    });
    counters.assert_described(&ALL);
}

const KEY: &str = "described-test-key-000001";

/// A miss (read, lookup, fill) then an invalidation (revoke, publish).
async fn backend_calls_are_timed<B: ApiKeyBackend>(counters: &Counters, backend: B) {
    let store = TestStore::default();
    let keys = cache(backend, &store).await;
    add_key(&keys, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    assert!(keys.authenticate(KEY).await.is_ok());
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
