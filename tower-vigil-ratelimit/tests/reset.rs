//! `reset`: an operator deletes a caller's state under its policies (every algorithm), and
//! the caller starts over with its full quota; other callers and other policies keep theirs.
//! Run on memory, Redis, Redis Cluster and Sentinel.

mod common;

use common::T0;
use tower_vigil_core::Backend;
use tower_vigil_ratelimit::{Acquire, Algorithm, Policy, Quota, acquire, reset};

async fn reset_gives_the_full_quota_back<B: Backend>(store: B) {
    for algo in Algorithm::ALL {
        let p = [Policy::with_algorithm("default", Quota::per_minute(2), algo).unwrap()];
        let key = format!("reset-{algo}");
        let other = format!("other-{algo}");
        for k in [&key, &other] {
            for _ in 0..2 {
                assert!(
                    acquire(&store, Acquire::new(k, &p).at(T0))
                        .await
                        .unwrap()
                        .allowed()
                );
            }
            assert!(
                !acquire(&store, Acquire::new(k, &p).at(T0))
                    .await
                    .unwrap()
                    .allowed()
            );
        }
        assert_eq!(reset(&store, &key, &p).await.unwrap(), 1, "{algo}");
        let d = acquire(&store, Acquire::new(&key, &p).at(T0))
            .await
            .unwrap();
        assert!(d.allowed(), "{algo}: admitted after the reset");
        assert_eq!(d.policies()[0].remaining(), 1, "{algo}: the full quota");
        // Another caller keeps its state; a second reset of nothing finds nothing.
        assert!(
            !acquire(&store, Acquire::new(&other, &p).at(T0))
                .await
                .unwrap()
                .allowed()
        );
        assert_eq!(reset(&store, "nobody", &p).await.unwrap(), 0);
    }
}

async fn reset_names_only_the_policies_given<B: Backend>(store: B) {
    let a = Policy::new("a", Quota::per_minute(1)).unwrap();
    let b = Policy::with_algorithm("b", Quota::per_minute(1), Algorithm::FixedWindow).unwrap();
    let both = [a.clone(), b.clone()];
    assert!(
        acquire(&store, Acquire::new("k", &both).at(T0))
            .await
            .unwrap()
            .allowed()
    );
    assert_eq!(
        reset(&store, "k", std::slice::from_ref(&a)).await.unwrap(),
        1
    );
    // `b` is still spent, so the pair is denied; `a` alone has room again.
    assert!(
        !acquire(&store, Acquire::new("k", &both).at(T0))
            .await
            .unwrap()
            .allowed()
    );
    assert!(
        acquire(&store, Acquire::new("k", std::slice::from_ref(&a)).at(T0))
            .await
            .unwrap()
            .allowed()
    );
    assert_eq!(reset(&store, "k", &both).await.unwrap(), 2);
}

on_every_backend!(
    reset_gives_the_full_quota_back,
    reset_names_only_the_policies_given
);
