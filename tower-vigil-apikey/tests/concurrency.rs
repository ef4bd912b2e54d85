//! Issue 13, concurrency attacks on the cache's single flight: a flood of requests with keys
//! that do not exist (what an attacker sends) reaches the key store once per key, and two
//! instances storming one cold key make at most one store call each.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use tokio::sync::Barrier;
use tower_vigil_apikey::{ApiKeyData, ApiKeyLayer};

#[macro_use]
mod common;

use common::backends::TestBackend;
use common::{TestStore, add_key, cache, service, status};

const KEY: &str = "test-key-0123456789abcdef";
const UNKNOWN: [&str; 2] = ["test-key-unknown-00000000", "test-key-unknown-11111111"];

/// 2 × 100 requests at once, each with one of two unknown keys: two store lookups, every
/// request refused.
async fn a_storm_of_unknown_keys_reaches_the_store_once_per_key<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    // A slow store keeps each first lookup in flight while the others arrive.
    store.set_delay(Duration::from_millis(100));
    let svc = service(ApiKeyLayer::new(cache(backend, &store).await));
    let barrier = Arc::new(Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (svc, barrier) = (svc.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                status(&svc, UNKNOWN[i % 2]).await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(store.lookups(), 2, "one lookup per unknown key");
}

/// Two instances (their own connections, sharing L2), 50 requests each at once for a key
/// neither has seen: each instance coalesces its misses into at most one store call.
async fn two_instances_storming_a_cold_key_make_one_lookup_each<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    store.set_delay(Duration::from_millis(100));
    let first = cache(backend.clone(), &store).await;
    let second = cache(backend.twin().await, &store).await;
    add_key(&first, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    let services = [first, second].map(|c| service(ApiKeyLayer::new(c)));
    let barrier = Arc::new(Barrier::new(100));
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (svc, barrier) = (services[i % 2].clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                status(&svc, KEY).await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let lookups = store.lookups();
    assert!(
        (1..=2).contains(&lookups),
        "{lookups} store lookups for two instances"
    );
}

on_every_backend!(
    a_storm_of_unknown_keys_reaches_the_store_once_per_key,
    two_instances_storming_a_cold_key_make_one_lookup_each,
);
