//! Issue 13, concurrency attacks on [`Lock`]: many tasks at once, on memory (on a
//! multi-threaded runtime, so the memory backend's own locking is under test, not just the
//! interleaving of one thread), standalone Redis and the 3-master cluster.
//!
//! - A storm of `try_acquire`s has exactly one winner, round after round, with increasing
//!   fencing tokens.
//! - Holders whose lease lapses while they still work: a second holder gets in only after the
//!   first one's lease ran out, and always with a larger token, so a fenced store can refuse
//!   the late writer.
//! - A Redis killed and restarted (empty) under a held lock: the next holder's token is still
//!   larger, and the old holder's watchdog reports the loss.
//!
//! The contention case of the `Backend` conformance suite (`lock_is_exclusive_under_contention`)
//! and its `set_nx` race (the primitive under every claim) run here on the multi-threaded
//! memory backend too.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use parking_lot::Mutex;
use tokio::sync::Barrier;
use tokio::time::{Instant, sleep};
use tower_vigil_core::{Backend, Lock, RedisBackend};
use tower_vigil_tests::{RedisServer, conformance, fixtures};

const LONG: Duration = Duration::from_secs(30);

/// `tasks` tasks call `try_acquire` at once, `rounds` times: one winner each round.
async fn a_storm_of_try_acquires_has_one_winner_per_round<B: Backend>(backend: B) {
    const TASKS: usize = 64;
    let lock = Lock::new(backend, "storm", LONG).unwrap();
    let mut last = 0;
    for round in 0..5 {
        let barrier = Arc::new(Barrier::new(TASKS));
        let tries = (0..TASKS).map(|_| {
            let (lock, barrier) = (lock.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                lock.try_acquire().await.unwrap()
            })
        });
        let mut winners: Vec<_> = join_all(tries)
            .await
            .into_iter()
            .filter_map(|r| r.unwrap())
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: one winner");
        let winner = winners.pop().unwrap();
        let token = winner.fencing_token();
        assert!(token > last, "round {round}: token {token} after {last}");
        last = token;
        assert!(winner.release().await.unwrap(), "round {round}: still held");
    }
}

/// One holding of the lock: its token, when the winning call started and returned, and when
/// the holder stopped working.
#[derive(Debug, Clone, Copy)]
struct Holding {
    token: u64,
    called: Instant,
    got: Instant,
    done: Instant,
}

/// Holders that sometimes work past their lease (no watchdog): overlaps happen, but only once
/// the earlier lease ran out, and the later holder always has the larger token.
async fn a_lapsed_holder_is_overtaken_only_with_a_larger_token<B: Backend>(backend: B) {
    const LEASE: Duration = Duration::from_millis(200);
    /// How long each holding works, in turn: some past the lease.
    const WORK_MS: [u64; 5] = [40, 260, 90, 320, 10];
    let lock = Lock::new(backend, "lapsing", LEASE).unwrap();
    let holdings = Arc::new(Mutex::new(Vec::new()));
    let tasks = (0..8).map(|task| {
        let (lock, holdings) = (lock.clone(), holdings.clone());
        tokio::spawn(async move {
            for i in 0..3 {
                let (guard, called) = loop {
                    let called = Instant::now();
                    if let Some(guard) = lock.try_acquire().await.unwrap() {
                        break (guard, called);
                    }
                    sleep(Duration::from_millis(2)).await;
                };
                let got = Instant::now();
                sleep(Duration::from_millis(WORK_MS[(task + i) % WORK_MS.len()])).await;
                let done = Instant::now();
                holdings.lock().push(Holding {
                    token: guard.fencing_token(),
                    called,
                    got,
                    done,
                });
                // False when the lease lapsed and someone else holds it: never theirs to free.
                let _ = guard.release().await.unwrap();
            }
        })
    });
    for t in join_all(tasks).await {
        t.unwrap();
    }
    let mut holdings = holdings.lock().clone();
    holdings.sort_by_key(|h| h.token);
    assert!(
        holdings.windows(2).all(|w| w[0].token < w[1].token),
        "every holding has its own token: {holdings:?}"
    );
    // Redis expires with millisecond precision on its own clock.
    let slack = Duration::from_millis(5);
    let mut overlaps = 0;
    for (i, a) in holdings.iter().enumerate() {
        for b in &holdings[i + 1..] {
            assert!(
                b.got >= a.called,
                "token order is acquisition order: {a:?} {b:?}"
            );
            if b.got < a.done {
                overlaps += 1;
                assert!(
                    b.got + slack >= a.called + LEASE,
                    "{b:?} got in while {a:?} still had its lease"
                );
            }
        }
    }
    assert!(overlaps > 0, "some holders overran their lease");
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::memory()).await;
                }
            )*

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn set_nx_exactly_one_wins() {
                super::conformance::set_nx_exactly_one_wins(super::fixtures::memory()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn lock_is_exclusive_under_contention() {
                super::conformance::lock_is_exclusive_under_contention(
                    super::fixtures::memory(),
                )
                .await;
            }
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::redis().await).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::cluster().await).await;
                }
            )*
        }
        mod sentinel {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(tower_vigil_tests::fixtures::sentinel().await).await;
                }
            )*
        }
    };
}

on_every_backend!(
    a_storm_of_try_acquires_has_one_winner_per_round,
    a_lapsed_holder_is_overtaken_only_with_a_larger_token,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_redis_neither_reuses_a_token_nor_hides_the_loss() {
    let mut server = tokio::task::spawn_blocking(RedisServer::start)
        .await
        .unwrap();
    let backend: RedisBackend = fixtures::redis_on(&server.url()).await;
    let lock = Lock::new(backend, "killed", Duration::from_secs(3)).unwrap();
    let mut old = lock.try_acquire().await.unwrap().expect("free");
    old.start_watchdog();

    // Killed and restarted empty: the lease and the fence counter are gone.
    let server = tokio::task::spawn_blocking(move || {
        server.stop();
        server.restart();
        server
    })
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(10), old.lost())
        .await
        .expect("the watchdog reports the loss");
    let deadline = Instant::now() + Duration::from_secs(20);
    let new = loop {
        match lock.try_acquire().await {
            Ok(Some(guard)) => break guard,
            _ if Instant::now() < deadline => sleep(Duration::from_millis(50)).await,
            other => panic!(
                "no acquisition after the restart: {:?}",
                other.map(|g| g.is_some())
            ),
        }
    };
    assert!(
        new.fencing_token() > old.fencing_token(),
        "{} after {}: a fenced store would take the old holder's writes",
        new.fencing_token(),
        old.fencing_token()
    );
    assert!(
        !old.release().await.unwrap(),
        "the old holder frees nothing"
    );
    assert!(new.release().await.unwrap());
    drop(server);
}
