//! The decision suite (`acquire`), written once and run on memory, Redis and Redis Cluster; and,
//! on memory with its own clock (tokio's, paused), every algorithm denied until exactly the
//! retry time the decision gave, admitted from then on, with state that expires with the
//! clock.

mod common;

use std::time::Duration;

use common::T0;
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::{Acquire, Algorithm, Mode, Policy, Quota, acquire};
use tower_vigil_tests::fixtures;

fn policy(name: &str, quota: Quota, algorithm: Algorithm) -> Policy {
    Policy::with_algorithm(name, quota, algorithm).unwrap()
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap()
}

async fn every_algorithm_admits_exactly_the_limit_at_one_instant<B: Backend>(store: B) {
    for algo in Algorithm::ALL {
        let p = [policy("default", Quota::per_minute(5), algo)];
        let key = format!("burst-{algo}");
        for i in 0..5 {
            let d = acquire(&store, Acquire::new(&key, &p).at(T0))
                .await
                .unwrap();
            assert!(d.allowed(), "{algo}: request {i}");
            assert_eq!(d.policies()[0].remaining(), 4 - i, "{algo}");
        }
        let d = acquire(&store, Acquire::new(&key, &p).at(T0))
            .await
            .unwrap();
        assert!(!d.allowed(), "{algo}: the 6th");
        assert_eq!(d.policies()[0].remaining(), 0);
        assert!(d.retry_after().unwrap() > Duration::ZERO, "{algo}");
    }
}

async fn retry_after_is_exactly_when_the_request_fits<B: Backend>(store: B) {
    for algo in Algorithm::ALL {
        let p = [policy(
            "default",
            Quota::new(3, Duration::from_secs(10)),
            algo,
        )];
        let key = format!("retry-{algo}");
        let mut now = T0 + 1_234_567;
        for step in 0..8 {
            let d = acquire(&store, Acquire::new(&key, &p).at(now))
                .await
                .unwrap();
            if d.allowed() {
                now += 250_000;
                continue;
            }
            let wait = micros(d.retry_after().unwrap());
            let early = acquire(
                &store,
                Acquire::new(&key, &p).at(now + wait - 1).mode(Mode::Peek),
            );
            assert!(
                !early.await.unwrap().allowed(),
                "{algo} step {step}: 1 µs early"
            );
            now += wait;
            let on_time = acquire(&store, Acquire::new(&key, &p).at(now))
                .await
                .unwrap();
            assert!(on_time.allowed(), "{algo} step {step}: on time");
        }
    }
}

async fn a_denied_request_consumes_no_policy<B: Backend>(store: B) {
    for algo in Algorithm::ALL {
        let p = [
            policy("burst", Quota::per_second(10), algo),
            policy("hour", Quota::per_hour(2), Algorithm::FixedWindow),
        ];
        let key = format!("multi-{algo}");
        for _ in 0..2 {
            assert!(
                acquire(&store, Acquire::new(&key, &p).at(T0))
                    .await
                    .unwrap()
                    .allowed()
            );
        }
        for _ in 0..5 {
            let d = acquire(&store, Acquire::new(&key, &p).at(T0))
                .await
                .unwrap();
            assert!(!d.allowed());
            assert!(d.policies()[0].allowed() && !d.policies()[1].allowed());
        }
        // The per-second policy saw only the 2 admitted requests.
        let alone = [p[0].clone()];
        let d = acquire(&store, Acquire::new(&key, &alone).at(T0).mode(Mode::Peek))
            .await
            .unwrap();
        assert_eq!(d.policies()[0].remaining(), 7, "{algo}");
    }
}

async fn cost_weighs_a_request<B: Backend>(store: B) {
    for algo in Algorithm::ALL {
        let p = [policy("default", Quota::per_minute(10), algo)];
        let key = format!("cost-{algo}");
        let d = acquire(&store, Acquire::new(&key, &p).cost(7).at(T0))
            .await
            .unwrap();
        assert_eq!(d.policies()[0].remaining(), 3, "{algo}");
        assert!(
            !acquire(&store, Acquire::new(&key, &p).cost(4).at(T0))
                .await
                .unwrap()
                .allowed()
        );
        assert!(
            acquire(&store, Acquire::new(&key, &p).cost(3).at(T0))
                .await
                .unwrap()
                .allowed()
        );
        let huge = acquire(&store, Acquire::new("cost-huge", &p).cost(u32::MAX).at(T0));
        assert!(
            !huge.await.unwrap().allowed(),
            "{algo}: a cost above the quota never fits"
        );
    }
}

