//! The [`Backend`] conformance suite, written once and run on every backend.
//!
//! Each case is a generic async function; [`backend_conformance!`](crate::backend_conformance)
//! turns the list into one `#[tokio::test]` per case and backend (memory with tokio's paused
//! clock, standalone Redis, Redis Cluster). A third-party backend can run the same cases.
//!
//! Waits use `tokio::time::sleep`: instant on the paused clock, real time on Redis, where TTLs
//! are kept short.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::sleep;
use tower_vigil_core::backend::MAX_TTL;
use tower_vigil_core::{Backend, Lock, SubscriptionEvent, health};

use crate::stalling::Stalling;

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(200);
const PAST_SHORT: Duration = Duration::from_millis(350);

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

/// get, set, overwrite and delete.
pub async fn get_set_delete<B: Backend>(backend: B) {
    assert_eq!(backend.get("k").await.unwrap(), None);
    backend.set("k", b("v1"), LONG).await.unwrap();
    assert_eq!(backend.get("k").await.unwrap(), Some(b("v1")));
    backend.set("k", b("v2"), LONG).await.unwrap();
    assert_eq!(backend.get("k").await.unwrap(), Some(b("v2")));
    assert!(backend.delete("k").await.unwrap());
    assert!(!backend.delete("k").await.unwrap());
    assert_eq!(backend.get("k").await.unwrap(), None);
    // Binary values survive untouched.
    let raw = Bytes::from(vec![0u8, 255, 10, 13, 0]);
    backend.set("bin", raw.clone(), LONG).await.unwrap();
    assert_eq!(backend.get("bin").await.unwrap(), Some(raw));
}

/// Keys expire after their TTL; `ttl`, `expire` and `get_refresh` see and move the expiry.
pub async fn ttl_expiry<B: Backend>(backend: B) {
    backend.set("short", b("x"), SHORT).await.unwrap();
    let ttl = backend.ttl("short").await.unwrap().expect("exists");
    assert!(ttl <= SHORT && ttl > Duration::ZERO, "{ttl:?}");
    sleep(PAST_SHORT).await;
    assert_eq!(backend.get("short").await.unwrap(), None);
    assert_eq!(backend.ttl("short").await.unwrap(), None);

    assert!(!backend.expire("missing", LONG).await.unwrap());
    backend.set("moved", b("x"), SHORT).await.unwrap();
    assert!(backend.expire("moved", LONG).await.unwrap());
    sleep(PAST_SHORT).await;
    assert_eq!(backend.get("moved").await.unwrap(), Some(b("x")));

    backend.set("refreshed", b("y"), SHORT).await.unwrap();
    assert_eq!(
        backend.get_refresh("refreshed", LONG).await.unwrap(),
        Some(b("y"))
    );
    sleep(PAST_SHORT).await;
    assert_eq!(backend.get("refreshed").await.unwrap(), Some(b("y")));
    assert!(backend.ttl("refreshed").await.unwrap().unwrap() > SHORT);
    assert_eq!(backend.get_refresh("nothing", LONG).await.unwrap(), None);
}

