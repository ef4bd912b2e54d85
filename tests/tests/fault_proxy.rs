//! The core backend and `Lock` behind a [`FaultProxy`] (standalone) and on a frozen cluster:
//! every call keeps its deadline under a stall, a late reply is never taken as the answer to
//! a later call, and the same backend recovers within seconds after a heal or a cut.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::join_all;
use tower_vigil_core::{Backend, BackendError, Lock, RedisBackend, SubscriptionEvent};
use tower_vigil_tests::fault_proxy::{FaultProxy, NewConnections};
use tower_vigil_tests::stalling::Stalling;
use tower_vigil_tests::{RedisCluster, fixtures};

/// The per-call timeout of these tests.
const TIMEOUT: Duration = Duration::from_millis(500);
/// A hang check, not a speed claim: timeout plus a loaded machine's slack, far below "hung".
const DEADLINE: Duration = Duration::from_millis(1500);
/// "Recovers within a few seconds."
const RECOVERY: Duration = Duration::from_secs(5);
const LONG: Duration = Duration::from_secs(60);
/// Calls in flight at once in the misattribution tests.
const CALLS: usize = 40;

async fn standalone(url: &str) -> RedisBackend {
    RedisBackend::builder(url)
        .unwrap()
        .prefix(fixtures::unique_prefix())
        .unwrap()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .connect()
        .await
        .unwrap()
}

async fn cluster(urls: &[String]) -> RedisBackend {
    RedisBackend::cluster_builder(urls)
        .unwrap()
        .prefix(fixtures::unique_prefix())
        .unwrap()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .connect()
        .await
        .unwrap()
}

/// A backend through a fresh proxy to the shared server.
async fn proxied() -> (FaultProxy, RedisBackend) {
    let proxy = FaultProxy::start(fixtures::shared_server().port()).await;
    let backend = standalone(&proxy.url()).await;
    (proxy, backend)
}

/// Runs `op`, checks it failed as unavailable within [`DEADLINE`].
async fn fails_within_deadline<T: std::fmt::Debug>(
    what: &str,
    op: impl Future<Output = Result<T, BackendError>>,
) {
    let start = Instant::now();
    let result = op.await;
    let took = start.elapsed();
    let err = result.expect_err(what);
    assert!(err.is_unavailable(), "{what}: {err:?}");
    assert!(took < DEADLINE, "{what} took {took:?}");
}

/// Every kind of call at once on a stalled backend: each fails within the deadline.
/// The lock a stalled acquire is tried on; check it with [`lock_is_free`] after recovery.
fn stalled_lock(backend: &RedisBackend) -> Lock<RedisBackend> {
    Lock::new(backend.clone(), "stalled", Duration::from_secs(30)).unwrap()
}

/// The stalled acquire left no ghost holder (the lease is 30 s: only a release frees it).
async fn lock_is_free(backend: &RedisBackend) {
    let guard = stalled_lock(backend).acquire(RECOVERY).await.unwrap();
    guard
        .expect("the lock is free again")
        .release()
        .await
        .unwrap();
}

async fn every_call_keeps_its_deadline(backend: &RedisBackend) {
    let lock = stalled_lock(backend);
    let v = || Bytes::from_static(b"v");
    tokio::join!(
        fails_within_deadline("get", backend.get("a")),
        fails_within_deadline("set", backend.set("a", v(), LONG)),
        fails_within_deadline("set_nx", backend.set_nx("b", v(), LONG)),
        fails_within_deadline("incr_by", backend.incr_by("n", 1, LONG)),
        fails_within_deadline("compare_and_delete", backend.compare_and_delete("a", b"v")),
        fails_within_deadline("hash_get_all", backend.hash_get_all("h")),
        fails_within_deadline("set_members", backend.set_members("s")),
        fails_within_deadline("publish", backend.publish("c", v())),
        fails_within_deadline("ping", backend.ping()),
        fails_within_deadline("lock", lock.try_acquire()),
    );
}

