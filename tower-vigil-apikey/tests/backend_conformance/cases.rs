//! The suite's cases, generic over the backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use http::{Request, StatusCode};
use tower::ServiceExt;
use tower_vigil_apikey::{
    ApiKeyCache, ApiKeyData, ApiKeyLayer, KeyFormat, ValidUntil, generate_key, require,
};

use crate::common::backends::{TestBackend, assert_clean};
use crate::common::{TestStore, add_key, cache, service, status, status_name};

const KEY: &str = "test-key-0123456789abcdef";
const OTHER: &str = "test-key-unknown-00000000";

async fn single_flight_100_cold_requests_make_one_store_lookup<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    // A slow store keeps the first lookup in flight while the other 99 arrive.
    store.set_delay(Duration::from_millis(100));
    let cache = cache(backend.clone(), &store).await;
    add_key(&cache, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    let svc = service(ApiKeyLayer::new(cache));
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (svc, barrier) = (svc.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                status(&svc, KEY).await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(store.lookups(), 1);
    assert_clean(&backend, &[KEY]).await;
}

async fn unknown_keys_are_cached_negatively_in_both_tiers<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    let first = cache(backend.clone(), &store).await;
    for _ in 0..20 {
        assert_eq!(status_name(&first.check_key(OTHER).await), "unknown");
    }
    assert_eq!(store.lookups(), 1, "L1 negative entry");
    let second = cache(backend.twin().await, &store).await;
    for _ in 0..20 {
        assert!(!second.check_key(OTHER).await.is_valid());
    }
    assert_eq!(store.lookups(), 1, "L2 negative entry");
    assert_clean(&backend, &[OTHER]).await;
}

async fn a_second_instance_is_served_from_l2_without_a_store_lookup<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    let first = cache(backend.clone(), &store).await;
    add_key(
        &first,
        &store,
        KEY,
        ApiKeyData::new("k-1", "u-1").organization("o-1"),
    );
    assert_eq!(first.check_key(KEY).await.valid().unwrap().data().id, "k-1");
    let second = cache(backend.twin().await, &store).await;
    let got = second.check_key(KEY).await.valid().unwrap();
    assert_eq!(got.principal().organization_id(), Some("o-1"));
    assert_eq!(store.lookups(), 1);
    assert_clean(&backend, &[KEY]).await;
}

async fn revocation_reaches_a_second_instance_within_one_second<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    let admin = cache(backend.clone(), &store).await;
    let other = cache(backend.twin().await, &store).await;
    add_key(&admin, &store, KEY, ApiKeyData::new("k-1", "u-1"));
    let svc = service(ApiKeyLayer::new(other.clone()));
    assert_eq!(status(&svc, KEY).await, StatusCode::OK);
    assert_eq!(
        status(&svc, KEY).await,
        StatusCode::OK,
        "now from the second instance's L1"
    );

    store.keys.remove(&admin.hash_key(KEY));
    admin.invalidate_key(KEY).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        if status(&svc, KEY).await == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second instance still accepts the revoked key after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // And it stays revoked.
    assert_eq!(status(&svc, KEY).await, StatusCode::UNAUTHORIZED);
    assert!(!admin.check_key(KEY).await.is_valid());
    assert_clean(&backend, &[KEY]).await;
}

async fn a_fill_racing_a_revocation_does_not_resurrect_the_key<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    let filler = cache(backend.clone(), &store).await;
    let admin = cache(backend.twin().await, &store).await;
    add_key(&filler, &store, KEY, ApiKeyData::new("k-1", "u-1"));

    // The lookup reads the key from the "database", then stalls before it can fill the caches.
    let gate = store.gate_next();
    let in_flight = tokio::spawn({
        let filler = filler.clone();
        async move { status_name(&filler.check_key(KEY).await) }
    });
    gate.entered.notified().await;
    // Meanwhile the key is deleted and revoked.
    store.keys.remove(&filler.hash_key(KEY));
    admin.invalidate_key(KEY).await.unwrap();
    gate.release.notify_one();

    // The racing request is answered from the store's current state, not the stale read.
    assert_eq!(in_flight.await.unwrap(), "unknown");
    for c in [&filler, &admin] {
        assert_eq!(status_name(&c.check_key(KEY).await), "unknown");
    }
    let third = cache(backend.twin().await, &store).await;
    assert!(
        !third.check_key(KEY).await.is_valid(),
        "a fresh instance must not find it in L2"
    );
    assert_clean(&backend, &[KEY]).await;
}

