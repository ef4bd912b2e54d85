//! Writes made while a replica is held back from its master: without `WAIT` they are
//! acknowledged and then lost in the failover; with it they are refused and given back, and
//! they do not hold up the backend's other calls.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tower_vigil_core::{BackendErrorKind, Lock, LockGuard, RedisBackend};
use tower_vigil_idempotency::__private::{self as idempotency, Claim};

use crate::loss::{LEASE, claim_key, claim_lost, fingerprint, lock_lost, next_name, settled};

/// Writes made while the replica is held back.
pub struct HeldBack {
    pub locks: Vec<(String, LockGuard<RedisBackend>)>,
    pub claims: Vec<String>,
}

/// Takes 30 locks and 30 claims without `WAIT` (all acknowledged), and tries 3 of each with
/// it: each is refused as `Unavailable` and given back at once (someone else gets it).
pub async fn held_back_writes(
    plain: &RedisBackend,
    waiting: &RedisBackend,
    slots: &[(u16, u16)],
) -> HeldBack {
    let next = AtomicU64::new(0);
    let mut held = HeldBack {
        locks: Vec::new(),
        claims: Vec::new(),
    };
    for _ in 0..30 {
        let name = next_name("held", &next, slots);
        let lock = Lock::new(plain.clone(), &name, LEASE).unwrap();
        let guard = lock.try_acquire().await.unwrap().expect("free");
        held.locks.push((name, guard));
        let name = next_name("held", &next, slots);
        let (key, fp) = (claim_key(&name), fingerprint());
        let claim = idempotency::claim(plain, &key, &fp, b"w", LEASE).await;
        assert_eq!(claim.unwrap(), Claim::Acquired);
        held.claims.push(name);
    }
    for _ in 0..3 {
        let name = next_name("held", &next, slots);
        let lock = Lock::new(waiting.clone(), &name, LEASE).unwrap();
        let err = lock
            .try_acquire()
            .await
            .expect_err("a lock WAIT cannot vouch for");
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{err}");
        assert!(
            lock_lost(plain, &name).await,
            "the refused lease was given back"
        );

        let name = next_name("held", &next, slots);
        let (key, fp) = (claim_key(&name), fingerprint());
        let claim = idempotency::claim(waiting, &key, &fp, b"w", LEASE).await;
        let err = claim.expect_err("a claim WAIT cannot vouch for");
        assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{err}");
        assert!(
            claim_lost(plain, &name).await,
            "the refused claim was given back"
        );
    }
    held
}

/// How many of the held-back locks and claims someone else can now take.
pub async fn count_lost(checker: &RedisBackend, held: &HeldBack) -> (usize, usize) {
    let mut lost = (0, 0);
    for (name, _) in &held.locks {
        lost.0 += usize::from(lock_lost(checker, name).await);
    }
    for name in &held.claims {
        lost.1 += usize::from(claim_lost(checker, name).await);
    }
    lost
}

/// With the old master back as the new master's replica, guarded writes succeed again.
pub async fn guarded_writes_work_again(waiting: &RedisBackend, slots: &[(u16, u16)]) {
    let next = AtomicU64::new(0);
    let name = next_name("again", &next, slots);
    let lock = Lock::new(waiting.clone(), &name, LEASE).unwrap();
    let guard = settled("a guarded lock", async || {
        lock.try_acquire().await.ok().flatten()
    })
    .await;
    guard.release().await.unwrap();
    let key = claim_key(&name);
    let claim = settled("a guarded claim", async || {
        idempotency::claim(waiting, &key, &fingerprint(), b"w", LEASE)
            .await
            .ok()
    })
    .await;
    assert_eq!(claim, Claim::Acquired);
}

/// While guarded writes wait on a replica that never answers, the backend's other calls to
/// the same master are not queued behind their `WAIT`s: each still answers, well within the
/// per-call timeout (a `WAIT` holds up its own connection only).
pub async fn other_calls_are_not_held_up(waiting: &RedisBackend, slots: &[(u16, u16)]) {
    let next = AtomicU64::new(0);
    let guarded: Vec<_> = (0..10)
        .map(|_| {
            let lock = Lock::new(waiting.clone(), &next_name("hol", &next, slots), LEASE).unwrap();
            tokio::spawn(async move { lock.try_acquire().await.map(|g| g.is_some()) })
        })
        .collect();
    // Let the WAITs queue up first.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let key = next_name("hol-read", &next, slots);
    for _ in 0..10 {
        let read = tower_vigil_core::Backend::get(waiting, &format!("{{{key}}}")).await;
        assert!(read.is_ok(), "a read queued behind WAITs: {read:?}");
    }
    for g in guarded {
        assert!(g.await.unwrap().is_err(), "a guarded lock with no replica");
    }
}

/// A lock whose lease (and fence bump) the failover lost is taken again with a larger fencing
/// token than the lost holder's: tokens are at least the master's clock in µs, so storage that
/// checks them still refuses the first holder's late writes.
pub async fn fences_still_increase(checker: &RedisBackend, held: &HeldBack) {
    let (name, first) = &held.locks[0];
    let lock = Lock::new(checker.clone(), name, LEASE).unwrap();
    let second = settled("a lost lock", async || {
        lock.try_acquire().await.ok().flatten()
    })
    .await;
    assert!(
        second.fencing_token() > first.fencing_token(),
        "fence {} after {}",
        second.fencing_token(),
        first.fencing_token()
    );
    second.release().await.unwrap();
}
