//! Every rule the builders check, at `build()` and never in a setter or per request: the
//! cache's durations and capacity, the layer's header name and realm, the permission of
//! `require`; and the order of the setters never changes what is built.

use std::time::Duration;

use bytes::Bytes;
use http::Response;
use tower_vigil_apikey::{
    ApiKeyCache, ApiKeyCacheBuilder, ApiKeyLayer, ApiKeyRejection, RequirePermissionLayer,
    StaticKeyStore, require,
};
use tower_vigil_core::backend::MAX_TTL;
use tower_vigil_core::{ConfigError, MemoryBackend};

fn cache_builder() -> ApiKeyCacheBuilder<MemoryBackend, StaticKeyStore> {
    ApiKeyCache::builder(MemoryBackend::new(), StaticKeyStore::new())
}

fn field<T>(r: Result<T, ConfigError>) -> Option<&'static str> {
    r.err().map(|e| e.field())
}

/// Issue 12, item 17: every duration is bounded at build time, never an overflow or panic.
#[test]
fn absurd_durations_are_config_errors() {
    let too_long = MAX_TTL + Duration::from_secs(1);
    for d in [Duration::MAX, too_long] {
        assert_eq!(field(cache_builder().l2_ttl(d).build()), Some("l2_ttl"));
        assert_eq!(
            field(cache_builder().negative_ttl(d).build()),
            Some("negative_ttl")
        );
        assert_eq!(
            field(cache_builder().store_timeout(d).build()),
            Some("store_timeout")
        );
        assert_eq!(field(cache_builder().l1_ttl(d).build()), Some("l1_ttl"));
        assert_eq!(
            field(cache_builder().stale_if_error(d).build()),
            Some("stale_if_error")
        );
    }
}

#[test]
fn zero_turns_l1_freshness_and_stale_serving_off_and_is_refused_elsewhere() {
    assert_eq!(
        field(cache_builder().l2_ttl(Duration::ZERO).build()),
        Some("l2_ttl")
    );
    assert_eq!(
        field(cache_builder().negative_ttl(Duration::ZERO).build()),
        Some("negative_ttl")
    );
    assert_eq!(
        field(cache_builder().store_timeout(Duration::ZERO).build()),
        Some("store_timeout")
    );
    assert!(
        cache_builder()
            .l1_ttl(Duration::ZERO)
            .stale_if_error(Duration::ZERO)
            .build()
            .is_ok()
    );
}

#[test]
fn the_longest_durations_are_accepted() {
    let longest = cache_builder()
        .l1_ttl(MAX_TTL)
        .stale_if_error(MAX_TTL)
        .l2_ttl(MAX_TTL)
        .negative_ttl(MAX_TTL)
        .store_timeout(MAX_TTL)
        .build();
    assert!(longest.is_ok());
}

#[test]
fn l1_capacity_is_at_least_one() {
    assert_eq!(
        field(cache_builder().l1_capacity(0).build()),
        Some("l1_capacity")
    );
    assert!(cache_builder().l1_capacity(1).build().is_ok());
}

/// Setters only store: with two bad values the error names the same field whatever order
/// they were set in, and a bad value set then overwritten by a good one is no error.
#[test]
fn cache_setters_in_any_order_give_the_same_result() {
    let one = cache_builder()
        .negative_ttl(Duration::ZERO)
        .l2_ttl(Duration::ZERO)
        .build();
    let other = cache_builder()
        .l2_ttl(Duration::ZERO)
        .negative_ttl(Duration::ZERO)
        .build();
    assert_eq!(field(one), field(other));
    assert!(
        cache_builder()
            .l2_ttl(Duration::ZERO)
            .l2_ttl(Duration::from_secs(1))
            .build()
            .is_ok()
    );
}

/// The cache needs no runtime to be built: its invalidation subscription then starts with the
/// first call made inside one.
#[test]
fn a_cache_is_built_outside_a_runtime_and_subscribes_on_first_use() {
    let cache = ApiKeyCache::new(MemoryBackend::new(), StaticKeyStore::<()>::new());
    assert!(!cache.stats().subscribed);
    let built = cache_builder().build().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), built.ready())
            .await
            .expect("subscribed");
        assert!(built.stats().subscribed);
        assert!(!built.check_key("some-key-00000000001").await.is_valid());
    });
}

fn cache() -> ApiKeyCache<MemoryBackend, StaticKeyStore> {
    ApiKeyCache::new(MemoryBackend::new(), StaticKeyStore::new())
}

#[test]
fn the_header_name_must_be_a_header_other_than_authorization() {
    for bad in [
        "",
        "x api key",
        "x-api-key\n",
        "authorization",
        "Authorization",
    ] {
        assert_eq!(
            field(ApiKeyLayer::builder(cache()).header_name(bad).build()),
            Some("header_name"),
            "{bad:?}"
        );
    }
    assert!(
        ApiKeyLayer::builder(cache())
            .header_name("X-Vigil-Key")
            .build()
            .is_ok()
    );
}

#[test]
fn the_realm_is_quotable_printable_ascii() {
    for bad in ["", "q\"uote", "back\\slash", "caf\u{e9}", &"r".repeat(65)] {
        assert_eq!(
            field(ApiKeyLayer::builder(cache()).realm(bad).build()),
            Some("realm"),
            "{bad:?}"
        );
    }
    assert!(
        ApiKeyLayer::builder(cache())
            .realm("vigil api")
            .build()
            .is_ok()
    );
}

/// The layer's setters are independent: any order builds the same layer.
#[test]
fn layer_setters_in_any_order_give_the_same_layer() {
    let cache = cache();
    let one = ApiKeyLayer::builder(cache.clone())
        .header_name("x-key")
        .bearer(false)
        .strip_credentials(true)
        .realm("r")
        .build()
        .unwrap();
    let other = ApiKeyLayer::builder(cache)
        .realm("r")
        .strip_credentials(true)
        .bearer(false)
        .header_name("x-key")
        .build()
        .unwrap();
    assert_eq!(format!("{one:?}"), format!("{other:?}"));
}

#[test]
fn the_permission_is_a_scope_token() {
    for bad in [
        "",
        "has space",
        "q\"uote",
        "back\\slash",
        "caf\u{e9}",
        &"p".repeat(129),
    ] {
        assert_eq!(field(require(bad)), Some("permission"), "{bad:?}");
        assert_eq!(
            field(RequirePermissionLayer::builder(bad).build()),
            Some("permission")
        );
    }
    assert_eq!(require("analyze").unwrap().permission(), "analyze");
    assert!(require(&"p".repeat(128)).is_ok());
}

/// The response is erased at `build()`: a layer answering with a closure is the same type as
/// one answering with the default, so either fits wherever the layer's type is named.
#[test]
fn a_custom_response_does_not_change_the_layer_types() {
    let plain = |_: &ApiKeyRejection| Response::new(Bytes::from_static(b"no"));
    let layers: [ApiKeyLayer<MemoryBackend, StaticKeyStore>; 2] = [
        ApiKeyLayer::new(cache()),
        ApiKeyLayer::builder(cache())
            .response(plain)
            .build()
            .unwrap(),
    ];
    let checks: [RequirePermissionLayer; 2] = [
        require("read").unwrap(),
        RequirePermissionLayer::builder("read")
            .response(plain)
            .build()
            .unwrap(),
    ];
    assert_eq!(layers.len(), 2);
    assert!(checks.iter().all(|c| c.permission() == "read"));
}
