//! The store's operations (claim, extend, complete, release, announcements), each a script run
//! by `Backend::run`, on memory, Redis and the 3-master cluster.

mod common;

use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::backend::SubscriptionEvent;
use tower_vigil_core::{Backend, BackendErrorKind};
use tower_vigil_idempotency::__private::Fingerprint;
use tower_vigil_idempotency::__private::{self as store, Claim};

const KEY: &str = "idempotency:{conformance}";
const LONG: Duration = Duration::from_secs(60);

fn fp(body: &str) -> Fingerprint {
    Fingerprint::of(&http::Method::POST, "/x", None, body.as_bytes())
}

async fn first_claim_acquires_and_duplicates_see_it_in_flight<S: Backend>(s: S) {
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o1", LONG).await.unwrap(),
        Claim::Acquired
    );
    match store::claim(&s, KEY, &fp("a"), b"o2", LONG).await.unwrap() {
        Claim::InFlight { lease_remaining } => {
            assert!(lease_remaining <= LONG && lease_remaining > Duration::from_secs(30));
        }
        other => panic!("expected in flight, got {other:?}"),
    }
}

async fn a_different_fingerprint_is_a_mismatch_in_flight_and_completed<S: Backend>(s: S) {
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o1", LONG).await.unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        store::claim(&s, KEY, &fp("b"), b"o2", LONG).await.unwrap(),
        Claim::Mismatch
    );
    assert!(store::complete(&s, KEY, b"o1", b"r", LONG).await.unwrap());
    assert_eq!(
        store::claim(&s, KEY, &fp("b"), b"o2", LONG).await.unwrap(),
        Claim::Mismatch
    );
}

async fn completed_records_are_returned_byte_for_byte<S: Backend>(s: S) {
    let record = Bytes::from((0..=255u8).cycle().take(70_000).collect::<Vec<u8>>());
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o1", LONG).await.unwrap(),
        Claim::Acquired
    );
    assert!(
        store::complete(&s, KEY, b"o1", &record, LONG)
            .await
            .unwrap()
    );
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o2", LONG).await.unwrap(),
        Claim::Completed(record)
    );
}

async fn a_stale_owner_can_neither_complete_extend_nor_release<S: Backend>(s: S) {
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o1", LONG).await.unwrap(),
        Claim::Acquired
    );
    assert!(!store::complete(&s, KEY, b"o2", b"r", LONG).await.unwrap());
    assert!(!store::extend(&s, KEY, b"o2", LONG).await.unwrap());
    assert!(!store::release(&s, KEY, b"o2").await.unwrap());
    assert!(matches!(
        store::claim(&s, KEY, &fp("a"), b"o3", LONG).await.unwrap(),
        Claim::InFlight { .. }
    ));
    assert!(store::extend(&s, KEY, b"o1", LONG).await.unwrap());
    assert!(store::complete(&s, KEY, b"o1", b"r", LONG).await.unwrap());
    // Once completed, nobody (not even the old owner) can complete, extend or release it.
    assert!(!store::complete(&s, KEY, b"o1", b"x", LONG).await.unwrap());
    assert!(!store::extend(&s, KEY, b"o1", LONG).await.unwrap());
    assert!(!store::release(&s, KEY, b"o1").await.unwrap());
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o3", LONG).await.unwrap(),
        Claim::Completed(Bytes::from_static(b"r"))
    );
}

async fn release_frees_the_key_for_a_retry<S: Backend>(s: S) {
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o1", LONG).await.unwrap(),
        Claim::Acquired
    );
    assert!(store::release(&s, KEY, b"o1").await.unwrap());
    // Free again: even a different fingerprint may claim it now.
    assert_eq!(
        store::claim(&s, KEY, &fp("b"), b"o2", LONG).await.unwrap(),
        Claim::Acquired
    );
}

async fn a_lapsed_lease_frees_the_key_and_its_owner_loses_it<S: Backend>(s: S) {
    let lease = Duration::from_millis(150);
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o1", lease).await.unwrap(),
        Claim::Acquired
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o2", LONG).await.unwrap(),
        Claim::Acquired
    );
    assert!(
        !store::complete(&s, KEY, b"o1", b"stale", LONG)
            .await
            .unwrap()
    );
    assert!(
        store::complete(&s, KEY, b"o2", b"fresh", LONG)
            .await
            .unwrap()
    );
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o3", LONG).await.unwrap(),
        Claim::Completed(Bytes::from_static(b"fresh"))
    );
}

async fn extend_keeps_the_marker_alive<S: Backend>(s: S) {
    let lease = Duration::from_millis(300);
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o1", lease).await.unwrap(),
        Claim::Acquired
    );
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(store::extend(&s, KEY, b"o1", lease).await.unwrap());
    }
    assert!(matches!(
        store::claim(&s, KEY, &fp("a"), b"o2", lease).await.unwrap(),
        Claim::InFlight { .. }
    ));
}

async fn completed_records_expire_after_their_retention<S: Backend>(s: S) {
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o1", LONG).await.unwrap(),
        Claim::Acquired
    );
    let ttl = Duration::from_millis(150);
    assert!(store::complete(&s, KEY, b"o1", b"r", ttl).await.unwrap());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        store::claim(&s, KEY, &fp("a"), b"o2", LONG).await.unwrap(),
        Claim::Acquired
    );
}

async fn a_foreign_value_is_a_corrupt_error<S: Backend>(s: S) {
    Backend::set(&s, KEY, Bytes::from_static(b"legacy SET NX value"), LONG)
        .await
        .unwrap();
    let err = store::claim(&s, KEY, &fp("a"), b"o1", LONG)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), BackendErrorKind::Corrupt, "{err}");
}

async fn concurrent_claims_acquire_exactly_once<S: Backend>(s: S) {
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                store::claim(&s, KEY, &fp("a"), format!("o{i}").as_bytes(), LONG)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut acquired = 0;
    for t in tasks {
        if t.await.unwrap() == Claim::Acquired {
            acquired += 1;
        }
    }
    assert_eq!(acquired, 1);
}

async fn announcements_reach_subscribers<S: Backend>(s: S) {
    let mut sub = store::announcements(&s).await.unwrap();
    store::announce(&s, KEY).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), sub.next())
        .await
        .expect("the announcement arrives");
    assert_eq!(
        event,
        Some(SubscriptionEvent::Message(Bytes::from_static(
            KEY.as_bytes()
        )))
    );
}

on_every_backend!(
    first_claim_acquires_and_duplicates_see_it_in_flight,
    a_different_fingerprint_is_a_mismatch_in_flight_and_completed,
    completed_records_are_returned_byte_for_byte,
    a_stale_owner_can_neither_complete_extend_nor_release,
    release_frees_the_key_for_a_retry,
    a_lapsed_lease_frees_the_key_and_its_owner_loses_it,
    extend_keeps_the_marker_alive,
    completed_records_expire_after_their_retention,
    a_foreign_value_is_a_corrupt_error,
    concurrent_claims_acquire_exactly_once,
    announcements_reach_subscribers,
);