async fn creating_a_key_after_a_negative_hit_takes_effect_on_invalidate<B: TestBackend>(
    backend: B,
) {
    let store = TestStore::default();
    let a = cache(backend.clone(), &store).await;
    let b = cache(backend.twin().await, &store).await;
    assert!(!a.check_key(KEY).await.is_valid());
    assert!(!b.check_key(KEY).await.is_valid());
    add_key(&a, &store, KEY, ApiKeyData::new("k-new", "u-1"));
    a.invalidate_key(KEY).await.unwrap();
    assert_eq!(a.check_key(KEY).await.valid().unwrap().data().id, "k-new");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !b.check_key(KEY).await.is_valid() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the invalidation never reached b"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_clean(&backend, &[KEY]).await;
}

/// A clock the test sets (Unix seconds, starting at 1,000,000), and the clock to give a cache.
fn set_clock() -> (
    Arc<AtomicU64>,
    impl Fn() -> std::time::SystemTime + Send + Sync + 'static,
) {
    let now = Arc::new(AtomicU64::new(1_000_000));
    let read = Arc::clone(&now);
    let clock = move || UNIX_EPOCH + Duration::from_secs(read.load(Ordering::SeqCst));
    (now, clock)
}

async fn expired_keys_are_rejected<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    let (now, clock) = set_clock();
    let cache = ApiKeyCache::builder(backend.clone(), store.clone())
        .clock(clock)
        .build()
        .unwrap();
    cache.ready().await;
    let until = ValidUntil::from_unix_seconds(1_000_100);
    add_key(
        &cache,
        &store,
        KEY,
        ApiKeyData::new("k-1", "u-1").valid_until(until),
    );
    add_key(
        &cache,
        &store,
        OTHER,
        ApiKeyData::new("k-2", "u-1").valid_until(ValidUntil::from_unix_seconds(999_999)),
    );
    let svc = service(ApiKeyLayer::new(cache.clone()));
    assert_eq!(status(&svc, KEY).await, StatusCode::OK);
    now.store(1_000_100, Ordering::SeqCst);
    assert_eq!(status_name(&cache.check_key(KEY).await), "expired");
    assert_eq!(status(&svc, KEY).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_name(&cache.check_key(OTHER).await), "expired");
    assert_clean(&backend, &[KEY, OTHER]).await;
}

async fn permissions_are_checked_per_route<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    let cache = cache(backend.clone(), &store).await;
    add_key(
        &cache,
        &store,
        KEY,
        ApiKeyData::new("k-1", "u-1").permission("analyze"),
    );
    add_key(
        &cache,
        &store,
        OTHER,
        ApiKeyData::new("k-2", "u-1").permission("read"),
    );
    let app = axum::Router::new()
        .route(
            "/analyze",
            axum::routing::post(|| async { "ok" }).layer(require("analyze").unwrap()),
        )
        .route("/status", axum::routing::get(|| async { "ok" }))
        .layer(ApiKeyLayer::new(cache));
    let call = |method: &str, path: &str, key: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("x-api-key", key)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(
        app.clone()
            .oneshot(call("POST", "/analyze", KEY))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let denied = app
        .clone()
        .oneshot(call("POST", "/analyze", OTHER))
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let challenge = denied.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("analyze"),
        "{challenge}"
    );
    assert_eq!(
        app.oneshot(call("GET", "/status", OTHER))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_clean(&backend, &[KEY, OTHER]).await;
}

