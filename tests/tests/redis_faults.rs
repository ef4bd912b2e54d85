//! Redis stopped and restarted under a live backend: calls fail within the timeout (never
//! hang), subscriptions report the loss, and everything recovers by itself.

use std::time::{Duration, Instant};

use bytes::Bytes;
use tower_vigil_core::{Backend, BackendError, RedisBackend, SubscriptionEvent, health};
use tower_vigil_tests::{RedisCluster, RedisServer, fixtures};

const TIMEOUT: Duration = Duration::from_millis(250);
/// A hang check, not a speed claim: far above the timeout, far below "hung".
const HANG_BOUND: Duration = Duration::from_secs(3);
const LONG: Duration = Duration::from_secs(60);

async fn backend_with_default_timeout(url: &str) -> RedisBackend {
    RedisBackend::builder(url)
        .prefix(fixtures::unique_prefix())
        .timeout(TIMEOUT)
        .connect()
        .await
        .unwrap()
}

/// Runs `op` and checks it failed as unavailable, without hanging.
async fn fails_fast<T: std::fmt::Debug>(
    what: &str,
    op: impl Future<Output = Result<T, BackendError>>,
) {
    let start = Instant::now();
    let result = op.await;
    let took = start.elapsed();
    let err = result.expect_err(what);
    assert!(err.is_unavailable(), "{what}: {err:?}");
    assert!(took < HANG_BOUND, "{what} took {took:?}");
}

