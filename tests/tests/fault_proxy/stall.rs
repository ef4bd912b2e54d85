//! Stalls: every call keeps its deadline, late replies after a heal answer nothing later,
//! latency around the timeout never misattributes replies, and a frozen cluster recovers.

use std::time::{Duration, Instant};

use super::support::*;
use tower_vigil_core::{Backend, Lock, SubscriptionEvent};
use tower_vigil_tests::RedisCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_fails_every_call_within_its_deadline() {
    let (proxy, backend) = proxied().await;
    lock_is_free(&backend).await; // loads the scripts: the stalled calls are the calls
    proxy.stall();
    every_call_keeps_its_deadline(&backend).await;
    proxy.heal();
    let took = time_to_recover(&backend).await;
    eprintln!("standalone: recovered {took:?} after heal");
    assert!(took < RECOVERY, "recovered after {took:?}");
    lock_is_free(&backend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_replies_after_a_heal_never_answer_later_calls() {
    let (proxy, backend) = proxied().await;
    seed(&backend, "early").await;
    seed(&backend, "later").await;

    proxy.stall();
    // These all time out; their requests and replies are held by the stall.
    assert_eq!(gets_answer_their_own_keys(&backend, "early").await, 0);
    proxy.heal();
    // The held replies now arrive, late, while new calls for other keys are in flight.
    let mut answered = 0;
    for _ in 0..5 {
        answered += gets_answer_their_own_keys(&backend, "later").await;
    }
    assert!(answered > 0, "the backend answers again after the heal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_around_the_timeout_never_misattributes_replies() {
    // Each direction delayed by about half the timeout: some calls time out while their
    // replies are still on the way, and those replies arrive while later calls wait for theirs.
    let (proxy, backend) = proxied().await;
    seed(&backend, "slow").await;
    proxy.latency(TIMEOUT / 2 - Duration::from_millis(20));
    let (mut answered, mut rounds) = (0, 0);
    while rounds < 10 && (answered == 0 || answered == rounds * CALLS) {
        let start = Instant::now();
        answered += gets_answer_their_own_keys(&backend, "slow").await;
        assert!(
            start.elapsed() < DEADLINE,
            "a round took {:?}",
            start.elapsed()
        );
        rounds += 1;
    }
    eprintln!(
        "with latency: {answered} of {} calls answered",
        rounds * CALLS
    );
    proxy.heal();
    let took = time_to_recover(&backend).await;
    assert!(took < RECOVERY, "recovered after {took:?}");
    assert_eq!(gets_answer_their_own_keys(&backend, "slow").await, CALLS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_lock_acquire_does_not_leave_a_ghost_holder() {
    // An acquire that timed out may still run on the server when the stall ends; the lock must
    // then be free again (not held by an owner nobody knows) as soon as the backend recovers.
    let (proxy, backend) = proxied().await;
    let lock = Lock::new(backend.clone(), "ghost", Duration::from_secs(30)).unwrap();
    // Loaded once, so the stalled call is the acquire itself, not a NOSCRIPT round trip.
    lock.try_acquire()
        .await
        .unwrap()
        .unwrap()
        .release()
        .await
        .unwrap();
    proxy.stall();
    fails_within_deadline("lock", lock.try_acquire()).await;
    proxy.heal();
    time_to_recover(&backend).await;
    let start = Instant::now();
    let guard = lock
        .acquire(RECOVERY)
        .await
        .unwrap()
        .expect("the lock is free again, not held until the 30 s lease ends");
    eprintln!("lock free again {:?} after recovery", start.elapsed());
    guard.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_cluster_keeps_deadlines_never_misattributes_and_recovers() {
    let mut nodes = RedisCluster::start();
    let backend = cluster(&nodes.urls()).await;
    seed(&backend, "early").await;
    seed(&backend, "later").await;
    lock_is_free(&backend).await;
    let mut sub = backend.subscribe("frozen").await.unwrap();

    nodes.freeze();
    every_call_keeps_its_deadline(&backend).await;
    assert_eq!(
        next(&mut sub).await,
        Some(SubscriptionEvent::Lost),
        "heartbeat"
    );
    assert_eq!(gets_answer_their_own_keys(&backend, "early").await, 0);
    nodes.thaw();
    let mut answered = 0;
    for _ in 0..5 {
        answered += gets_answer_their_own_keys(&backend, "later").await;
    }
    assert!(answered > 0, "the backend answers again after the thaw");
    let took = time_to_recover(&backend).await;
    eprintln!("cluster: recovered {took:?} after the thaw");
    assert!(took < RECOVERY, "recovered after {took:?}");
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Restored));
    lock_is_free(&backend).await;
}
