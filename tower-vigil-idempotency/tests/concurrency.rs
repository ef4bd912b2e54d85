//! Issue 13, concurrency attacks on idempotency claims, as several instances of a service
//! make them: four stores on their own connections (one shared `MemoryBackend`, run on a
//! multi-threaded runtime so its own locking is under test), all at once.
//!
//! - Through the store: on many keys at once, with two fingerprints per key, exactly one
//!   claim per key acquires; every other claim sees the winner's marker (in flight with the
//!   same fingerprint, a mismatch with the other), then the winner's record.
//! - Through the layer: duplicates sent to two layer instances run the handler once, and
//!   every one of them gets its answer.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::join_all;
use http::StatusCode;
use tokio::sync::Barrier;
use tower_vigil_core::Backend;
use tower_vigil_idempotency::__private::Fingerprint;
use tower_vigil_idempotency::__private::{self as store, Claim};
use tower_vigil_idempotency::IdempotencyLayer;

use common::{Counter, header, post, send, service};

const LONG: Duration = Duration::from_secs(60);

fn fp(body: &str) -> Fingerprint {
    Fingerprint::of(&http::Method::POST, "/pay", None, body.as_bytes())
}

/// What one claim saw: the key, its instance, its owner, its fingerprint's body, the answer.
type Seen = (usize, usize, String, &'static str, Claim);

/// 8 keys × 48 claims (12 per instance, half with each of two fingerprints), all at once.
async fn claims_from_four_instances_acquire_once_per_key<S: Backend>(stores: [S; 4]) {
    const KEYS: usize = 8;
    const PER_KEY: usize = 48;
    let barrier = Arc::new(Barrier::new(KEYS * PER_KEY));
    let claims = (0..KEYS * PER_KEY).map(|i| {
        let (key, n) = (i / PER_KEY, i % PER_KEY);
        let instance = n % 4;
        let (backend, barrier) = (stores[instance].clone(), barrier.clone());
        let body = if n % 2 == 0 { "a" } else { "b" };
        tokio::spawn(async move {
            let owner = format!("owner-{i}");
            barrier.wait().await;
            let claim = store::claim(
                &backend,
                &format!("idempotency:{{k{key}}}"),
                &fp(body),
                owner.as_bytes(),
                LONG,
            )
            .await
            .unwrap();
            (key, instance, owner, body, claim)
        })
    });
    let seen: Vec<Seen> = join_all(claims)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for key in 0..KEYS {
        let of_key: Vec<&Seen> = seen.iter().filter(|s| s.0 == key).collect();
        let winners: Vec<&&Seen> = of_key.iter().filter(|s| s.4 == Claim::Acquired).collect();
        assert_eq!(winners.len(), 1, "key {key}: one claim acquires");
        let (_, instance, owner, won, _) = winners[0];
        for (_, _, _, body, claim) in &of_key {
            let expected = body == won;
            match claim {
                Claim::Acquired => {}
                Claim::InFlight { .. } => assert!(expected, "key {key}: {body} in flight"),
                Claim::Mismatch => assert!(!expected, "key {key}: {body} mismatched"),
                Claim::Completed(_) => panic!("key {key}: completed before anyone completed"),
            }
        }
        // The winner completes from its instance; every instance then sees its record.
        let record_key = format!("idempotency:{{k{key}}}");
        let record = Bytes::from(format!("record of {owner}"));
        assert!(
            store::complete(
                &stores[*instance],
                &record_key,
                owner.as_bytes(),
                &record,
                LONG
            )
            .await
            .unwrap()
        );
        for (i, backend) in stores.iter().enumerate() {
            let again = store::claim(backend, &record_key, &fp(won), b"late", LONG).await;
            assert_eq!(
                again.unwrap(),
                Claim::Completed(record.clone()),
                "instance {i}"
            );
        }
    }
}

/// 100 duplicates sent at once, alternately to two layer instances that wait for the request
/// in flight: the handler runs once and every duplicate gets its answer.
async fn duplicates_across_two_layer_instances_run_once<S: Backend>(stores: [S; 4]) {
    let runs = Counter::default();
    let [first, second, ..] = stores;
    let services = [first, second].map(|s| {
        let layer = IdempotencyLayer::builder(s)
            .wait_for_in_flight(Duration::from_secs(20))
            .build()
            .unwrap();
        service(layer, runs.clone())
    });
    let barrier = Arc::new(Barrier::new(100));
    let tasks = (0..100).map(|i| {
        let (svc, barrier) = (services[i % 2].clone(), barrier.clone());
        tokio::spawn(async move {
            barrier.wait().await;
            send(&svc, post("/slow", "storm", "pay 10")).await
        })
    });
    let mut replayed = 0;
    for res in join_all(tasks).await {
        let res = res.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.body(), "pay 10");
        assert_eq!(header(&res, "x-run"), Some("1"));
        replayed += usize::from(header(&res, "idempotent-replayed").is_some());
    }
    assert_eq!(runs.get(), 1, "the handler ran once");
    assert_eq!(replayed, 99);
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn memory() {
                let m = tower_vigil_tests::fixtures::memory();
                super::$case([m.clone(), m.clone(), m.clone(), m]).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn redis() {
                super::$case(tower_vigil_tests::fixtures::redis_instances().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cluster() {
                super::$case(tower_vigil_tests::fixtures::cluster_instances().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sentinel() {
                super::$case(tower_vigil_tests::fixtures::sentinel_instances().await).await;
            }
        }
    )*};
}

on_every_backend!(
    claims_from_four_instances_acquire_once_per_key,
    duplicates_across_two_layer_instances_run_once,
);