/// Writes `CALLS` keys `{tag}{i}` with value `{tag}={i}`.
async fn seed(backend: &RedisBackend, tag: &str) {
    for i in 0..CALLS {
        let (k, v) = (format!("{tag}{i}"), format!("{tag}={i}"));
        backend.set(&k, Bytes::from(v), LONG).await.unwrap();
    }
}

/// `CALLS` GETs of `{tag}{i}` at once; the ones answered must carry their own value.
async fn gets_answer_their_own_keys(backend: &RedisBackend, tag: &str) -> usize {
    let calls = (0..CALLS).map(|i| async move { (i, backend.get(&format!("{tag}{i}")).await) });
    let mut answered = 0;
    for (i, result) in join_all(calls).await {
        if let Ok(v) = result {
            assert_eq!(v, Some(Bytes::from(format!("{tag}={i}"))), "GET {tag}{i}");
            answered += 1;
        }
    }
    answered
}

/// Retries a GET until it succeeds and returns how long that took.
async fn time_to_recover(backend: &RedisBackend) -> Duration {
    let start = Instant::now();
    loop {
        if backend.get("recovered").await.is_ok() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < RECOVERY * 2,
            "no recovery after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

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
async fn a_cut_recovers_within_seconds_and_a_refusing_cut_after_heal() {
    let (proxy, backend) = proxied().await;
    backend.ping().await.unwrap();

    proxy.cut(NewConnections::Accept);
    let took = time_to_recover(&backend).await;
    eprintln!("standalone: recovered {took:?} after a cut");
    assert!(took < RECOVERY, "recovered after {took:?}");

    let mut sub = backend.subscribe("refused").await.unwrap();
    proxy.cut(NewConnections::Refuse);
    // Refused for two seconds: every call fails fast, the reconnection attempts included.
    let refused = Instant::now();
    while refused.elapsed() < Duration::from_secs(2) {
        fails_within_deadline("get while refused", backend.get("k")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Lost));
    proxy.heal();
    let took = time_to_recover(&backend).await;
    eprintln!("standalone: recovered {took:?} after a refusing cut healed");
    assert!(took < RECOVERY, "recovered after {took:?}");
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Restored));
}

async fn next(sub: &mut tower_vigil_core::Subscription) -> Option<SubscriptionEvent> {
    tokio::time::timeout(RECOVERY, sub.next())
        .await
        .expect("an event within the recovery bound")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_resumes_after_a_cut() {
    let (proxy, backend) = proxied().await;
    // The publisher goes straight to the server: only the subscriber is cut.
    let publisher = RedisBackend::builder(&fixtures::shared_server().url())
        .unwrap()
        .prefix(backend.prefix().as_str())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut sub = backend.subscribe("revoked").await.unwrap();
    publisher
        .publish("revoked", Bytes::from_static(b"1"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut sub).await,
        Some(SubscriptionEvent::Message(Bytes::from_static(b"1")))
    );

    proxy.cut(NewConnections::Accept);
    let cut = Instant::now();
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Lost));
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Restored));
    eprintln!("subscription restored {:?} after a cut", cut.elapsed());
    publisher
        .publish("revoked", Bytes::from_static(b"2"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut sub).await,
        Some(SubscriptionEvent::Message(Bytes::from_static(b"2")))
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscription_reports_loss_and_resumes_after_heal() {
    // A partition closes nothing: without a heartbeat the subscriber would wait forever and a
    // cache trusting the stream would miss every revocation published meanwhile.
    let (proxy, backend) = proxied().await;
    let publisher = RedisBackend::builder(&fixtures::shared_server().url())
        .unwrap()
        .prefix(backend.prefix().as_str())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut sub = backend.subscribe("revoked").await.unwrap();

    proxy.stall();
    let stalled = Instant::now();
    publisher
        .publish("revoked", Bytes::from_static(b"missed"))
        .await
        .unwrap();
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Lost));
    eprintln!("stalled subscription lost after {:?}", stalled.elapsed());

    proxy.heal();
    let healed = Instant::now();
    // The message held by the stall may arrive late, before or after `Restored`.
    loop {
        match next(&mut sub).await {
            Some(SubscriptionEvent::Restored) => break,
            Some(SubscriptionEvent::Message(m)) => assert_eq!(m, Bytes::from_static(b"missed")),
            other => panic!("{other:?}"),
        }
    }
    eprintln!("subscription restored {:?} after heal", healed.elapsed());
    publisher
        .publish("revoked", Bytes::from_static(b"3"))
        .await
        .unwrap();
    loop {
        match next(&mut sub).await {
            Some(SubscriptionEvent::Message(m)) if m == Bytes::from_static(b"3") => break,
            Some(SubscriptionEvent::Message(m)) => assert_eq!(m, Bytes::from_static(b"missed")),
            other => panic!("{other:?}"),
        }
    }
}