async fn eventually<T>(what: &str, mut op: impl AsyncFnMut() -> Result<T, BackendError>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match op().await {
            Ok(v) => return v,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{what} did not recover: {e:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_fails_fast_and_the_backend_recovers() {
    let mut server = RedisServer::start();
    let backend = backend_with_default_timeout(&server.url()).await;
    backend
        .set("k", Bytes::from_static(b"v"), LONG)
        .await
        .unwrap();

    server.stop();
    fails_fast("get", backend.get("k")).await;
    fails_fast("set", backend.set("k", Bytes::from_static(b"w"), LONG)).await;
    fails_fast("incr_by", backend.incr_by("n", 1, LONG)).await;
    fails_fast("compare_and_delete", backend.compare_and_delete("k", b"v")).await;
    fails_fast("ping", backend.ping()).await;
    let report = health::check(&backend).await;
    assert!(!report.is_healthy());
    assert_eq!(
        serde_json::to_value(&report).unwrap()["status"],
        "unhealthy"
    );

    server.restart();
    // The restarted server is empty (nothing persisted); the same backend works again.
    eventually("set", async || {
        backend.set("k", Bytes::from_static(b"again"), LONG).await
    })
    .await;
    assert_eq!(
        backend.get("k").await.unwrap(),
        Some(Bytes::from_static(b"again"))
    );
    // Scripts are loaded again on NOSCRIPT after the restart.
    assert!(backend.compare_and_delete("k", b"again").await.unwrap());
    assert!(health::check(&backend).await.is_healthy());
}

async fn next(sub: &mut tower_vigil_core::Subscription) -> Option<SubscriptionEvent> {
    tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .expect("an event within 20 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_reports_loss_and_restoration() {
    let mut server = RedisServer::start();
    let backend = backend_with_default_timeout(&server.url()).await;
    let mut sub = backend.subscribe("invalidate").await.unwrap();
    backend
        .publish("invalidate", Bytes::from_static(b"one"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut sub).await,
        Some(SubscriptionEvent::Message(Bytes::from_static(b"one")))
    );

    server.stop();
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Lost));
    server.restart();
    assert_eq!(next(&mut sub).await, Some(SubscriptionEvent::Restored));
    eventually("publish", async || {
        backend
            .publish("invalidate", Bytes::from_static(b"two"))
            .await
    })
    .await;
    assert_eq!(
        next(&mut sub).await,
        Some(SubscriptionEvent::Message(Bytes::from_static(b"two")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_cluster_node_fails_its_slots_fast_and_recovers() {
    let mut cluster = RedisCluster::start();
    let backend = RedisBackend::cluster_builder(cluster.urls())
        .prefix(fixtures::unique_prefix())
        .timeout(TIMEOUT)
        .connect()
        .await
        .unwrap();
    let keys: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
    for k in &keys {
        backend
            .set(k, Bytes::from_static(b"v"), LONG)
            .await
            .unwrap();
    }

    cluster.stop_node(0);
    let (mut failed, mut served) = (0, 0);
    for k in &keys {
        let start = Instant::now();
        match backend.get(k).await {
            Ok(_) => served += 1,
            Err(e) => {
                assert!(e.is_unavailable(), "{e:?}");
                failed += 1;
            }
        }
        assert!(
            start.elapsed() < HANG_BOUND,
            "get {k} took {:?}",
            start.elapsed()
        );
    }
    assert!(failed > 0, "keys on the stopped master fail");
    assert!(served > 0, "keys on the other masters are still served");

    cluster.restart_node(0);
    for k in &keys {
        // The restarted master is empty; writing works again on every slot.
        eventually("set", async || {
            backend.set(k, Bytes::from_static(b"w"), LONG).await
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_carries_the_prefix_and_a_ttl() {
    let server = fixtures::shared_server();
    let backend = fixtures::redis_on(&server.url()).await;
    let prefix = backend.prefix().as_str().to_owned();
    backend
        .set("a", Bytes::from_static(b"1"), LONG)
        .await
        .unwrap();
    backend
        .set_nx("b", Bytes::from_static(b"1"), LONG)
        .await
        .unwrap();
    backend.incr_by("c", 1, LONG).await.unwrap();
    backend
        .set_add("d", &[Bytes::from_static(b"m")], LONG)
        .await
        .unwrap();
    backend
        .hash_set("e", &[("f", Bytes::from_static(b"v"))], LONG)
        .await
        .unwrap();
    backend
        .acquire_lease("lock:{g}", "lock:{g}:fence", b"o", LONG)
        .await
        .unwrap();

    let stored = tower_vigil_tests::inspect::dump(&[server.url()], &prefix).await;
    let mut seen: Vec<String> = stored.iter().map(|k| k.key.clone()).collect();
    seen.sort();
    let expected: Vec<String> = ["a", "b", "c", "d", "e", "lock:{g}", "lock:{g}:fence"]
        .iter()
        .map(|k| format!("{prefix}:{k}"))
        .collect();
    assert_eq!(seen, expected);
    for key in stored {
        assert!(key.ttl_ms > 0, "{} has no TTL ({})", key.key, key.ttl_ms);
    }
}

/// Holds a lock with a watchdog on `backend`, runs `freeze`, and returns how long after it the
/// loss was signalled.
async fn loss_after_freeze(backend: RedisBackend, freeze: impl FnOnce()) -> Duration {
    let lease = LEASE;
    let lock = tower_vigil_core::Lock::new(backend, "frozen", lease).unwrap();
    let mut guard = lock.try_acquire().await.unwrap().expect("free");
    guard.start_watchdog();
    tokio::time::sleep(lease * 2).await;
    assert!(!guard.is_lost(), "renewals keep the lease");
    freeze();
    let frozen = Instant::now();
    let lost = tokio::time::timeout(Duration::from_secs(10), guard.lost()).await;
    let took = frozen.elapsed();
    lost.expect("loss reported within 10 s");
    took
}

/// The lease of the frozen-server tests; their per-call timeout is three of these.
const LEASE: Duration = Duration::from_secs(1);
/// The last renewal started before the freeze, so its deadline is under one lease after it;
/// this much slack for a loaded machine.
const SLACK: Duration = Duration::from_millis(200);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_server_makes_the_lock_watchdog_report_loss_within_the_lease() {
    // Issue 12, item 17: a renewal that hangs on a frozen server (until a per-call timeout
    // three times the lease) must not delay the loss signal past the lease's deadline.
    let mut server = RedisServer::start();
    let backend = RedisBackend::builder(&server.url())
        .prefix(fixtures::unique_prefix())
        .timeout(LEASE * 3)
        .connect()
        .await
        .unwrap();
    let took = loss_after_freeze(backend, || server.freeze()).await;
    server.thaw();
    assert!(took <= LEASE + SLACK, "lost after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_cluster_makes_the_lock_watchdog_report_loss_within_the_lease() {
    let mut cluster = RedisCluster::start();
    let backend = RedisBackend::cluster_builder(cluster.urls())
        .prefix(fixtures::unique_prefix())
        .timeout(LEASE * 3)
        .connect()
        .await
        .unwrap();
    let took = loss_after_freeze(backend, || cluster.freeze()).await;
    cluster.thaw();
    assert!(took <= LEASE + SLACK, "lost after {took:?}");
}
