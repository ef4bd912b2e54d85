//! Backends through a proxy or on a cluster of their own, and the checks the fault tests share.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::join_all;
use tower_vigil_core::{Backend, BackendError, Lock, RedisBackend, SubscriptionEvent};
use tower_vigil_tests::fault_proxy::FaultProxy;
use tower_vigil_tests::fixtures;

/// The per-call timeout of these tests.
pub(crate) const TIMEOUT: Duration = Duration::from_millis(500);
/// A hang check, not a speed claim: timeout plus a loaded machine's slack, far below "hung".
pub(crate) const DEADLINE: Duration = Duration::from_millis(1500);
/// "Recovers within a few seconds."
pub(crate) const RECOVERY: Duration = Duration::from_secs(5);
pub(crate) const LONG: Duration = Duration::from_secs(60);
/// Calls in flight at once in the misattribution tests.
pub(crate) const CALLS: usize = 40;

pub(crate) async fn standalone(url: &str) -> RedisBackend {
    RedisBackend::builder(url)
        .prefix(fixtures::unique_prefix())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .connect()
        .await
        .unwrap()
}

pub(crate) async fn cluster(urls: &[String]) -> RedisBackend {
    RedisBackend::cluster_builder(urls)
        .prefix(fixtures::unique_prefix())
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .connect()
        .await
        .unwrap()
}

/// A backend through a fresh proxy to the shared server.
pub(crate) async fn proxied() -> (FaultProxy, RedisBackend) {
    let proxy = FaultProxy::start(fixtures::shared_server().port()).await;
    let backend = standalone(&proxy.url()).await;
    (proxy, backend)
}

/// Runs `op`, checks it failed as unavailable within [`DEADLINE`].
pub(crate) async fn fails_within_deadline<T: std::fmt::Debug>(
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

/// The lock a stalled acquire is tried on; check it with [`lock_is_free`] after recovery.
pub(crate) fn stalled_lock(backend: &RedisBackend) -> Lock<RedisBackend> {
    Lock::new(backend.clone(), "stalled", Duration::from_secs(30)).unwrap()
}

/// The stalled acquire left no ghost holder (the lease is 30 s: only a release frees it).
pub(crate) async fn lock_is_free(backend: &RedisBackend) {
    let guard = stalled_lock(backend).acquire(RECOVERY).await.unwrap();
    guard
        .expect("the lock is free again")
        .release()
        .await
        .unwrap();
}

/// Every kind of call at once on a stalled backend: each fails within the deadline.
pub(crate) async fn every_call_keeps_its_deadline(backend: &RedisBackend) {
    let lock = stalled_lock(backend);
    let v = || Bytes::from_static(b"v");
    tokio::join!(
        fails_within_deadline("get", backend.get("a")),
        fails_within_deadline("set", backend.set("a", v(), LONG)),
        fails_within_deadline("set_nx", backend.set_nx("b", v(), LONG)),
        fails_within_deadline("incr_by", backend.incr_by("n", 1, LONG)),
        fails_within_deadline("compare_and_delete", backend.compare_and_delete("a", b"v")),
        fails_within_deadline("hash_get_all", backend.hash_get_all("h")),
        fails_within_deadline("hash_read", backend.hash_read("h")),
        fails_within_deadline("set_members", backend.set_members("s")),
        fails_within_deadline("publish", backend.publish("c", v())),
        fails_within_deadline("ping", backend.ping()),
        fails_within_deadline("lock", lock.try_acquire()),
    );
}

/// Writes `CALLS` keys `{tag}{i}` with value `{tag}={i}`.
pub(crate) async fn seed(backend: &RedisBackend, tag: &str) {
    for i in 0..CALLS {
        let (k, v) = (format!("{tag}{i}"), format!("{tag}={i}"));
        backend.set(&k, Bytes::from(v), LONG).await.unwrap();
    }
}

/// `CALLS` GETs of `{tag}{i}` at once; the ones answered must carry their own value.
pub(crate) async fn gets_answer_their_own_keys(backend: &RedisBackend, tag: &str) -> usize {
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
pub(crate) async fn time_to_recover(backend: &RedisBackend) -> Duration {
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

/// The next subscription event; panics if none arrives within [`RECOVERY`].
pub(crate) async fn next(sub: &mut tower_vigil_core::Subscription) -> Option<SubscriptionEvent> {
    tokio::time::timeout(RECOVERY, sub.next())
        .await
        .expect("an event within the recovery bound")
}