async fn badly_formatted_keys_never_reach_the_caches_or_the_store<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    let cache = ApiKeyCache::builder(backend.clone(), store.clone())
        .format(KeyFormat::issued("vg").unwrap())
        .build()
        .unwrap();
    cache.ready().await;
    let good = generate_key("vg").unwrap();
    add_key(&cache, &store, &good, ApiKeyData::new("k-1", "u-1"));
    let mut bad = good.clone().into_bytes();
    let i = 4;
    bad[i] = if bad[i] == b'Q' { b'R' } else { b'Q' };
    let bad = String::from_utf8(bad).unwrap();
    for k in [
        bad.as_str(),
        "vg_tooshort_abcdef",
        "sk_live_0123456789abcdef0123456789",
    ] {
        assert_eq!(status_name(&cache.check_key(k).await), "invalid_format");
    }
    assert_eq!(store.lookups(), 0);
    assert_eq!(cache.stats().l1_entries, 0);
    assert_eq!(
        cache.check_key(&good).await.valid().unwrap().data().id,
        "k-1"
    );
    assert_clean(&backend, &[&good, &bad]).await;
}

/// `knows_valid` answers only from a positive L1 entry, without any lookup: unknown,
/// malformed, not yet verified, expired and revoked keys are all "not known"; a verified key
/// stays known past its L1 TTL (it was verified here and not revoked since).
async fn knows_valid_is_true_only_for_a_verified_live_key<B: TestBackend>(backend: B) {
    let store = TestStore::default();
    let (now, clock) = set_clock();
    let cache = ApiKeyCache::builder(backend.clone(), store.clone())
        .clock(clock)
        .l1_ttl(Duration::from_millis(100))
        .build()
        .unwrap();
    cache.ready().await;
    let until = ValidUntil::from_unix_seconds(1_000_100);
    add_key(
        &cache,
        &store,
        KEY,
        ApiKeyData::new("k-1", "u-1").valid_until(until),
    );
    let layer = ApiKeyLayer::new(cache.clone());
    let headers = |key: &str| {
        let mut h = http::HeaderMap::new();
        h.insert("x-api-key", key.parse().unwrap());
        h
    };
    assert!(!cache.knows_valid(KEY), "not verified yet");
    assert!(!layer.knows_valid(&headers(KEY)));
    assert_eq!(store.lookups(), 0, "asking is not a lookup");
    assert!(!cache.knows_valid("short"), "malformed");
    assert!(!cache.check_key(OTHER).await.is_valid());
    assert!(
        !cache.knows_valid(OTHER),
        "a negative entry is not known valid"
    );

    assert!(cache.check_key(KEY).await.is_valid());
    assert!(cache.knows_valid(KEY));
    assert!(layer.knows_valid(&headers(KEY)));
    assert!(!layer.knows_valid(&http::HeaderMap::new()), "no credential");
    let mut both = headers(KEY);
    both.insert(
        http::header::AUTHORIZATION,
        format!("Bearer {OTHER}").parse().unwrap(),
    );
    assert!(!layer.knows_valid(&both), "an ambiguous credential");
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(cache.knows_valid(KEY), "past its L1 TTL, not revoked");

    now.store(1_000_100, Ordering::SeqCst);
    assert!(!cache.knows_valid(KEY), "expired");
    now.store(1_000_000, Ordering::SeqCst);
    assert!(cache.knows_valid(KEY));
    store.keys.remove(&cache.hash_key(KEY));
    cache.invalidate_key(KEY).await.unwrap();
    assert!(!cache.knows_valid(KEY), "revoked");
    assert_clean(&backend, &[KEY, OTHER]).await;
}

on_every_backend!(
    knows_valid_is_true_only_for_a_verified_live_key,
    single_flight_100_cold_requests_make_one_store_lookup,
    unknown_keys_are_cached_negatively_in_both_tiers,
    a_second_instance_is_served_from_l2_without_a_store_lookup,
    revocation_reaches_a_second_instance_within_one_second,
    a_fill_racing_a_revocation_does_not_resurrect_the_key,
    creating_a_key_after_a_negative_hit_takes_effect_on_invalidate,
    expired_keys_are_rejected,
    permissions_are_checked_per_route,
    badly_formatted_keys_never_reach_the_caches_or_the_store,
);