/// A lease taken whose reply was lost: the lock is free again within seconds, not a lease.
async fn a_lost_acquire_reply_leaves_no_holder<B: Backend>(backend: B) {
    let lossy = Stalling::new(backend.clone());
    lossy.lose_lease_replies();
    let lease = Duration::from_secs(60);
    let lost = Lock::new(lossy, "lost-reply", lease).unwrap();
    assert!(lost.try_acquire().await.is_err(), "the reply is lost");
    let lock = Lock::new(backend, "lost-reply", lease).unwrap();
    let guard = lock.acquire(RECOVERY).await.unwrap();
    guard
        .expect("released in the background")
        .release()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_lost_acquire_reply_leaves_no_holder_in_memory() {
    a_lost_acquire_reply_leaves_no_holder(fixtures::memory()).await;
}

#[tokio::test]
async fn a_lost_acquire_reply_leaves_no_holder_on_redis() {
    a_lost_acquire_reply_leaves_no_holder(fixtures::redis().await).await;
}

#[tokio::test]
async fn a_lost_acquire_reply_leaves_no_holder_on_the_cluster() {
    a_lost_acquire_reply_leaves_no_holder(fixtures::cluster().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_connection_is_replaced_within_seconds() {
    // The connection stops answering for good and nothing closes it (a NAT that lost its
    // state); a new connection would work. The backend must not wait for TCP to give up
    // (many minutes): it recovers by itself within seconds.
    let (proxy, backend) = proxied().await;
    backend.ping().await.unwrap();
    proxy.black_hole();
    let holed = Instant::now();
    fails_within_deadline("get", backend.get("k")).await;
    let took = time_to_recover(&backend).await;
    eprintln!(
        "black hole: recovered {took:?} after the first timeout, {:?} after the hole",
        holed.elapsed()
    );
    assert!(took < RECOVERY, "recovered after {took:?}");
    assert!(proxy.accepted_connections() >= 2, "on a new connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_cluster_connection_is_replaced_within_seconds() {
    let nodes = RedisCluster::start();
    let proxies = FaultProxy::for_cluster(&nodes).await;
    let urls: Vec<String> = proxies.iter().map(FaultProxy::url).collect();
    let backend = cluster(&urls).await;
    seed(&backend, "holed").await;
    for proxy in &proxies {
        proxy.black_hole();
    }
    let holed = Instant::now();
    fails_within_deadline("get", backend.get("holed0")).await;
    let took = time_to_recover(&backend).await;
    eprintln!(
        "cluster black hole: recovered {took:?} after the first timeout, {:?} after the hole",
        holed.elapsed()
    );
    assert!(took < RECOVERY, "recovered after {took:?}");
    assert_eq!(
        gets_answer_their_own_keys(&backend, "holed").await,
        CALLS,
        "on every node"
    );
}
