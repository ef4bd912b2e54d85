//! `IdempotencyLayer::builder`: every setting is checked at `build()`, the error names the
//! setting, and the order of the setter calls never changes the layer.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Response};
use tower_vigil_core::backend::MAX_TTL;
use tower_vigil_core::{FailurePolicy, MemoryBackend};
use tower_vigil_idempotency::{
    IdempotencyLayer, IdempotencyLayerBuilder, IdempotencyRejection, ServerErrors, Unscoped,
};

fn builder() -> IdempotencyLayerBuilder<MemoryBackend> {
    IdempotencyLayer::builder(MemoryBackend::new())
}

/// The setting `build` refuses, or `None` when it builds.
fn refused(b: IdempotencyLayerBuilder<MemoryBackend>) -> Option<&'static str> {
    b.build().err().map(|e| e.field())
}

#[test]
fn the_defaults_build_and_new_is_them() {
    let store = MemoryBackend::new();
    let built = IdempotencyLayer::builder(store.clone()).build().unwrap();
    let new = IdempotencyLayer::new(store);
    assert_eq!(format!("{built:?}"), format!("{new:?}"));
}

#[test]
fn methods_need_at_least_one() {
    assert_eq!(refused(builder().methods([])), Some("methods"));
    assert_eq!(refused(builder().methods([Method::PUT])), None);
}

#[test]
fn the_lease_is_a_ttl_of_at_least_30_ms() {
    for bad in [
        Duration::ZERO,
        Duration::from_millis(29),
        MAX_TTL + Duration::from_millis(1),
        Duration::MAX,
    ] {
        assert_eq!(refused(builder().lease(bad)), Some("lease"), "{bad:?}");
    }
    for good in [Duration::from_millis(30), MAX_TTL] {
        assert_eq!(refused(builder().lease(good)), None, "{good:?}");
    }
}

#[test]
fn the_maximum_hold_is_a_ttl() {
    for bad in [
        Duration::ZERO,
        MAX_TTL + Duration::from_millis(1),
        Duration::MAX,
    ] {
        assert_eq!(
            refused(builder().max_hold(bad)),
            Some("max_hold"),
            "{bad:?}"
        );
    }
    for good in [Duration::from_millis(1), MAX_TTL] {
        assert_eq!(refused(builder().max_hold(good)), None, "{good:?}");
    }
    // Shorter than the lease is allowed: the first lease still runs out.
    let short = builder()
        .lease(Duration::from_secs(60))
        .max_hold(Duration::from_secs(1));
    assert_eq!(refused(short), None);
}

#[test]
fn the_retention_is_a_ttl_of_at_least_1_ms() {
    for bad in [
        Duration::ZERO,
        Duration::from_micros(999),
        MAX_TTL + Duration::from_millis(1),
        Duration::MAX,
    ] {
        assert_eq!(
            refused(builder().retention(bad)),
            Some("retention"),
            "{bad:?}"
        );
    }
    for good in [Duration::from_millis(1), MAX_TTL] {
        assert_eq!(refused(builder().retention(good)), None, "{good:?}");
    }
}

#[test]
fn body_limits_are_1_byte_to_4_gib() {
    assert_eq!(
        refused(builder().max_request_body(0)),
        Some("max_request_body")
    );
    assert_eq!(
        refused(builder().max_response_body(0)),
        Some("max_response_body")
    );
    assert_eq!(refused(builder().max_request_body(1)), None);
    assert_eq!(
        refused(builder().max_response_body(u32::MAX as usize)),
        None
    );
    #[cfg(target_pointer_width = "64")]
    {
        let over = u32::MAX as usize + 1;
        assert_eq!(
            refused(builder().max_request_body(over)),
            Some("max_request_body")
        );
        assert_eq!(
            refused(builder().max_response_body(over)),
            Some("max_response_body")
        );
    }
}

#[test]
fn absurd_waits_are_cut_to_the_longest_ttl_not_refused() {
    let layer = builder()
        .wait_for_in_flight(Duration::MAX)
        .retry_after(Duration::MAX)
        .build()
        .unwrap();
    let capped = builder()
        .wait_for_in_flight(MAX_TTL)
        .retry_after(MAX_TTL)
        .build()
        .unwrap();
    assert_eq!(format!("{layer:?}"), format!("{capped:?}"));
    // Zero means "do not wait", the default.
    let zero = builder()
        .wait_for_in_flight(Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(
        format!("{zero:?}"),
        format!("{:?}", builder().build().unwrap())
    );
}

#[test]
fn the_first_refused_setting_is_named_whatever_else_is_set() {
    let err = builder()
        .max_request_body(1024)
        .lease(Duration::ZERO)
        .failure_policy(FailurePolicy::Open)
        .build()
        .unwrap_err();
    assert_eq!(err.field(), "lease");
    assert!(err.to_string().contains("lease"), "{err}");
}

#[test]
fn setters_in_any_order_give_the_same_layer() {
    let store = MemoryBackend::new();
    let forward = IdempotencyLayer::builder(store.clone())
        .methods([Method::POST, Method::PUT])
        .required(true)
        .lease(Duration::from_secs(30))
        .max_hold(Duration::from_secs(90))
        .retention(Duration::from_secs(3600))
        .max_request_body(4096)
        .max_response_body(8192)
        .failure_policy(FailurePolicy::Open)
        .wait_for_in_flight(Duration::from_secs(5))
        .retry_after(Duration::from_secs(2))
        .unscoped(Unscoped::SharedUnsafe)
        .server_errors(ServerErrors::Release)
        .build()
        .unwrap();
    let backward = IdempotencyLayer::builder(store)
        .server_errors(ServerErrors::Release)
        .unscoped(Unscoped::SharedUnsafe)
        .retry_after(Duration::from_secs(2))
        .wait_for_in_flight(Duration::from_secs(5))
        .failure_policy(FailurePolicy::Open)
        .max_response_body(8192)
        .max_request_body(4096)
        .retention(Duration::from_secs(3600))
        .max_hold(Duration::from_secs(90))
        .lease(Duration::from_secs(30))
        .required(true)
        .methods([Method::POST, Method::PUT])
        .build()
        .unwrap();
    assert_eq!(format!("{forward:?}"), format!("{backward:?}"));
}

#[test]
fn the_last_call_of_a_setter_wins() {
    let twice = builder()
        .lease(Duration::ZERO)
        .lease(Duration::from_secs(30))
        .build();
    assert!(twice.is_ok(), "a bad value replaced before build is fine");
    let once = builder().lease(Duration::from_secs(30)).build().unwrap();
    assert_eq!(format!("{:?}", twice.unwrap()), format!("{once:?}"));
}

/// The response is erased at `build()`: a layer answering with a closure is the same type as
/// one answering with the default, and `.response(..)` is a setter like the others.
#[test]
fn a_custom_response_does_not_change_the_layer_type() {
    let plain = |_: &IdempotencyRejection| Response::new(Bytes::from_static(b"no"));
    let layers: [IdempotencyLayer<MemoryBackend>; 2] = [
        IdempotencyLayer::new(MemoryBackend::new()),
        builder().response(plain).required(true).build().unwrap(),
    ];
    assert_eq!(layers.len(), 2);
}