/// Many tasks race `set_nx` on one key: exactly one wins, and the value is the winner's.
pub async fn set_nx_exactly_one_wins<B: Backend>(backend: B) {
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let backend = backend.clone();
            tokio::spawn(async move {
                let won = backend
                    .set_nx("claim", Bytes::from(format!("owner-{i}")), LONG)
                    .await
                    .unwrap();
                (i, won)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        let (i, won) = t.await.unwrap();
        if won {
            winners.push(i);
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(
        backend.get("claim").await.unwrap(),
        Some(Bytes::from(format!("owner-{}", winners[0])))
    );
    // Once it expires, it can be claimed again.
    backend.set_nx("brief", b("a"), SHORT).await.unwrap();
    assert!(!backend.set_nx("brief", b("b"), SHORT).await.unwrap());
    sleep(PAST_SHORT).await;
    assert!(backend.set_nx("brief", b("c"), SHORT).await.unwrap());
}

/// Compare-and-delete and compare-and-extend act only for the owner.
pub async fn compare_and_delete_checks_the_owner<B: Backend>(backend: B) {
    backend.set("lease", b("owner-a"), SHORT).await.unwrap();
    assert!(
        !backend
            .compare_and_delete("lease", b"owner-b")
            .await
            .unwrap()
    );
    assert!(
        !backend
            .compare_and_delete("lease", b"owner-")
            .await
            .unwrap()
    );
    assert_eq!(backend.get("lease").await.unwrap(), Some(b("owner-a")));

    assert!(
        !backend
            .compare_and_extend("lease", b"owner-b", LONG)
            .await
            .unwrap()
    );
    assert!(
        backend
            .compare_and_extend("lease", b"owner-a", LONG)
            .await
            .unwrap()
    );
    sleep(PAST_SHORT).await;
    assert_eq!(
        backend.get("lease").await.unwrap(),
        Some(b("owner-a")),
        "extended"
    );

    assert!(
        backend
            .compare_and_delete("lease", b"owner-a")
            .await
            .unwrap()
    );
    assert_eq!(backend.get("lease").await.unwrap(), None);
    assert!(
        !backend
            .compare_and_delete("lease", b"owner-a")
            .await
            .unwrap()
    );
    assert!(
        !backend
            .compare_and_extend("lease", b"owner-a", LONG)
            .await
            .unwrap()
    );
}

/// Counters: increments add up, a new counter gets the TTL, an existing one keeps its expiry.
pub async fn counters_keep_their_window<B: Backend>(backend: B) {
    assert_eq!(backend.incr_by("hits", 1, SHORT).await.unwrap(), 1);
    assert_eq!(backend.incr_by("hits", 5, LONG).await.unwrap(), 6);
    assert_eq!(backend.incr_by("hits", -2, LONG).await.unwrap(), 4);
    // The second call's longer TTL did not extend the window.
    assert!(backend.ttl("hits").await.unwrap().unwrap() <= SHORT);
    sleep(PAST_SHORT).await;
    assert_eq!(
        backend.incr_by("hits", 1, LONG).await.unwrap(),
        1,
        "a new window"
    );

    // Concurrent increments are not lost.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let backend = backend.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    backend.incr_by("many", 1, LONG).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(backend.incr_by("many", 0, LONG).await.unwrap(), 200);
}

/// Sets: add, members, remove; an emptied set disappears; adding refreshes the TTL.
pub async fn sets_with_ttl<B: Backend>(backend: B) {
    assert!(backend.set_members("idx").await.unwrap().is_empty());
    assert_eq!(
        backend
            .set_add("idx", &[b("a"), b("b")], SHORT)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        backend
            .set_add("idx", &[b("b"), b("c")], LONG)
            .await
            .unwrap(),
        1
    );
    let members: BTreeSet<Bytes> = backend
        .set_members("idx")
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(members, [b("a"), b("b"), b("c")].into_iter().collect());
    assert!(
        backend.ttl("idx").await.unwrap().unwrap() > SHORT,
        "refreshed"
    );
    assert_eq!(
        backend.set_remove("idx", &[b("a"), b("zz")]).await.unwrap(),
        1
    );
    assert_eq!(
        backend.set_remove("idx", &[b("b"), b("c")]).await.unwrap(),
        2
    );
    assert!(backend.set_members("idx").await.unwrap().is_empty());
    assert_eq!(
        backend.ttl("idx").await.unwrap(),
        None,
        "an empty set is gone"
    );
    assert_eq!(backend.set_add("idx", &[], LONG).await.unwrap(), 0);
}

/// Hashes: field-level writes keep other fields; get, get_all (sorted), delete, TTL.
pub async fn hashes_are_field_level<B: Backend>(backend: B) {
    backend
        .hash_set("h", &[("b", b("2")), ("a", b("1"))], LONG)
        .await
        .unwrap();
    backend.hash_set("h", &[("c", b("3"))], LONG).await.unwrap();
    backend
        .hash_set("h", &[("a", b("one"))], LONG)
        .await
        .unwrap();
    assert_eq!(backend.hash_get("h", "a").await.unwrap(), Some(b("one")));
    assert_eq!(backend.hash_get("h", "zz").await.unwrap(), None);
    assert_eq!(
        backend.hash_get_all("h").await.unwrap(),
        vec![
            ("a".to_owned(), b("one")),
            ("b".to_owned(), b("2")),
            ("c".to_owned(), b("3"))
        ]
    );
    assert_eq!(backend.hash_delete("h", &["a", "zz"]).await.unwrap(), 1);
    assert!(backend.ttl("h").await.unwrap().is_some());
    assert_eq!(backend.hash_delete("h", &["b", "c"]).await.unwrap(), 2);
    assert!(backend.hash_get_all("h").await.unwrap().is_empty());
    assert_eq!(
        backend.ttl("h").await.unwrap(),
        None,
        "an empty hash is gone"
    );

    // Concurrent writers of different fields both survive.
    let (x, y) = (backend.clone(), backend.clone());
    let (r1, r2) = tokio::join!(
        async move { x.hash_set("shared", &[("x", b("1"))], LONG).await },
        async move { y.hash_set("shared", &[("y", b("2"))], LONG).await },
    );
    r1.unwrap();
    r2.unwrap();
    assert_eq!(backend.hash_get_all("shared").await.unwrap().len(), 2);
}

/// A value of the wrong type is an error, not a panic or a silent answer.
pub async fn wrong_type_is_an_error<B: Backend>(backend: B) {
    backend
        .hash_set("typed", &[("f", b("v"))], LONG)
        .await
        .unwrap();
    assert!(backend.get("typed").await.is_err());
    assert!(backend.incr_by("typed", 1, LONG).await.is_err());
    assert!(backend.set_add("typed", &[b("m")], LONG).await.is_err());
    // The hash is intact.
    assert_eq!(backend.hash_get("typed", "f").await.unwrap(), Some(b("v")));
}

/// Published messages reach every subscriber of the channel, in order, and no other channel.
pub async fn pubsub_delivers_in_order<B: Backend>(backend: B) {
    let mut first = backend.subscribe("events").await.unwrap();
    let mut second = backend.subscribe("events").await.unwrap();
    let mut other = backend.subscribe("other").await.unwrap();
    for i in 0..3 {
        backend
            .publish("events", Bytes::from(format!("m{i}")))
            .await
            .unwrap();
    }
    for sub in [&mut first, &mut second] {
        for i in 0..3 {
            let event = tokio::time::timeout(Duration::from_secs(5), sub.next())
                .await
                .expect("a message within 5 s");
            assert_eq!(
                event,
                Some(SubscriptionEvent::Message(Bytes::from(format!("m{i}"))))
            );
        }
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), other.next())
            .await
            .is_err(),
        "nothing on another channel"
    );
}

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

/// No TTL, however absurd, panics or overflows: each is capped at `MAX_TTL` (issue 12, item 17).
pub async fn absurd_ttls_are_capped<B: Backend>(backend: B) {
    let max = Duration::MAX;
    backend.set("s", b("v"), max).await.unwrap();
    assert!(backend.set_nx("nx", b("v"), max).await.unwrap());
    assert_eq!(backend.get_refresh("s", max).await.unwrap(), Some(b("v")));
    assert!(backend.expire("s", max).await.unwrap());
    assert_eq!(backend.incr_by("n", 1, max).await.unwrap(), 1);
    backend.set_add("set", &[b("m")], max).await.unwrap();
    backend.hash_set("h", &[("f", b("v"))], max).await.unwrap();
    backend.set("lease", b("me"), SHORT).await.unwrap();
    assert!(
        backend
            .compare_and_extend("lease", b"me", max)
            .await
            .unwrap()
    );
    assert!(
        backend
            .acquire_lease("lock:{x}", "lock:{x}:fence", b"o", max)
            .await
            .unwrap()
            .is_some()
    );
    for key in ["s", "nx", "n", "set", "h", "lease", "lock:{x}"] {
        let ttl = backend.ttl(key).await.unwrap().expect(key);
        assert!(
            ttl <= MAX_TTL && ttl > MAX_TTL - Duration::from_secs(60),
            "{key}: {ttl:?}"
        );
    }
    // A lock refuses such a lease at build time, and waits "forever" without overflowing.
    let err = Lock::new(backend.clone(), "r", max).unwrap_err();
    assert_eq!(err.field(), "lease");
    let lock = Lock::new(backend, "r", LONG).unwrap();
    let guard = lock.acquire(max).await.unwrap().expect("free");
    guard.release().await.unwrap();
}

/// Health: connected, with a latency, memory figure and key count.
pub async fn health_reports_a_live_backend<B: Backend>(backend: B) {
    backend.set("present", b("x"), LONG).await.unwrap();
    let ping = backend.ping().await.unwrap();
    assert!(ping < Duration::from_secs(5));
    let info = backend.info().await.unwrap();
    assert!(info.key_count >= 1);
    assert!(info.used_memory > 0);
    assert!(!info.used_memory_human.is_empty());
    let report = health::check(&backend).await;
    assert!(report.is_healthy(), "{report:?}");
    assert_eq!(report.backend, backend.kind());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["status"], "healthy");
    assert_eq!(json["connected"], true);
    assert!(json["latencyMs"].is_number());
    assert!(json["usedMemory"].is_string());
    assert!(json["keyCount"].is_number());
}

/// Generates one test per case and backend: `memory::case`, `redis::case`, `cluster::case`.
#[macro_export]
macro_rules! backend_conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(start_paused = true)]
                async fn $case() {
                    $crate::conformance::$case($crate::fixtures::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::conformance::$case($crate::fixtures::redis().await).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    $crate::conformance::$case($crate::fixtures::cluster().await).await;
                }
            )*
        }
    };
}
