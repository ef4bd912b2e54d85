//! `RedisBackendBuilder::wait_for_replicas` on one Redis: a guarded write (lease, lease
//! extension, idempotency claim, extension, completion) succeeds only once a replica has it,
//! and one that no replica acknowledged is refused and given back. The cluster side, with a
//! failover, is in `cluster_failover`.

use std::time::{Duration, Instant};

use bytes::Bytes;
use tower_vigil_core::{Backend, BackendErrorKind, Lock, RedisBackend};
use tower_vigil_idempotency::__private::{self as idempotency, Claim, Fingerprint};
use tower_vigil_tests::{RedisServer, fixtures};

const TIMEOUT: Duration = Duration::from_secs(2);
const LEASE: Duration = Duration::from_secs(60);

/// A backend on `url`; with `wait`, each guarded write waits that long for one replica.
async fn backend(url: &str, prefix: &str, wait: Option<Duration>) -> RedisBackend {
    let mut builder = RedisBackend::builder(url).prefix(prefix).timeout(TIMEOUT);
    if let Some(wait) = wait {
        builder = builder.wait_for_replicas(1, wait);
    }
    builder.connect().await.unwrap()
}

fn fingerprint() -> Fingerprint {
    Fingerprint::of(&http::Method::POST, "/pay", None, b"{}")
}

#[tokio::test]
async fn a_bad_setting_fails_before_connecting() {
    for (replicas, wait) in [
        (0, Duration::from_millis(100)),
        (1, Duration::ZERO),
        (1, Duration::from_secs(5)),
        (1, Duration::MAX),
    ] {
        // Port 1: nothing is contacted, the check comes first.
        let err = RedisBackend::builder("redis://127.0.0.1:1")
            .timeout(Duration::from_secs(1))
            .wait_for_replicas(replicas, wait)
            .connect()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Config, "{replicas} {wait:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_replica_guarded_writes_are_refused_and_given_back() {
    let url = fixtures::shared_server().url();
    let prefix = fixtures::unique_prefix();
    let plain = backend(&url, &prefix, None).await;
    // No replica: every guarded write fails after this wait.
    let waiting = backend(&url, &prefix, Some(Duration::from_millis(100))).await;
    let unavailable = |what: &str, kind: BackendErrorKind| {
        assert_eq!(kind, BackendErrorKind::Unavailable, "{what}");
    };

    let lock = Lock::new(waiting.clone(), "job", LEASE).unwrap();
    unavailable("lock", lock.try_acquire().await.unwrap_err().kind());
    let again = Lock::new(plain.clone(), "job", LEASE).unwrap();
    let guard = again
        .try_acquire()
        .await
        .unwrap()
        .expect("the lease was given back");
    guard.release().await.unwrap();

    plain
        .set("lease", Bytes::from_static(b"me"), LEASE)
        .await
        .unwrap();
    let extend = waiting.compare_and_extend("lease", b"me", LEASE).await;
    unavailable("extend", extend.unwrap_err().kind());

    let key = "idempotency:{k}";
    let claim = idempotency::claim(&waiting, key, &fingerprint(), b"a", LEASE).await;
    unavailable("claim", claim.unwrap_err().kind());
    let claim = idempotency::claim(&plain, key, &fingerprint(), b"b", LEASE)
        .await
        .unwrap();
    assert_eq!(claim, Claim::Acquired, "the claim was given back");
    let extend = idempotency::extend(&waiting, key, b"b", LEASE).await;
    unavailable("claim extend", extend.unwrap_err().kind());
    let done = idempotency::complete(&waiting, key, b"b", &Bytes::from_static(b"r"), LEASE).await;
    unavailable("complete", done.unwrap_err().kind());

    // Calls no guarantee rests on do not wait.
    waiting
        .set("plain", Bytes::from_static(b"v"), LEASE)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_replica_guarded_writes_succeed() {
    let master = RedisServer::start();
    let replica = RedisServer::start();
    let port = master.port().to_string();
    replica
        .command(&["REPLICAOF", "127.0.0.1", &port])
        .expect("REPLICAOF");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !replica
        .command(&["INFO", "replication"])
        .is_some_and(|i| i.contains("master_link_status:up"))
    {
        assert!(Instant::now() < deadline, "the replica did not sync");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Long enough for a replica on a loaded machine (a CI run once saw 100 ms pass without
    // the acknowledgement): success here must not depend on scheduling.
    let waiting = backend(&master.url(), "w", Some(Duration::from_secs(1))).await;

    let lock = Lock::new(waiting.clone(), "job", LEASE).unwrap();
    let guard = lock.try_acquire().await.unwrap().expect("free");
    assert!(guard.extend().await.unwrap());
    let key = "idempotency:{k}";
    let claim = idempotency::claim(&waiting, key, &fingerprint(), b"a", LEASE)
        .await
        .unwrap();
    assert_eq!(claim, Claim::Acquired);
    assert!(
        idempotency::extend(&waiting, key, b"a", LEASE)
            .await
            .unwrap()
    );
    let record = Bytes::from_static(b"r");
    assert!(
        idempotency::complete(&waiting, key, b"a", &record, LEASE)
            .await
            .unwrap()
    );
    // On the replica already: acknowledged means replicated.
    let on_replica = replica.command(&["EXISTS", "w:idempotency:{k}"]);
    assert_eq!(on_replica.as_deref(), Some(":1"));
    guard.release().await.unwrap();
}
