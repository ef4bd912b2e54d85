//! What only the memory backend promises: a bound on entries, expired entries purged without a
//! background task, multi-key atomicity, and time from tokio's (pausable) clock.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tower_vigil_core::memory::Value;
use tower_vigil_core::{Backend, MemoryBackend};

const LONG: Duration = Duration::from_secs(3600);

#[tokio::test(start_paused = true)]
async fn a_flood_of_keys_stays_within_the_bound() {
    let backend = MemoryBackend::builder()
        .max_entries(100)
        .shards(4)
        .build()
        .unwrap();
    for i in 0..10_000u32 {
        // Later keys live longer, so eviction (soonest expiry first) drops the oldest.
        backend
            .set(
                &format!("k{i}"),
                Bytes::from_static(b"x"),
                LONG + Duration::from_secs(u64::from(i)),
            )
            .await
            .unwrap();
    }
    assert!(backend.len() <= 100, "{} entries", backend.len());
    assert!(backend.evictions() >= 9_900);
    assert!(
        backend.get("k9999").await.unwrap().is_some(),
        "the newest survives"
    );
    assert!(
        backend.get("k0").await.unwrap().is_none(),
        "the soonest to expire went first"
    );
}

#[tokio::test(start_paused = true)]
async fn expired_entries_are_purged_before_anything_is_evicted() {
    let backend = MemoryBackend::builder()
        .max_entries(64)
        .shards(1)
        .build()
        .unwrap();
    for i in 0..64 {
        backend
            .set(
                &format!("old{i}"),
                Bytes::from_static(b"x"),
                Duration::from_secs(1),
            )
            .await
            .unwrap();
    }
    backend
        .set("keeper", Bytes::from_static(b"x"), LONG)
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(2)).await;
    for i in 0..63 {
        backend
            .set(&format!("new{i}"), Bytes::from_static(b"x"), LONG)
            .await
            .unwrap();
    }
    // Inserting `keeper` into the full shard evicted one live entry; after the old ones
    // expired, new keys took their room without evicting anything.
    assert_eq!(backend.evictions(), 1);
    assert_eq!(backend.len(), 64);
    assert!(backend.get("keeper").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_key_updates_are_atomic() {
    // Tasks move units between accounts; any torn update would change the total.
    let backend = MemoryBackend::builder().shards(8).build().unwrap();
    let accounts: Vec<String> = (0..6).map(|i| format!("acct{i}")).collect();
    for a in &accounts {
        backend.update(a, |slot| slot.set(Value::Int(1000), LONG));
    }
    let accounts = Arc::new(accounts);
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let (backend, accounts) = (backend.clone(), accounts.clone());
            tokio::spawn(async move {
                for i in 0..2000usize {
                    let from = &accounts[(t + i) % accounts.len()];
                    let to = &accounts[(t * 7 + i * 3 + 1) % accounts.len()];
                    if from == to {
                        continue;
                    }
                    backend.atomic(&[from, to], |slots| {
                        let [a, b] = slots else { unreachable!() };
                        let (Some(Value::Int(x)), Some(Value::Int(y))) = (a.value(), b.value())
                        else {
                            panic!("accounts exist")
                        };
                        let (x, y) = (*x, *y);
                        a.set(Value::Int(x - 1), LONG);
                        b.set(Value::Int(y + 1), LONG);
                    });
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let total: i64 = accounts
        .iter()
        .map(|a| {
            backend.read(a, |v| match v {
                Some((Value::Int(n), _)) => *n,
                _ => 0,
            })
        })
        .sum();
    assert_eq!(total, 6000);
}

#[test]
#[should_panic(expected = "named twice")]
fn naming_a_key_twice_is_refused() {
    MemoryBackend::new().atomic(&["a", "a"], |_| ());
}

#[tokio::test(start_paused = true)]
async fn time_follows_the_paused_clock() {
    let backend = MemoryBackend::new();
    let before = backend.now_micros();
    backend
        .set("k", Bytes::from_static(b"v"), Duration::from_secs(10))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(9)).await;
    assert!(backend.get("k").await.unwrap().is_some());
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(backend.get("k").await.unwrap().is_none());
    let elapsed = backend.now_micros() - before;
    assert!((11_000_000..11_100_000).contains(&elapsed), "{elapsed}");
}

#[tokio::test]
async fn a_custom_value_is_a_type_error_for_generic_reads() {
    let backend = MemoryBackend::new();
    backend.update("state", |slot| slot.set(Value::Any(Box::new(42u32)), LONG));
    assert!(backend.get("state").await.is_err());
    let n = backend.update("state", |slot| *slot.downcast_mut::<u32>().unwrap());
    assert_eq!(n, 42);
}

#[tokio::test(start_paused = true)]
async fn a_refreshed_key_is_never_evicted_by_its_old_expiry() {
    let backend = MemoryBackend::builder()
        .max_entries(3)
        .shards(1)
        .build()
        .unwrap();
    let set = |key: &'static str, secs: u64| {
        let backend = backend.clone();
        async move {
            backend
                .set(key, Bytes::from_static(b"x"), Duration::from_secs(secs))
                .await
                .unwrap();
        }
    };
    set("a", 1).await;
    set("b", 10).await;
    set("c", 20).await;
    // `a` now expires last; its first expiry is still on file, but no longer speaks for it.
    assert!(backend.expire("a", Duration::from_secs(30)).await.unwrap());
    set("d", 40).await;
    assert_eq!(backend.evictions(), 1);
    assert!(backend.get("a").await.unwrap().is_some(), "refreshed, kept");
    assert!(
        backend.get("b").await.unwrap().is_none(),
        "the soonest to expire went"
    );
    // Long after its first expiry, `a` is still there; after its new one, it is gone.
    tokio::time::advance(Duration::from_secs(25)).await;
    assert!(backend.get("a").await.unwrap().is_some());
    tokio::time::advance(Duration::from_secs(6)).await;
    assert!(backend.get("a").await.unwrap().is_none());
}

#[tokio::test(start_paused = true)]
async fn a_hot_key_rewritten_many_times_does_not_crowd_out_new_keys() {
    let backend = MemoryBackend::builder()
        .max_entries(10)
        .shards(1)
        .build()
        .unwrap();
    // Ten thousand writes whose expiry moves across many index buckets.
    for i in 0..10_000u64 {
        backend.update("hot", |slot| {
            slot.set(Value::Int(1), Duration::from_millis(200 + i % 700));
        });
        tokio::time::advance(Duration::from_millis(1)).await;
    }
    tokio::time::advance(Duration::from_secs(2)).await;
    // Writes purge what has expired; the shard takes ten fresh keys without evicting any.
    for i in 0..10 {
        backend
            .set(&format!("k{i}"), Bytes::from_static(b"x"), LONG)
            .await
            .unwrap();
    }
    assert_eq!(backend.evictions(), 0);
    assert_eq!(backend.len(), 10);
    assert_eq!(backend.get("hot").await.unwrap(), None);
}