async fn peek_charge_and_refund<B: Backend>(store: B) {
    for algo in Algorithm::ALL {
        let p = [policy("default", Quota::per_minute(3), algo)];
        let key = format!("modes-{algo}");
        let at = |mode| Acquire::new(&key, &p).at(T0).mode(mode);
        for _ in 0..5 {
            assert_eq!(
                acquire(&store, at(Mode::Peek)).await.unwrap().policies()[0].remaining(),
                2
            );
        }
        // Charging never goes below empty…
        let d = acquire(&store, at(Mode::Charge).cost(10)).await.unwrap();
        assert_eq!(d.policies()[0].remaining(), 0, "{algo}");
        assert!(!acquire(&store, at(Mode::Peek)).await.unwrap().allowed());
        // …and refunding gives units back, never above full.
        let d = acquire(&store, at(Mode::Refund).cost(2)).await.unwrap();
        assert_eq!(d.policies()[0].remaining(), 2, "{algo}");
        let d = acquire(&store, at(Mode::Refund).cost(50)).await.unwrap();
        assert_eq!(d.policies()[0].remaining(), 3, "{algo}");
    }
}

async fn keys_are_independent<B: Backend>(store: B) {
    let p = [policy("default", Quota::per_minute(1), Algorithm::Gcra)];
    assert!(
        acquire(&store, Acquire::new("a", &p).at(T0))
            .await
            .unwrap()
            .allowed()
    );
    assert!(
        !acquire(&store, Acquire::new("a", &p).at(T0))
            .await
            .unwrap()
            .allowed()
    );
    assert!(
        acquire(&store, Acquire::new("b", &p).at(T0))
            .await
            .unwrap()
            .allowed()
    );
    // A key that looks like another key's hash tag or separator stays its own.
    assert!(
        acquire(&store, Acquire::new("a}:default", &p).at(T0))
            .await
            .unwrap()
            .allowed()
    );
    let long = "x".repeat(10_000);
    assert!(
        acquire(&store, Acquire::new(&long, &p).at(T0))
            .await
            .unwrap()
            .allowed()
    );
    assert!(
        !acquire(&store, Acquire::new(&long, &p).at(T0))
            .await
            .unwrap()
            .allowed()
    );
}

async fn the_store_clock_is_used_by_default<B: Backend>(store: B) {
    for algo in Algorithm::ALL {
        let p = [policy("default", Quota::per_hour(2), algo)];
        let key = format!("clock-{algo}");
        assert!(
            acquire(&store, Acquire::new(&key, &p))
                .await
                .unwrap()
                .allowed()
        );
        assert!(
            acquire(&store, Acquire::new(&key, &p))
                .await
                .unwrap()
                .allowed()
        );
        assert!(
            !acquire(&store, Acquire::new(&key, &p))
                .await
                .unwrap()
                .allowed()
        );
    }
}

async fn every_key_has_a_ttl<B: Backend>(store: B) {
    for algo in Algorithm::ALL {
        let p = [policy("default", Quota::per_minute(5), algo)];
        let req = Acquire::new("ttl", &p);
        acquire(&store, req).await.unwrap();
        let key = &req.keys()[0];
        let ttl = store.ttl(key).await.unwrap();
        let ttl = ttl.unwrap_or_else(|| panic!("{algo}: {key} has no TTL"));
        assert!(ttl <= Duration::from_secs(122), "{algo}: {ttl:?}");
    }
}

async fn duplicate_policies_are_an_error_not_a_panic<B: Backend>(store: B) {
    let p = policy("default", Quota::per_minute(5), Algorithm::Gcra);
    let twice = [p.clone(), p];
    assert!(acquire(&store, Acquire::new("dup", &twice)).await.is_err());
}

on_every_backend!(
    every_algorithm_admits_exactly_the_limit_at_one_instant,
    retry_after_is_exactly_when_the_request_fits,
    a_denied_request_consumes_no_policy,
    cost_weighs_a_request,
    peek_charge_and_refund,
    keys_are_independent,
    the_store_clock_is_used_by_default,
    every_key_has_a_ttl,
    duplicate_policies_are_an_error_not_a_panic,
);

#[tokio::test(start_paused = true)]
async fn each_algorithm_recovers_exactly_at_its_retry_time() {
    let store = fixtures::memory();
    for algorithm in Algorithm::ALL {
        let p = [Policy::with_algorithm("default", Quota::per_second(4), algorithm).unwrap()];
        let key = format!("paused-{algorithm}");
        for _ in 0..4 {
            assert!(
                acquire(&store, Acquire::new(&key, &p))
                    .await
                    .unwrap()
                    .allowed()
            );
        }
        let denied = acquire(&store, Acquire::new(&key, &p)).await.unwrap();
        let wait = denied.retry_after().expect("denied");
        tokio::time::advance(wait - Duration::from_micros(1)).await;
        assert!(
            !acquire(&store, Acquire::new(&key, &p))
                .await
                .unwrap()
                .allowed(),
            "{algorithm}"
        );
        tokio::time::advance(Duration::from_micros(1)).await;
        assert!(
            acquire(&store, Acquire::new(&key, &p))
                .await
                .unwrap()
                .allowed(),
            "{algorithm}"
        );
        // Once idle for a period (plus the TTL slack), the key is gone, not merely full.
        tokio::time::advance(Duration::from_secs(4)).await;
        let k = &Acquire::new(&key, &p).keys()[0];
        assert_eq!(
            store.ttl(k).await.unwrap(),
            None,
            "{algorithm}: {k} outlived its state"
        );
    }
}
