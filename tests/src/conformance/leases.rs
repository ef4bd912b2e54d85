//! Leases with fencing tokens, and `Lock` built on them: exclusivity under contention and
//! the watchdog's loss signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::sleep;
use tower_vigil_core::{Backend, Lock};

use super::{LONG, PAST_SHORT, SHORT};
use crate::stalling::Stalling;

/// `acquire_lease`: one holder at a time; fencing tokens strictly increase.
pub async fn leases_and_fencing_tokens<B: Backend>(backend: B) {
    let first = backend
        .acquire_lease("lock:{r}", "lock:{r}:fence", b"a", LONG)
        .await
        .unwrap()
        .expect("free");
    assert_eq!(
        backend
            .acquire_lease("lock:{r}", "lock:{r}:fence", b"b", LONG)
            .await
            .unwrap(),
        None
    );
    assert!(backend.compare_and_delete("lock:{r}", b"a").await.unwrap());
    let second = backend
        .acquire_lease("lock:{r}", "lock:{r}:fence", b"b", SHORT)
        .await
        .unwrap()
        .expect("free again");
    assert!(second > first);
    sleep(PAST_SHORT).await;
    let third = backend
        .acquire_lease("lock:{r}", "lock:{r}:fence", b"c", LONG)
        .await
        .unwrap()
        .expect("the lease lapsed");
    assert!(third > second);
    // The fence survives deletion of the fence key: tokens are floored by the clock.
    backend.delete("lock:{r}:fence").await.unwrap();
    backend.delete("lock:{r}").await.unwrap();
    let fourth = backend
        .acquire_lease("lock:{r}", "lock:{r}:fence", b"d", LONG)
        .await
        .unwrap()
        .expect("free");
    assert!(fourth > third, "{fourth} > {third}");
}

/// `Lock` under contention: no two holders overlap and fencing tokens increase in the order
/// the lock was held.
pub async fn lock_is_exclusive_under_contention<B: Backend>(backend: B) {
    let lock = Lock::new(backend, "contended", Duration::from_secs(10)).unwrap();
    let held = Arc::new(AtomicBool::new(false));
    let entries = Arc::new(AtomicUsize::new(0));
    let tokens = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (lock, held, entries, tokens) =
                (lock.clone(), held.clone(), entries.clone(), tokens.clone());
            tokio::spawn(async move {
                for _ in 0..5 {
                    let guard = lock
                        .acquire(Duration::from_secs(30))
                        .await
                        .unwrap()
                        .expect("acquired within 30 s");
                    assert!(!held.swap(true, Ordering::SeqCst), "two holders at once");
                    tokens.lock().push(guard.fencing_token());
                    tokio::task::yield_now().await;
                    sleep(Duration::from_millis(1)).await;
                    held.store(false, Ordering::SeqCst);
                    entries.fetch_add(1, Ordering::SeqCst);
                    assert!(guard.release().await.unwrap(), "still the owner");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(entries.load(Ordering::SeqCst), 40);
    let tokens = tokens.lock().clone();
    assert!(
        tokens.windows(2).all(|w| w[0] < w[1]),
        "fencing tokens strictly increase in holding order: {tokens:?}"
    );
}

/// A lock whose lease is taken away is reported lost by the watchdog; a released or dropped
/// guard frees the lock; a stale holder cannot release the new holder's lock.
pub async fn lock_loss_is_signalled<B: Backend>(backend: B) {
    let lease = Duration::from_millis(300);
    let lock = Lock::new(backend.clone(), "watched", lease).unwrap();
    let mut guard = lock.try_acquire().await.unwrap().expect("free");
    guard.start_watchdog();
    // The watchdog keeps it alive past several leases.
    sleep(lease * 3).await;
    assert!(!guard.is_lost());
    assert!(lock.try_acquire().await.unwrap().is_none(), "still held");
    // Someone removes the lease (as an expiry during a long pause would).
    assert!(backend.delete("lock:{watched}").await.unwrap());
    tokio::time::timeout(Duration::from_secs(5), guard.lost())
        .await
        .expect("loss reported within 5 s");
    assert!(guard.is_lost());
    let thief = lock.try_acquire().await.unwrap().expect("free after loss");
    assert!(
        !guard.release().await.unwrap(),
        "a stale holder cannot release"
    );
    assert!(
        lock.try_acquire().await.unwrap().is_none(),
        "the thief still holds it"
    );
    drop(thief);
    // Drop releases in the background.
    let mut freed = false;
    for _ in 0..50 {
        if let Some(g) = lock.try_acquire().await.unwrap() {
            freed = true;
            g.release().await.unwrap();
            break;
        }
        sleep(Duration::from_millis(20)).await;
    }
    assert!(freed, "a dropped guard releases the lock");
}

/// A lock whose renewals stop getting through (the calls hang until a timeout longer than the
/// lease) is reported lost by the lease's deadline, counted from the last renewal that
/// succeeded, not when a failing call finally returns (issue 12, item 17).
pub async fn lock_loss_is_signalled_within_the_lease<B: Backend>(backend: B) {
    let lease = Duration::from_secs(1);
    let stalling = Stalling::new(backend);
    let lock = Lock::new(stalling.clone(), "deadline", lease).unwrap();
    let mut guard = lock.try_acquire().await.unwrap().expect("free");
    guard.start_watchdog();
    // Renewals keep it past two leases.
    sleep(lease * 2 + lease / 2).await;
    assert!(!guard.is_lost());
    // From here every renewal hangs three leases, then times out.
    stalling.stall_renewals(lease * 3);
    let stalled = tokio::time::Instant::now();
    tokio::time::timeout(Duration::from_secs(10), guard.lost())
        .await
        .expect("loss reported within 10 s");
    let took = stalled.elapsed();
    // The last good renewal started less than a third of a lease before the stall, so the
    // deadline falls between 2/3 of a lease and one lease after it (less the drift allowance);
    // 200 ms of slack for a loaded machine on a real server.
    assert!(
        took <= lease + Duration::from_millis(200),
        "lost after {took:?}"
    );
    assert!(took >= lease / 2, "lost too early: {took:?}");
}
